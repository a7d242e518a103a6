"""Facilities as plain facts for refuge.placement.fit: rules, capacity, location, availability.

Two queries for any number of facilities (facilities with their rules, region and availability
clock in one; their rooms in another) plus one per registered occupancy source. The vacancy
board reads the full facts (load_facts); placement search (SPEC C6) reads a FactSheet, which
makes at once only what ranking needs and the rest on demand.

Location (SPEC C13). Safety is judged on the server from the facility's own point, for every
facility, confidential ones too: ``FacilityFacts.facility.point`` (fit's view) is its own point,
or its region's centre only when it has none. What a viewer is *shown* is another matter:
``FacilityFacts.point`` is the point as the viewer may know it, the own point when the viewer
may see it without it being a confidential display (public, or professionals-only to a
professional), otherwise the centre of its region (``point_hidden``). Distances shown, and
scores, are derived from that one only: derived from a hidden point they would reveal it by
trilateration. Confidential points are read through the model's fields (one query), so that
however they are kept at rest, the facts get them as the model gives them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
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
from refuge.placement.geo import Point, valid_point

from .availability import Availability, Derivation, asks_sources
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
    point: Point | None  # for distances shown, as the viewer may know it
    point_hidden: bool  # its own point is used for safety but not shown to this viewer
    rules: dict[str, Any]
    facility: fit.Facility
    availability: Availability


def raw_rows(qs: QuerySet) -> list[tuple]:
    """The queryset's own SQL, fetched as the database returns it (no per-value converters:
    on SQLite a UUID is its text, on PostgreSQL a UUID)."""
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ids_in(field: Any, facility_ids: Any) -> tuple[str, list]:
    """What goes between the parentheses of ``facility IN (…)`` in an occupancy source's own
    statement, with its parameters: a list of ids as one placeholder each (prepared for the
    column ``field``), or a queryset of ids as its own SQL, a subquery. Empty when there is no
    facility to ask about."""
    query = getattr(facility_ids, "query", None)
    if query is not None:
        try:
            sql, params = query.sql_with_params()
        except EmptyResultSet:  # `.none()`, or an empty list in its filter: no facility
            return "", []
        return sql, list(params)
    ids = [field.get_db_prep_value(i, connection) for i in facility_ids]
    return ", ".join(["%s"] * len(ids)), ids


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
# Positions in a row of COLUMNS: the rows are read as the database returns them (tuples), and
# only the values that need it are converted (see FactSheet).
_AT = {c: i for i, c in enumerate(COLUMNS)}
_RULES_FROM = _AT[f"rules__{RULE_COLUMNS[0]}"]
_RULES_TO = _RULES_FROM + len(RULE_COLUMNS)
assert COLUMNS[_RULES_FROM:_RULES_TO] == tuple(f"rules__{c}" for c in RULE_COLUMNS)
_RULE_IS_BOOLEAN = tuple(f"rules__{c}" in BOOLEAN_COLUMNS for c in RULE_COLUMNS)
_LANGUAGES = RULE_COLUMNS.index("staff_languages")
_FIT_RULES = tuple((i, c) for i, c in enumerate(RULE_COLUMNS) if c != "cost")
_ID, _SOURCE, _TTL = _AT["id"], _AT["availability__source"], _AT["availability__ttl_hours"]
_REPORTED, _CONFIRMED = _AT["availability__reported_at"], _AT["availability__confirmed_at"]
_REGION_NAMES = {  # the region's name in the viewer's language, then the fallbacks
    "ky": ("region__name_ky", "region__name_ru", "region__name_en"),
    "ru": ("region__name_ru", "region__name_en"),
    "cs": ("region__name_cs", "region__name_en"),
}


def _datetime(value: Any) -> datetime | None:
    """SQLite gives naive datetimes (or text) in UTC; PostgreSQL gives aware ones."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = parse_datetime(value)
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _house_rules(raw: tuple, interpretation: Any) -> tuple[fit.Rules, tuple]:
    """A facility's rule columns as the database returns them: as fit's Rules, and as the values
    of FacilityFacts.rules (booleans as booleans, the staff's languages as a list)."""
    values = [
        bool(v) if is_boolean and v is not None else v
        for v, is_boolean in zip(raw, _RULE_IS_BOOLEAN, strict=True)
    ]
    languages = values[_LANGUAGES]
    values[_LANGUAGES] = json.loads(languages) if isinstance(languages, str) else (languages or [])
    kwargs = {c: values[i] for i, c in _FIT_RULES}
    kwargs["women_only"] = kwargs["women_only"] is not False
    kwargs["staff_languages"] = frozenset(kwargs["staff_languages"] or ())
    if interpretation is not None:
        interpretation = bool(interpretation)
    return fit.Rules(interpretation=interpretation, **kwargs), tuple(values)


