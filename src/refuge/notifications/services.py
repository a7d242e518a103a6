"""Every state change of notifications: the entry point other apps call (`notify`), the outbox's
life (dispatch, send, retry, acknowledge), channels (settings, Telegram linking, push devices),
the on-call rota and the network's policy.

Delivery semantics per channel are in docs/decisions.md ("Notifications: at least once, shown
once"): an attempt is recorded (status `sending`) before anything leaves the system; a worker
that dies mid-send leaves a `sending` row whose lease runs out, and the sweeper sends it again
with the same idempotency key (email Message-ID, push Topic and tag).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
import uuid
from collections.abc import Iterable
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit
from refuge.core.access import Principal
from refuge.core.models import User
from refuge.core.roles import Role
from refuge.core.services import ServiceError

from . import queue, recipients
from .channels import ChannelError
from .channels import email as email_channel
from .channels import telegram as telegram_channel
from .channels import webpush as push_channel
from .models import (
    Channel,
    ChannelSettings,
    Delivery,
    Event,
    NetworkPolicy,
    OnCall,
    PushSubscription,
    TelegramLink,
    TelegramLinkCode,
)

log = logging.getLogger("refuge.notifications")

CHANNELS = {
    Channel.EMAIL: email_channel,
    Channel.TELEGRAM: telegram_channel,
    Channel.PUSH: push_channel,
}
LINK_CODE_MINUTES = 10


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def max_attempts() -> int:
    # 12 attempts with doubling from 30 s and a 30-minute cap span about four hours: an SMTP
    # server, Telegram or a push service down for an hour loses nothing.
    return int(_setting("REFUGE_NOTIFY_MAX_ATTEMPTS", 12))


def backoff(attempts: int) -> timedelta:
    base = _setting("REFUGE_NOTIFY_RETRY_BASE_SECONDS", 30)
    cap = _setting("REFUGE_NOTIFY_RETRY_CAP_SECONDS", 1800)
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))  # noqa: S311 (jitter)


def lease() -> timedelta:
    """How long a `sending` row belongs to the worker that started it (then it is presumed dead)."""
    return timedelta(seconds=_setting("REFUGE_NOTIFY_LEASE_SECONDS", 120))


# --- the entry point ---------------------------------------------------------------------------


def _id(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_id(v) for v in value]
    raise TypeError("notify() takes ids only (SPEC S7)")


def notify(
    *,
    event: str,
    about: models.Model | tuple[str, Any],
    occurrence: str = "",
    by: Principal | None = None,
    **ids: Any,
) -> Event | None:
    """Record that something happened, inside the caller's transaction, and enqueue its
    dispatch in the same transaction. The notifications app decides who hears of it, how and
    when. `about` is a model instance or ``(app_label.model, pk)``; keyword arguments are ids
    (``facility_ids=[...]``). The same event, subject and occurrence are recorded once: a
    second call returns None and notifies nobody again."""
    if isinstance(about, models.Model):
        label, pk = about._meta.label_lower, about.pk
    else:
        label, pk = about
    key = f"{event}:{label}:{pk}" + (f":{occurrence}" if occurrence else "")
    context = {k: _id(v) for k, v in ids.items()}
    if by is not None and by.user is not None:
        context["by_user_id"] = by.user.pk
    with transaction.atomic():
        row, created = Event.objects.get_or_create(
            key=key[:200],
            defaults={"kind": event, "about_type": label, "about_id": str(pk), "context": context},
        )
        if not created:
            return None
        from .tasks import dispatch_event

        queue.enqueue(dispatch_event, str(row.pk))
    return row


# --- quiet hours and the rota ------------------------------------------------------------------


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return ZoneInfo(settings.TIME_ZONE)


def quiet_until(prefs: ChannelSettings | None, now: datetime) -> datetime | None:
    """The end of her quiet hours if `now` falls inside them, else None."""
    if prefs is None or prefs.quiet_from is None or prefs.quiet_until is None:
        return None
    start, end = prefs.quiet_from, prefs.quiet_until
    if start == end:
        return None
    tz = _zone(prefs.timezone)
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # across midnight, e.g. 22:00-07:00
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz)


def _event_facilities(event: Event) -> list[str]:
    ids = [str(f) for f in event.context.get("facility_ids", [])]
    if event.about_type == "directory.facility":
        ids.append(event.about_id)
    if event.about_type == "referrals.referraltarget":
        target = recipients._subject(event)
        if target is not None:
            ids.append(str(target.facility_id))
    return ids


def on_call_users(facility_ids: Iterable[str], on: date) -> set[int]:
    rows = OnCall.objects.filter(week=monday(on))
    facility_ids = list(facility_ids)
    if facility_ids:
        rows = rows.filter(facility_id__in=facility_ids)
    return set(rows.values_list("user_id", flat=True))


# --- dispatch: who, how, when --------------------------------------------------------------------


def _channels(prefs: ChannelSettings | None, user_id: int, linked: set[int], devices: set[int]):
    yield Channel.APP
    if prefs is None:
        return
    if prefs.email:
        yield Channel.EMAIL
    if prefs.telegram and user_id in linked:
        yield Channel.TELEGRAM
    if prefs.push and user_id in devices:
        yield Channel.PUSH


def event_dispatch(*, event_id: str) -> int:
    """Make the outbox rows of one event (idempotent) and enqueue their sending. Returns how
    many rows were made."""
    from .tasks import deliver_event

    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.dispatched_at is not None:
            return 0
        user_ids = recipients.resolve(event)
        users = {u.pk: u for u in User.objects.filter(pk__in=user_ids).select_related("membership")}
        prefs = {p.user_id: p for p in ChannelSettings.objects.filter(user_id__in=user_ids)}
        linked = set(
            TelegramLink.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
        )
        devices = set(
            PushSubscription.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True)
        )
        on_call = on_call_users(_event_facilities(event), timezone.localdate(now))
        rows: list[Delivery] = []
        for uid in user_ids:
            user = users.get(uid)
            if user is None:
                continue
            org_id = user.membership.organisation_id
            p = prefs.get(uid)
            hold = None if uid in on_call else quiet_until(p, now)
            for channel in _channels(p, uid, linked, devices):
                if channel == Channel.APP:
                    rows.append(
                        Delivery(
                            event=event,
                            user_id=uid,
                            organisation_id=org_id,
                            channel=channel,
                            status=Delivery.Status.SENT,
                            sent_at=now,
                        )
                    )
                else:
                    rows.append(
                        Delivery(
                            event=event,
                            user_id=uid,
                            organisation_id=org_id,
                            channel=channel,
                            next_attempt_at=hold or now,
                        )
                    )
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)
        # One delivery job per event (more for a large one, so that workers share it), and one
        # for each later time that quiet hours set: not one job per row.
        due_now, later = 0, set()
        for when in Delivery.objects.filter(event=event, status=Delivery.Status.QUEUED).values_list(
            "next_attempt_at", flat=True
        ):
            if when is not None and when > now:
                later.add(when)
            else:
                due_now += 1
        jobs = min(MAX_JOBS_PER_EVENT, -(-due_now // ROWS_PER_JOB))
        for _ in range(jobs):
            queue.enqueue(deliver_event, str(event.pk))
        for when in sorted(later):
            queue.enqueue(deliver_event, str(event.pk), run_after=when)
        event.dispatched_at = now
        event.save(update_fields=["dispatched_at"])
    return len(rows)


# --- sending outbox rows -------------------------------------------------------------------------

# Rows claimed at once: small enough that a batch finishes well inside its lease, large enough
# that claiming costs little per message.
CLAIM_CHUNK = 25
# Due rows per delivery job made at dispatch: a large event gets several jobs, so that several
# workers share it (each claims its own rows); a small one gets one.
ROWS_PER_JOB = 100
MAX_JOBS_PER_EVENT = 8


def _due(start: datetime) -> models.Q:
    """Rows a job that started at `start` may claim: queued and due; failed, due and not tried
    by this job already (a quick retry would otherwise spin inside one job); or `sending` by a
    worker whose lease ran out (presumed dead)."""
    soon = start + timedelta(seconds=1)
    untried = models.Q(attempt_started_at__isnull=True) | models.Q(attempt_started_at__lt=start)
    return (
        models.Q(status=Delivery.Status.QUEUED, next_attempt_at__lte=soon)
        | (models.Q(status=Delivery.Status.FAILED, next_attempt_at__lte=soon) & untried)
        | models.Q(status=Delivery.Status.SENDING, attempt_started_at__lt=timezone.now() - lease())
    )


def _claim(rows: models.QuerySet, start: datetime, limit: int) -> tuple[list[Delivery], datetime]:
    """Record the attempt before anything is sent: status `sending`, attempts + 1, all rows of
    the claim stamped with one `attempt_started_at`. Rows another worker is claiming at this
    moment are skipped, not waited for (SKIP LOCKED on PostgreSQL; SQLite runs one writer at a
    time, so the status check inside the transaction is enough)."""
    now = timezone.now()
    with transaction.atomic():
        found = list(
            rows.exclude(channel=Channel.APP)
            .filter(_due(start))
            .select_for_update(of=("self",), skip_locked=True)
            .select_related("user", "user__membership")
            .order_by("created_at")[:limit]
        )
        live, gone = [], []
        for d in found:
            m = d.user.membership_or_none
            (live if d.user.is_active and m is not None and m.is_active else gone).append(d)
        if gone:
            Delivery.objects.filter(pk__in=[d.pk for d in gone]).update(
                status=Delivery.Status.FAILED, next_attempt_at=None, last_error="recipient_inactive"
            )
        if live:
            Delivery.objects.filter(pk__in=[d.pk for d in live]).update(
                status=Delivery.Status.SENDING,
                attempt_started_at=now,
                attempts=models.F("attempts") + 1,
            )
            for d in live:
                d.status, d.attempt_started_at, d.attempts = (
                    Delivery.Status.SENDING,
                    now,
                    d.attempts + 1,
                )
    return live, now


def _renew(rows: list[Delivery], stamp: datetime) -> tuple[list[Delivery], datetime]:
    """Extend the lease of the rows still to be sent; keep only those still ours."""
    now = timezone.now()
    ids = [d.pk for d in rows]
    mine = Delivery.objects.filter(
        pk__in=ids, status=Delivery.Status.SENDING, attempt_started_at=stamp
    )
    if mine.update(attempt_started_at=now) != len(ids):
        kept = set(
            Delivery.objects.filter(pk__in=ids, attempt_started_at=now).values_list("pk", flat=True)
        )
        rows = [d for d in rows if d.pk in kept]
    for d in rows:
        d.attempt_started_at = now
    return rows, now


def _record(mine: models.QuerySet, **fields: Any) -> int:
    """Record what happened to a row. On PostgreSQL without waiting for the disk (asynchronous
    commit): the record is visible to every worker at once, so a killed worker changes nothing;
    only a crash of PostgreSQL itself can lose the last fraction of a second of records, and a
    row whose record is lost stays `sending` and is sent again after its lease with the same
    idempotency key, the case docs/decisions.md already accepts ("at least once, shown once").
    Waiting for the disk was the largest cost per message (docs/benchmarks.md)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return mine.update(**fields)


