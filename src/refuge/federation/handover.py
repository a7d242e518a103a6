"""Handing her case record over to the network that accepted her (issue 20, item 4).

After the peer accepted a referral, a caseworker of the sending organisation records her
consent to the hand-over (for this referral and this network only). Her record is then built,
field by field from a whitelist (``RECORD_FIELDS``), sealed for the peer's X25519 key
(refuge.federation.sealing) and queued as a signed ``referral.record`` through the outbox. The
message's body is the referral's id and the sealed record: no personal field in clear leaves
this instance, sits in an outbox row or a job's arguments, or reaches a log or an audit event.

What the record holds: her name, date of birth, age band, languages, citizenship, documents,
needs, pets, health and disability needs (what the shelter must know for her stay), her
household (each member's relation, age, sex and name) and her latest risk level. What it never
holds: her phone, safe contact and times (they reach her where she was), where she lived, the
other party, notes (hers or other organisations'), the safety plan, incidents, assessments'
answers, the audit trail.

The receiving instance opens it with its private sealing key and opens her case in the
facility's organisation through the case services (so it is encrypted under a new data key
wrapped by its own master key, like every case), links it to the referral and audits it, in
one transaction with the message: a record that cannot be opened or is not the minimum is
refused whole (4xx, audited) and nothing of it is kept.

When the peer confirms receipt (its inbox answered), the sending side empties the sealed copy
and records the hand-over on her case (an audit event naming the referral and the network).
Her case here stays what it was, under this instance's retention rules (refuge.cases.retention):
closed as moved, its parts are cleared and her identity shredded on the usual schedule.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from refuge.cases import services as case_services
from refuge.cases.models import AgeBand, Client, HouseholdMember, Sex
from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.crypto import CryptoError
from refuge.core.roles import Role, can_search_placements, can_view_cases
from refuge.core.services import ServiceError
from refuge.notifications.services import notify

from . import conf, sealing, services, signing
from .models import IncomingReferral, OutboxMessage, OutgoingReferral, Peer
from .referrals import _codes, _count, _uuid, refuse_extra
from .signing import BadMessage

RECORD = "referral.record"
BODY_FIELDS = frozenset({"referral", "sealed"})
RECORD_VERSION = 1
RECORD_FIELDS = frozenset(
    {
        "v",
        "referral",
        "name",
        "birth_date",
        "age_band",
        "languages",
        "citizenship",
        "documents",
        "needs",
        "pets",
        "health_notes",
        "household",
        "risk_level",
    }
)
MEMBER_FIELDS = frozenset({"relation", "age", "sex", "name"})
_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
MAX_TEXT = 2000
MAX_MEMBERS = 20


def aad(referral_id: str, recipient_sealing_key: str) -> bytes:
    """What a sealed record is bound to: this referral and this recipient's key."""
    return f"refuge-record:v{RECORD_VERSION}:{referral_id}:{recipient_sealing_key}".encode()


def case_record(*, client: Client, referral: OutgoingReferral) -> dict[str, Any]:
    """Her record as it is handed over: the whitelist above, nothing else (module docstring)."""
    band = (
        client.assessments.filter(status="complete")
        .exclude(band="")
        .order_by("-completed_at")
        .values_list("band", flat=True)
        .first()
    ) or referral.offer.get("risk_level", "")
    return {
        "v": RECORD_VERSION,
        "referral": str(referral.pk),
        "name": client.name or "",
        "birth_date": client.birth_date or "",
        "age_band": client.age_band,
        "languages": list(client.languages or []),
        "citizenship": client.citizenship,
        "documents": list(client.documents or []),
        "needs": list(client.needs or []),
        "pets": client.pets,
        "health_notes": client.health_notes or "",
        "household": [
            {"relation": m.relation, "age": m.age, "sex": m.sex, "name": m.name or ""}
            for m in client.household.order_by("-age", "created_at")
        ],
        "risk_level": band if _CODE.match(band or "") else "",
    }


def _event(by: Principal | None, action: str, target: Any, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        target_org_slug=getattr(getattr(target, "organisation", None), "slug", "") or "",
        details=details or None,
    )


# --- the sending side --------------------------------------------------------------------------


def federated_record_consent(*, by: Principal, referral: OutgoingReferral) -> OutgoingReferral:
    """Record her consent to hand her record over to the network that accepted her, and hand
    it over (``federated_record_send``), in one transaction. Only for an accepted referral, by
    someone of the organisation that holds her case who may see it and refer her."""
    require(by, can_view_cases)
    require(by, can_search_placements)
    with transaction.atomic():
        row = (
            OutgoingReferral.objects.select_for_update(of=("self",))
            .select_related("peer", "client__organisation")
            .get(pk=referral.pk)
        )
        if row.from_org_id != by.org_id or row.client.organisation_id != by.org_id:
            raise ServiceError(
                _("Only the organisation that holds her case can hand it over."), "forbidden"
            )
        if row.status != OutgoingReferral.Status.ACCEPTED:
            raise ServiceError(
                _("Her record can be handed over only after the other network accepted her."),
                "not_accepted",
            )
        if row.consent_at is not None:
            raise ServiceError(_("Her consent to the hand-over is already recorded."), "conflict")
        _check_peer(row.peer)
        row.consent_at, row.consent_by = timezone.now(), by.name
        row.save(update_fields=["consent_at", "consent_by"])
        _event(
            by,
            "federation.record_consent",
            row.client,
            referral=str(row.pk),
            peer=row.peer.name,
        )
        return federated_record_send(by=by, referral=row)


