"""Every state change of the hotline: PBX events, taking a call, wrap-up, callbacks, lines.

PBX events are recorded as calls (and their de-duplicated event log), not as audit events:
one audit event per webhook would serialise ingestion on the audit chain's head row
(docs/decisions.md). What people do (take a call, wrap up, enter a call by hand, call back)
is audited in the same transaction, as everywhere else.

Ingestion is race-free on SQLite and PostgreSQL: every event of a call is applied under the
call's row lock (SQLite: the IMMEDIATE write lock), the call row is created with an
INSERT … ON CONFLICT DO NOTHING, and the (call, leg, seq) unique constraint backs up the
duplicate check. The call is a fold of its events (merge.py), so order and repetition do not
change the result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit, crypto
from refuge.core.access import Principal, require
from refuge.core.models import Organisation, User
from refuge.core.roles import Role, can_administer, can_manage_staff, can_take_calls
from refuge.core.services import ServiceError, data_key_create

from . import adapters, conf, merge, regions, scrub, signatures, store, windows
from .models import (
    AttemptOutcome,
    Call,
    CallbackAttempt,
    CallbackStatus,
    CallEvent,
    CallState,
    ContactType,
    Line,
    Need,
    OperatorExtension,
    PendingEvent,
    Provider,
    QuarantinedEvent,
    RegionSource,
    UnmetReason,
    WrapUp,
    WrapUpNeed,
)
from .models import Callback as CallbackModel

log = logging.getLogger("refuge.hotline")


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def line_key(raw: str) -> str:
    """How a line is looked up: the digits of a phone number, or a line name in lower case."""
    text = (raw or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and len(digits) >= 3 and all(ch.isdigit() or ch in "+-() ." for ch in text):
        return digits[:64]
    return text.casefold()[:64]


# --- PBX events ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    status: str  # "recorded" or "duplicate"
    call: Call


def _line_for(raw: str, organisation: Organisation | None, known: Line | None = None) -> Line:
    key = line_key(raw)
    line = known if known is not None else store.line(key)
    if line is None:
        line, _created = Line.objects.get_or_create(
            number=key, defaults={"organisation": organisation}
        )
    if organisation is not None and line.organisation_id not in (None, organisation.pk):
        raise ServiceError(
            _("This line belongs to another organisation; this key cannot report its calls."),
            "forbidden",
        )
    return line


def _set_caller(call: Call, inbound: adapters.Inbound, line: Line | None) -> None:
    """Hash the caller's number and keep its region; the number itself goes no further."""
    if inbound.caller_token:
        _set_caller_from_token(call, inbound.caller_token, line)
        return
    country = line.default_country if line else "RU"
    e164 = regions.normalise_number(inbound.external_number, country)
    call.caller_key = crypto.blind_index(e164, purpose="caller") if e164 else ""
    call.caller_known = bool(e164)
    if inbound.caller_region:
        place = regions.Place(inbound.caller_region, RegionSource.PBX)
    else:
        place = regions.caller_place(
            e164,
            line_region=line.region if line else "",
            region_from_line=bool(line and line.region_from_line),
        )
    call.caller_region, call.region_source = place.region, place.source
    _set_out_of_region(call, line)


def number_token(raw: str, country: str = "RU") -> str:
    """What a quarantined event keeps of a phone number: its caller key and its region."""
    e164 = regions.normalise_number(raw, country)
    if not e164:
        return adapters.TOKEN + ":::"
    place = regions.place_for_number(e164)
    key = crypto.blind_index(e164, purpose="caller")
    return f"{adapters.TOKEN}{key}:{place.region}:{place.source}"


def _set_caller_from_token(call: Call, token: str, line: Line | None) -> None:
    key, region, source = (token[len(adapters.TOKEN) :].split(":") + ["", "", ""])[:3]
    call.caller_key, call.caller_known = key, bool(key)
    call.caller_region, call.region_source = region, source
    if key:
        _region_from_new_line(call, line) if line else _set_out_of_region(call, line)
    else:
        _set_out_of_region(call, line)


def _region_from_new_line(call: Call, line: Line) -> None:
    """The caller's number came before the line: a regional line may still place her."""
    if (
        call.caller_known
        and call.region_source in (RegionSource.COUNTRY, RegionSource.UNKNOWN)
        and line.region_from_line
        and line.region
        and call.caller_region in ("", line.region.split("-")[0])
    ):
        call.caller_region, call.region_source = line.region, RegionSource.LINE
    _set_out_of_region(call, line)


def _set_out_of_region(call: Call, line: Line | None) -> None:
    area = regions.parse_area(line.service_area) if line else []
    if call.region_source == RegionSource.LINE:
        call.out_of_region = False
    else:
        call.out_of_region = regions.in_area(call.caller_region, area)
        if call.out_of_region is not None:
            call.out_of_region = not call.out_of_region


def _apply_derived(call: Call, agg: dict[str, Any]) -> None:
    d = merge.derive(agg)
    call.aggregate = agg
    call.state = d.state
    call.direction = d.direction
    call.created_at = _dt(d.created)
    call.forwarded_at = _dt(d.forwarded)
    call.answered_at = _dt(d.answered)
    call.ended_at = _dt(d.ended)
    call.answered = d.is_answered
    call.wait_seconds = d.wait_seconds
    call.talk_seconds = d.talk_seconds
    call.operator_extension = d.operator[:255]
    call.operator_group = d.operator_group[:100]
    call.disconnect_reason = d.disconnect_reason[:20]
    call.entry_result = d.result[:20]
    call.has_summary = d.has_summary