def _send_claimed(rows: list[Delivery], stamp: datetime, sessions: dict) -> dict[str, int]:
    """Send claimed rows one by one, recording each outcome as soon as it is known (so a worker
    killed mid-batch can have sent at most one message it did not record). Every record is
    conditional on this claim's stamp: a row whose lease was lost is left to its new owner."""
    counts = {Delivery.Status.SENT: 0, Delivery.Status.FAILED: 0}
    down: dict[str, ChannelError] = {}  # a single provider found down: the batch waits
    retry_at: dict[int, datetime] = {}  # one retry time per attempt count, one job each
    renew_after = lease() / 3
    lost: set = set()  # rows whose lease ran out before it was renewed: another worker's now
    for i, d in enumerate(rows):
        if timezone.now() - stamp > renew_after:
            ahead = [r for r in rows[i:] if r.pk not in lost]
            rest, stamp = _renew(ahead, stamp)
            kept = {r.pk for r in rest}
            lost.update(r.pk for r in ahead if r.pk not in kept)
        if d.pk in lost:
            continue
        mine = Delivery.objects.filter(
            pk=d.pk, status=Delivery.Status.SENDING, attempt_started_at=stamp
        )
        module = CHANNELS[d.channel]
        try:
            if d.channel in down:
                raise down[d.channel]
            ref = module.send(d, d.user, sessions.get(d.channel))
        except ChannelError as exc:
            if exc.retry and getattr(module, "ONE_PROVIDER", False):
                down[d.channel] = exc
            again = exc.retry and d.attempts < max_attempts()
            when = None
            if again:
                when = retry_at.setdefault(d.attempts, timezone.now() + backoff(d.attempts))
            _record(
                mine, status=Delivery.Status.FAILED, last_error=exc.reason, next_attempt_at=when
            )
            log.info("delivery %s failed: %s (attempt %s)", d.pk, exc.reason, d.attempts)
            counts[Delivery.Status.FAILED] += 1
            continue
        _record(
            mine,
            status=Delivery.Status.SENT,
            sent_at=timezone.now(),
            next_attempt_at=None,
            last_error="",
            provider_ref=ref[:120],
        )
        counts[Delivery.Status.SENT] += 1
    if retry_at:
        from .tasks import deliver_event

        # A retry job per retry time (if this worker dies first, the sweeper finds the rows).
        with transaction.atomic():
            for event_id in {d.event_id for d in rows}:
                for when in sorted(set(retry_at.values())):
                    queue.enqueue(deliver_event, str(event_id), run_after=when)
    return counts