def _check_peer(peer: Peer) -> None:
    if not peer.trusted:
        raise ServiceError(_("This network is no longer trusted."), "untrusted")
    if not peer.sealing_key:
        raise ServiceError(
            _(
                "This network has not given its sealing key, so her record cannot be handed "
                "over to it. Ask its administrator for the key and trust the network again "
                "with it."
            ),
            "no_sealing_key",
        )


def federated_record_send(*, by: Principal | None, referral: OutgoingReferral) -> OutgoingReferral:
    """Seal her record for the peer and queue it (after her consent): the row keeps the sealed
    form only, which this instance cannot open; the outbox row names the referral's id."""
    with transaction.atomic():
        row = (
            OutgoingReferral.objects.select_for_update(of=("self",))
            .select_related("peer", "client__data_key")
            .get(pk=referral.pk)
        )
        if row.client.data_key.destroyed_at is not None:  # her fields would read "[erased]"
            raise ServiceError(_("This record has been erased."), "erased")
        if row.status != OutgoingReferral.Status.ACCEPTED or row.consent_at is None:
            raise ServiceError(
                _("Her record can be handed over only after she consented."), "consent_missing"
            )
        if row.record_sent_at is not None:
            raise ServiceError(_("Her record has already been handed over."), "conflict")
        _check_peer(row.peer)
        try:
            record = case_record(client=row.client, referral=row)
        except CryptoError as exc:  # shredded between the check and the read
            raise ServiceError(_("This record has been erased."), "erased") from exc
        row.sealed_record = sealing.seal(
            signing.canonical(record),
            recipient_key=row.peer.sealing_key,
            aad=aad(str(row.pk), row.peer.sealing_key),
        )
        row.record_sent_at = timezone.now()
        row.save(update_fields=["sealed_record", "record_sent_at"])
        services.outbox_put(peer=row.peer, kind=RECORD, subject_id=str(row.pk))
        _event(by, "federation.record_sealed", row, peer=row.peer.name)
    return row


def _record_body(row: OutboxMessage) -> dict[str, Any]:
    referral = OutgoingReferral.objects.get(pk=row.subject_id)
    if referral.sealed_record is None:
        raise ValueError("the sealed record is gone")  # emptied: nothing is sent in its place
    return {"referral": str(referral.pk), "sealed": referral.sealed_record}


def _record_delivered(row: OutboxMessage) -> None:
    """The peer confirmed receipt: the sealed copy goes, the hand-over is recorded on her case
    (in the outbox's transaction)."""
    referral = (
        OutgoingReferral.objects.select_for_update(of=("self",))
        .select_related("client__organisation", "peer")
        .get(pk=row.subject_id)
    )
    referral.sealed_record = None
    referral.record_received_at = timezone.now()
    referral.save(update_fields=["sealed_record", "record_received_at"])
    _event(
        None,
        "federation.record_handed_over",
        referral.client,
        referral=str(referral.pk),
        peer=referral.peer.name,
    )


def _record_failed(row: OutboxMessage) -> None:
    """The peer never confirmed: the sealed copy goes all the same (nobody sends it now)."""
    OutgoingReferral.objects.filter(pk=row.subject_id).update(sealed_record=None)


# --- the receiving side ------------------------------------------------------------------------