def call_event_ingest(
    *, inbound: adapters.Inbound, organisation: Organisation | None = None
) -> IngestResult:
    """Record one PBX event. Idempotent: the same event again changes nothing.

    ``organisation`` is the API key's organisation (plain JSON webhook): its calls, and lines
    it registers, are its own, and it cannot touch another organisation's calls or lines.
    Mango and Twilio calls belong to the organisation that owns the line.

    On PostgreSQL an event is read, folded and written with optimistic concurrency (see
    store.py): two round trips and no lock held in between; if another event of the same
    call was written in the meantime, it is read and folded again. On SQLite the same steps
    run in one IMMEDIATE transaction.
    """
    if connection.vendor == "postgresql":
        done = _ingest_retrying([inbound], organisation)
    else:
        with transaction.atomic():
            done = _ingest_group([inbound], organisation)
            assert done is not None
    _repeats_after(done)
    return IngestResult(done.statuses[0], done.call)


_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class _Merged:
    """What folding some events of one call did: each event's status, the call as stored,
    and the caller key, arrival and direction it had before (for the repeat flags)."""

    statuses: list[str]
    call: Call
    old_key: str
    old_created: float | None
    old_direction: str


def _ingest_retrying(inbounds: list[adapters.Inbound], organisation: Organisation | None):
    for _attempt in range(_MAX_ATTEMPTS):
        done = _ingest_group(inbounds, organisation)
        if done is not None:
            return done
    # Only with hundreds of events of one call at the same instant.
    raise ServiceError(_("This call is too busy; send the event again."), "conflict")


def _repeats_after(done: _Merged) -> None:
    call = done.call
    new_created = call.created_at.timestamp() if call.created_at else None
    if (
        "recorded" in done.statuses
        and call.caller_key
        and new_created is not None
        and (
            call.caller_key != done.old_key
            or new_created != done.old_created
            or call.direction != done.old_direction
        )
    ):
        times = [t for t in (done.old_created, new_created) if t is not None]
        _repeat_recompute(call.caller_key, _dt(min(times)), _dt(max(times)))


def _hint(inbound: adapters.Inbound) -> str:
    return inbound.event.operator if inbound.event else inbound.summary.operator  # type: ignore[union-attr]


def _ingest_group(
    inbounds: list[adapters.Inbound], organisation: Organisation | None
) -> _Merged | None:
    """One try at folding events of one call (one read, one write however many there are),
    or None when the call changed under us (read again)."""
    first = inbounds[0]
    hint = _hint(first)
    named = next((i.line for i in inbounds if i.line), "")
    snap = store.read(first.provider, first.entry_id, line_key(named) if named else "", hint)
    version = snap.call.event_count if snap.call is not None else None
    call = snap.call or Call(provider=first.provider, entry_id=first.entry_id)
    if organisation is not None and call.organisation_id not in (None, organisation.pk):
        raise ServiceError(_("This call belongs to another organisation."), "forbidden")
    # Freshly read from the database: ours to change (no copy needed).
    agg = call.aggregate if snap.call is not None else merge.new_aggregate()
    agg = merge.upgrade(agg) if agg.get("v") in (1, merge.VERSION) else merge.new_aggregate()
    old_created = agg["summary"]["created"] if agg["summary"] else agg["created"]
    old_direction, old_key, old_ext = call.direction, call.caller_key, call.operator_extension
    statuses: list[str] = []
    events: list[store.NewEvent] = []
    caller_set: tuple | None = None
    for inbound in inbounds:
        if inbound.summary is not None:
            is_new = merge.apply_summary(agg, inbound.summary)
        else:
            assert inbound.event is not None
            is_new = merge.apply_event(agg, inbound.event)
        statuses.append("recorded" if is_new else "duplicate")
        if not is_new:
            continue
        line: Line | None = None
        if call.line_id is None and inbound.line:
            known = snap.line if line_key(inbound.line) == line_key(named) else None
            line = _line_for(inbound.line, organisation, known)
            call.line = line
            call.organisation_id = line.organisation_id or (
                organisation.pk if organisation else None
            )
        elif call.organisation_id is None and organisation is not None:
            call.organisation_id = organisation.pk
        caller = (inbound.external_number, inbound.caller_region, inbound.caller_token)
        if any(caller) and (not call.caller_known or inbound.summary is not None):
            # The same number on the same line again (a batch's summary after its events)
            # gives the same key and region: not worked out twice.
            if (caller, call.line_id) != caller_set:
                _set_caller(call, inbound, line or call.line)
                caller_set = (caller, call.line_id)
        elif line is not None:
            _region_from_new_line(call, line)
            caller_set = None
        kind, leg_id, seq = inbound.key
        ev = inbound.event
        events.append(
            store.NewEvent(
                kind=kind,
                leg_id=leg_id,
                seq=seq,
                state=ev.state if ev else merge.DISCONNECTED,
                location=ev.location if ev else "",
                at=_dt(ev.at if ev else inbound.summary.ended),  # type: ignore[union-attr]
            )
        )
    if not events:
        return _Merged(statuses, call, old_key, old_created, old_direction)
    _apply_derived(call, agg)
    if call.answered_by_id is None and call.operator_extension not in ("", old_ext):
        call.answered_by_id = (
            snap.identity_user
            if call.operator_extension == hint
            else store.extension_user(call.operator_extension)
        )
    call.event_count += len(events)
    if not store.write(call, events, version=version):
        return None
    return _Merged(statuses, call, old_key, old_created, old_direction)


# --- batched ingest (docs/decisions.md) ------------------------------------------------------

_PENDING = "hotline-pending"