class _Sessions:
    """A connection per channel for one job, opened when its first message goes out."""

    def __init__(self) -> None:
        self.stack = ExitStack()
        self.open: dict[str, object] = {}

    def get(self, channel: str):
        if channel not in self.open:
            make = getattr(CHANNELS[channel], "session", None)
            self.open[channel] = self.stack.enter_context(make()) if make else None
        return self.open[channel]

    def __enter__(self) -> _Sessions:
        return self

    def __exit__(self, *exc) -> None:
        self.stack.close()


def event_deliver(*, event_id: str) -> dict[str, int]:
    """Send every due outbox row of one event, in claims of CLAIM_CHUNK rows over one
    connection per channel, until none is left; safe to run any number of times and by any
    number of workers at once. Returns how many were sent and how many failed."""
    start = timezone.now()
    total = {Delivery.Status.SENT: 0, Delivery.Status.FAILED: 0}
    rows = Delivery.objects.filter(event_id=event_id)
    with _Sessions() as sessions:
        while True:
            claimed, stamp = _claim(rows, start, CLAIM_CHUNK)
            if not claimed:
                return total
            for k, v in _send_claimed(claimed, stamp, sessions).items():
                total[k] += v


def delivery_send(*, delivery_id: str) -> str:
    """Send one outbox row if it is due; safe to call any number of times. Returns its status."""
    claimed, stamp = _claim(Delivery.objects.filter(pk=delivery_id), timezone.now(), 1)
    if not claimed:
        return ""
    with _Sessions() as sessions:
        counts = _send_claimed(claimed, stamp, sessions)
    return Delivery.Status.SENT if counts[Delivery.Status.SENT] else Delivery.Status.FAILED


