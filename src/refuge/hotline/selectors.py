"""Reads that decide who sees which calls and callbacks.

- Calls carry no identity (no number, no name): an organisation's staff see the calls of its
  lines, and any call they answered; coordinators (the network hub sorts the shared PBX's
  calls) see every call, including calls on lines no organisation owns yet.
- Figures: operators and managers see their organisation's; coordinators the whole network.
  Analysts see none: figures for free date ranges could be subtracted from the suppressed
  quarterly exports (refuge.insights) to reveal a hidden cell.
- Callbacks hold her safe number: only her organisation sees them, and every read of one is
  audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from refuge.core import audit, crypto
from refuge.core.access import Principal, audited_read
from refuge.core.roles import Role, can_set_up_hotline, can_take_calls, can_view_hotline_figures

from . import conf, windows
from .models import Call, Callback, CallbackStatus, CallState, Direction, Line, QuarantinedEvent


def visible_calls(p: Principal) -> QuerySet[Call]:
    if p.role is None or not (can_take_calls(p.role) or can_view_hotline_figures(p.role)):
        raise PermissionDenied
    if p.role == Role.COORDINATOR:
        return Call.objects.all()
    q = Q(organisation_id=p.org_id) if p.org_id else Q(pk__in=[])
    if p.user is not None:
        q |= Q(answered_by=p.user)
    return Call.objects.filter(q)


def figure_calls(p: Principal) -> QuerySet[Call]:
    """The calls whose figures the principal may see."""
    if p.role is None or not can_view_hotline_figures(p.role):
        raise PermissionDenied
    if p.role == Role.COORDINATOR:
        return Call.objects.all()
    return Call.objects.filter(organisation_id=p.org_id)


def call_for_principal(p: Principal, pk: int) -> Call:
    try:
        return visible_calls(p).select_related("line", "organisation", "answered_by").get(pk=pk)
    except Call.DoesNotExist as exc:
        raise Http404 from exc


def with_repeat_counts(qs: QuerySet[Call]) -> QuerySet[Call]:
    """Each call with the number of earlier calls from the same number within the window
    (her calls: a callback we made to her number is not one)."""
    earlier = (
        Call.objects.filter(
            direction=Direction.INCOMING,
            caller_key=OuterRef("caller_key"),
            created_at__lt=OuterRef("created_at"),
            created_at__gte=OuterRef("created_at") - conf.repeat_window(),
        )
        .exclude(caller_key="")
        .order_by()
        .values("caller_key")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(previous_calls=Subquery(earlier))


@dataclass
class Queue:
    waiting: list[Call]
    in_progress: list[Call]
    to_wrap_up: list[Call]  # answered, ended, nobody has wrapped them up
    mine: list[Call]  # in progress and mine
    recent: list[Call]


def live_queue(p: Principal, *, now: datetime | None = None) -> Queue:
    now = now or timezone.now()
    calls = visible_calls(p).select_related("line", "answered_by")
    live = list(
        with_repeat_counts(
            calls.exclude(state=CallState.DISCONNECTED).filter(
                created_at__gte=now - timedelta(hours=12)
            )
        ).order_by("created_at", "pk")
    )
    since = now - timedelta(hours=24)
    unwrapped = list(
        with_repeat_counts(
            calls.filter(
                state=CallState.DISCONNECTED,
                answered=True,
                wrapup__isnull=True,
                ended_at__gte=since,
            )
        ).order_by("ended_at", "pk")
    )
    recent = list(
        calls.filter(state=CallState.DISCONNECTED, ended_at__gte=since)
        .select_related("wrapup")
        .order_by("-ended_at", "-pk")[:15]
    )
    user_id = p.user.pk if p.user else None
    return Queue(
        waiting=[c for c in live if not c.answered],
        in_progress=[c for c in live if c.answered and c.answered_by_id != user_id],
        to_wrap_up=[c for c in unwrapped if c.answered_by_id in (None, user_id)],
        mine=[c for c in live if c.answered and c.answered_by_id == user_id and user_id],
        recent=recent,
    )


def quarantine_for(p: Principal) -> QuerySet[QuarantinedEvent]:
    """PBX events that could not be read: administrators see all; a manager those on her
    organisation's lines and those whose line could not be told (they hold no number)."""
    if p.role is None or not can_set_up_hotline(p.role):
        raise PermissionDenied
    rows = QuarantinedEvent.objects.all()
    if p.role != Role.ADMIN:
        rows = rows.filter(Q(organisation_id=p.org_id) | Q(organisation__isnull=True))
    return rows


def lines_for(p: Principal) -> QuerySet[Line]:
    if p.role == Role.COORDINATOR:
        return Line.objects.filter(is_active=True)
    return Line.objects.filter(organisation_id=p.org_id, is_active=True)


# --- callbacks -------------------------------------------------------------------------------


@dataclass
class CallbackRow:
    callback: Callback
    open_now: bool
    next_open: datetime | None
    attempts: int


def _callbacks(p: Principal) -> QuerySet[Callback]:
    if p.role is None or not can_take_calls(p.role):
        raise PermissionDenied
    return Callback.objects.filter(organisation_id=p.org_id)


def open_callback_count(p: Principal) -> int:
    """How many callbacks are open (counted without reading any of them)."""
    return _callbacks(p).filter(status=CallbackStatus.OPEN).count()


def callback_queue(p: Principal, *, now: datetime | None = None) -> list[CallbackRow]:
    """Open callbacks: those she can be called on now first, then by the next safe time.

    Reading the safe times decrypts them, so the list is audited as one read of every
    callback it shows (the numbers themselves are shown only on a callback's own page).
    """
    now = now or timezone.now()
    rows = list(
        _callbacks(p)
        .filter(status=CallbackStatus.OPEN)
        .annotate(n_attempts=Count("attempts"))
        .order_by("created_at")[:200]
    )
    crypto.prefetch_data_keys(cb.data_key_id for cb in rows)
    out = []
    for cb in rows:
        safe = windows.loads(cb.windows)
        nxt = windows.next_open(safe, cb.timezone, now)
        out.append(CallbackRow(cb, nxt == now, nxt, cb.n_attempts))
    if rows:
        audit.record(
            actor=p,
            action="read_list",
            target_type="hotline.callback",
            target_org_slug=p.org_slug or "",
            details={"ids": [str(cb.pk) for cb in rows]},
        )
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda r: (not r.open_now, r.next_open or far, r.callback.created_at))
    return out


def callback_for_principal(p: Principal, pk: uuid.UUID, *, what: str = "record") -> Callback:
    try:
        cb = _callbacks(p).select_related("call", "data_key").get(pk=pk)
    except Callback.DoesNotExist as exc:
        raise Http404 from exc
    audited_read(p, cb, target_org_slug=p.org_slug or "", what=what)
    return cb
