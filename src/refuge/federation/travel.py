"""Her journey across the border (issue 20, item 5): planned by the receiving network, under
its rules, for an accepted peer's referral.

The receiving side (the destination facility's own instance) plans the way of travel, the
times, a meeting point, the escort and which of its own case staff carry it out. Those carriers
see the facility's address on the journey page until she arrives (bounded by a window after
the expected arrival, as a local relocation), each display audited. The address never leaves
this instance: nobody of the sending network is ever given it (docs/security.md, "Travel
across the border").

What crosses, as a signed ``journey.plan`` through the outbox, is a whitelist (``PLAN_FIELDS``):
the sender's referral id, the way of travel, departure and expected arrival, the meeting point
the receiving staff typed to be shared (a station, a town; refused if it holds the facility's
address, postal code or phone), the escort's role (never the name) and when the plan was made
(a later plan replaces an earlier one, whatever order they arrive in). A ``journey.arrived``
carries the referral's id only. A message with any other field is refused whole (4xx), the
refusal audited with the field names (never their values), and nothing of it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.db import retry_on_conflict
from refuge.core.models import User
from refuge.core.roles import CASE_ROLES, can_view_cases
from refuge.core.services import ServiceError, data_key_create
from refuge.directory.models import Facility
from refuge.directory.selectors import ShownAddress, address_for_display
from refuge.notifications.services import notify

from . import services, signing
from .models import IncomingReferral, Journey, OutboxMessage, OutgoingReferral, Peer
from .referrals import _uuid, lock_incoming, refuse_extra
from .signing import BadMessage

PLAN = "journey.plan"
ARRIVED = "journey.arrived"
PLAN_FIELDS = frozenset(
    {"referral", "mode", "departs_at", "arrives_at", "meeting_point", "escort_role", "planned_at"}
)
ARRIVED_FIELDS = frozenset({"referral"})
MAX_MEETING_POINT = 200


def _event(by: Principal | None, action: str, target: Any, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        details=details or None,
    )


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _gives_away(meeting_point: str, facility: Facility) -> bool:
    """Whether the typed meeting point holds the facility's street address, postal code or one
    of its phones (the meeting point is told to the other network; the place is not)."""
    said, numbers = _squash(meeting_point), _digits(meeting_point)
    address = _squash(facility.address or "")
    if len(address) >= 5 and address in said:
        return True
    postal = _squash(facility.postal_code or "")
    if len(postal) >= 4 and postal in said:
        return True
    phones = [_digits(n) for n in facility.phones.values_list("number", flat=True)]
    return any(len(d) >= 6 and d[-9:] in numbers for d in phones)


# --- the receiving side ------------------------------------------------------------------------


def journey_carrier_staff(incoming: IncomingReferral):
    """Who may be named to carry out her journey (and so see the address): active case staff of
    the facility's organisation, as the local rule; nobody of the sending network."""
    return User.objects.filter(
        membership__organisation_id=incoming.facility.organisation_id,
        membership__is_active=True,
        membership__role__in=CASE_ROLES,
    ).order_by("username")