def _manager_of(by: Principal, d: Delivery) -> None:
    if by.role != Role.MANAGER or d.organisation_id != by.org_id:
        raise ServiceError(
            _("Only a manager of this organisation can retry its deliveries."), "forbidden"
        )


def delivery_retry(*, by: Principal, delivery: Delivery) -> Delivery:
    """A manager sends a failed delivery again now (attempts start over)."""
    from .tasks import deliver

    _manager_of(by, delivery)
    with transaction.atomic():
        d = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if d.status != Delivery.Status.FAILED:
            raise ServiceError(_("Only a failed delivery can be sent again."), "conflict")
        d.status, d.attempts, d.next_attempt_at = Delivery.Status.QUEUED, 0, timezone.now()
        d.save(update_fields=["status", "attempts", "next_attempt_at"])
        queue.enqueue(deliver, str(d.pk))
        audit.record(
            actor=by,
            action="notification.retry",
            target_type="notifications.delivery",
            target_id=d.pk,
            target_org_slug=by.org_slug or "",
            details={"channel": d.channel},
        )
    return d


def delivery_acknowledge(*, user: User, delivery_id: Any) -> Delivery | None:
    """She opened the item: every channel's row of that event for her is acknowledged."""
    try:
        d = Delivery.objects.select_related("event").get(pk=delivery_id, user=user)
    except (Delivery.DoesNotExist, ValueError, TypeError, Exception):  # bad ids are not errors
        return None
    now = timezone.now()
    Delivery.objects.filter(event_id=d.event_id, user=user, acknowledged_at__isnull=True).update(
        acknowledged_at=now
    )
    Delivery.objects.filter(
        event_id=d.event_id, user=user, channel=Channel.APP, status=Delivery.Status.SENT
    ).update(status=Delivery.Status.ACKNOWLEDGED)
    return d