def pending_dumps(inbound: adapters.Inbound) -> str:
    """An accepted event as the text kept until it is merged; the caller's number sealed."""
    # Not dataclasses.asdict: its deep copy was most of the webhook's own CPU (profiled).
    data = dict(vars(inbound))
    data["event"] = vars(inbound.event) if inbound.event else None
    data["summary"] = vars(inbound.summary) if inbound.summary else None
    if inbound.external_number:
        data["external_number"] = crypto.seal_network(
            inbound.external_number, purpose=_PENDING, aad=inbound.entry_id.encode()
        )
    return json.dumps(data, separators=(",", ":"))


def pending_loads(text: str) -> adapters.Inbound:
    data = json.loads(text)
    event, summary = data.pop("event"), data.pop("summary")
    if data["external_number"]:
        data["external_number"] = crypto.unseal_network(
            data["external_number"], purpose=_PENDING, aad=data["entry_id"].encode()
        )
    return adapters.Inbound(
        **data,
        event=merge.Event(**event) if event else None,
        summary=merge.Summary(**summary) if summary else None,
    )


def event_accept(*, inbound: adapters.Inbound) -> None:
    """Keep a signed, parsed Mango or Twilio event for the merger: one INSERT, committed
    before the PBX is answered. `pending_merge` folds it into its call."""
    store.pending_add(pending_dumps(inbound), timezone.now())


def pending_merge(*, limit: int = 2000) -> int:
    """Fold up to ``limit`` pending events into their calls, in one transaction that also
    deletes them (each is merged exactly once; a crash merges none of the batch, and the next
    run takes them again). One merger at a time (PostgreSQL: an advisory lock, SQLite: the
    write lock); a second caller finds the lock taken and returns 0 at once. Returns how many
    events were taken.

    If the batch fails, it is rolled back and taken again call by call, each in a savepoint:
    the events of a call that still fails go back to the end of the pending list (logged), so
    one event the code cannot merge never holds up the others."""
    try:
        return _pending_merge(limit, careful=False)
    except Exception:
        log.exception("a batch of PBX events failed to merge; merging it call by call")
        return _pending_merge(limit, careful=True)


def _pending_merge(limit: int, *, careful: bool) -> int:
    with transaction.atomic():
        if not store.merge_lock():
            return 0
        rows = store.pending_take(limit)
        groups: dict[tuple[str, str], list[tuple[tuple[str, int], adapters.Inbound]]] = {}
        kept: list[tuple[str, int]] = []
        for row in rows:
            try:
                inbound = pending_loads(row[0])
            except Exception:
                if not careful:
                    raise
                log.exception("a pending PBX event could not be read; kept pending")
                kept.append(row)
                continue
            groups.setdefault((inbound.provider, inbound.entry_id), []).append((row, inbound))
        merged = []
        for group in groups.values():
            inbounds = [inbound for _row, inbound in group]
            if not careful:
                merged.append(_ingest_retrying(inbounds, None))
                continue
            try:
                with transaction.atomic():
                    merged.append(_ingest_retrying(inbounds, None))
            except Exception:
                log.exception("PBX events of one call could not be merged; kept pending")
                kept += [row for row, _inbound in group]
        if kept and store.pending_add_many(kept, timezone.now()):
            log.error(
                "PBX events set aside after %s failed merges: see the quarantine page; "
                "`refuge hotline-merge --retry-stuck` once fixed",
                store.MAX_MERGE_ATTEMPTS,
            )
    # Repeat flags in their own short transactions, after the events' (as call_event_ingest).
    for done in merged:
        _repeats_after(done)
    return len(rows) - len(kept)


def pending_stuck_count() -> int:
    """Accepted events set aside after failing to merge `store.MAX_MERGE_ATTEMPTS` times."""
    return PendingEvent.objects.filter(stuck_at__isnull=False).count()


def pending_retry_stuck() -> int:
    """Put the events set aside back in the list, with their attempts counted from zero (for
    after the error that stopped them is fixed). Returns how many."""
    return PendingEvent.objects.filter(stuck_at__isnull=False).update(stuck_at=None, attempts=0)


def _repeat_changes(rows, lo: datetime, hi: datetime, window: timedelta):
    """(ids to mark, ids to unmark) among one caller's calls, given as
    (pk, created_at, direction, repeat_caller) in time order: a repeat is an incoming call
    with another incoming call from the same number within the window before it. An outgoing
    call (a callback) is never a repeat and never makes one."""
    want_true, want_false = [], []
    previous = None
    for pk, created, direction, flag in rows:
        incoming = direction == merge.INCOMING
        repeat = incoming and previous is not None and previous >= created - window
        if incoming:
            previous = created
        if lo <= created <= hi + window and repeat != flag:
            (want_true if repeat else want_false).append(pk)
    return want_true, want_false


def _repeat_recompute(key: str, lo: datetime, hi: datetime) -> None:
    """Mark which calls of one caller are repeats (see `_repeat_changes`). Recomputed for every
    call the change can affect, so calls recorded out of order end up marked as if they had
    come in order.

    Runs in its own transaction, after the event's: the rows are locked in id order, so two
    of these never deadlock, and an event never waits for one while holding its call.
    """
    window = conf.repeat_window()

    def changes(rows):
        rows = sorted(rows, key=lambda r: (r[1], r[2], r[3]))
        return _repeat_changes(
            [(pk, created, direction, flag) for pk, created, _p, _e, direction, flag in rows],
            lo,
            hi,
            window,
        )

    # Most of the time every flag is right already (a first call, a late event of a call
    # with no neighbours): then a plain read is all it costs. Of two calls recorded at once,
    # the later of these reads sees both, so no change is ever missed.
    if not any(changes(store.caller_calls(key, lo - window, hi + window))):
        return
    with transaction.atomic():
        locked = (
            Call.objects.select_for_update()
            .filter(caller_key=key, created_at__gte=lo - window, created_at__lte=hi + window)
            .order_by("pk")
            .values_list("pk", "created_at", "provider", "entry_id", "direction", "repeat_caller")
        )
        want_true, want_false = changes(list(locked))
        if want_true:
            Call.objects.filter(pk__in=want_true).update(repeat_caller=True)
        if want_false:
            Call.objects.filter(pk__in=want_false).update(repeat_caller=False)


