"""Every state change of federation (SPEC C12): trusting and untrusting peers, opting in to
share availability, receiving a signed message, the outbox, pulling a peer's snapshot.

Each writes its audit event in its own transaction. Audit details name the peer, the kind and
the message id, never a body.
"""

from __future__ import annotations

import json
import logging
import random
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit
from refuge.core.access import Principal, require_reauthenticated
from refuge.core.models import Organisation
from refuge.core.services import ServiceError

from . import conf, sealing, signing
from .models import InboxMessage, OutboxMessage, Peer, SeenNonce, SharingOrganisation
from .signing import BadMessage

log = logging.getLogger("refuge.federation")

TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 12  # with the back-off below: about seven hours of trying before giving up
RETRY_BASE_SECONDS = 15
RETRY_CAP_SECONDS = 1800
SNAPSHOT_MAX_BYTES = 8 * 1024 * 1024  # an answer for 5,000 facilities fits
INBOX_PATH = "/api/v1/federation/inbox"
# Refusals that the same message would get again however often it is sent: the body itself is
# wrong for the peer (malformed, more than the minimum, a value it does not accept, too large,
# sealed for another key). They fail at once instead of being retried for hours. Every other
# refusal may pass later and is retried: an unknown referral (a withdrawal overtaking its
# offer after the peer was down), "not accepted" (a journey plan overtaking the answer), an
# unknown kind (a peer not yet upgraded), a bad signature or a stale time (not trusted yet, a
# clock put right), a conflict the peer's staff can clear.
PERMANENT_REFUSALS = frozenset(
    {
        "bad_message",
        "bad_offer",
        "bad_answer",
        "bad_plan",
        "bad_record",
        "extra_fields",
        "unknown_facility",
        "too_large",
        "unsealable",
    }
)
AVAILABILITY_PATH = "/api/v1/federation/availability"


def _peer_actor(peer: Peer | None, ip: str = "") -> Principal:
    return Principal(name=f"peer:{peer.name if peer else '?'}", role=None, organisation=None, ip=ip)


# --- trust -------------------------------------------------------------------------------------


def peer_trust(
    *,
    by: Principal | None,
    name: str,
    base_url: str,
    public_key: str,
    rotate: bool = False,
    sealing_key: str = "",
    title: str = "",
) -> Peer:
    """Trust a peer (or trust again one untrusted before, under the same key). With ``rotate``,
    the peer already trusted under ``name`` changes to the new key: the old key is refused from
    this moment (the peer's key was changed, or stolen). ``sealing_key`` is the peer's X25519
    key for case records; given, it replaces the one kept (empty keeps it). ``title`` is the
    network's name as staff read it (empty keeps the one kept).

    A person must have given her password and a fresh code just now (``refuge.core.access``):
    a trusted key can read our shared availability and send us referrals. The server's
    console (``by`` is None) is trusted."""
    require_reauthenticated(by)
    try:
        key = signing.parse_public_key(public_key)
    except ValueError as exc:
        raise ServiceError(
            _("The key must be an Ed25519 public key: base64 of 32 bytes."), "invalid_key"
        ) from exc
    if sealing_key:
        try:
            sealing_key = sealing.parse_public_key(sealing_key)
        except ValueError as exc:
            raise ServiceError(
                _("The sealing key must be an X25519 public key: base64 of 32 bytes."),
                "invalid_key",
            ) from exc
    if conf.enabled() and key == conf.identity().public_key:
        raise ServiceError(_("This is this instance's own key."), "invalid_key")
    base_url = base_url.strip().rstrip("/")
    title = " ".join(title.split())[:120]
    if not base_url.startswith(("https://", "http://")):
        raise ServiceError(_("The address must start with https://."), "invalid_url")
    with transaction.atomic():
        peer = Peer.objects.select_for_update().filter(public_key=key).first()
        clash = Peer.objects.select_for_update().filter(name=name).exclude(public_key=key).first()
        old_key = ""
        if clash is not None and not rotate:
            raise ServiceError(_("Another peer is trusted under this name."), "duplicate")
        if clash is not None and peer is None:
            old_key, clash.public_key = clash.public_key, key
            peer = clash
            SeenNonce.objects.filter(peer=peer).delete()
        elif clash is not None:
            raise ServiceError(_("This key is already trusted under another name."), "duplicate")
        if peer is None:
            peer = Peer.objects.create(
                name=name, base_url=base_url, public_key=key, sealing_key=sealing_key, title=title
            )
        else:
            peer.name, peer.base_url, peer.trusted = name, base_url, True
            peer.title = title or peer.title
            if sealing_key:
                peer.sealing_key = sealing_key
            elif old_key:  # a rotated signing key: the old sealing key is not trusted either
                peer.sealing_key = ""
            peer.save()
        audit.record(
            actor=by,
            action="federation.peer_trust",
            target_type="federation.peer",
            target_id=peer.pk,
            details={
                "name": peer.name,
                "title": peer.title,
                "url": peer.base_url,
                "key": key,
                "old_key": old_key,
                "sealing_key": peer.sealing_key,
            },
        )
    return peer


