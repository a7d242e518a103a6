"""Facilities as plain facts for refuge.placement.fit: rules, capacity, location, availability.

Two queries for any number of facilities (facilities with their rules, region and availability
clock in one; their rooms in another) plus one per registered occupancy source. The vacancy
board uses this now; placement search (SPEC C6) will too.

Location for distances: the facility's own point when the viewer may see it without it being a
confidential display (public, or professionals-only to a professional), otherwise the centre of
its region. Distances derived from a hidden point would reveal it by trilateration.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language

from refuge.core.access import Principal
from refuge.directory.models import (
    HOUSE_RULE_FIELDS,
    AddressVisibility,
    Facility,
    FacilityService,
    ServiceKind,
)
from refuge.directory.selectors import ADDRESS_ROLES
from refuge.placement import fit
from refuge.placement.geo import Point

from .availability import Availability, FacilityClock, availability_for
from .models import Room

RULE_COLUMNS = HOUSE_RULE_FIELDS
COLUMNS = (
    "id",
    "name",
    "kind",
    "faith",
    "organisation_id",
    "organisation__name",
    "region_id",
    "region__country",
    "country",
    "region__name_en",
    "region__name_ru",
    "region__name_ky",
    "region__name_cs",
    "region__latitude",
    "region__longitude",
    "latitude",
    "longitude",
    "address_visibility",
    "locality",
    "compromised_since",
    *(f"rules__{c}" for c in RULE_COLUMNS),
    "availability__source",
    "availability__ttl_hours",
    "availability__reported_at",
    "availability__confirmed_at",
    "interpretation",
)


@dataclass(frozen=True, slots=True)
class FacilityFacts:
    id: Any
    name: str
    kind: str
    faith: str
    organisation_id: int
    organisation_name: str
    region: str
    region_name: str
    country: str
    locality: str  # empty unless the viewer may see it
    address_visibility: str
    point: Point | None  # for distances, as the viewer may know it
    rules: dict[str, Any]
    facility: fit.Facility
    availability: Availability


def _region_name(row: dict[str, Any], lang: str) -> str:
    if lang == "ky":
        return row["region__name_ky"] or row["region__name_ru"] or row["region__name_en"] or ""
    if lang in {"ru", "cs"}:
        return row[f"region__name_{lang}"] or row["region__name_en"] or ""
    return row["region__name_en"] or ""


def _rules(row: dict[str, Any], interpretation: bool) -> fit.Rules:
    values = {c: row[f"rules__{c}"] for c in RULE_COLUMNS if c != "cost"}
    values["women_only"] = values["women_only"] is not False
    values["staff_languages"] = frozenset(values["staff_languages"] or ())
    return fit.Rules(interpretation=interpretation, **values)


def _raw(qs: QuerySet) -> list[tuple]:
    """The queryset's own SQL, fetched as the database returns it."""
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


BOOLEAN_COLUMNS = frozenset(
    {
        "rules__women_only",
        "rules__children_accepted",
        "rules__pets_accepted",
        "rules__wheelchair_accessible",
        "rules__substance_use_accepted",
        "rules__mental_health_accepted",
        "rules__requires_passport",
        "rules__requires_residence_permit",
        "rules__requires_local_registration",
        "rules__foreign_citizens_accepted",
        "interpretation",
    }
)
DATETIME_COLUMNS = ("compromised_since", "availability__reported_at", "availability__confirmed_at")


def _datetime(value: Any) -> datetime | None:
    """SQLite gives naive datetimes (or text) in UTC; PostgreSQL gives aware ones."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _rows(facilities: QuerySet[Facility]) -> list[dict[str, Any]]:
    """The facility rows, read without the ORM's per-value converters (a thousand facilities of
    forty columns each): the few conversions needed are done here, the same on SQLite and on
    PostgreSQL. Each row keeps the raw form of its id under "raw_id" to match rooms by."""
    interpretation = FacilityService.objects.filter(
        facility=OuterRef("pk"), kind=ServiceKind.INTERPRETATION
    )
    raw = _raw(facilities.annotate(interpretation=Exists(interpretation)).values_list(*COLUMNS))
    rows = []
    for values in raw:
        row = dict(zip(COLUMNS, values, strict=True))
        raw_id = row["id"]
        row["raw_id"] = raw_id
        row["id"] = raw_id if isinstance(raw_id, uuid.UUID) else uuid.UUID(raw_id)
        for column in BOOLEAN_COLUMNS:
            if row[column] is not None:
                row[column] = bool(row[column])
        for column in DATETIME_COLUMNS:
            row[column] = _datetime(row[column])
        languages = row["rules__staff_languages"]
        row["rules__staff_languages"] = (
            json.loads(languages) if isinstance(languages, str) else (languages or [])
        )
        rows.append(row)
    return rows


def load_facts(
    facilities: QuerySet[Facility], *, at: datetime, viewer: Principal
) -> list[FacilityFacts]:
    """Facts for every facility of the queryset (its order is kept)."""
    rows = _rows(facilities)
    rooms = Room.objects.filter(facility__in=facilities.values("pk"), in_service=True)
    # Rooms are the bulk (twenty a facility is common): plain tuples, keyed by the raw id.
    room_rows = _raw(rooms.values_list("id", "facility_id", "kind", "beds", "reported_free_beds"))
    clocks = [
        FacilityClock(
            facility_id=row["raw_id"],
            source=row["availability__source"],
            ttl_hours=row["availability__ttl_hours"],
            reported_at=row["availability__reported_at"],
            confirmed_at=row["availability__confirmed_at"],
            pk=row["id"],
        )
        for row in rows
    ]
    availability = availability_for(clocks, room_rows, at)
    professional = viewer.role in ADDRESS_ROLES
    lang = (get_language() or "en")[:2]
    out = []
    for row in rows:
        visibility = row["address_visibility"]
        sees_point = visibility == AddressVisibility.PUBLIC or (
            professional and visibility == AddressVisibility.PROFESSIONALS
        )
        if sees_point and row["latitude"] is not None and row["longitude"] is not None:
            point: Point | None = (row["latitude"], row["longitude"])
        elif row["region_id"]:
            point = (row["region__latitude"], row["region__longitude"])
        else:
            point = None
        avail = availability[row["raw_id"]]
        rules = _rules(row, row["interpretation"])
        out.append(
            FacilityFacts(
                id=row["id"],
                name=row["name"],
                kind=row["kind"],
                faith=row["faith"],
                organisation_id=row["organisation_id"],
                organisation_name=row["organisation__name"],
                region=row["region_id"] or "",
                region_name=_region_name(row, lang),
                country=row["region__country"] or row["country"] or "",
                locality=row["locality"] if sees_point else "",
                address_visibility=visibility,
                point=point,
                rules={c: row[f"rules__{c}"] for c in RULE_COLUMNS},
                facility=fit.Facility(
                    id=str(row["id"]),
                    rules=rules,
                    capacity=avail.capacity,
                    country=row["region__country"] or row["country"] or "",
                    region=row["region_id"] or "",
                    point=point,
                    compromised=row["compromised_since"] is not None,
                ),
                availability=avail,
            )
        )
    return out