def _repeat_flags_for_keys(keys: set[str]) -> None:
    """Recompute the repeat flags of every call of these callers (bulk loads)."""
    window = conf.repeat_window()
    keys_list = sorted(keys)
    earliest = datetime.min.replace(tzinfo=UTC)
    latest = datetime.max.replace(tzinfo=UTC) - window
    for i in range(0, len(keys_list), 500):
        chunk = keys_list[i : i + 500]
        rows = list(
            Call.objects.filter(caller_key__in=chunk, created_at__isnull=False)
            .order_by("caller_key", "created_at", "provider", "entry_id")
            .values_list("caller_key", "pk", "created_at", "direction", "repeat_caller")
        )
        want_true, want_false = [], []
        for key in chunk:
            mine = [r[1:] for r in rows if r[0] == key]
            t, f = _repeat_changes(mine, earliest, latest, window)
            want_true += t
            want_false += f
        if want_true:
            Call.objects.filter(pk__in=want_true).update(repeat_caller=True)
        if want_false:
            Call.objects.filter(pk__in=want_false).update(repeat_caller=False)


@dataclass(frozen=True)
class CallRecord:
    """A finished call from a PBX's call log (or the demo), for `calls_bulk_load`."""

    provider: str
    entry_id: str
    summary: merge.Summary
    line: Line | None = None
    external_number: str = ""
    answered_by: User | None = None
    wrapup: WrapUpData | None = None
    wrapup_by: User | None = None


def calls_bulk_load(*, by: Principal | None, records: list[CallRecord]) -> int:
    """Load finished calls in bulk, derived exactly as live events are (merge.py, caller key
    and region, repeat flags), with their wrap-ups. Calls already recorded are skipped, so a
    load can be run again. Returns how many calls were added."""
    for r in records:
        if r.wrapup is not None:
            r.wrapup.check()
    with transaction.atomic():
        existing = set()
        ids = [r.entry_id for r in records]
        for i in range(0, len(ids), 500):
            existing |= set(
                Call.objects.filter(entry_id__in=ids[i : i + 500]).values_list(
                    "provider", "entry_id"
                )
            )
        todo = [r for r in records if (r.provider, r.entry_id) not in existing]
        calls = []
        for r in todo:
            call = Call(
                provider=r.provider,
                entry_id=r.entry_id,
                line=r.line,
                organisation_id=r.line.organisation_id if r.line else None,
                answered_by=r.answered_by,
                event_count=1,
            )
            _apply_derived(call, merge.merged([], r.summary))
            if r.external_number:
                inbound = adapters.Inbound(
                    r.provider, r.entry_id, summary=r.summary, external_number=r.external_number
                )
                _set_caller(call, inbound, r.line)
            else:
                _set_out_of_region(call, r.line)
            calls.append(call)
        Call.objects.bulk_create(calls, batch_size=500)
        CallEvent.objects.bulk_create(
            [
                CallEvent(call=c, kind="summary", seq=0, state=merge.DISCONNECTED, at=c.ended_at)
                for c in calls
            ],
            batch_size=500,
        )
        now = timezone.now()
        wrapups = []
        needs = []
        for r, call in zip(todo, calls, strict=True):
            if r.wrapup is None or not call.answered:
                continue
            w = WrapUp(
                call=call,
                contact_type=r.wrapup.contact_type,
                recorded_by=r.wrapup_by or r.answered_by,
                recorded_at=min(now, call.ended_at + timedelta(minutes=3)),
                **{f"abuse_{a}": a in r.wrapup.abuse for a in WrapUp.ABUSE},
                **{f"outcome_{o}": o in r.wrapup.outcomes for o in WrapUp.OUTCOMES},
            )
            wrapups.append(w)
            needs.append(r.wrapup.needs)
        WrapUp.objects.bulk_create(wrapups, batch_size=500)
        WrapUpNeed.objects.bulk_create(
            [
                WrapUpNeed(wrapup=w, need=need, met=reason is None, unmet_reason=reason or "")
                for w, wanted in zip(wrapups, needs, strict=True)
                for need, reason in sorted(wanted.items())
            ],
            batch_size=1000,
        )
        _repeat_flags_for_keys({c.caller_key for c in calls if c.caller_key})
        if calls:
            audit.record(
                actor=by,
                action="hotline.calls.bulk_load",
                target_type="hotline.call",
                details={"calls": len(calls), "wrapups": len(wrapups)},
            )
    return len(calls)


def caller_keys_forget(*, now: datetime | None = None) -> int:
    """Forget the caller keys of calls older than the retention (twice the repeat window).

    A keyed hash of a phone number can be reversed by trying every number if the key leaks,
    so it is kept only as long as repeat detection needs it. Repeat flags already set stay.
    Quarantined events lose the keys in their number tokens at the same age (the region
    stays). Run daily (`refuge hotline-forget-callers`).
    """
    cutoff = (now or timezone.now()) - conf.caller_key_retention()
    for row in QuarantinedEvent.objects.filter(received_at__lt=cutoff):
        text = json.dumps(row.payload)
        forgotten = _KEY_IN_TOKEN.sub(adapters.TOKEN, text)
        if forgotten != text:
            row.payload = json.loads(forgotten)
            row.save(update_fields=["payload"])
    return Call.objects.filter(created_at__lt=cutoff).exclude(caller_key="").update(caller_key="")


