"""Stays as a source of occupancy for the vacancy board (refuge.vacancies.availability)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q

from refuge.vacancies.availability import RoomUse


def stays_occupancy(facility_ids: Sequence[Any], at: datetime) -> Mapping[Any, RoomUse]:
    """Per room: the stays in it at ``at``; those admitted since the facility's last hand
    report (still there); those discharged since it (admitted before it). One query for all
    facilities. A family room with a stay counts as taken whatever the number, as
    availability expects."""
    from refuge.vacancies.facts import raw_rows

    from .models import Stay

    report = F("facility__availability__reported_at")
    here = Q(discharged_at__isnull=True) | Q(discharged_at__gt=at)
    rows = (
        Stay.objects.filter(facility_id__in=facility_ids, admitted_at__lte=at)
        .filter(here | Q(discharged_at__gt=report))
        .values("room_id")
        .annotate(
            now=Count("id", filter=here),
            taken=Count("id", filter=here & Q(admitted_at__gt=report)),
            freed=Count(
                "id",
                filter=Q(discharged_at__gt=report, discharged_at__lte=at, admitted_at__lte=report),
            ),
        )
    )
    # Read as the database returns them (room ids and counts are integers): the ORM's per-row
    # work cost the board more than the query itself.
    rows = rows.values_list("room_id", "now", "taken", "freed")
    return {room: RoomUse(now, taken, freed) for room, now, taken, freed in raw_rows(rows)}


stays_occupancy.kind = "stays"  # type: ignore[attr-defined]


def beds_taken(room_id: Any, at: datetime) -> set[int]:
    """Bed numbers of the room taken by stays now (claims for refuge.vacancies.beds)."""
    from .models import Stay

    return set(
        Stay.objects.filter(
            room_id=room_id, admitted_at__lte=at, discharged_at__isnull=True
        ).values_list("bed", flat=True)
    )