def _uuid(raw: Any) -> uuid.UUID:
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(raw)


def _text(raw: Any) -> str:
    """``str(UUID)`` of an id as the database returns it. SQLite keeps a UUID as its 32 hex
    digits (``UUID.hex``): those are only cut into the canonical groups."""
    if isinstance(raw, str) and len(raw) == 32:
        h = raw.lower()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(_uuid(raw))


def _each_raw_row(db: str, sql: str, params: tuple) -> Iterator[tuple]:
    """A statement's rows one at a time (the cursor is open until the last row is read)."""
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        yield from cursor


# The facts' statements (facilities with their rules, region and clock; their rooms; the
# confidential ones' points) for a queryset of facilities, kept by that queryset's own SQL and
# parameters: the ORM takes longer to write them (sixty columns over five joins) than SQLite to
# run them for one region, and they follow from the queryset alone. A few selections (the whole network, the regions a
# hotline keeps open, her own facilities) are most of the requests.
Statement = tuple[str, tuple]
_STATEMENTS: dict[tuple, tuple[Statement, Statement, Statement]] = {}
_STATEMENTS_KEPT = 64


def _statements(facilities: QuerySet[Facility]) -> tuple[Statement, Statement, Statement]:
    sql, params = facilities.query.sql_with_params()
    key: tuple | None = (facilities.db, sql, tuple(params))
    try:
        found = _STATEMENTS.get(key)  # type: ignore[arg-type]
    except TypeError:  # an unhashable parameter: written every time
        found, key = None, None
    if found is not None:
        return found
    interpretation = FacilityService.objects.filter(
        facility=OuterRef("pk"), kind=ServiceKind.INTERPRETATION
    )
    rows = facilities.annotate(interpretation=Exists(interpretation)).values_list(*COLUMNS)
    rooms = Room.objects.filter(facility__in=facilities.values("pk"), in_service=True)
    rooms = rooms.values_list("id", "facility_id", "kind", "beds", "reported_free_beds")
    confidential = Facility.objects.filter(
        pk__in=facilities.values("pk"),
        address_visibility=AddressVisibility.CONFIDENTIAL,
        latitude__isnull=False,
        longitude__isnull=False,
    ).values_list("id", "latitude", "longitude")
    made = tuple(
        (q, tuple(p)) for q, p in (s.query.sql_with_params() for s in (rows, rooms, confidential))
    )
    if key is not None:
        if len(_STATEMENTS) >= _STATEMENTS_KEPT:
            _STATEMENTS.pop(next(iter(_STATEMENTS)), None)
        _STATEMENTS[key] = made  # type: ignore[assignment]
    return made  # type: ignore[return-value]