_KEY_IN_TOKEN = re.compile(re.escape(adapters.TOKEN) + r"[0-9a-f]{64}")


# --- replay (recovery after an outage) -------------------------------------------------------


@dataclass
class ReplayReport:
    recorded: int = 0
    duplicate: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, error code)

    @property
    def total(self) -> int:
        return self.recorded + self.duplicate + len(self.rejected)


def _replay_one(record: Any, now: float | None) -> IngestResult:
    if not isinstance(record, dict):
        raise adapters.EventError("bad_record", "Each line must be a JSON object.")
    provider = record.get("provider")
    organisation = None
    if provider == adapters.MANGO:
        kind, body = record.get("event"), record.get("json")
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        if "sign" in record and not signatures.mango_verify(
            str(record.get("vpbx_api_key", "")), text, str(record["sign"])
        ):
            raise adapters.EventError("signature_invalid", "The recorded signature is wrong.")
        if kind == "call":
            inbound = adapters.parse_mango_call(text, now=now)
        elif kind == "summary":
            inbound = adapters.parse_mango_summary(text, now=now)
        else:
            raise adapters.EventError("bad_record", "Mango records need event: call or summary.")
    elif provider == adapters.TWILIO:
        params = record.get("params")
        if not isinstance(params, dict):
            raise adapters.EventError("bad_record", "Twilio records need params.")
        inbound = adapters.parse_twilio_status(
            {str(k): str(v) for k, v in params.items()},
            location=str(record.get("location", "")),
            now=now,
        )
    elif provider == adapters.JSON:
        event = record.get("event")
        if not isinstance(event, dict):
            raise adapters.EventError("bad_record", "JSON records need an event object.")
        inbound = adapters.from_plain_json(adapters.load_plain_event(event))
        slug = record.get("organisation")
        organisation = Organisation.objects.filter(slug=slug).first() if slug else None
        if organisation is None:
            raise adapters.EventError("bad_record", "JSON records need an existing organisation.")
    else:
        raise adapters.EventError("bad_record", "provider must be mango, twilio or json.")
    return call_event_ingest(inbound=inbound, organisation=organisation)


def calls_replay(*, lines: Iterable[str], now: float | None = None) -> ReplayReport:
    """Replay recorded PBX events (JSON lines), with the same idempotence as the webhooks.

    Each line is one of::

        {"provider": "mango", "event": "call"|"summary", "json": "<json as sent>",
         "vpbx_api_key": "…", "sign": "…"}            (sign optional; checked if present)
        {"provider": "twilio", "params": {…}, "location": "ivr"}
        {"provider": "json", "organisation": "<slug>", "event": {…}}

    Events already recorded count as duplicates. A bad line is reported by number and error
    code (never its content, which may hold a phone number) and does not stop the others.
    """
    report = ReplayReport()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            result = _replay_one(json.loads(text), now)
        except ValueError:
            report.rejected.append((number, "bad_json"))
            continue
        except adapters.EventError as exc:
            report.rejected.append((number, exc.code))
            continue
        except ServiceError as exc:
            report.rejected.append((number, exc.code))
            continue
        if result.status == "recorded":
            report.recorded += 1
        else:
            report.duplicate += 1
    return report


# --- quarantine: signed events that could not be read -------------------------------------

TWILIO_KEPT = (
    "CallSid",
    "ParentCallSid",
    "CallStatus",
    "Direction",
    "From",
    "To",
    "Timestamp",
    "SequenceNumber",
    "CallDuration",
    "CallbackSource",
)


def _known_lines(numbers: list[str]) -> dict[str, Line]:
    keys = {line_key(n) for n in numbers if n}
    return {line.number: line for line in Line.objects.filter(number__in=keys)} if keys else {}


