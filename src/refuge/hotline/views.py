"""Operators' pages: the live queue, the call card, wrap-up, calls by hand, callbacks, figures.

An operator who answered a call and has not wrapped it up is sent to its wrap-up form before
she can take another call (the queue, taking a call, entering a call by hand, calling back).
"""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from refuge.core import roles
from refuge.core.access import Principal, principal, role_required
from refuge.core.ids import int_or_none
from refuge.core.once import once
from refuge.core.services import ServiceError

from . import charts, conf, figures, selectors, services, windows, wrapup_hints
from .forms import (
    AttemptForm,
    CallbackForm,
    CloseForm,
    ExtensionForm,
    FiguresForm,
    LineForm,
    ManualCallForm,
    WrapUpForm,
)
from .models import Callback, CallbackStatus, CallState, Line, OperatorExtension, WrapUp

log = logging.getLogger("refuge.hotline")


def _wrapup_first(p: Principal):
    """The call she must wrap up before anything else, if any."""
    if p.user is None:
        return None
    pending = services.pending_wrapups(p.user)
    return pending[0] if pending else None


def _to_wrapup(request: HttpRequest, call) -> HttpResponse:
    messages.info(request, _("Please wrap up your last call before you take another one."))
    return redirect("hotline:wrapup", pk=call.pk)


# --- queue and calls -------------------------------------------------------------------------


