"""Public help pages (no sign-in, no cookies) and the staff pages that edit their texts.

Public pages are rendered without the request: no context processor runs, so no CSRF token,
session, message or user can reach them, and the language comes from the URL only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from refuge.core import roles
from refuge.core.access import principal, role_required
from refuge.core.services import ServiceError

from . import lines, selectors
from .conf import DEFAULT_LANGUAGE, LANGUAGE_SELF_NAMES, PUBLIC_LANGUAGES, quick_exit_url
from .forms import HelpTextForm
from .guards import detach_session, verified_staff
from .names import country_name
from .services import current_texts, help_text_reset, help_text_save
from .texts import BLOCKS, LEAFLETS, block, leaflet_block, shipped

PAGE_TEXTS = ("safety_note",)


@dataclass(frozen=True)
class Dial:
    """A number to call, as shown on a page."""

    display: str
    href: str
    label: str
    note: str = ""


def _national(line: lines.NationalLine) -> Dial:
    return Dial(
        display=line.display,
        href=line.href,
        label=str(line.label),
        note=str(line.note) if line.note else "",
    )


def _language_links(url_for: Callable[[str], str], current: str) -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": LANGUAGE_SELF_NAMES[code],
            "url": url_for(code),
            "current": code == current,
        }
        for code in PUBLIC_LANGUAGES
    ]


def _page(
    template: str,
    lang: str,
    context: dict[str, Any],
    *,
    url_for: Callable[[str], str],
    status: int = 200,
    texts: tuple[str, ...] = (),
) -> HttpResponse:
    with translation.override(lang):
        shown = current_texts((*PAGE_TEXTS, *texts), lang)
        body = render_to_string(
            template,
            {
                "lang": lang,
                "exit_url": quick_exit_url(lang),
                "languages": _language_links(url_for, lang),
                "home_url": reverse("help:home", args=[lang]),
                "safety_url": reverse("help:safety", args=[lang]),
                "leaflets_url": reverse("help:leaflets", args=[lang]),
                "texts": shown,
                **context,
            },
        )
    response = HttpResponse(body, status=status)
    response["Content-Language"] = lang
    return response


def _lang_or_404(lang: str) -> None:
    if lang not in PUBLIC_LANGUAGES:
        raise Http404


def _emergency_by_country(lang: str) -> list[dict[str, Any]]:
    out = []
    for code in sorted(
        lines.NATIONAL_LINES, key=lambda c: selectors.collation_key(country_name(c, lang))
    ):
        out.append(
            {
                "name": country_name(code, lang),
                "lines": [_national(x) for x in lines.lines_for(code)],
            }
        )
    return out


# --- public pages -------------------------------------------------------------------------


def public_page(view):
    """No cookie leaves a public page, and a missing language, region or leaflet gets the
    translated 404 page of the help site (English when the language itself is unknown)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        detach_session(request)
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            lang = kwargs.get("lang")
            response = not_found_page(lang if lang in PUBLIC_LANGUAGES else DEFAULT_LANGUAGE)
        response["Referrer-Policy"] = "no-referrer"
        response["Cache-Control"] = "no-store"
        return response

    return wrapper