def journey_plan(
    *,
    by: Principal,
    incoming: IncomingReferral,
    mode: str,
    departs_at: datetime | None = None,
    arrives_at: datetime | None = None,
    meeting_point: str = "",
    escort: str = "",
    escort_role: str = Journey.EscortRole.NONE,
    carriers: Iterable[User] = (),
) -> Journey:
    """Plan (or plan again) her journey to our facility, and tell the sending network what it
    needs to put her on the way (``journey.plan``, queued in the same transaction)."""
    require(by, can_view_cases)
    if mode not in Journey.Mode.values:
        raise ServiceError(_("Unknown way of travel: %(mode)s.") % {"mode": str(mode)[:40]})
    if escort_role not in Journey.EscortRole.values:
        raise ServiceError(_("Choose the escort's role from the list."), "invalid")
    if departs_at and arrives_at and arrives_at < departs_at:
        raise ServiceError(_("The expected arrival cannot be before the departure."), "invalid")
    meeting_point = " ".join(meeting_point.split())
    if len(meeting_point) > MAX_MEETING_POINT:
        raise ServiceError(_("The meeting point is too long."), "invalid")
    users = list(carriers)
    with transaction.atomic():
        incoming = lock_incoming(
            incoming.pk, by, _("Only the receiving facility's staff can plan her journey.")
        )
        if incoming.status != IncomingReferral.Status.ACCEPTED:
            raise ServiceError(_("Plan the journey once the referral is accepted."), "conflict")
        if incoming.arrived_at is not None:
            raise ServiceError(_("She has already arrived."), "conflict")
        if not incoming.peer.trusted:
            raise ServiceError(_("This network is no longer trusted."), "untrusted")
        allowed = set(journey_carrier_staff(incoming).values_list("pk", flat=True))
        if any(u.pk not in allowed for u in users):
            raise ServiceError(
                _("Only case staff of the receiving organisation can carry out the journey."),
                "forbidden",
            )
        if meeting_point and _gives_away(meeting_point, incoming.facility):
            raise ServiceError(
                _(
                    "The meeting point is told to the other network: it cannot be the "
                    "facility's address or phone. Name a station or a town."
                ),
                "meeting_point_is_address",
            )
        journey = Journey.objects.filter(incoming=incoming).select_for_update().first()
        if journey is None:
            journey = Journey(incoming=incoming, data_key=data_key_create())
        journey.mode = mode
        journey.departs_at, journey.arrives_at = departs_at, arrives_at
        journey.meeting_point = meeting_point
        journey.escort = escort.strip()[:200]
        journey.escort_role = escort_role
        journey.created_by = by.name
        journey.save()
        journey.carriers.set(users)
        services.outbox_put(peer=incoming.peer, kind=PLAN, subject_id=str(incoming.pk))
        _event(
            by,
            "federation.journey_plan",
            incoming,
            journey=str(journey.pk),
            carriers=[u.username for u in users],
        )
    return journey


def carries_out_journey(p: Principal, incoming: IncomingReferral) -> bool:
    """Whether this principal is named on her journey and may see the address now: before she
    arrives and not after the window closes (a plan she never took does not open it forever)."""
    if p.user is None or p.org_id != incoming.facility.organisation_id:
        return False
    if incoming.arrived_at is not None or incoming.status != IncomingReferral.Status.ACCEPTED:
        return False
    journey = Journey.objects.filter(incoming=incoming, carriers=p.user).first()
    return journey is not None and journey.carriers_see_address_until > timezone.now()


def journey_address_for(p: Principal, incoming: IncomingReferral) -> ShownAddress | None:
    """The destination address for the journey page: to the carriers only, each display
    audited (``address_for_display``); None to everyone else."""
    if not carries_out_journey(p, incoming):
        return None
    return address_for_display(p, incoming.facility, what="journey")


@retry_on_conflict
def journey_arrive(*, by: Principal, incoming: IncomingReferral) -> IncomingReferral:
    """She has arrived: recorded here, the carriers lose the address, and the sending network
    is told (``journey.arrived``, the referral's id only). With her record here, the place held
    for her becomes her stay at once; without it, the place stays held and becomes her stay
    when the record arrives (`admit_into_hold`)."""
    require(by, can_view_cases)
    with transaction.atomic():
        incoming = lock_incoming(
            incoming.pk, by, _("Only the receiving facility's staff can record her arrival.")
        )
        if incoming.status != IncomingReferral.Status.ACCEPTED:
            raise ServiceError(_("Only an accepted referral can arrive."), "conflict")
        if incoming.arrived_at is not None:
            raise ServiceError(_("She has already arrived."), "conflict")
        incoming.arrived_at, incoming.arrived_by = timezone.now(), by.name
        incoming.save(update_fields=["arrived_at", "arrived_by"])
        admit_into_hold(by, incoming)
        if incoming.peer.trusted:
            services.outbox_put(peer=incoming.peer, kind=ARRIVED, subject_id=str(incoming.pk))
        _event(by, "federation.journey_arrived", incoming)
    return incoming