@login_required
@role_required(roles.can_take_calls)
def queue(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    pending = _wrapup_first(p)
    if pending is not None:
        return _to_wrapup(request, pending)
    return render(request, "hotline/queue.html", _queue_context(p))


def _queue_context(p: Principal) -> dict:
    if conf.batched_ingest():
        # What the PBX said up to now, before the queue is read (the merger may be between
        # two polls); skipped at once while the merger itself is at it. A batch that cannot
        # be merged stays pending (the merger logs it) and must not take the queue down.
        try:
            services.pending_merge(limit=500)
        except Exception:
            log.exception("merging pending PBX events before the live queue failed")
    return {
        "q": selectors.live_queue(p),
        "now": timezone.now(),
        "callbacks_open": selectors.open_callback_count(p),
    }


@login_required
@role_required(roles.can_take_calls)
def queue_live(request: HttpRequest) -> HttpResponse:
    """The part of the queue that htmx refreshes every few seconds."""
    p = principal(request)
    pending = _wrapup_first(p)
    if pending is not None:
        response = HttpResponse("")
        response["HX-Redirect"] = reverse("hotline:wrapup", kwargs={"pk": pending.pk})
        return response
    return render(request, "hotline/_queue_live.html", _queue_context(p))


@login_required
@role_required(roles.can_take_calls)
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    p = principal(request)
    call = selectors.call_for_principal(p, pk)
    counted = selectors.with_repeat_counts(selectors.visible_calls(p).filter(pk=call.pk)).first()
    wrapup = WrapUp.objects.filter(call=call).prefetch_related("needs").first()
    return render(
        request,
        "hotline/call.html",
        {
            "call": call,
            "previous_calls": counted.previous_calls if counted else None,
            "wrapup": wrapup,
            "is_mine": p.user is not None and call.answered_by_id == p.user.pk,
            "can_take": call.answered_by_id is None
            and (call.state != CallState.DISCONNECTED or call.answered),
            "callbacks": call.callbacks.filter(organisation_id=p.org_id).count(),
            "now": timezone.now(),
        },
    )


@login_required
@role_required(roles.can_take_calls)
@require_POST
def call_take(request: HttpRequest, pk: int) -> HttpResponse:
    p = principal(request)
    call = selectors.call_for_principal(p, pk)
    try:
        services.call_take(by=p, call=call)
    except ServiceError as exc:
        if exc.code == "wrapup_required":
            pending = _wrapup_first(p)
            if pending is not None:
                return _to_wrapup(request, pending)
        messages.error(request, exc.message)
        return redirect("hotline:call", pk=call.pk)
    messages.success(request, _("The call is yours."))
    return redirect("hotline:call", pk=call.pk)


@login_required
@role_required(roles.can_take_calls)
def wrapup(request: HttpRequest, pk: int) -> HttpResponse:
    p = principal(request)
    call = selectors.call_for_principal(p, pk)
    existing = WrapUp.objects.filter(call=call).prefetch_related("needs").first()
    # Saved before: as saved. Not yet: what her intake, started from this call, recorded.
    initial = (
        WrapUpForm.initial_from(existing)
        if existing
        else wrapup_hints.initial_for(request, call.pk)
    )
    form = WrapUpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.wrapup_data()
        try:
            services.wrapup_record(by=p, call=call, data=data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            wrapup_hints.forget(request, call.pk)
            messages.success(request, _("Wrap-up saved."))
            if "callback" in data.outcomes and not call.callbacks.exists():
                return redirect(f"{reverse('hotline:callback_new')}?call={call.pk}")
            if "placement" in data.outcomes and roles.can_create_cases(p.role):
                # She needs a place: her case file is the next step (intake, then the search).
                return redirect(f"{reverse('cases:new')}?call={call.pk}")
            return redirect("hotline:queue")
    return render(
        request,
        "hotline/wrapup.html",
        {
            "call": call,
            "form": form,
            "existing": existing,
            "prefilled": bool(initial) and not existing,
            "now": timezone.now(),
        },
    )


@login_required
@role_required(roles.can_take_calls)
@once
def call_new(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    pending = _wrapup_first(p)
    if pending is not None:
        return _to_wrapup(request, pending)
    form = ManualCallForm(request.POST or None, lines=selectors.lines_for(p))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = form.wrapup_data()
        try:
            call = services.call_manual_create(
                by=p,
                started_at=d["started_at"],
                talk_minutes=d["talk_minutes"],
                wrapup=data,
                direction=d["direction"],
                line=d["line"],
                caller_number=d["caller_number"],
                region=d["region"],
            )
        except ServiceError as exc:
            form.add_error("caller_number" if exc.code == "invalid_phone" else None, exc.message)
        else:
            messages.success(request, _("The call is recorded."))
            if "callback" in data.outcomes:
                return redirect(f"{reverse('hotline:callback_new')}?call={call.pk}")
            return redirect("hotline:call", pk=call.pk)
    return render(request, "hotline/call_new.html", {"form": form})


# --- callbacks -------------------------------------------------------------------------------


@login_required
@role_required(roles.can_take_calls)
def callbacks(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    return render(
        request,
        "hotline/callbacks.html",
        {"rows": selectors.callback_queue(p), "now": timezone.now()},
    )


@login_required
@role_required(roles.can_take_calls)
@once
def callback_new(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    call = None
    call_id = request.GET.get("call") or request.POST.get("call")
    if call_id:
        try:
            call = selectors.call_for_principal(p, int(call_id))
        except ValueError:
            call = None
    country = call.line.default_country if call and call.line else "RU"
    form = CallbackForm(request.POST or None, country=country)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cb = services.callback_create(
                by=p,
                safe_number=d["safe_number"],
                safe_times=d["safe_times"],
                tz=d["timezone"],
                call=call,
                name_to_ask=d["name_to_ask"],
                may_leave_message=d["may_leave_message"],
                language=d["language"],
            )
        except ServiceError as exc:
            form.add_error("safe_number" if exc.code == "invalid_phone" else None, exc.message)
        else:
            messages.success(request, _("The callback is in the queue."))
            return redirect("hotline:callback", pk=cb.pk)
    return render(request, "hotline/callback_new.html", {"form": form, "call": call})


def _window_text(w: windows.Window) -> str:
    days = ", ".join(str(WEEKDAYS_ABBR[d]) for d in w.days)
    return f"{days} {w.start:%H:%M}–{w.end:%H:%M}"


def _greeting(cb: Callback, p: Principal) -> str:
    me = (p.user.first_name if p.user else "") or _("your colleague")
    if cb.name_to_ask:
        return _(
            "Hello, may I speak to %(name)s? This is %(me)s, returning your call. "
            "Is this a good time to talk?"
        ) % {"name": cb.name_to_ask, "me": me}
    return _("Hello, this is %(me)s, returning your call. Is this a good time to talk?") % {
        "me": me
    }


@login_required
@role_required(roles.can_take_calls)
def callback_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    p = principal(request)
    cb = selectors.callback_for_principal(p, pk)
    now = timezone.now()
    safe = windows.loads(cb.windows)
    nxt = windows.next_open(safe, cb.timezone, now)
    open_now = cb.status == CallbackStatus.OPEN and nxt == now
    return render(
        request,
        "hotline/callback.html",
        {
            "cb": cb,
            "safe_times": [_window_text(w) for w in safe],
            "open_now": open_now,
            "next_open": nxt,
            "her_now": now.astimezone(windows.zone(cb.timezone)),
            "greeting": _greeting(cb, p),
            "attempts": cb.attempts.all(),
            "attempt_form": AttemptForm(),
            "close_form": CloseForm(),
        },
    )


@login_required
@role_required(roles.can_take_calls)
@require_POST
def callback_attempt(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    p = principal(request)
    pending = _wrapup_first(p)
    if pending is not None:
        return _to_wrapup(request, pending)
    cb = selectors.callback_for_principal(p, pk, what="attempt")
    form = AttemptForm(request.POST)
    if form.is_valid():
        try:
            services.callback_attempt_record(
                by=p, callback=cb, outcome=form.cleaned_data["outcome"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The attempt is recorded."))
    else:
        messages.error(request, _("Choose what happened."))
    return redirect("hotline:callback", pk=cb.pk)


@login_required
@role_required(roles.can_take_calls)
@require_POST
def callback_close(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    p = principal(request)
    cb = selectors.callback_for_principal(p, pk, what="close")
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.callback_close(by=p, callback=cb, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The callback is closed."))
            return redirect("hotline:callbacks")
    return redirect("hotline:callback", pk=cb.pk)


# --- figures ---------------------------------------------------------------------------------


@login_required
@role_required(roles.can_view_hotline_figures)
def figures_page(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    lines = selectors.lines_for(p)
    default_start, default_end = FiguresForm.default_range(timezone.localdate())
    form = FiguresForm(
        request.GET if "start" in request.GET else None,
        lines=lines,
        initial={"start": default_start, "end": default_end},
    )
    start, end, line = default_start, default_end, None
    if form.is_bound and form.is_valid():
        start, end, line = (
            form.cleaned_data["start"],
            form.cleaned_data["end"],
            form.cleaned_data["line"],
        )
    qs = selectors.figure_calls(p)
    if line is not None:
        qs = qs.filter(line=line)
    f = figures.figures(qs, start, end)
    day_series = [
        ("answered", "c-answered", pgettext("figures", "answered")),
        ("abandoned", "c-abandoned", _("abandoned")),
        ("short_abandoned", "c-short", _("short abandons")),
    ]
    return render(
        request,
        "hotline/figures.html",
        {
            "form": form,
            "f": f,
            "day_chart": charts.stacked_columns(f.by_day, day_series),
            "hour_chart": charts.stacked_columns(f.by_hour, day_series, every=3),
            "region_chart": charts.horizontal_bars(
                f.by_region, "offered", "c-offered", _("offered")
            ),
            "line_chart": charts.horizontal_bars(f.by_line, "offered", "c-offered", _("offered")),
            "short_seconds": conf.short_abandon_seconds(),
            "repeat_days": conf.repeat_window().days,
        },
    )


# --- set-up: lines and extensions -------------------------------------------------------------


def _call_takers(p: Principal):
    from refuge.core.models import User

    qs = User.objects.filter(
        membership__is_active=True,
        membership__role__in=[r for r in roles.Role if roles.can_take_calls(r)],
    ).select_related("membership__organisation")
    if p.role != roles.Role.ADMIN:
        qs = qs.filter(membership__organisation_id=p.org_id)
    return qs.order_by("membership__organisation__name", "username")


@login_required
@role_required(roles.can_set_up_hotline)
def setup(request: HttpRequest) -> HttpResponse:
    """Managers give their staff PBX extensions (so a call answered on 101 is hers);
    administrators also register lines and give them to organisations."""
    from refuge.core.models import Organisation

    p = principal(request)
    is_admin = p.role == roles.Role.ADMIN
    staff = _call_takers(p)
    ext_form = ExtensionForm(staff=staff)
    line_form = LineForm(organisations=Organisation.objects.filter(is_active=True).order_by("name"))
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "extension":
                ext_form = ExtensionForm(request.POST, staff=staff)
                if ext_form.is_valid():
                    d = ext_form.cleaned_data
                    services.extension_assign(by=p, user=d["user"], identity=d["identity"])
                    messages.success(
                        request, _("Extension %(ext)s saved.") % {"ext": d["identity"]}
                    )
                    return redirect("hotline:setup")
            elif action == "remove":
                ext = OperatorExtension.objects.filter(
                    pk=int_or_none(request.POST.get("extension")), user__in=staff
                ).first()
                if ext is None:
                    messages.error(request, _("No such extension."))
                else:
                    services.extension_remove(by=p, extension=ext)
                    messages.success(
                        request, _("Extension %(ext)s removed.") % {"ext": ext.identity}
                    )
                return redirect("hotline:setup")
            elif action == "line" and is_admin:
                line_form = LineForm(
                    request.POST, organisations=line_form.fields["organisation"].queryset
                )
                if line_form.is_valid():
                    line = services.line_save(by=p, **line_form.cleaned_data)
                    messages.success(request, _("Line %(line)s saved.") % {"line": line})
                    return redirect("hotline:setup")
        except ServiceError as exc:
            target = line_form if action == "line" else ext_form
            target.add_error(None, exc.message)
    extensions = (
        OperatorExtension.objects.filter(user__in=staff)
        .select_related("user__membership__organisation")
        .order_by("identity")
    )
    return render(
        request,
        "hotline/setup.html",
        {
            "ext_form": ext_form,
            "line_form": line_form if is_admin else None,
            "extensions": extensions,
            "lines": Line.objects.select_related("organisation").order_by("number")
            if is_admin
            else Line.objects.filter(organisation_id=p.org_id).order_by("number"),
            "is_admin": is_admin,
        },
    )


# --- PBX events that could not be read ------------------------------------------------------

# Lazy: built at import, read in the language of each request.
PROBLEMS = {
    "missing_field": gettext_lazy("A field the call needs is missing."),
    "invalid_field": gettext_lazy("A field has a value that cannot be read."),
    "invalid_time": gettext_lazy("A time is not plausible (before 2000, or in the future)."),
    "unknown_state": gettext_lazy("The call's state is not one we know."),
    "unknown_location": gettext_lazy(
        "The call's place in the PBX (IVR, queue, operator) is not one we know."
    ),
    "bad_json": gettext_lazy("The event is not readable JSON."),
}


@login_required
@role_required(roles.can_set_up_hotline)
def quarantine(request: HttpRequest) -> HttpResponse:
    """Events the PBX signed correctly that could not be read: kept (without phone numbers)
    until the software is fixed and they are replayed."""
    p = principal(request)
    rows = selectors.quarantine_for(p)
    waiting = rows.filter(outcome="").count()
    listed = list(rows.select_related("organisation")[:200])
    for row in listed:
        row.problem = PROBLEMS.get(row.error_code, _("The event could not be read."))
    return render(
        request,
        "hotline/quarantine.html",
        {
            "rows": listed,
            "waiting": waiting,
            "shown": len(listed),
            "total": rows.count(),
            "stuck": services.pending_stuck_count(),
        },
    )