def preferred_language(header: str) -> str:
    """The first public language the browser asks for (Accept-Language), else English."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _q in parse_accept_lang_header(header or ""):
        base = code.split("-")[0].lower()
        if base in PUBLIC_LANGUAGES:
            return base
    return DEFAULT_LANGUAGE


@public_page
@require_safe
def choose(request: HttpRequest) -> HttpResponse:
    lang = preferred_language(request.headers.get("Accept-Language", ""))
    response = HttpResponseRedirect(reverse("help:home", args=[lang]))
    response["Vary"] = "Accept-Language"
    return response


@public_page
@require_safe
def home(request: HttpRequest, lang: str) -> HttpResponse:
    _lang_or_404(lang)
    with translation.override(lang):
        context = {
            "countries": selectors.countries(lang),
            "emergency": _emergency_by_country(lang),
            "leaflets": _leaflet_links(lang),
        }
    return _page(
        "help/home.html",
        lang,
        context,
        url_for=lambda code: reverse("help:home", args=[code]),
        texts=("home_intro",),
    )


@public_page
@require_safe
def region(request: HttpRequest, lang: str, code: str) -> HttpResponse:
    _lang_or_404(lang)
    found = selectors.region_by_code(code)
    if found is None:
        upper = code.upper()
        if upper != code and selectors.region_by_code(upper) is not None:
            return redirect("help:region", lang=lang, code=upper)
        raise Http404
    with translation.override(lang):
        data = selectors.region_help(found, lang)
        numbers = [_national(x) for x in lines.lines_for(found.country)]
        refer = [
            Dial(display=p.display, href=p.href, label=h.name)
            for h in data.hotlines
            for p in h.phones
        ] + [_national(x) for x in lines.violence_lines(found.country)]
        if not refer:
            refer = [_national(x) for x in lines.emergency_lines(found.country)]
        context = {
            "help": data,
            "numbers": numbers,
            "refer": refer,
            "title": data.region.name,
        }
    return _page(
        "help/region.html",
        lang,
        context,
        url_for=lambda c: reverse("help:region", args=[c, found.code]),
    )


def _leaflet_links(lang: str) -> list[dict[str, str]]:
    shown = current_texts([b.key for b in LEAFLETS], lang)
    return [
        {"title": shown[b.key].title, "url": reverse("help:leaflet", args=[lang, b.leaflet])}
        for b in LEAFLETS
    ]


@public_page
@require_safe
def leaflets(request: HttpRequest, lang: str) -> HttpResponse:
    _lang_or_404(lang)
    with translation.override(lang):
        context = {"leaflets": _leaflet_links(lang)}
    return _page(
        "help/leaflets.html",
        lang,
        context,
        url_for=lambda c: reverse("help:leaflets", args=[c]),
    )


@public_page
@require_safe
def leaflet(request: HttpRequest, lang: str, slug: str) -> HttpResponse:
    _lang_or_404(lang)
    found = leaflet_block(slug)
    if found is None:
        raise Http404
    with translation.override(lang):
        context: dict[str, Any] = {
            "leaflet": current_texts([found.key], lang)[found.key],
            "emergency": _emergency_by_country(lang),
            "print_url": request.build_absolute_uri(reverse("help:home", args=[lang])),
        }
        if found.leaflet == "counselling":
            context["advice"] = [
                {"country": country_name(code, lang), "services": services}
                for code, services in selectors.advice_services()
            ]
    return _page(
        "help/leaflet.html",
        lang,
        context,
        url_for=lambda c: reverse("help:leaflet", args=[c, found.leaflet]),
    )


@public_page
@require_safe
def safety(request: HttpRequest, lang: str) -> HttpResponse:
    _lang_or_404(lang)
    return _page(
        "help/safety.html",
        lang,
        {},
        url_for=lambda c: reverse("help:safety", args=[c]),
        texts=("safety",),
    )


def _url_in(name: str, *args: str) -> Callable[[str], str]:
    """The address of one page, as a function of the language."""
    return lambda lang: reverse(name, args=[lang, *args])


@public_page
@require_safe
def sitemap(request: HttpRequest) -> HttpResponse:
    """Every public page in every language, with its translations as alternates."""
    pages = [_url_in("help:home"), _url_in("help:safety"), _url_in("help:leaflets")]
    pages += [_url_in("help:leaflet", b.leaflet) for b in LEAFLETS]
    pages += [_url_in("help:region", code) for code in selectors.region_names_everywhere()]
    entries = [
        {
            "loc": request.build_absolute_uri(url_for(lang)),
            "alternates": [
                {"lang": other, "href": request.build_absolute_uri(url_for(other))}
                for other in PUBLIC_LANGUAGES
            ],
        }
        for url_for in pages
        for lang in PUBLIC_LANGUAGES
    ]
    body = render_to_string("help/sitemap.xml", {"entries": entries})
    return HttpResponse(body, content_type="application/xml; charset=utf-8")


def _redirect_with_slash(request: HttpRequest) -> HttpResponse | None:
    if request.path_info.endswith("/"):
        return None
    try:
        match = resolve(request.path_info + "/")
    except Resolver404:
        return None
    if match.view_name == "help:not_found":
        return None
    return HttpResponseRedirect(request.path + "/")


@public_page
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Every unknown address under /help/: the translated 404 page (English when the
    language is unknown), with the quick exit and the safety note as on every page."""
    if request.method == "GET":
        slash = _redirect_with_slash(request)
        if slash is not None:
            return slash
    first = rest.split("/", 1)[0]
    return not_found_page(first if first in PUBLIC_LANGUAGES else DEFAULT_LANGUAGE)


