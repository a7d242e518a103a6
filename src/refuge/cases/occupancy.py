"""Stays as a source of occupancy for the vacancy board (refuge.vacancies.availability)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, Q


def stays_occupancy(facility_ids: Sequence[Any], at: datetime) -> Mapping[Any, int]:
    """Beds taken per room at ``at`` (one query for all facilities). A family room with a stay
    counts as taken whatever the number, as availability expects."""
    from .models import Stay

    rows = (
        Stay.objects.filter(facility_id__in=facility_ids, admitted_at__lte=at)
        .filter(Q(discharged_at__isnull=True) | Q(discharged_at__gt=at))
        .values("room_id")
        .annotate(n=Count("id"))
    )
    return {r["room_id"]: r["n"] for r in rows}


def beds_taken(room_id: Any, at: datetime) -> set[int]:
    """Bed numbers of the room taken by stays now (claims for refuge.vacancies.beds)."""
    from .models import Stay

    return set(
        Stay.objects.filter(
            room_id=room_id, admitted_at__lte=at, discharged_at__isnull=True
        ).values_list("bed", flat=True)
    )
