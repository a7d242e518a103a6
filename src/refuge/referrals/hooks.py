"""How referrals plug into the other apps: held beds, the address grant, client visibility."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q
from django.utils import timezone

from refuge.vacancies.availability import RoomUse


def active_holds(at: datetime) -> Q:
    """Holds that count at ``at``: holding and unexpired, or accepted (until arrival). A hold
    placed after ``at`` counts too (its expiry lies after ``at``)."""
    return Q(hold_active=True) & (
        Q(status="accepted") | Q(status="holding", hold_expires_at__gt=at)
    )


def holds_occupancy(facility_ids: Sequence[Any], at: datetime) -> Mapping[Any, RoomUse]:
    """Per room: the holds that count at ``at``, and those of them placed since the facility's
    last hand report (a hold that lapsed or ended in an arrival no longer counts: the arrival is
    a stay)."""
    from refuge.vacancies.facts import raw_rows

    from .models import ReferralTarget

    rows = (
        ReferralTarget.objects.filter(active_holds(at), facility_id__in=facility_ids)
        .values("hold_room_id")
        .annotate(
            now=Count("id"),
            taken=Count("id", filter=Q(held_at__gt=F("facility__availability__reported_at"))),
        )
    )
    rows = rows.values_list("hold_room_id", "now", "taken")  # as the database returns them
    return {room: RoomUse(now, taken, 0) for room, now, taken in raw_rows(rows)}


holds_occupancy.kind = "holds"  # type: ignore[attr-defined]


def beds_held(room_id: Any, at: datetime) -> set[int]:
    from .models import ReferralTarget

    return set(
        ReferralTarget.objects.filter(active_holds(at), hold_room_id=room_id).values_list(
            "hold_bed", flat=True
        )
    )


def carries_out_placement(p, facility) -> bool:
    """The people named on a current relocation to this facility may see its address."""
    from .models import Relocation

    if p.user is None:
        return False
    now = timezone.now()
    current = Relocation.objects.filter(
        carriers=p.user,
        arrived_at__isnull=True,
        referral__status="accepted",
        referral__accepted_target__facility=facility,
    ).only("arrives_at", "departs_at", "created_at")
    # Not forever if she never arrives: the window closes after the expected arrival.
    return any(r.carriers_see_address_until > now for r in current)


def clients_referred_to(p) -> Q:
    """Clients with an accepted referral to one of the principal's organisation's facilities."""
    return Q(
        referrals__status="accepted", referrals__accepted_target__facility__organisation_id=p.org_id
    )