def not_found_page(lang: str) -> HttpResponse:
    return _page(
        "help/not_found.html",
        lang,
        {},
        url_for=lambda c: reverse("help:home", args=[c]),
        status=404,
    )


def public_error_page(path: str, status: int) -> HttpResponse:
    """The neutral public page for a failure under /help/ (400, 500): in the page's language,
    with the quick exit, no staff layout and nothing from the database (which may be down)."""
    first = path.removeprefix("/help/").split("/", 1)[0]
    lang = first if first in PUBLIC_LANGUAGES else DEFAULT_LANGUAGE
    try:
        with translation.override(lang):
            body = render_to_string(
                "help/error.html",
                {
                    "lang": lang,
                    "status": status,
                    "exit_url": quick_exit_url(lang),
                    "home_url": reverse("help:home", args=[lang]),
                },
            )
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        body = f"<!doctype html><title>{status}</title><p>{status}</p>"
    response = HttpResponse(body, status=status)
    response["Content-Language"] = lang
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


# --- staff pages --------------------------------------------------------------------------


@login_required
@verified_staff
@role_required(roles.can_edit_help_pages)
@require_safe
def manage(request: HttpRequest) -> HttpResponse:
    rows = []
    edits = {}
    for lang in PUBLIC_LANGUAGES:
        for key, text in current_texts([b.key for b in BLOCKS], lang).items():
            edits[(key, lang)] = text
    for b in BLOCKS:
        rows.append(
            {
                "block": b,
                "cells": [
                    {
                        "lang": lang,
                        "name": LANGUAGE_SELF_NAMES[lang],
                        "text": edits[(b.key, lang)],
                        "url": reverse("help:edit", args=[b.key, lang]),
                    }
                    for lang in PUBLIC_LANGUAGES
                ],
            }
        )
    return render(request, "help/manage.html", {"rows": rows, "languages": PUBLIC_LANGUAGES})


def _public_url(key: str, lang: str) -> str:
    found = block(key)
    if found and found.leaflet:
        return reverse("help:leaflet", args=[lang, found.leaflet])
    if key == "safety":
        return reverse("help:safety", args=[lang])
    return reverse("help:home", args=[lang])


@login_required
@verified_staff
@role_required(roles.can_edit_help_pages)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, key: str, lang: str) -> HttpResponse:
    found = block(key)
    if found is None or lang not in PUBLIC_LANGUAGES:
        raise Http404
    text = current_texts([key], lang)[key]
    p = principal(request)
    form = HelpTextForm(request.POST or None, initial={"title": text.title, "body": text.body})
    for name in ("title", "body"):
        form.fields[name].widget.attrs["lang"] = lang
    error = ""
    if request.method == "POST":
        if "reset" in request.POST:
            help_text_reset(by=p, key=key, language=lang)
            return redirect("help:manage")
        if form.is_valid():
            try:
                help_text_save(
                    by=p,
                    key=key,
                    language=lang,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                )
            except ServiceError as exc:
                error = exc.message
            else:
                return redirect("help:manage")
    shipped_title, shipped_body = shipped(key, lang)
    return render(
        request,
        "help/edit.html",
        {
            "block": found,
            "lang": lang,
            "lang_name": LANGUAGE_SELF_NAMES[lang],
            "text": text,
            "form": form,
            "error": error,
            "shipped_title": shipped_title,
            "shipped_body": shipped_body,
            "public_url": _public_url(key, lang),
            "format_help": _(
                "A blank line starts a new paragraph. A line starting with “## ” is a "
                "heading, a line starting with “- ” is an item of a list, and **words** "
                "between double asterisks are emphasised."
            ),
        },
    )