# --- recovery (run by the scheduler) -------------------------------------------------------------


def _waiting_jobs(task) -> set[str]:
    """Ids that a job of `task` not yet started will take (database queue only: a broker's
    queue is not searched, and a spare job costs one query)."""
    if not queue.transactional():
        return set()
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(
        status="READY", task_path=task.module_path, queue_name=settings.REFUGE_TASKS_QUEUE
    ).values_list("args_kwargs", flat=True)
    return {str(a) for r in rows for a in (r or {}).get("args", [])[:1]}


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Enqueue again what lost its job: events not dispatched, events with rows due but
    untouched, or rows whose sender died (lease over). Sending is idempotent, so a spare job
    costs little; an event that already has a job waiting gets no other."""
    from .tasks import deliver_event, dispatch_event

    now = now or timezone.now()
    grace = timedelta(seconds=_setting("REFUGE_NOTIFY_SWEEP_GRACE_SECONDS", 60))
    n = 0
    with transaction.atomic():
        waiting = _waiting_jobs(dispatch_event)
        for pk in Event.objects.filter(
            dispatched_at__isnull=True, created_at__lt=now - grace
        ).values_list("pk", flat=True)[:1000]:
            if str(pk) not in waiting:
                queue.enqueue(dispatch_event, str(pk))
                n += 1
        due = models.Q(
            status__in=[Delivery.Status.QUEUED, Delivery.Status.FAILED],
            next_attempt_at__lt=now - grace,
        ) | models.Q(status=Delivery.Status.SENDING, attempt_started_at__lt=now - lease())
        waiting = _waiting_jobs(deliver_event)
        events = (
            Delivery.objects.filter(due)
            .order_by("event_id")
            .values_list("event_id", flat=True)
            .distinct()[:1000]
        )
        for pk in events:
            if str(pk) not in waiting:
                queue.enqueue(deliver_event, str(pk))
                n += 1
    return n


def channels_of_inactive_drop() -> int:
    """Deactivated staff lose their Telegram link and push devices (checked every minute, and
    again before every send)."""
    inactive = models.Q(user__is_active=False) | models.Q(user__membership__is_active=False)
    n = TelegramLink.objects.filter(inactive).delete()[0]
    n += PushSubscription.objects.filter(inactive).delete()[0]
    return n


# --- channel settings ----------------------------------------------------------------------------


def settings_for(user: User) -> ChannelSettings:
    return ChannelSettings.objects.filter(user=user).first() or ChannelSettings(user=user)


def channel_settings_update(
    *,
    user: User,
    email: bool,
    telegram: bool,
    push: bool,
    quiet_from: time | None,
    quiet_until: time | None,
    tz: str,
) -> ChannelSettings:
    if (quiet_from is None) != (quiet_until is None):
        raise ServiceError(_("Give both ends of the quiet hours, or neither."), "invalid")
    try:
        ZoneInfo(tz)
    except (ValueError, KeyError, OSError) as exc:
        raise ServiceError(_("Unknown time zone."), "invalid") from exc
    with transaction.atomic():
        prefs, _created = ChannelSettings.objects.select_for_update().get_or_create(user=user)
        prefs.email, prefs.telegram, prefs.push = email, telegram, push
        prefs.quiet_from, prefs.quiet_until, prefs.timezone = quiet_from, quiet_until, tz
        prefs.save()
        audit.record(
            actor=Principal.for_user(user),
            action="notification.settings",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=getattr(user.organisation, "slug", ""),
            details={"email": email, "telegram": telegram, "push": push},
        )
    return prefs


# --- Telegram -----------------------------------------------------------------------------------


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def telegram_code_create(*, user: User) -> str:
    """A one-time code for the `/start <code>` deep link: 10 minutes, single use, only its hash
    kept. Earlier unused codes of hers stop working."""
    code = secrets.token_urlsafe(18)
    with transaction.atomic():
        TelegramLinkCode.objects.filter(user=user, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        TelegramLinkCode.objects.create(
            code_hash=_code_hash(code),
            user=user,
            expires_at=timezone.now() + timedelta(minutes=LINK_CODE_MINUTES),
        )
    return code


def _system_event(action: str, *, user_id: Any = "", org_slug: str = "", **details: Any) -> None:
    audit.record(
        actor=None,
        action=action,
        target_type="core.user" if user_id else "notifications.telegram",
        target_id=user_id,
        target_org_slug=org_slug,
        details=details or None,
    )


def telegram_webhook_secret_ok(given: str) -> bool:
    expected = settings.REFUGE_TELEGRAM_WEBHOOK_SECRET or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def telegram_update_handle(update: dict) -> str:
    """One update from the bot's webhook (already authenticated). Returns what happened:
    linked, refused, unlinked or ignored. Replies go back in neutral words."""
    from django.utils.translation import gettext as _

    message = update.get("message") if isinstance(update, dict) else None
    if not isinstance(message, dict):
        return "ignored"
    chat = message.get("chat") or {}
    chat_id, text = chat.get("id"), message.get("text")
    if not isinstance(chat_id, int) or not isinstance(text, str):
        return "ignored"
    command, _sep, arg = text.strip().partition(" ")
    if command == "/stop":
        link = TelegramLink.objects.filter(chat_id=chat_id).select_related("user").first()
        if link is None:
            return "ignored"
        telegram_unlink(user=link.user)
        return "unlinked"
    if command != "/start":
        return "ignored"
    now = timezone.now()
    with transaction.atomic():
        row = (
            TelegramLinkCode.objects.select_for_update()
            .select_related("user")
            .filter(code_hash=_code_hash(arg.strip()[:100]))
            .first()
        )
        if row is None or row.used_at is not None or row.expires_at <= now:
            reason = "unknown" if row is None else ("reused" if row.used_at else "expired")
            _system_event(
                "notification.telegram_link_refused",
                user_id=row.user_id if row else "",
                reason=reason,
            )
            outcome = "refused"
        else:
            row.used_at = now
            row.save(update_fields=["used_at"])
            TelegramLink.objects.filter(
                models.Q(chat_id=chat_id) | models.Q(user=row.user)
            ).delete()
            TelegramLink.objects.create(user=row.user, chat_id=chat_id)
            _system_event(
                "notification.telegram_linked",
                user_id=row.user_id,
                org_slug=getattr(row.user.organisation, "slug", ""),
            )
            outcome = "linked"
    if telegram_channel.configured():
        reply = (
            _("Refuge will tell you here when something is waiting for you.")
            if outcome == "linked"
            else _("This code is not valid. Make a new one in Refuge.")
        )
        try:
            telegram_channel.send_text(chat_id, reply)
        except ChannelError:
            pass  # the link stands; the reply is a courtesy
    return outcome


def telegram_unlink(*, user: User) -> bool:
    with transaction.atomic():
        n = TelegramLink.objects.filter(user=user).delete()[0]
        if n:
            _system_event(
                "notification.telegram_unlinked",
                user_id=user.pk,
                org_slug=getattr(user.organisation, "slug", ""),
            )
    return bool(n)


# --- Web Push -----------------------------------------------------------------------------------


def session_hash(session_key: str | None) -> str:
    return hashlib.sha256((session_key or "").encode()).hexdigest() if session_key else ""


def push_subscribe(
    *, by: Principal, endpoint: str, p256dh: str, auth: str, session_key: str | None
) -> PushSubscription:
    """One subscription per device (endpoint). A device already subscribed for someone else is
    refused and audited: she must sign out there first (which drops it)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    user = by.user
    if user is None:
        raise ServiceError(_("Sign in first."), "forbidden")
    try:
        URLValidator(schemes=["https"] if settings.MODE == "production" else ["https", "http"])(
            endpoint
        )
    except ValidationError as exc:
        raise ServiceError(_("This is not a push subscription."), "invalid") from exc
    if not (0 < len(p256dh) <= 200 and 0 < len(auth) <= 100) or len(endpoint) > 1000:
        raise ServiceError(_("This is not a push subscription."), "invalid")
    taken = PushSubscription.objects.filter(endpoint=endpoint).exclude(user=user).exists()
    if taken:
        # Audited in its own transaction: the refusal must be on record even though nothing
        # else is written.
        audit.record(
            actor=by,
            action="notification.push_refused",
            target_type="core.user",
            target_id=user.pk,
            target_org_slug=by.org_slug or "",
            details={"reason": "device_of_another_user"},
        )
        raise ServiceError(
            _("This device receives another person's notifications. Sign out there first."),
            "forbidden",
        )
    with transaction.atomic():
        sub, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            user=user,
            defaults={
                "p256dh": p256dh,
                "auth": auth,
                "session_hash": session_hash(session_key),
            },
        )
        if created:
            audit.record(
                actor=by,
                action="notification.push_subscribed",
                target_type="core.user",
                target_id=user.pk,
                target_org_slug=by.org_slug or "",
            )
    return sub


