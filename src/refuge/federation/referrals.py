"""Cross-network referrals (issue 20, second slice): an offer to a peer's facility and its answer.

What travels in a ``referral.offer`` is a whitelist, checked when it is made and again when it
is received: the referral's id, the facility asked, the household's shape (her age, each
child's age and sex, other adults, pets), needs, languages, documents, a risk level and the
regions she must avoid, all codes or numbers. Never a name, a phone, a birth date, an address
or a note: an offer carrying any other field is refused whole and the refusal audited with the
field names (never their values), so nothing of it is kept.

A ``referral.answer`` carries the sender's referral id, ``accepted`` or ``declined`` and a
decline reason from refuge.referrals' codes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.cases.models import Client
from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.db import retry_on_conflict
from refuge.core.roles import can_search_placements, can_view_cases
from refuge.core.services import ServiceError
from refuge.notifications.services import notify
from refuge.referrals import search
from refuge.referrals.models import DeclineReason
from refuge.referrals.services import NO_PLACE_MESSAGES, find_place, household_size, lock_candidates
from refuge.vacancies import beds

from . import services, signing
from .models import IncomingReferral, OutboxMessage, OutgoingReferral, Peer, PeerFacility
from .signing import BadMessage

OFFER = "referral.offer"
ANSWER = "referral.answer"
WITHDRAW = "referral.withdraw"
RELEASE = "referral.release"
OFFER_FIELDS = frozenset(
    {
        "referral",
        "facility",
        "woman_age",
        "children",
        "other_adults",
        "pets",
        "needs",
        "languages",
        "documents",
        "risk_level",
        "avoid_regions",
    }
)
CHILD_FIELDS = frozenset({"age", "sex"})
ANSWER_FIELDS = frozenset({"referral", "answer", "reason"})
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
MAX_CODES = 30


class ExtraFields(BadMessage):
    """An offer with a field outside the whitelist: refused whole; the names are audited."""

    def __init__(self, fields: list[str]):
        super().__init__("extra_fields", "The offer carries fields that may not travel.")
        self.fields = fields


def refuse_extra(names: Iterable[Any]) -> None:
    """Refuse a message whole when it carries any of these field names (those outside its
    whitelist), naming at most twenty of them, each cut to 40 characters, for the audit."""
    names = set(names)
    if names:
        raise ExtraFields(sorted(str(k)[:40] for k in names)[:20])


def _codes(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_CODES:
        raise BadMessage("bad_offer", f"{what} must be a short list of codes.")
    if not all(isinstance(v, str) and _CODE.match(v) for v in value):
        raise BadMessage("bad_offer", f"{what} must be codes.")
    return sorted(set(value))


def _count(value: Any, what: str, high: int) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise BadMessage("bad_offer", f"{what} is out of range.")
    return value


def _uuid(value: Any, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise BadMessage("bad_offer", f"{what} must be a uuid.") from exc


def clean_offer(body: Mapping[str, Any]) -> dict[str, Any]:
    """The offer's whitelist, field by field; raises ExtraFields or BadMessage. Used by the
    sender on what it is about to send and by the receiver on what it got."""
    if not isinstance(body, Mapping):
        raise BadMessage("bad_offer", "The offer must be an object.")
    extra = set(body) - OFFER_FIELDS
    children = body.get("children") or []
    if not isinstance(children, list) or len(children) > search.MAX_CHILDREN:
        raise BadMessage("bad_offer", "children must be a short list.")
    for child in children:
        if not isinstance(child, Mapping):
            raise BadMessage("bad_offer", "A child must be an object.")
        extra |= {f"children.{k}" for k in set(child) - CHILD_FIELDS}
    refuse_extra(extra)
    kids = []
    for child in children:
        if child.get("sex") not in ("male", "female"):
            raise BadMessage("bad_offer", "A child's sex must be male or female.")
        kids.append({"age": _count(child.get("age"), "A child's age", 17), "sex": child["sex"]})
    risk = body.get("risk_level") or ""
    if risk and not (isinstance(risk, str) and _CODE.match(risk)):
        raise BadMessage("bad_offer", "risk_level must be a code.")
    age = body.get("woman_age")
    if not isinstance(age, int) or isinstance(age, bool) or not 14 <= age <= 120:
        raise BadMessage("bad_offer", "woman_age is out of range.")
    return {
        "referral": _uuid(body.get("referral"), "referral"),
        "facility": _uuid(body.get("facility"), "facility"),
        "woman_age": age,
        "children": kids,
        "other_adults": _count(body.get("other_adults"), "other_adults", 10),
        "pets": _count(body.get("pets"), "pets", 10),
        "needs": _codes(body.get("needs"), "needs"),
        "languages": _codes(body.get("languages"), "languages"),
        "documents": _codes(body.get("documents"), "documents"),
        "risk_level": risk,
        "avoid_regions": [c.upper() for c in _codes(body.get("avoid_regions"), "avoid_regions")],
    }


def _event(by: Principal | None, action: str, target: Any, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        details=details or None,
    )


# --- the sending side --------------------------------------------------------------------------


def federated_referral_send(
    *,
    by: Principal,
    client: Client,
    peer_facility: PeerFacility,
    household: Mapping[str, Any],
    risk_level: str = "",
) -> OutgoingReferral:
    """Refer one of our cases to a trusted peer's facility: a local record (no personal field
    beyond the case it is about) and a signed ``referral.offer`` queued through the outbox, in
    one transaction. Only the whitelisted fields of ``household`` travel; any other is dropped
    here (a name typed into the household never leaves)."""
    require(by, can_search_placements)
    if client.organisation_id != by.org_id:
        raise ServiceError(
            _("Only the organisation that holds the case can refer her."), "forbidden"
        )
    search.household_from(household)  # the same checks as a local referral, clear errors
    if not risk_level:  # her latest complete assessment's band, a code
        band = (
            client.assessments.filter(status="complete")
            .exclude(band="")
            .order_by("-completed_at")
            .values_list("band", flat=True)
            .first()
        )
        risk_level = band if band and _CODE.match(band) else ""
    referral_id = uuid.uuid4()
    wanted = {k: household.get(k) for k in OFFER_FIELDS if k in household}
    wanted["children"] = [
        {"age": c.get("age"), "sex": c.get("sex")} for c in household.get("children") or []
    ]
    try:
        offer = clean_offer(
            {
                **wanted,
                "referral": str(referral_id),
                "facility": peer_facility.remote_id,
                "risk_level": risk_level,
            }
        )
    except BadMessage as exc:
        raise ServiceError(_("The household cannot be sent as it is."), "invalid_offer") from exc
    with transaction.atomic():
        peer = Peer.objects.select_for_update().get(pk=peer_facility.peer_id)
        if not peer.trusted or not PeerFacility.objects.filter(pk=peer_facility.pk).exists():
            raise ServiceError(_("This network is no longer trusted."), "untrusted")
        row = OutgoingReferral.objects.create(
            id=referral_id,
            client=client,
            from_org=by.organisation,
            created_by=by.name,
            peer=peer,
            remote_facility_id=peer_facility.remote_id,
            offer=offer,
        )
        services.outbox_put(peer=peer, kind=OFFER, subject_id=str(row.pk))
        _event(
            by,
            "federation.referral_send",
            row,
            peer=peer.name,
            facility=peer_facility.remote_id,
            client=str(client.pk),
        )
    return row


def _offer_body(row: OutboxMessage) -> dict[str, Any]:
    return dict(OutgoingReferral.objects.get(pk=row.subject_id).offer)


def _on_answer(peer: Peer, env: signing.Envelope) -> None:
    body = env.body
    refuse_extra(set(body) - ANSWER_FIELDS)
    answer, reason = body.get("answer"), body.get("reason") or ""
    if answer not in ("accepted", "declined"):
        raise BadMessage("bad_answer", "answer must be accepted or declined.")
    if answer == "declined" and reason not in DeclineReason.values:
        raise BadMessage("bad_answer", "A decline needs a known reason code.")
    rid = _uuid(body.get("referral"), "referral")
    row = OutgoingReferral.objects.select_for_update().filter(pk=rid, peer=peer).first()
    if row is None:
        raise BadMessage("unknown_referral", "No referral of ours to this peer has this id.")
    if row.status == OutgoingReferral.Status.WITHDRAWN:
        # Our withdrawal and its answer crossed: the answer is received (audited), nothing
        # changes, and the peer is not made to retry it.
        _event(services._peer_actor(peer), "federation.referral_answer_late", row, answer=answer)  # noqa: SLF001
        return
    if row.status != OutgoingReferral.Status.SENT:
        raise BadMessage("conflict", "This referral was answered or withdrawn before.", 409)
    row.status = answer
    row.decline_reason = reason if answer == "declined" else ""
    row.answered_at = timezone.now()
    row.save(update_fields=["status", "decline_reason", "answered_at"])
    _event(
        services._peer_actor(peer),  # noqa: SLF001
        "federation.referral_answered",
        row,
        answer=answer,
        reason=row.decline_reason,
    )
    notify(event="federation.referral_answered", about=row)


# --- the receiving side ------------------------------------------------------------------------


def _on_offer(peer: Peer, env: signing.Envelope) -> None:
    from .directory import shared_facilities

    offer = clean_offer(env.body)
    facility = shared_facilities().filter(pk=offer["facility"]).first()
    if facility is None:
        raise BadMessage("unknown_facility", "No facility shared here has this id.")
    incoming, created = IncomingReferral.objects.get_or_create(
        peer=peer,
        remote_id=offer["referral"],
        defaults={"facility": facility, "offer": offer},
    )
    if not created:
        raise BadMessage("replayed", "This referral was received before.", 409)
    _event(
        services._peer_actor(peer),  # noqa: SLF001
        "federation.referral_received",
        incoming,
        peer=peer.name,
        facility=str(facility.pk),
    )
    notify(event="federation.referral_received", about=incoming, facility_ids=[facility.pk])


def _answer_body(row: OutboxMessage) -> dict[str, Any]:
    incoming = IncomingReferral.objects.get(pk=row.subject_id)
    return {
        "referral": str(incoming.remote_id),
        "answer": incoming.status,
        "reason": incoming.decline_reason,
    }


def lock_incoming(pk: Any, by: Principal, forbidden: str) -> IncomingReferral:
    """A peer's referral to one of our facilities, locked for the rest of the transaction, with
    its facility and peer; refused (``forbidden``, the caller's words) to anyone outside the
    facility's organisation. The lock order is this row, then the rooms."""
    incoming = (
        IncomingReferral.objects.select_for_update(of=("self",))
        .select_related("facility__organisation", "peer")
        .get(pk=pk)
    )
    if incoming.facility.organisation_id != by.org_id:
        raise ServiceError(forbidden, "forbidden")
    return incoming


def _hold_place(incoming: IncomingReferral) -> None:
    """Hold the smallest free unit of the facility for her household, as a local accept does
    (the rooms locked first, the free places read after), or refuse with the local reasons."""
    size = household_size(incoming.offer)
    fid = incoming.facility_id
    rooms = lock_candidates([fid], size)[str(fid)]
    now = timezone.now()  # after the lock: another transaction may just have taken a bed
    found = find_place(fid, rooms, size, now)
    if isinstance(found, str):
        raise ServiceError(NO_PLACE_MESSAGES[found](), "no_place")
    incoming.hold_room, incoming.hold_bed = found
    incoming.hold_active, incoming.held_at, incoming.no_hold_reason = True, now, ""


def release_hold(incoming: IncomingReferral) -> None:
    """Give up the bed held for her (under the room's lock, like every change to a room's
    use); the caller saves the row."""
    if incoming.hold_active:
        beds.lock_room(incoming.hold_room_id)
        incoming.hold_active = False


@retry_on_conflict
def incoming_referral_answer(
    *, by: Principal, incoming: IncomingReferral, accept: bool, reason: str = ""
) -> IncomingReferral:
    """The facility's staff accept or decline (with a reason code) a peer's referral; the
    answer is queued to the peer in the same transaction. Accepting holds a place for her
    household until she arrives, as a local accept does: refused with the local reasons when
    no room fits or none is free (so no woman crosses a border to a place that is gone)."""
    require(by, can_view_cases)
    if not accept and reason not in DeclineReason.values:
        raise ServiceError(_("Choose the reason for declining."), "reason_required")
    with transaction.atomic():
        incoming = lock_incoming(
            incoming.pk, by, _("Only the facility's staff can answer this referral.")
        )
        if incoming.status != IncomingReferral.Status.OPEN:
            raise ServiceError(_("This referral has already been answered."), "conflict")
        if not incoming.peer.trusted:
            raise ServiceError(_("This network is no longer trusted."), "untrusted")
        if accept:
            _hold_place(incoming)
        incoming.status = (
            IncomingReferral.Status.ACCEPTED if accept else IncomingReferral.Status.DECLINED
        )
        incoming.decline_reason = "" if accept else reason
        incoming.decided_at, incoming.decided_by = timezone.now(), by.name
        incoming.save()
        services.outbox_put(peer=incoming.peer, kind=ANSWER, subject_id=str(incoming.pk))
        _event(
            by,
            "federation.referral_answer",
            incoming,
            answer=incoming.status,
            reason=incoming.decline_reason,
            **({"room": str(incoming.hold_room_id), "bed": incoming.hold_bed} if accept else {}),
        )
    return incoming


@retry_on_conflict
def incoming_referral_release(*, by: Principal, incoming: IncomingReferral) -> IncomingReferral:
    """She is not coming: the receiving staff give up the place held for an accepted peer's
    referral she never arrived at, and the sending network is told (``referral.release``, the
    referral's id only). A peer that went silent cannot keep a bed taken for ever."""
    require(by, can_view_cases)
    with transaction.atomic():
        incoming = lock_incoming(
            incoming.pk, by, _("Only the facility's staff can give up this place.")
        )
        if incoming.status != IncomingReferral.Status.ACCEPTED:
            raise ServiceError(_("Only an accepted referral holds a place."), "conflict")
        if incoming.arrived_at is not None:
            raise ServiceError(_("She has already arrived."), "conflict")
        release_hold(incoming)
        incoming.status = IncomingReferral.Status.RELEASED
        incoming.released_at, incoming.released_by = timezone.now(), by.name
        incoming.save()
        if incoming.peer.trusted:
            services.outbox_put(peer=incoming.peer, kind=RELEASE, subject_id=str(incoming.pk))
        _event(by, "federation.referral_release", incoming)
    return incoming


def _release_body(row: OutboxMessage) -> dict[str, Any]:
    return {"referral": str(IncomingReferral.objects.get(pk=row.subject_id).remote_id)}


def _on_release(peer: Peer, env: signing.Envelope) -> None:
    refuse_extra(set(env.body) - {"referral"})
    rid = _uuid(env.body.get("referral"), "referral")
    row = OutgoingReferral.objects.select_for_update().filter(pk=rid, peer=peer).first()
    if row is None:
        raise BadMessage("unknown_referral", "No referral of ours to this peer has this id.")
    actor = services._peer_actor(peer)  # noqa: SLF001
    if row.status != OutgoingReferral.Status.ACCEPTED:
        # Our withdrawal and their release crossed: received, nothing changes.
        _event(actor, "federation.referral_release_late", row, status=row.status)
        return
    row.status, row.answered_at = OutgoingReferral.Status.RELEASED, timezone.now()
    row.save(update_fields=["status", "answered_at"])
    _event(actor, "federation.referral_released", row)
    notify(event="federation.referral_released", about=row)


def federated_referral_withdraw(*, by: Principal, referral: OutgoingReferral) -> OutgoingReferral:
    """The sending organisation withdraws a referral waiting for an answer, or accepted and
    not yet arrived (she is not going); the peer is told (``referral.withdraw``: the
    referral's id, nothing else) and gives up the place it held."""
    require(by, can_search_placements)
    with transaction.atomic():
        row = (
            OutgoingReferral.objects.select_for_update(of=("self",))
            .select_related("peer")
            .get(pk=referral.pk)
        )
        if row.from_org_id != by.org_id:
            raise ServiceError(_("Only the sender can withdraw the referral."), "forbidden")
        live = (OutgoingReferral.Status.SENT, OutgoingReferral.Status.ACCEPTED)
        if row.status not in live or row.arrived_at is not None:
            raise ServiceError(_("This referral has already ended."), "conflict")
        row.status, row.answered_at = OutgoingReferral.Status.WITHDRAWN, timezone.now()
        row.save(update_fields=["status", "answered_at"])
        if row.peer.trusted:
            services.outbox_put(peer=row.peer, kind=WITHDRAW, subject_id=str(row.pk))
        _event(by, "federation.referral_withdraw", row, peer=row.peer.name)
    return row


def _withdraw_body(row: OutboxMessage) -> dict[str, Any]:
    return {"referral": row.subject_id}


def _on_withdraw(peer: Peer, env: signing.Envelope) -> None:
    refuse_extra(set(env.body) - {"referral"})
    rid = _uuid(env.body.get("referral"), "referral")
    row = IncomingReferral.objects.select_for_update().filter(peer=peer, remote_id=rid).first()
    if row is None:
        raise BadMessage("unknown_referral", "No referral from this peer has this id.")
    actor = services._peer_actor(peer)  # noqa: SLF001
    before = row.status
    if row.arrived_at is not None or before == IncomingReferral.Status.RELEASED:
        # She is here already, or we gave the place up first: received, nothing changes.
        _event(actor, "federation.referral_withdraw_late", row, status=before)
        return
    release_hold(row)  # she is not coming, whatever we answered: the place is free again
    row.status = IncomingReferral.Status.WITHDRAWN
    row.save(update_fields=["status", "hold_active"])
    _event(actor, "federation.referral_withdrawn", row, before=before)
    if before == IncomingReferral.Status.ACCEPTED:
        notify(event="federation.referral_withdrawn", about=row, facility_ids=[row.facility_id])


def register() -> None:
    services.BODIES[OFFER] = _offer_body
    services.BODIES[ANSWER] = _answer_body
    services.BODIES[WITHDRAW] = _withdraw_body
    services.BODIES[RELEASE] = _release_body
    services.register_handler(RELEASE, _on_release)
    services.register_handler(WITHDRAW, _on_withdraw)
    services.register_handler(OFFER, _on_offer)
    services.register_handler(ANSWER, _on_answer)