def peer_untrust(*, by: Principal | None, peer: Peer) -> Peer:
    """Stop everything with this peer at once: its messages are refused, nothing more is sent
    to it, and its facilities leave the search. Its snapshot is dropped. Asks for a recent
    re-authentication, as trusting does."""
    require_reauthenticated(by)
    with transaction.atomic():
        peer = Peer.objects.select_for_update().get(pk=peer.pk)
        peer.trusted = False
        peer.save(update_fields=["trusted", "changed_at"])
        cancelled = OutboxMessage.objects.filter(
            peer=peer, status=OutboxMessage.Status.QUEUED
        ).update(status=OutboxMessage.Status.CANCELLED)
        peer.facilities.all().delete()
        # Records sealed for it and not delivered: nobody will send them now (handover.py).
        peer.referrals_sent.filter(sealed_record__isnull=False).update(sealed_record=None)
        audit.record(
            actor=by,
            action="federation.peer_untrust",
            target_type="federation.peer",
            target_id=peer.pk,
            details={"name": peer.name, "cancelled": cancelled},
        )
    return peer


def sharing_set(*, by: Principal | None, organisation: Organisation, share: bool) -> None:
    """An organisation opts in (or out) of sharing its facilities' anonymised availability."""
    with transaction.atomic():
        if share:
            SharingOrganisation.objects.get_or_create(organisation=organisation)
        else:
            SharingOrganisation.objects.filter(organisation=organisation).delete()
        audit.record(
            actor=by,
            action="federation.sharing_start" if share else "federation.sharing_stop",
            target_type="core.organisation",
            target_id=organisation.pk,
            target_org_slug=organisation.slug,
        )


# --- receiving -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    peer: Peer
    envelope: signing.Envelope
    duplicate: bool  # this message id was acted on before: acknowledge, do not act again


def refusal_record(
    code: str, peer: Peer | None, ip: str, kind: str = "", fields: list[str] | None = None
) -> None:
    """Every refused message is audited (outside the refused request's work); ``fields`` names
    the fields that may not travel, never their values."""
    details: dict[str, Any] = {"code": code, "kind": kind[:100]}
    if fields:
        details["fields"] = fields
    audit.record(
        actor=_peer_actor(peer, ip),
        action="federation.message_refused",
        target_type="federation.peer" if peer else "",
        target_id=peer.pk if peer else "",
        details=details,
    )