def push_unsubscribe(*, user: User, endpoint: str | None = None) -> int:
    rows = PushSubscription.objects.filter(user=user)
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    return rows.delete()[0]


def push_drop_for_session(*, session_key: str | None) -> int:
    """Sign-out: the device that signed out stops receiving notifications."""
    h = session_hash(session_key)
    return PushSubscription.objects.filter(session_hash=h).delete()[0] if h else 0


# --- the rota and the network's policy -----------------------------------------------------------


def on_call_set(*, by: Principal, facility, week: date, users: Iterable[User]) -> list[OnCall]:
    """The manager says who gets night alerts for her facility in the week starting `week`."""
    if by.role != Role.MANAGER or facility.organisation_id != by.org_id:
        raise ServiceError(_("Only the facility's manager sets its rota."), "forbidden")
    users = list(users)
    if any(u.organisation is None or u.organisation.pk != by.org_id for u in users):
        raise ServiceError(_("Only the facility's own staff can be on call."), "forbidden")
    week = monday(week)
    with transaction.atomic():
        OnCall.objects.filter(facility=facility, week=week).delete()
        rows = OnCall.objects.bulk_create(
            [OnCall(facility=facility, week=week, user=u, set_by=by.name) for u in users]
        )
        audit.record(
            actor=by,
            action="notification.on_call_set",
            target_type="directory.facility",
            target_id=facility.pk,
            target_org_slug=by.org_slug or "",
            details={"week": week.isoformat(), "users": [u.pk for u in users]},
        )
    return rows