def event_quarantine(
    *, provider: str, kind: str, body: str | dict[str, str], error: adapters.EventError,
    location: str = "",
) -> QuarantinedEvent:  # fmt: skip
    """Keep a correctly signed event that could not be read (Mango's ``json`` text, or
    Twilio's parameters), its phone numbers replaced by their keyed hashes first. The same
    event again is counted, not stored twice. Nothing here logs the event."""
    if isinstance(body, dict):
        value: Any = {k: body[k] for k in TWILIO_KEPT if k in body}
        holder = "params"
    else:
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            value = None
        holder = "json"
    lines = _known_lines(scrub.numbers_in(value)) if value is not None else {}
    country = next(iter(lines.values())).default_country if lines else "RU"
    token = lambda number: number_token(number, country)  # noqa: E731
    if value is None:
        kept: Any = scrub.scrub_text(str(body), token)
    else:
        kept = scrub.scrub_value(value, token, lambda n: line_key(n) in lines)
    payload = {holder: kept}
    canonical = json.dumps([provider, kind, location, payload], sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    organisation_id = next(
        (ln.organisation_id for ln in lines.values() if ln.organisation_id), None
    )
    field = ""
    if isinstance(error.details, dict):
        field = str(error.details.get("field", ""))[:64]
    with transaction.atomic():
        row, created = QuarantinedEvent.objects.select_for_update().get_or_create(
            digest=digest,
            defaults={
                "provider": provider,
                "kind": kind,
                "payload": payload,
                "location": location[:10],
                "organisation_id": organisation_id,
                "error_code": error.code[:32],
                "error_field": field,
            },
        )
        if not created:
            row.times_received += 1
            row.save(update_fields=["times_received"])
    log.warning("telephony %s event kept in quarantine: %s", provider, error.code)
    return row


def _quarantined_inbound(row: QuarantinedEvent) -> adapters.Inbound:
    payload = row.payload
    if row.provider == adapters.TWILIO:
        params = {str(k): str(v) for k, v in (payload.get("params") or {}).items()}
        return adapters.parse_twilio_status(params, location=row.location, tokens=True)
    body = payload.get("json")
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    parse = adapters.parse_mango_summary if row.kind == "summary" else adapters.parse_mango_call
    return parse(text, tokens=True)


def quarantine_replay(*, now: datetime | None = None) -> ReplayReport:
    """Try every quarantined event not yet recorded again, with today's parsers: those that
    can now be read are recorded (with the webhooks' idempotence); the others stay, with the
    reason they still fail."""
    report = ReplayReport()
    stamp = now or timezone.now()
    for row in QuarantinedEvent.objects.filter(outcome="").order_by("received_at", "pk"):
        try:
            result = call_event_ingest(inbound=_quarantined_inbound(row))
        except (adapters.EventError, ServiceError) as exc:
            report.rejected.append((row.pk, exc.code))
            if exc.code != row.error_code:
                row.error_code = exc.code[:32]
                row.save(update_fields=["error_code"])
            continue
        row.outcome, row.replayed_at = result.status, stamp
        row.save(update_fields=["outcome", "replayed_at"])
        if result.status == "recorded":
            report.recorded += 1
        else:
            report.duplicate += 1
    return report


# --- what operators do -----------------------------------------------------------------------


def pending_wrapups(user: User) -> list[Call]:
    """Her answered calls that have ended without a wrap-up, oldest first."""
    return list(
        Call.objects.filter(
            answered_by=user, answered=True, state=CallState.DISCONNECTED, wrapup__isnull=True
        ).order_by("ended_at", "pk")
    )


def _target_org(call: Call) -> str:
    return call.organisation.slug if call.organisation_id and call.organisation else ""


def call_take(*, by: Principal, call: Call) -> Call:
    """She takes a call (for PBXs that do not say who answered). One call at a time: a call
    she answered must be wrapped up before she takes another."""
    require(by, can_take_calls)
    if by.user is None:
        raise ServiceError(_("Only a member of staff can take a call."), "forbidden")
    waiting = [c for c in pending_wrapups(by.user) if c.pk != call.pk]
    if waiting:
        raise ServiceError(_("Wrap up your last call before you take another."), "wrapup_required")
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=call.pk)
        )
        if call.answered_by_id not in (None, by.user.pk):
            raise ServiceError(_("Another operator has taken this call."), "conflict")
        if call.state == CallState.DISCONNECTED and not call.answered:
            raise ServiceError(
                _("This call ended without an answer: add a callback instead."), "conflict"
            )
        call.answered_by = by.user
        call.save(update_fields=["answered_by", "updated_at"])
        audit.record(
            actor=by,
            action="hotline.call.take",
            target_type="hotline.call",
            target_id=call.pk,
            target_org_slug=_target_org(call),
        )
    return call


@dataclass(frozen=True)
class WrapUpData:
    contact_type: str
    abuse: frozenset[str] = frozenset()
    outcomes: frozenset[str] = frozenset()
    # need -> "" if met, else the reason it was not
    needs: dict[str, str | None] = field(default_factory=dict)

    def check(self) -> None:
        if self.contact_type not in ContactType.values:
            raise ServiceError(_("Choose who called."), "invalid")
        if not self.abuse <= set(WrapUp.ABUSE):
            raise ServiceError(_("Unknown form of abuse."), "invalid")
        if not self.outcomes <= set(WrapUp.OUTCOMES):
            raise ServiceError(_("Unknown outcome."), "invalid")
        for need, reason in self.needs.items():
            if need not in Need.values:
                raise ServiceError(_("Unknown need."), "invalid")
            if reason is not None and reason not in UnmetReason.values:
                raise ServiceError(_("Give the reason a need was not met."), "invalid")
        if not self.outcomes and self.contact_type != ContactType.SILENT_OTHER:
            raise ServiceError(_("Choose at least one outcome."), "invalid")


def _save_wrapup(*, call: Call, by: Principal, data: WrapUpData) -> tuple[WrapUp, bool]:
    wrapup = WrapUp.objects.filter(call=call).first()
    created = wrapup is None
    wrapup = wrapup or WrapUp(call=call)
    wrapup.contact_type = data.contact_type
    for a in WrapUp.ABUSE:
        setattr(wrapup, f"abuse_{a}", a in data.abuse)
    for o in WrapUp.OUTCOMES:
        setattr(wrapup, f"outcome_{o}", o in data.outcomes)
    wrapup.recorded_by = by.user
    wrapup.recorded_at = timezone.now()
    wrapup.save()
    if not created:
        wrapup.needs.all().delete()
    WrapUpNeed.objects.bulk_create(
        [
            WrapUpNeed(wrapup=wrapup, need=need, met=reason is None, unmet_reason=reason or "")
            for need, reason in sorted(data.needs.items())
        ]
    )
    return wrapup, created