def receive(
    *, raw: bytes, ip: str = "", expect_kind: str | None = None, limit: int | None = None
) -> Received:
    """Check one incoming message and record it: who (a trusted peer, by its key), signature,
    recipient, time, nonce (once), size; raises BadMessage (audited) when refused."""
    peer: Peer | None = None
    kind = ""
    try:
        if not conf.enabled():
            raise BadMessage("federation_disabled", "Federation is off on this instance.", 503)
        if len(raw) > (limit or conf.max_body_bytes()):
            raise BadMessage("too_large", "The message is too large.", 413)
        try:
            message = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadMessage("bad_message", "The body is not JSON.") from exc
        envelope = message.get("envelope") if isinstance(message, dict) else None
        sender_key = envelope.get("sender_key") if isinstance(envelope, dict) else None
        kind = str(envelope.get("kind") or "") if isinstance(envelope, dict) else ""
        if isinstance(sender_key, str):
            peer = Peer.objects.filter(public_key=sender_key).first()
        if peer is None or not peer.trusted:
            raise BadMessage("untrusted", "This instance does not trust the sender.", 403)
        now = timezone.now()
        me = conf.identity()
        env = signing.open_sealed(
            message,
            public_key=peer.public_key,
            recipient_key=me.public_key,
            now=now,
            skew_seconds=conf.skew_seconds(),
        )
        if expect_kind is not None and env.kind != expect_kind:
            raise BadMessage("wrong_kind", "This endpoint does not take this kind of message.")
        if env.kind not in HANDLERS and expect_kind is None:
            raise BadMessage("unknown_kind", "This instance does not know this kind of message.")
        with transaction.atomic():
            # The nonce store: each envelope once, kept while it could still pass the clock.
            SeenNonce.objects.filter(expires_at__lt=now).delete()
            try:
                with transaction.atomic():
                    SeenNonce.objects.create(
                        peer=peer,
                        nonce=env.nonce,
                        expires_at=now + timedelta(seconds=2 * conf.skew_seconds() + 60),
                    )
            except IntegrityError as exc:
                raise BadMessage("replayed", "This message was received before.", 409) from exc
            duplicate = False
            if expect_kind is None:  # a message to act on (not a question): its id once
                try:
                    with transaction.atomic():
                        InboxMessage.objects.create(peer=peer, message_id=env.id, kind=env.kind)
                except IntegrityError:
                    duplicate = True
            audit.record(
                actor=_peer_actor(peer, ip),
                action="federation.message_received",
                target_type="federation.peer",
                target_id=peer.pk,
                details={"kind": env.kind, "id": env.id, "duplicate": duplicate},
            )
            if not duplicate and expect_kind is None:
                HANDLERS[env.kind](peer, env)
        return Received(peer=peer, envelope=env, duplicate=duplicate)
    except BadMessage as exc:
        refusal_record(exc.code, peer, ip, kind, getattr(exc, "fields", None))
        raise


def _on_hello(peer: Peer, env: signing.Envelope) -> None:
    """A peer says it trusts us (nothing to do beyond the audit event of receive)."""


HANDLERS: dict[str, Callable[[Peer, signing.Envelope], None]] = {"hello": _on_hello}


def register_handler(kind: str, handler: Callable[[Peer, signing.Envelope], None]) -> None:
    HANDLERS[kind] = handler


# --- the outbox ----------------------------------------------------------------------------


# How each kind's body is made when it is sent, from the row's subject id (rows keep ids only).
BODIES: dict[str, Callable[[OutboxMessage], dict[str, Any]]] = {"hello": lambda row: {}}
# What a kind does once the peer confirmed receipt, in the transaction that marks it delivered
# (the record hand-over empties its sealed copy).
AFTER_DELIVERY: dict[str, Callable[[OutboxMessage], None]] = {}
# ...and once the outbox gave up on it (the last attempt failed).
AFTER_FAILURE: dict[str, Callable[[OutboxMessage], None]] = {}