def admit_into_hold(by: Principal, incoming: IncomingReferral) -> None:
    """Her stay begins in the bed held for her, once she has arrived and her case is here (in
    either order: arrival, then the record, or the record first). Inside the caller's
    transaction, with the referral's row locked; the stay takes the room's lock itself."""
    from refuge.cases.services import stay_admit

    if incoming.arrived_at is None or incoming.client_id is None or not incoming.hold_active:
        return
    stay = stay_admit(
        by=by, client=incoming.client, room_id=incoming.hold_room_id, bed=incoming.hold_bed
    )
    incoming.hold_active, incoming.stay = False, stay  # the stay claims the bed from now on
    incoming.save(update_fields=["hold_active", "stay"])


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _plan_body(row: OutboxMessage) -> dict[str, Any]:
    incoming = IncomingReferral.objects.get(pk=row.subject_id)
    journey = Journey.objects.get(incoming=incoming)
    return {
        "referral": str(incoming.remote_id),
        "mode": journey.mode,
        "departs_at": _when(journey.departs_at),
        "arrives_at": _when(journey.arrives_at),
        "meeting_point": journey.meeting_point,
        "escort_role": journey.escort_role,
        "planned_at": journey.changed_at.isoformat(),
    }


def _arrived_body(row: OutboxMessage) -> dict[str, Any]:
    return {"referral": str(IncomingReferral.objects.get(pk=row.subject_id).remote_id)}


# --- the sending side --------------------------------------------------------------------------


def _time(value: Any, what: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or len(value) > 40:
        raise BadMessage("bad_plan", f"{what} must be a time with its offset.")
    return parsed.isoformat()


def clean_plan(body: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's whitelist, field by field: raises ExtraFields (names audited, never values)
    or BadMessage."""
    if not isinstance(body, Mapping):
        raise BadMessage("bad_plan", "The plan must be an object.")
    refuse_extra(set(body) - PLAN_FIELDS)
    if body.get("mode") not in Journey.Mode.values:
        raise BadMessage("bad_plan", "Unknown way of travel.")
    if body.get("escort_role") not in Journey.EscortRole.values:
        raise BadMessage("bad_plan", "Unknown escort role.")
    point = body.get("meeting_point") or ""
    if not isinstance(point, str) or len(point) > MAX_MEETING_POINT:
        raise BadMessage("bad_plan", "meeting_point must be a short text.")
    return {
        "referral": _uuid(body.get("referral"), "referral"),
        "mode": body["mode"],
        "departs_at": _time(body.get("departs_at"), "departs_at"),
        "arrives_at": _time(body.get("arrives_at"), "arrives_at"),
        "meeting_point": " ".join(point.split()),
        "escort_role": body["escort_role"],
        "planned_at": _time(body.get("planned_at"), "planned_at", required=True),
    }


def _ours(peer: Peer, rid: str) -> OutgoingReferral:
    row = OutgoingReferral.objects.select_for_update(of=("self",)).filter(pk=rid, peer=peer).first()
    if row is None:
        raise BadMessage("unknown_referral", "No referral of ours to this peer has this id.", 404)
    if row.status != OutgoingReferral.Status.ACCEPTED:
        raise BadMessage("not_accepted", "This referral was not accepted.", 409)
    return row


def _on_plan(peer: Peer, env: signing.Envelope) -> None:
    plan = clean_plan(env.body)
    row = _ours(peer, plan["referral"])
    before = (row.journey or {}).get("planned_at")
    if before and datetime.fromisoformat(before) >= datetime.fromisoformat(plan["planned_at"]):
        # An older plan arriving after a newer one (retries reorder): received, not kept.
        _event(services._peer_actor(peer), "federation.journey_plan_stale", row)  # noqa: SLF001
        return
    row.journey = {k: v for k, v in plan.items() if k != "referral"}
    row.journey_received_at = timezone.now()
    row.save(update_fields=["journey", "journey_received_at"])
    _event(services._peer_actor(peer), "federation.journey_received", row)  # noqa: SLF001
    # Whoever sent her hears that the plan is there (ids only; a new plan is a new occurrence).
    notify(event="federation.journey_planned", about=row, occurrence=plan["planned_at"])


def _on_arrived(peer: Peer, env: signing.Envelope) -> None:
    refuse_extra(set(env.body) - ARRIVED_FIELDS)
    row = _ours(peer, _uuid(env.body.get("referral"), "referral"))
    if row.arrived_at is None:
        row.arrived_at = timezone.now()
        row.save(update_fields=["arrived_at"])
        notify(event="federation.journey_arrived", about=row)
    _event(services._peer_actor(peer), "federation.journey_arrival_received", row)  # noqa: SLF001


def register() -> None:
    services.BODIES[PLAN] = _plan_body
    services.BODIES[ARRIVED] = _arrived_body
    services.register_handler(PLAN, _on_plan)
    services.register_handler(ARRIVED, _on_arrived)