def policy() -> NetworkPolicy:
    return NetworkPolicy.objects.filter(pk=1).first() or NetworkPolicy()


def policy_set(*, by: Principal, escalate_after_minutes: int) -> NetworkPolicy:
    if by.role != Role.COORDINATOR:
        raise ServiceError(_("Only a coordinator sets the network's escalation."), "forbidden")
    if not isinstance(escalate_after_minutes, int) or not 1 <= escalate_after_minutes <= 240:
        raise ServiceError(_("Between 1 and 240 minutes."), "invalid")
    with transaction.atomic():
        row, _created = NetworkPolicy.objects.select_for_update().get_or_create(pk=1)
        row.escalate_after_minutes, row.updated_by = escalate_after_minutes, by.name
        row.save()
        audit.record(
            actor=by,
            action="notification.policy_set",
            target_type="notifications.networkpolicy",
            target_id=1,
            details={"escalate_after_minutes": escalate_after_minutes},
        )
    return row


# --- security notices (refuge.core.notices) ------------------------------------------------------


def security_listener(notice) -> None:
    """Every security notice reaches the account's owner and her organisation's managers, in
    the same neutral words as everything else."""
    notify(
        event=f"security.{notice.kind}",
        about=("core.user", notice.user_id),
        occurrence=uuid.uuid4().hex,  # each notice is its own event
        user_id=notice.user_id,
        organisation_id=notice.organisation_id,
        by_user_id=notice.by_user_id,
    )