def outbox_put(*, peer: Peer, kind: str, subject_id: str = "") -> OutboxMessage:
    """Queue one message to a peer, in the caller's transaction, with its job."""
    from refuge.notifications import queue

    from .tasks import deliver

    if kind not in BODIES:
        raise ValueError(f"no body maker for {kind!r}")
    if not peer.trusted:
        raise ServiceError(_("This peer is not trusted."), "untrusted")
    with transaction.atomic():
        row = OutboxMessage.objects.create(
            peer=peer, kind=kind, subject_id=subject_id, next_attempt_at=timezone.now()
        )
        queue.enqueue(deliver, str(row.pk))
        audit.record(
            actor=None,
            action="federation.message_queued",
            target_type="federation.peer",
            target_id=peer.pk,
            details={"kind": kind, "id": str(row.pk)},
        )
    return row


def backoff(attempts: int) -> timedelta:
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.9, 1.1))  # noqa: S311 (jitter)


def post_json(url: str, payload: dict[str, Any]) -> tuple[int, Any]:
    """POST JSON; (status, parsed answer). Network failures raise OSError."""
    data = signing.canonical(payload)
    req = urllib.request.Request(  # noqa: S310 (the admin sets the peer's https address)
        url, data=data, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310
            body = resp.read(SNAPSHOT_MAX_BYTES + 1)
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(64 * 1024), exc.code
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def outbox_send(*, message_id: str, now: datetime | None = None) -> str:
    """Try to deliver one outbox row if it is due; safe to call any number of times, from any
    number of workers (the row is claimed by moving its next attempt). Returns its status.

    Exactly once: the row is marked delivered when the peer says it has it; a retry after a
    lost answer sends the same message id, which the peer acknowledges without acting again."""
    from refuge.notifications import queue

    from .tasks import deliver

    now = now or timezone.now()
    if not conf.enabled():
        return OutboxMessage.Status.QUEUED  # kept until a key is set (or the peer untrusted)
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update()
            .select_related("peer")
            .filter(pk=message_id)
            .first()
        )
        if row is None or row.status != OutboxMessage.Status.QUEUED:
            return row.status if row else ""
        if not row.peer.trusted:
            row.status = OutboxMessage.Status.CANCELLED
            row.save(update_fields=["status"])
            return row.status
        if row.next_attempt_at > now:
            return row.status
        row.attempts += 1
        # Claimed for the length of one try: another worker finds it not yet due.
        row.next_attempt_at = now + timedelta(seconds=TIMEOUT_SECONDS * 3)
        row.save(update_fields=["attempts", "next_attempt_at"])
    peer, me = row.peer, conf.identity()
    message = signing.seal(
        me.key,
        sender=me.name,
        recipient_key=peer.public_key,
        kind=row.kind,
        body=BODIES[row.kind](row),
        message_id=str(row.pk),
    )
    permanent = False
    try:
        status, answer = post_json(peer.base_url + INBOX_PATH, message)
        error = "" if status == 200 else f"http_{status}"
        if status != 200 and isinstance(answer, dict) and isinstance(answer.get("code"), str):
            error = f"http_{status}_{answer['code'][:40]}"
            permanent = 400 <= status < 500 and answer["code"] in PERMANENT_REFUSALS
    except OSError:
        error = "unreachable"
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update().get(pk=row.pk)
        if row.status != OutboxMessage.Status.QUEUED:
            return row.status
        if not error:
            row.status, row.delivered_at, row.last_error = (
                OutboxMessage.Status.DELIVERED,
                timezone.now(),
                "",
            )
            action = "federation.message_delivered"
            if row.kind in AFTER_DELIVERY:
                AFTER_DELIVERY[row.kind](row)
        elif permanent or row.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = OutboxMessage.Status.FAILED, error
            action = "federation.message_failed"
            if row.kind in AFTER_FAILURE:
                AFTER_FAILURE[row.kind](row)
        else:
            row.last_error = error
            row.next_attempt_at = timezone.now() + backoff(row.attempts)
            queue.enqueue(deliver, str(row.pk), run_after=row.next_attempt_at)
            action = "federation.message_retry"
        row.save(update_fields=["status", "delivered_at", "last_error", "next_attempt_at"])
        audit.record(
            actor=None,
            action=action,
            target_type="federation.peer",
            target_id=peer.pk,
            details={"kind": row.kind, "id": str(row.pk), "attempt": row.attempts, "error": error},
        )
    return row.status


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Queue again every row that is due and has no job (a job lost with a broker): each send is
    claimed, so a row queued twice is still sent once."""
    from refuge.notifications import queue

    from .tasks import deliver

    now = now or timezone.now()
    due = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.QUEUED, next_attempt_at__lte=now, peer__trusted=True
    ).values_list("pk", flat=True)[:500]
    n = 0
    for pk in due:
        queue.enqueue(deliver, str(pk))
        n += 1
    return n


# --- pulling a peer's availability -----------------------------------------------------------


def snapshot_pull(*, peer: Peer, by: Principal | None = None) -> int:
    """Ask a trusted peer for its anonymised availability and keep it; the answer must be signed
    by that peer, to us, and name our question. Returns how many facilities were stored."""
    from .directory import BadSnapshot, store_snapshot

    if not peer.trusted:
        raise ServiceError(_("This peer is not trusted."), "untrusted")
    if not conf.enabled():
        raise ServiceError(_("Federation is off on this instance."), "federation_disabled")
    me = conf.identity()
    question = signing.seal(
        me.key, sender=me.name, recipient_key=peer.public_key, kind="availability.request", body={}
    )
    try:
        status, answer = post_json(peer.base_url + AVAILABILITY_PATH, question)
    except OSError as exc:
        _pull_failed(peer, by, "unreachable")
        raise ServiceError(_("The peer could not be reached."), "unreachable") from exc
    if status != 200:
        _pull_failed(peer, by, f"http_{status}")
        raise ServiceError(_("The peer refused the request."), "refused")
    try:
        raw = signing.canonical(answer)
        received = receive(raw=raw, expect_kind="availability.snapshot", limit=SNAPSHOT_MAX_BYTES)
        if received.peer.pk != peer.pk:
            raise BadMessage("untrusted", "The answer is signed by another peer.", 403)
        if received.envelope.body.get("in_reply_to") != question["envelope"]["id"]:
            raise BadMessage("bad_message", "The answer is not to our question.")
        with transaction.atomic():
            n = store_snapshot(peer=peer, body=received.envelope.body)
            audit.record(
                actor=by,
                action="federation.snapshot_stored",
                target_type="federation.peer",
                target_id=peer.pk,
                details={"facilities": n},
            )
    except (BadMessage, BadSnapshot) as exc:
        _pull_failed(peer, by, "bad_answer")
        raise ServiceError(_("The peer's answer was refused."), "bad_answer") from exc
    return n


def _pull_failed(peer: Peer, by: Principal | None, code: str) -> None:
    audit.record(
        actor=by,
        action="federation.snapshot_failed",
        target_type="federation.peer",
        target_id=peer.pk,
        details={"code": code},
    )


INBOX_KEEP = timedelta(days=7)  # far beyond the outbox's last retry (about seven hours)


def inbox_prune(*, now: datetime | None = None) -> int:
    """Forget message ids no peer will send again (the outbox gives up long before)."""
    now = now or timezone.now()
    expired = SeenNonce.objects.filter(expires_at__lt=now).delete()[0]
    return expired + InboxMessage.objects.filter(received_at__lt=now - INBOX_KEEP).delete()[0]


def snapshot_answer(*, question: Received) -> dict[str, Any]:
    """The signed answer to a trusted peer's question for our availability."""
    from .directory import snapshot

    me = conf.identity()
    body = {**snapshot(), "in_reply_to": question.envelope.id}
    audit.record(
        actor=_peer_actor(question.peer),
        action="federation.snapshot_sent",
        target_type="federation.peer",
        target_id=question.peer.pk,
        details={"facilities": len(body["facilities"])},
    )
    return signing.seal(
        me.key,
        sender=me.name,
        recipient_key=question.peer.public_key,
        kind="availability.snapshot",
        body=body,
    )