def wrapup_record(*, by: Principal, call: Call, data: WrapUpData) -> WrapUp:
    """Record (or correct) the wrap-up codes of an answered call."""
    require(by, can_take_calls)
    data.check()
    with transaction.atomic():
        call = (
            Call.objects.select_for_update(of=("self",))
            .select_related("organisation")
            .get(pk=call.pk)
        )
        if not call.answered:
            raise ServiceError(_("Only answered calls have a wrap-up."), "invalid")
        if call.answered_by_id not in (None, getattr(by.user, "pk", None)) and by.role not in (
            Role.MANAGER,
            Role.COORDINATOR,
        ):
            raise ServiceError(_("Another operator answered this call."), "forbidden")
        if call.answered_by_id is None and by.user is not None:
            call.answered_by = by.user
            call.save(update_fields=["answered_by", "updated_at"])
        wrapup, created = _save_wrapup(call=call, by=by, data=data)
        audit.record(
            actor=by,
            action="hotline.wrapup.create" if created else "hotline.wrapup.update",
            target_type="hotline.call",
            target_id=call.pk,
            target_org_slug=_target_org(call),
            details={
                "contact_type": data.contact_type,
                "needs": len(data.needs),
                "unmet": sum(1 for r in data.needs.values() if r is not None),
            },
        )
    return wrapup


def call_manual_create(
    *,
    by: Principal,
    started_at: datetime,
    talk_minutes: int,
    wrapup: WrapUpData,
    direction: str = merge.INCOMING,
    line: Line | None = None,
    caller_number: str = "",
    region: str = "",
) -> Call:
    """A call taken on a phone the PBX does not see, entered with its wrap-up in one go."""
    require(by, can_take_calls)
    wrapup.check()
    if by.organisation is None or by.user is None:
        raise ServiceError(
            _("Only a member of staff of an organisation can enter calls."), "forbidden"
        )
    if direction not in merge.DIRECTIONS:
        raise ServiceError(_("Unknown direction."), "invalid")
    if not 1 <= talk_minutes <= 600:
        raise ServiceError(_("The call's length must be between 1 and 600 minutes."), "invalid")
    if timezone.is_naive(started_at) or started_at > timezone.now() + timedelta(minutes=5):
        raise ServiceError(_("The call cannot start in the future."), "invalid")
    if line is not None and line.organisation_id != by.org_id:
        raise ServiceError(_("This line belongs to another organisation."), "forbidden")
    if region and region not in regions.REGION_NAMES:
        raise ServiceError(_("Unknown region."), "invalid")
    e164 = regions.normalise_number(caller_number, line.default_country if line else "RU")
    if caller_number and not e164:
        raise ServiceError(_("This does not look like a phone number."), "invalid_phone")
    start = started_at.timestamp()
    summary = merge.Summary(
        direction=direction, created=start, answered=start, ended=start + talk_minutes * 60
    )
    with transaction.atomic():
        call = Call(
            provider=Provider.MANUAL,
            entry_id=uuid.uuid4().hex,
            organisation=by.organisation,
            line=line,
            answered_by=by.user,
            event_count=1,
        )
        agg = merge.merged([], summary)
        _apply_derived(call, agg)
        inbound = adapters.Inbound(
            adapters.MANUAL, call.entry_id, summary=summary, external_number=caller_number
        )
        if caller_number:
            _set_caller(call, inbound, line)
        if region:
            call.caller_region, call.region_source = region, RegionSource.MANUAL
            _set_out_of_region(call, line)
        call.wait_seconds = None  # nobody measured how long she waited
        call.save()
        _save_wrapup(call=call, by=by, data=wrapup)
        audit.record(
            actor=by,
            action="hotline.call.manual",
            target_type="hotline.call",
            target_id=call.pk,
            target_org_slug=by.org_slug or "",
            details={"minutes": talk_minutes, "direction": direction},
        )
    if call.caller_key:
        _repeat_recompute(call.caller_key, call.created_at, call.created_at)
    return call


# --- callbacks -------------------------------------------------------------------------------


def callback_create(
    *,
    by: Principal,
    safe_number: str,
    safe_times: list[windows.Window],
    tz: str,
    call: Call | None = None,
    name_to_ask: str = "",
    may_leave_message: bool = False,
    language: str = "",
) -> CallbackModel:
    require(by, can_take_calls)
    if by.organisation is None:
        raise ServiceError(
            _("Only a member of staff of an organisation can add callbacks."), "forbidden"
        )
    country = call.line.default_country if call and call.line_id and call.line else "RU"
    e164 = regions.normalise_number(safe_number, country)
    if not e164:
        raise ServiceError(_("This does not look like a phone number."), "invalid_phone")
    if not safe_times or not all(w.is_valid() for w in safe_times):
        raise ServiceError(
            _("Give at least one safe time: days, and a start before the end."), "invalid"
        )
    if not windows.is_timezone(tz):
        raise ServiceError(_("Unknown time zone."), "invalid")
    if len(name_to_ask) > 100 or len(language) > 8:
        raise ServiceError(_("Too long."), "invalid")
    with transaction.atomic():
        cb = CallbackModel(
            data_key=data_key_create(),
            organisation=by.organisation,
            call=call,
            safe_number=e164,
            name_to_ask=name_to_ask.strip(),
            windows=windows.dumps(safe_times),
            timezone=tz,
            may_leave_message=may_leave_message,
            language=language,
            created_by=by.name,
        )
        cb.save()
        audit.record(
            actor=by,
            action="hotline.callback.create",
            target_type="hotline.callback",
            target_id=cb.pk,
            target_org_slug=by.org_slug or "",
        )
    return cb


