from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import redirect
from django.urls import resolve
from django.urls.exceptions import Resolver404

from refuge.core import audit
from refuge.core.access import principal
from refuge.core.roles import requires_second_factor

# URL names reachable after the password but before the second factor.
PRE_VERIFICATION_URLS = {
    "core:login",
    "core:login_code",
    "core:unlock_request",
    "core:unlock",
    "core:enrol",
    "core:enrol_qr",
    "core:logout",
    "core:healthz",
    "set_language",
}
PASSWORD_CHANGE_URLS = PRE_VERIFICATION_URLS | {"core:password_change"}
BACKGROUND_HEADER = "HTTP_X_REFUGE_BACKGROUND"


def _url_name(request: HttpRequest) -> str | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    return match.view_name


def _is_public(request: HttpRequest) -> bool:
    """Public help pages and static files: no session is ever loaded or written for them
    (the help pages' staff editor under /help/manage/ is a staff page like any other)."""
    path = request.path_info
    return path.startswith("/static/") or (
        path.startswith("/help/") and not path.startswith("/help/manage/")
    )


def _is_api(request: HttpRequest) -> bool:
    # The JSON API authenticates on its own (API keys; verified sessions for GET only).
    return request.path_info.startswith("/api/")


# Where a request is sent when it must sign in (again) before going on.
SIGN_IN_URLS = {"core:login", "core:login_code", "core:enrol", "core:password_change"}


class HtmxSignInRedirectMiddleware:
    """An htmx request sent to sign in again loads the sign-in page as a whole page.

    htmx follows a 302 inside its XMLHttpRequest and would swap the sign-in form into the
    fragment it asked for (a row of the vacancy board, the call queue). A redirect to a
    sign-in page (idle timeout, missing second factor, ``login_required``) becomes
    ``HX-Redirect`` instead, which htmx turns into a full navigation. Other redirects (after
    a save) are left to htmx.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code not in (301, 302):
            return response
        target = response["Location"]
        path = urlsplit(target).path
        try:
            name = resolve(path).view_name
        except Resolver404:
            return response
        if name not in SIGN_IN_URLS:
            return response
        redirected = HttpResponse(status=204)
        redirected["HX-Redirect"] = target
        return redirected


class IdleTimeoutMiddleware:
    """Sign out after REFUGE_IDLE_TIMEOUT without a user action.

    Background refreshes (htmx polling sends X-Refuge-Background) do not count as activity,
    so a board left open on a shared computer still times out.

    The moment of the last action is written at most once a step (a tenth of the limit, at
    most 30 s), not on every page: each write is an UPDATE of the session row, and
    a page view otherwise writes nothing. The session can so end up to one step early, never
    late.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Public paths are tested first, so that their requests never touch the session.
        if not _is_public(request) and request.user.is_authenticated:
            now = time.time()
            last = request.session.get("last_activity")
            if last is not None and now - last > settings.REFUGE_IDLE_TIMEOUT.total_seconds():
                logout(request)
                if _is_api(request):
                    return self.get_response(request)  # now anonymous: the API answers 401
                return redirect(f"{settings_login_url()}?timeout=1")
            # API reads (pages fetching data) are not activity, like background polls.
            if BACKGROUND_HEADER not in request.META and not _is_api(request):
                step = min(30.0, settings.REFUGE_IDLE_TIMEOUT.total_seconds() / 10)
                if last is None or now - last >= step:
                    request.session["last_activity"] = now
        return self.get_response(request)


def settings_login_url() -> str:
    from django.urls import reverse

    return reverse(settings.LOGIN_URL)