class FactSheet:
    """The facilities of a queryset as read by one pair of queries (facilities with their rules,
    region and availability clock; their rooms), in the queryset's order.

    What placement needs is made at once, for thousands of facilities: ``facilities`` (fit's
    view, with the location as the viewer may know it), ``statuses`` (confirmed, reported or
    unknown) and ``names``; ``raw_ids`` are the ids as the database returns them, to match
    other raw rows by. The rest, which a search mostly does not read (``ids`` as UUIDs, the
    ``availability`` objects, the full ``facts()``), is made from the same rows when first
    asked for.
    """

    def __init__(self, facilities: QuerySet[Facility], *, at: datetime, viewer: Principal):
        (facility_sql, facility_params), rooms_statement, confidential_statement = _statements(
            facilities
        )
        with connections[facilities.db].cursor() as cursor:
            cursor.execute(facility_sql, facility_params)
            rows = cursor.fetchall()
        # Rooms are the bulk (twenty a facility is common): read one row at a time, as the
        # database returns them (keyed by the raw id), into the derivation's plain lists.
        self._derivation = Derivation(
            _each_raw_row(facilities.db, *rooms_statement),
            at,
            [_uuid(raw[_ID]) for raw in rows if asks_sources(raw[_SOURCE], raw[_REPORTED])],
        )
        self._rows = rows
        # Confidential points through the model's fields (their from_db_value: unsealed as the
        # model gives them), one query; its statement kept with the others.
        latitude, longitude = (Facility._meta.get_field(c) for c in ("latitude", "longitude"))
        connection = connections[facilities.db]
        points = {}
        for pk, lat, lon in _each_raw_row(facilities.db, *confidential_statement):
            lat = latitude.from_db_value(lat, None, connection)  # type: ignore[attr-defined]
            lon = longitude.from_db_value(lon, None, connection)  # type: ignore[attr-defined]
            if valid_point(lat, lon):
                points[_text(pk)] = (lat, lon)
        self._confidential_points = points
        self._professional = viewer.role in ADDRESS_ROLES
        self._language = (get_language() or "en")[:2]  # for the region's name
        self._read()
        self._facts: list[FacilityFacts] | None = None

    @cached_property
    def ids(self) -> list[uuid.UUID]:
        return [_uuid(i) for i in self.raw_ids]

    @cached_property
    def availability(self) -> list[Availability]:
        # The fields derived in _read: the same figures and Capacity objects as fit's.
        return [
            Availability(pk, *fields) for pk, fields in zip(self.ids, self._fields, strict=True)
        ]

    def _derive(self, raw: tuple) -> tuple:
        """The facility's Availability fields (less its id), from its row."""
        reported, confirmed = raw[_REPORTED], raw[_CONFIRMED]
        return self._derivation.fields(
            raw[_ID],
            raw[_SOURCE],
            raw[_TTL],
            None if reported is None else _datetime(reported),
            None if confirmed is None else _datetime(confirmed),
        )

    def _sees_point(self, visibility: str) -> bool:
        """Whether the viewer may see the facility's own point (and locality): not when its
        address is confidential, nor professionals-only to someone who is not one."""
        return visibility == AddressVisibility.PUBLIC or (
            self._professional and visibility == AddressVisibility.PROFESSIONALS
        )

    def _read(self) -> None:
        """One pass over the rows (the hot loop of a search): availability and fit's view."""
        NAME = _AT["name"]
        REGION, REGION_COUNTRY, COUNTRY = _AT["region_id"], _AT["region__country"], _AT["country"]
        REGION_LAT, REGION_LON = _AT["region__latitude"], _AT["region__longitude"]
        LAT, LON = _AT["latitude"], _AT["longitude"]
        VISIBILITY, COMPROMISED = _AT["address_visibility"], _AT["compromised_since"]
        INTERPRETATION = _AT["interpretation"]
        sees = {v: self._sees_point(v) for v in AddressVisibility.values}
        derive = self._derive
        Facility = fit.Facility
        # Many facilities state the same rules, and a region's centre is the same for all of
        # its facilities: both immutable, so each made once.
        house_rules: dict[tuple, tuple[fit.Rules, tuple]] = {}
        centres: dict[Any, Point] = {}
        self.raw_ids: list[Any] = []
        self.names: list[str] = []
        self.statuses: list[str] = []  # confirmed | reported | unknown
        self.facilities: list[fit.Facility] = []
        self.shown_points: list[Point | None] = []  # for distances shown to this viewer
        self.hidden: list[bool] = []  # whether the own point is hidden from this viewer
        self._rule_values: list[tuple] = []
        self._fields: list[tuple] = []  # each facility's Availability fields, less its id
        fields = self._fields
        raw_ids, names, statuses = self.raw_ids, self.names, self.statuses
        shown, hidden = self.shown_points, self.hidden
        confidential_points = self._confidential_points
        CONFIDENTIAL = AddressVisibility.CONFIDENTIAL
        facilities, rule_values = self.facilities, self._rule_values
        for raw in self._rows:
            raw_id = raw[_ID]
            raw_ids.append(raw_id)
            names.append(raw[NAME])
            availability = derive(raw)  # status, source, capacity, ...
            fields.append(availability)
            statuses.append(availability[0])
            capacity = availability[2]
            visibility = raw[VISIBILITY]
            sees_point = sees.get(visibility)
            if sees_point is None:
                sees_point = self._sees_point(visibility)
            region = raw[REGION]
            centre: Point | None = None
            if region:
                centre = centres.get(region)
                if centre is None:
                    centre = centres[region] = (raw[REGION_LAT], raw[REGION_LON])
            if visibility == CONFIDENTIAL:
                own = confidential_points.get(_text(raw_id))
            elif raw[LAT] not in (None, "") and raw[LON] not in (None, ""):
                # Read raw (no converters): coordinates are text columns, since a confidential
                # facility's are sealed; a public facility's are its plain numbers.
                own = (float(raw[LAT]), float(raw[LON]))
            else:
                own = None
            point = own or centre  # for safety: its own point whenever it has one
            if sees_point or own is None:
                shown.append(point)
                hidden.append(False)
            else:
                shown.append(centre)
                hidden.append(True)
            rules_raw = raw[_RULES_FROM:_RULES_TO]
            try:
                rules, values = house_rules[(rules_raw, raw[INTERPRETATION])]
            except KeyError:
                rules, values = house_rules[(rules_raw, raw[INTERPRETATION])] = _house_rules(
                    rules_raw, raw[INTERPRETATION]
                )
            except TypeError:  # an unhashable value (a driver that parses JSON itself)
                rules, values = _house_rules(rules_raw, raw[INTERPRETATION])
            rule_values.append(values)
            facilities.append(
                Facility(  # id, rules, capacity, country, region, point, compromised
                    _text(raw_id),
                    rules,
                    capacity,
                    raw[REGION_COUNTRY] or raw[COUNTRY] or "",
                    region or "",
                    point,
                    raw[COMPROMISED] is not None,
                )
            )

    def facts(self) -> list[FacilityFacts]:
        """FacilityFacts for every facility, made once."""
        if self._facts is not None:
            return self._facts
        names = [_AT[c] for c in _REGION_NAMES.get(self._language, ("region__name_en",))]
        KIND, FAITH = _AT["kind"], _AT["faith"]
        ORG, ORG_NAME = _AT["organisation_id"], _AT["organisation__name"]
        VISIBILITY, LOCALITY = _AT["address_visibility"], _AT["locality"]
        out = []
        for raw, pk, name, f, avail, values, shown, hidden in zip(
            self._rows,
            self.ids,
            self.names,
            self.facilities,
            self.availability,
            self._rule_values,
            self.shown_points,
            self.hidden,
            strict=True,
        ):
            visibility = raw[VISIBILITY]
            rules = dict(zip(RULE_COLUMNS, values, strict=True))
            rules["staff_languages"] = list(values[_LANGUAGES])  # each facility its own list
            out.append(
                FacilityFacts(
                    id=pk,
                    name=name,
                    kind=raw[KIND],
                    faith=raw[FAITH],
                    organisation_id=raw[ORG],
                    organisation_name=raw[ORG_NAME],
                    region=f.region,
                    region_name=next((raw[i] for i in names if raw[i]), ""),
                    country=f.country,
                    locality=raw[LOCALITY] if self._sees_point(visibility) else "",
                    address_visibility=visibility,
                    point=shown,
                    point_hidden=hidden,
                    rules=rules,
                    facility=f,
                    availability=avail,
                )
            )
        self._facts = out
        return out


def load_facts(
    facilities: QuerySet[Facility], *, at: datetime, viewer: Principal
) -> list[FacilityFacts]:
    """Facts for every facility of the queryset (its order is kept)."""
    return FactSheet(facilities, at=at, viewer=viewer).facts()
