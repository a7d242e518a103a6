"""Facilities with rules, rooms and a report, made through the services (as the app does)."""

from __future__ import annotations

from typing import Any

from refuge.core.models import Organisation
from refuge.directory.models import Facility, Region
from refuge.directory.regions import load_regions
from refuge.directory.services import facility_create
from refuge.vacancies.models import Room
from refuge.vacancies.services import availability_report, room_create

OPEN_RULES: dict[str, Any] = {
    "min_age": 18,
    "children_accepted": True,
    "pets_accepted": True,
    "wheelchair_accessible": True,
    "substance_use_accepted": True,
    "mental_health_accepted": True,
    "requires_passport": False,
    "requires_residence_permit": False,
    "requires_local_registration": False,
    "foreign_citizens_accepted": True,
}


def ensure_regions() -> None:
    """Regions come from a data migration, which a transactional test elsewhere in the same
    worker flushes: put them back when they are gone."""
    if not Region.objects.exists():
        load_regions(Region)


def make_facility(
    org: Organisation,
    name: str = "Test refuge",
    *,
    kind: str = "crisis_centre_shelter",
    region: str | None = "RU-MOW",
    address_visibility: str = "confidential",
    rules: dict[str, Any] | None = None,
    rooms: list[tuple[str, int]] | None = None,
    free: list[int] | None = None,
    services: list[str] | None = None,
    **values: Any,
) -> Facility:
    """``rooms``: (kind, beds) pairs; ``free``: free beds per room, reported now (by system)."""
    ensure_regions()
    facility = facility_create(
        by=None,
        organisation=org,
        name=name,
        kind=kind,
        region=region,
        address_visibility=address_visibility,
        rules=OPEN_RULES if rules is None else rules,
        services=services or [],
        **values,
    )
    made: list[Room] = []
    for i, (room_kind, beds) in enumerate(rooms or []):
        made.append(
            room_create(by=None, facility=facility, name=f"Room {i + 1}", kind=room_kind, beds=beds)
        )
    if free is not None:
        availability_report(
            by=None, facility=facility, free_beds={r.pk: n for r, n in zip(made, free, strict=True)}
        )
    return facility