class SecondFactorMiddleware:
    """A signed-in user whose role can see a person gets nowhere until the TOTP code is given;
    a user with a temporary password gets nowhere until it is changed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_public(request) or _is_api(request):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated:
            name = _url_name(request)
            role = user.role
            if role is None:
                logout(request)
                return redirect(settings_login_url())
            if requires_second_factor(role) and not user.is_verified():
                if name not in PRE_VERIFICATION_URLS:
                    has_device = user.totpdevice_set.filter(confirmed=True).exists()
                    return redirect("core:login_code" if has_device else "core:enrol")
            elif user.must_change_password and name not in PASSWORD_CHANGE_URLS:
                return redirect("core:password_change")
        return self.get_response(request)


# What a session under break-glass may open: the pages that show an organisation's cases, read
# only. Everything else (the vacancy board, calls, the directory, its own administration) is
# closed until break-glass ends, and no form can be sent.
BREAK_GLASS_PAGES = frozenset(
    {
        "core:home",
        "cases:list",
        "cases:tasks",
        "cases:detail",
        "cases:household",
        "cases:risk",
        "cases:risk_detail",
        "cases:safety_plan",
        "cases:safety_plan_print",
        "cases:notes",
        "cases:consent",
        "cases:aftercare",
        "cases:services",
        "cases:stays",
        "cases:survivor_copy",
        "referrals:inbox",
        "referrals:sent",
        "referrals:waitlist",
        "referrals:detail",
        "meetings:list",
        "meetings:detail",
        "meetings:case",
        "meetings:minutes",
        "programmes:partner_support_list",
        "programmes:partner_support",
    }
)
BREAK_GLASS_POSTS = frozenset({"core:logout", "core:break_glass_close", "set_language"})


class BreakGlassMiddleware:
    """A session under break-glass reads case pages only, and every page it opens is written to
    the audit log with the break-glass id (besides the per-record reads the selectors write)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_public(request) or _is_api(request) or not request.user.is_authenticated:
            return self.get_response(request)
        p = principal(request)
        if p.break_glass is None:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        name = match.view_name
        if name in BREAK_GLASS_POSTS:
            return self.get_response(request)
        if name not in BREAK_GLASS_PAGES or request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        response = self.get_response(request)
        audit.record(
            actor=p,
            action="read",
            target_type="page",
            target_id=name,
            target_org_slug=p.break_glass.organisation_slug,
            details={
                "what": "break_glass_page",
                "args": {k: str(v)[:64] for k, v in match.kwargs.items()},
                "status": response.status_code,
            },
        )
        return response


class SecurityHeadersMiddleware:
    """Headers Django does not set: no caching of staff pages (a shared or stolen computer must
    not keep them), no powerful browser features."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            from refuge.core.views.errors import method_not_allowed

            response = method_not_allowed(request, response.get("Allow", ""))
        response.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
        )
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path_info.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response


class NulByteMiddleware:
    """A NUL byte in the path, the query string or a form field answers 400 before any view.

    PostgreSQL cannot store or compare a NUL in text, so such input reached the database as a
    500 (issue 14, L1). Refused here once, for every page and endpoint: JSON under /api/, the
    neutral public page under /help/, the plain error page elsewhere. Uploaded files may hold
    NUL bytes and are not looked at; JSON bodies are checked for an escaped NUL.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            from refuge.core.views.errors import bad_request

            return bad_request(request)
        return self.get_response(request)


_NUL_BODY_LIMIT = 256 * 1024


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    if any("\x00" in k or any("\x00" in v for v in vs) for k, vs in request.GET.lists()):
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    ctype = request.META.get("CONTENT_TYPE", "")
    try:
        # A large body is left to its view, which refuses it (413) before reading it.
        if int(request.META.get("CONTENT_LENGTH") or 0) > _NUL_BODY_LIMIT:
            return False
        if ctype.startswith("application/x-www-form-urlencoded") or (
            ctype.startswith("multipart/form-data") and not request.path.startswith("/api/")
        ):
            request.body  # noqa: B018 - kept, so a view that reads the raw body still can
            return any(
                "\x00" in k or any("\x00" in v for v in vs) for k, vs in request.POST.lists()
            )
        if "json" in ctype:
            return b"\\u0000" in request.body or b"\x00" in request.body
    except Exception:  # noqa: BLE001 - a body we cannot read is the view's to refuse
        return False
    return False


# Paths whose JSON is compressed (see ApiGZipMiddleware).
GZIP_PATHS = ("/api/v1/placements/search", "/api/v1/hsds/")


class ApiGZipMiddleware(GZipMiddleware):
    """gzip for the large JSON answers of the API only: placement search (a network's every
    facility, 1.5 MB at 5,000) and the public HSDS read API.

    BREACH (docs/decisions.md): compression leaks, through the size of the response, whether
    text an attacker injects matches a secret in the same response. These responses hold no
    secret (no CSRF token, no session, no key: machine clients authenticate with a header that
    is never echoed) and are not pages a browser carries cookies to; HTML pages, forms and the
    other API responses are never compressed here."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path.startswith(GZIP_PATHS):
            return response
        if not response.get("Content-Type", "").startswith("application/json"):
            return response
        return super().process_response(request, response)