def _text(value: Any, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise BadMessage("bad_record", f"{what} must be a short text.")
    return value.strip()


def clean_record(record: Any, *, referral_id: str) -> dict[str, Any]:
    """The record's whitelist, field by field (as ``clean_offer`` for offers): raises
    ExtraFields (names audited, never values) or BadMessage."""
    if not isinstance(record, dict):
        raise BadMessage("bad_record", "The record must be an object.")
    extra = set(record) - RECORD_FIELDS
    household = record.get("household") or []
    if not isinstance(household, list) or len(household) > MAX_MEMBERS:
        raise BadMessage("bad_record", "household must be a short list.")
    for member in household:
        if not isinstance(member, dict):
            raise BadMessage("bad_record", "A household member must be an object.")
        extra |= {f"household.{k}" for k in set(member) - MEMBER_FIELDS}
    refuse_extra(extra)
    if record.get("v") != RECORD_VERSION or record.get("referral") != referral_id:
        raise BadMessage("bad_record", "The record is not for this referral.")
    birth = _text(record.get("birth_date"), "birth_date", 10)
    if birth:
        try:
            date.fromisoformat(birth)
        except ValueError as exc:
            raise BadMessage("bad_record", "birth_date must be a date.") from exc
    if (record.get("age_band") or "") not in AgeBand.values:
        raise BadMessage("bad_record", "Unknown age band.")
    citizenship = _text(record.get("citizenship"), "citizenship", 2).upper()
    if citizenship and not citizenship.isalpha():
        raise BadMessage("bad_record", "citizenship must be a country code.")
    risk = record.get("risk_level") or ""
    if risk and not (isinstance(risk, str) and _CODE.match(risk)):
        raise BadMessage("bad_record", "risk_level must be a code.")
    members = []
    for m in household:
        if m.get("relation") not in HouseholdMember.Relation.values or m.get("sex") not in (
            Sex.values
        ):
            raise BadMessage("bad_record", "A household member's relation or sex is unknown.")
        members.append(
            {
                "relation": m["relation"],
                "age": _count(m.get("age"), "A member's age", 120),
                "sex": m["sex"],
                "name": _text(m.get("name"), "A member's name", 200),
            }
        )
    try:
        return {
            "name": _text(record.get("name"), "name", 200),
            "birth_date": birth,
            "age_band": record.get("age_band") or "",
            "languages": _codes(record.get("languages"), "languages"),
            "citizenship": citizenship,
            "documents": _codes(record.get("documents"), "documents"),
            "needs": _codes(record.get("needs"), "needs"),
            "pets": _count(record.get("pets"), "pets", 10),
            "health_notes": _text(record.get("health_notes"), "health_notes", MAX_TEXT),
            "household": members,
            "risk_level": risk,
        }
    except BadMessage as exc:  # the offer's checks say "offer"; this is a record
        raise BadMessage("bad_record", exc.message) from exc


def _on_record(peer: Peer, env: signing.Envelope) -> None:
    """Runs inside receive's transaction: any refusal undoes everything, nothing half-made."""
    body = env.body
    refuse_extra(set(body) - BODY_FIELDS)
    rid = _uuid(body.get("referral"), "referral")
    incoming = (
        IncomingReferral.objects.select_for_update(of=("self",))
        .select_related("facility__organisation")
        .filter(peer=peer, remote_id=rid)
        .first()
    )
    if incoming is None:
        raise BadMessage("unknown_referral", "No referral from this peer has this id.", 404)
    if incoming.status != IncomingReferral.Status.ACCEPTED:
        raise BadMessage("not_accepted", "This referral was not accepted here.", 409)
    if incoming.client_id is not None:
        raise BadMessage("conflict", "Her record was received before.", 409)
    me = conf.identity()
    if me.sealing_key is None:
        raise BadMessage("no_sealing_key", "This instance cannot receive records.", 409)
    try:
        plain = sealing.open_sealed(
            body.get("sealed"), key=me.sealing_key, aad=aad(rid, me.sealing_public_key)
        )
        record = json.loads(plain)
    except (sealing.SealError, ValueError) as exc:
        raise BadMessage("unsealable", "The record cannot be opened here.", 422) from exc
    clean = clean_record(record, referral_id=rid)
    org = incoming.facility.organisation
    # The case is opened on the network's behalf in the facility's organisation, through the
    # case services (her data key, wrapped by this instance's master key; audited).
    actor = Principal(name=f"peer:{peer.name}", role=Role.CASEWORKER, organisation=org)
    try:
        client = case_services.client_create(
            by=actor,
            name=clean["name"],
            birth_date=date.fromisoformat(clean["birth_date"]) if clean["birth_date"] else None,
            age_band=clean["age_band"],
            languages=clean["languages"],
            citizenship=clean["citizenship"],
            documents=clean["documents"],
            needs=clean["needs"],
            pets=clean["pets"],
            health_notes=clean["health_notes"],
        )
        for m in clean["household"]:
            case_services.household_member_add(by=actor, client=client, **m)
        with translation.override(settings.LANGUAGE_CODE):
            note = _("Her record was handed over by the network %(network)s.") % {
                "network": peer.label
            }
            if clean["risk_level"]:
                note += " " + _("Risk level there: %(level)s.") % {"level": clean["risk_level"]}
        case_services.note_add(by=actor, client=client, body=note)
    except ServiceError as exc:
        raise BadMessage("bad_record", "The record does not fit a case here.") from exc
    incoming.client, incoming.record_received_at = client, timezone.now()
    incoming.save(update_fields=["client", "record_received_at"])
    # She arrived before her record did: the place held for her becomes her stay now.
    from .travel import admit_into_hold

    admit_into_hold(actor, incoming)
    _event(
        services._peer_actor(peer),  # noqa: SLF001
        "federation.record_received",
        incoming,
        peer=peer.name,
        client=str(client.pk),
    )
    # The facility's case staff hear that her case is here (ids only, neutral words).
    notify(event="federation.record_received", about=incoming, facility_ids=[incoming.facility_id])


def register() -> None:
    services.BODIES[RECORD] = _record_body
    services.AFTER_DELIVERY[RECORD] = _record_delivered
    services.AFTER_FAILURE[RECORD] = _record_failed
    services.register_handler(RECORD, _on_record)