def callback_attempt_record(
    *, by: Principal, callback: CallbackModel, outcome: str
) -> CallbackAttempt:
    require(by, can_take_calls)
    if outcome not in AttemptOutcome.values:
        raise ServiceError(_("Unknown outcome."), "invalid")
    with transaction.atomic():
        cb = CallbackModel.objects.select_for_update().get(pk=callback.pk)
        if cb.organisation_id != by.org_id:
            raise ServiceError(_("This callback belongs to another organisation."), "forbidden")
        if cb.status != CallbackStatus.OPEN:
            raise ServiceError(_("This callback is closed."), "conflict")
        attempt = CallbackAttempt.objects.create(
            callback=cb, at=timezone.now(), by=by.name, outcome=outcome
        )
        if outcome == AttemptOutcome.REACHED:
            cb.status, cb.closed_at, cb.close_reason = CallbackStatus.DONE, attempt.at, "reached"
        elif outcome == AttemptOutcome.WRONG_NUMBER:
            cb.status, cb.closed_at, cb.close_reason = (
                CallbackStatus.CLOSED,
                attempt.at,
                "wrong_number",
            )
        cb.save(update_fields=["status", "closed_at", "close_reason"])
        audit.record(
            actor=by,
            action="hotline.callback.attempt",
            target_type="hotline.callback",
            target_id=cb.pk,
            target_org_slug=by.org_slug or "",
            details={"outcome": outcome},
        )
    return attempt


CLOSE_REASONS = ("not_needed", "gave_up", "unsafe")


def callback_close(*, by: Principal, callback: CallbackModel, reason: str) -> CallbackModel:
    require(by, can_take_calls)
    if reason not in CLOSE_REASONS:
        raise ServiceError(_("Unknown reason."), "invalid")
    with transaction.atomic():
        cb = CallbackModel.objects.select_for_update().get(pk=callback.pk)
        if cb.organisation_id != by.org_id:
            raise ServiceError(_("This callback belongs to another organisation."), "forbidden")
        if cb.status != CallbackStatus.OPEN:
            raise ServiceError(_("This callback is closed."), "conflict")
        cb.status, cb.closed_at, cb.close_reason = CallbackStatus.CLOSED, timezone.now(), reason
        cb.save(update_fields=["status", "closed_at", "close_reason"])
        audit.record(
            actor=by,
            action="hotline.callback.close",
            target_type="hotline.callback",
            target_id=cb.pk,
            target_org_slug=by.org_slug or "",
            details={"reason": reason},
        )
    return cb


# --- lines and extensions (administrators; commands and the demo pass by=None) ---------------


def line_save(
    *,
    by: Principal | None,
    number: str,
    name: str = "",
    organisation: Organisation | None = None,
    default_country: str = "RU",
    region: str = "",
    service_area: str = "",
    region_from_line: bool = False,
) -> Line:
    if by is not None:
        require(by, can_administer)
    key = line_key(number)
    if not key:
        raise ServiceError(_("A line needs a number or a name."), "invalid")
    if region and not regions.is_region_code(region):
        raise ServiceError(_("The line's region must be an ISO 3166-2 code."), "invalid")
    area = regions.parse_area(service_area)
    if len(area) != len([c for c in service_area.split(",") if c.strip()]):
        raise ServiceError(_("The service area must be ISO codes, comma-separated."), "invalid")
    if len(default_country) != 2 or not default_country.isalpha():
        raise ServiceError(_("The country must be a two-letter code."), "invalid")
    with transaction.atomic():
        line, created = Line.objects.select_for_update().get_or_create(number=key)
        line.name = name or line.name
        line.organisation = organisation
        line.default_country = default_country.upper()
        line.region = region
        line.service_area = ",".join(area)
        line.region_from_line = region_from_line
        line.save()
        audit.record(
            actor=by,
            action="hotline.line.create" if created else "hotline.line.update",
            target_type="hotline.line",
            target_id=line.pk,
            target_org_slug=organisation.slug if organisation else "",
            details={"number": key, "area": line.service_area},
        )
        # Calls that came in before the line had an owner now belong to it.
        if organisation is not None:
            Call.objects.filter(line=line, organisation__isnull=True).update(
                organisation=organisation
            )
    return line


def _require_extension_manager(by: Principal | None, user: User) -> None:
    """An administrator, or the manager of the member of staff's own organisation."""
    if by is None:
        return
    same_org = user.organisation is not None and user.organisation.pk == by.org_id
    if not (by.role == Role.ADMIN or (can_manage_staff(by.role or "") and same_org)):
        raise ServiceError(_("Only an administrator or her manager can do this."), "forbidden")


def _extension_event(by: Principal | None, action: str, user: User, identity: str) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="core.user",
        target_id=user.pk,
        target_org_slug=user.organisation.slug if user.organisation else "",
        details={"extension": identity},
    )


def extension_assign(*, by: Principal | None, user: User, identity: str) -> OperatorExtension:
    identity = identity.strip()
    if not identity or len(identity) > 255:
        raise ServiceError(_("Give the extension."), "invalid")
    _require_extension_manager(by, user)
    if user.role is None or not can_take_calls(user.role):
        raise ServiceError(_("Only staff who take calls get an extension."), "invalid")
    with transaction.atomic():
        ext, _created = OperatorExtension.objects.select_for_update().get_or_create(
            identity=identity, defaults={"user": user}
        )
        if ext.user_id != user.pk and by is not None and by.role != Role.ADMIN:
            # The calls answered on an extension become its holder's: a manager must not take
            # another organisation's extension (and with it, sight of its calls).
            holder = ext.user.organisation
            if holder is None or holder.pk != by.org_id:
                raise ServiceError(
                    _("This extension belongs to another organisation."), "forbidden"
                )
        if ext.user_id != user.pk:
            ext.user = user
            ext.save(update_fields=["user"])
        _extension_event(by, "hotline.extension.assign", user, identity)
    return ext


def extension_remove(*, by: Principal | None, extension: OperatorExtension) -> None:
    """The extension no longer belongs to anyone: calls answered on it are not attributed."""
    user = extension.user
    _require_extension_manager(by, user)
    with transaction.atomic():
        identity = extension.identity
        extension.delete()
        _extension_event(by, "hotline.extension.remove", user, identity)
