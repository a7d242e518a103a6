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
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Exists, OuterRef, Q, QuerySet
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
from .models import Room, RoomsVersion

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


class RawIds(Sequence):
    """Facility ids as the database returned them (SQLite: a UUID's 32 hex digits), for the
    occupancy sources: `ids_in` writes them into a statement as they are, without preparing
    each one again (4,500 of them cost a search more than the statement); read as a sequence,
    they are UUIDs, as every source expects."""

    __slots__ = ("raw",)

    def __init__(self, raw: list[Any]) -> None:
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_uuid(i) for i in self.raw[index]]
        return _uuid(self.raw[index])

    def __iter__(self) -> Iterator[uuid.UUID]:
        return map(_uuid, self.raw)


def ids_in(field: Any, facility_ids: Any) -> tuple[str, list]:
    """What goes between the parentheses of ``facility IN (…)`` in an occupancy source's own
    statement, with its parameters: a list of ids as one placeholder each (prepared for the
    column ``field``; `RawIds` as they are), or a queryset of ids as its own SQL, a subquery.
    Empty when there is no facility to ask about."""
    if isinstance(facility_ids, RawIds):
        return ", ".join(["%s"] * len(facility_ids.raw)), list(facility_ids.raw)
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
_MAX_STAY = RULE_COLUMNS.index("max_stay_days")
assert fit.Rules.__slots__[: _LANGUAGES + 1] == RULE_COLUMNS[: _LANGUAGES + 1]  # type: ignore[attr-defined]
assert fit.Rules.__slots__[_LANGUAGES + 1 :] == ("interpretation", "max_stay_days")  # type: ignore[attr-defined]
_ID, _SOURCE, _TTL = _AT["id"], _AT["availability__source"], _AT["availability__ttl_hours"]
_REPORTED, _CONFIRMED = _AT["availability__reported_at"], _AT["availability__confirmed_at"]
_REGION_NAMES = {  # the region's name in the viewer's language, then the fallbacks
    "ky": ("region__name_ky", "region__name_ru", "region__name_en"),
    "ru": ("region__name_ru", "region__name_en"),
    "cs": ("region__name_cs", "region__name_en"),
}


@lru_cache(maxsize=1 << 16)  # the same report times come back every search
def _datetime(value: Any) -> datetime | None:
    """A time as the clocks' statement gives it: text (SQLite's in UTC without an offset,
    PostgreSQL's with one), or a datetime (naive ones are in UTC)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        text, value = value, parse_datetime(value)
        if value is None:  # never read as "never reported"
            raise ValueError(f"not a time: {text!r}")
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
    # Positionally (fit.Rules' fields are the rule columns in their order, then interpretation
    # and the longest stay): no keyword dict per facility.
    rules = fit.Rules(
        values[0] is not False,  # women_only
        *values[1:_LANGUAGES],
        frozenset(values[_LANGUAGES] or ()),
        None if interpretation is None else bool(interpretation),
        values[_MAX_STAY],
    )
    return rules, tuple(values)


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
        # In batches: the driver's rows straight, not one call through the wrapper per row.
        while rows := cursor.fetchmany(2000):
            yield from rows


# The facts' statements (facilities with their rules, region and clock; their rooms; the
# confidential ones' points; the facilities' availability clocks alone) for a queryset of
# facilities, kept by that queryset's own SQL and parameters: the ORM takes longer to write them
# (sixty columns over five joins) than SQLite to run them for one region, and they follow from
# the queryset alone. A few selections (the whole network, the regions a hotline keeps open,
# her own facilities) are most of the requests.
Statement = tuple[str, tuple]
Statements = tuple[Statement, Statement, Statement, Statement]
# What this process keeps between searches is written under one lock: a search in another
# thread (a threaded server, the task worker, the race tests' threads) may keep its own at the
# same moment, and taking the least used out while another thread put one in raised
# "dictionary changed size during iteration" (seen in the threaded race test). Reads and the
# move of a found entry to the end are single dict operations, atomic as they are.
_KEPT_LOCK = threading.Lock()


def _keep(kept: dict, key: Any, value: Any, most: int) -> None:
    """Keep ``value`` under ``key``, forgetting the least used entry first when full."""
    with _KEPT_LOCK:
        if len(kept) >= most and key not in kept:
            kept.pop(next(iter(kept)), None)
        kept[key] = value


_STATEMENTS: dict[tuple, Statements] = {}
_STATEMENTS_KEPT = 64
CLOCK_COLUMNS = (
    "id",
    "availability__source",
    "availability__ttl_hours",
    "availability__reported_at",
    "availability__confirmed_at",
    "rooms_token",  # joined: refuge.vacancies.models.RoomsVersion (see _statements)
)
ROOM_COLUMNS = ("id", "facility_id", "kind", "beds", "reported_free_beds")


def _statements(facilities: QuerySet[Facility]) -> Statements:
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
    rooms = rooms.values_list(*ROOM_COLUMNS)
    confidential = Facility.objects.filter(
        pk__in=facilities.values("pk"),
        address_visibility=AddressVisibility.CONFIDENTIAL,
        latitude__isnull=False,
        longitude__isnull=False,
    ).values_list("id", "latitude", "longitude")
    # Unordered, unless a slice (a page of the board) needs the order to be the same rows.
    clocks = (facilities if facilities.query.is_sliced else facilities.order_by()).values_list(
        *CLOCK_COLUMNS[:-1]
    )
    made = tuple(
        (q, tuple(p))
        for q, p in (s.query.sql_with_params() for s in (rows, rooms, confidential, clocks))
    )
    # Each facility's rooms version joined to its clock, around the selection's own statement
    # (unordered: the rows are matched by id): a correlated subquery per facility cost a
    # whole-network search about 10 ms on SQLite. At most one version a facility (its key).
    connection = connections[facilities.db]
    q = connection.ops.quote_name
    version = RoomsVersion._meta
    clock_sql, clock_params = made[3]
    columns = [f"c.{q(c)}" for c in CLOCK_COLUMNS[:-1]]
    if connection.vendor in ("sqlite", "postgresql"):
        # The times as text (as SQLite keeps them; PostgreSQL's ISO output in the connection's
        # UTC): parsed by `_datetime`, once per distinct time, not by the driver's converter on
        # every row of every search (psycopg's timestamptz loader under Django's time zone is
        # Python code: about 5 ms a search at 5,000 facilities).
        columns[3:5] = [f"CAST({c} AS TEXT)" for c in columns[3:5]]
    assert CLOCK_COLUMNS[3:5] == ("availability__reported_at", "availability__confirmed_at")
    made = (
        *made[:3],
        (
            f"SELECT {', '.join(columns)}, v.{q(version.get_field('token').column)} "  # noqa: S608 (names from the models)
            f"FROM ({clock_sql}) c "
            f"LEFT OUTER JOIN {q(version.db_table)} v "
            f"ON v.{q(version.get_field('facility_id').column)} = c.{q('id')}",
            clock_params,
        ),
    )
    if key is not None:
        _keep(_STATEMENTS, key, made, _STATEMENTS_KEPT)
    return made  # type: ignore[return-value]


# --- what a search keeps between searches ------------------------------------------------------
#
# A facility's rules, point, region and name change when someone edits the directory, which is
# rare; its availability (reports, holds, stays) changes all day. A `Directory` holds the first
# kind, compiled (fit's Rules, points unsealed), per selection of facilities and per process;
# it is used while the facts version (vacancies.FactsVersion, one row, given a new random token
# by database triggers on every write to the tables it is made from, in the writing
# transaction) is the one it was made under. So a write in any process, by any service, import
# or bulk statement is seen by the next search in every process: each search reads the token
# (one row), then only what changes between searches (the availability clocks, the rooms, the
# occupancy sources).

VERSION_SQL = "SELECT token FROM vacancies_factsversion WHERE id = 1"
_DIRECTORIES: dict[tuple, tuple[str, Directory]] = {}
_DIRECTORIES_KEPT = 16
_VERSIONED: dict[tuple, tuple[str, Any]] = {}  # other readers' kept values (kept_for)


def facts_version(db: str) -> str | None:
    """The current facts version, as this connection sees it (its own transaction's writes
    included); None when there is no version row (a flushed test database): nothing is kept."""
    with connections[db].cursor() as cursor:
        cursor.execute(VERSION_SQL)
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def clear_kept() -> None:
    """Forget what this process keeps between searches (as a newly started process would)."""
    _DIRECTORIES.clear()
    _VERSIONED.clear()
    _ROOMS.clear()


def kept_for(key: tuple, version: str | None, make: Any) -> Any:
    """``make()``, kept under ``key`` while the facts version is ``version`` (for other reads
    made only of the versioned tables, such as the facilities' services)."""
    if version is not None:
        found = _VERSIONED.pop(key, None)  # put back last: the least used goes first
        if found is not None:
            _VERSIONED[key] = found
        if found is not None and found[0] == version:
            return found[1]
    value = make()
    if version is not None:
        _keep(_VERSIONED, key, (version, value), _DIRECTORIES_KEPT)
    return value


class Directory:
    """The facilities of a selection as the directory describes them, compiled once: the rows
    (as the database returns them; their availability columns are not read from here), ids,
    names, fit's Rules, regions, countries and points (for safety: the own point, or the
    region's centre)."""

    def __init__(self, rows: list[tuple], confidential_points: dict[str, Point]):
        self.rows = rows
        NAME = _AT["name"]
        REGION, REGION_COUNTRY, COUNTRY = _AT["region_id"], _AT["region__country"], _AT["country"]
        REGION_LAT, REGION_LON = _AT["region__latitude"], _AT["region__longitude"]
        LAT, LON = _AT["latitude"], _AT["longitude"]
        VISIBILITY, COMPROMISED = _AT["address_visibility"], _AT["compromised_since"]
        INTERPRETATION = _AT["interpretation"]
        CONFIDENTIAL = AddressVisibility.CONFIDENTIAL
        self.raw_ids: list[Any] = [raw[_ID] for raw in rows]
        self.index: dict[Any, int] = {raw_id: i for i, raw_id in enumerate(self.raw_ids)}
        self.texts: list[str] = [_text(i) for i in self.raw_ids]
        self.names: list[str] = [raw[NAME] for raw in rows]
        self.visibilities: list[str] = [raw[VISIBILITY] for raw in rows]
        self.rules: list[fit.Rules] = []
        self.rule_values: list[tuple] = []
        self.regions: list[str] = []
        self.countries: list[str] = []
        self.points: list[Point | None] = []  # for safety
        self.own: list[bool] = []  # whether that is its own point
        self.centres: list[Point | None] = []
        self.compromised: list[bool] = []
        centres: dict[Any, Point] = {}
        for raw, text in zip(rows, self.texts, strict=True):
            region = raw[REGION]
            centre: Point | None = None
            if region:
                centre = centres.get(region)
                if centre is None:
                    centre = centres[region] = (raw[REGION_LAT], raw[REGION_LON])
            visibility = raw[VISIBILITY]
            if visibility == CONFIDENTIAL:
                own = confidential_points.get(text)
            elif raw[LAT] not in (None, "") and raw[LON] not in (None, ""):
                # Read raw (no converters): coordinates are text columns, since a confidential
                # facility's are sealed; a public facility's are its plain numbers.
                own = (float(raw[LAT]), float(raw[LON]))
            else:
                own = None
            self.points.append(own or centre)
            self.own.append(own is not None)
            self.centres.append(centre)
            rules, values = _house_rules(raw[_RULES_FROM:_RULES_TO], raw[INTERPRETATION])
            self.rules.append(rules)
            self.rule_values.append(values)
            self.regions.append(region or "")
            self.countries.append(raw[REGION_COUNTRY] or raw[COUNTRY] or "")
            self.compromised.append(raw[COMPROMISED] is not None)
        self._shown: dict[bool, tuple[list[Point | None], list[bool]]] = {}

    def shown(self, professional: bool) -> tuple[list[Point | None], list[bool]]:
        """The points distances are shown from, to a viewer who is (or is not) a professional,
        and whether each facility's own point is hidden from them (then: its region's centre).
        """
        found = self._shown.get(professional)
        if found is not None:
            return found
        shown: list[Point | None] = []
        hidden: list[bool] = []
        for visibility, point, own, centre in zip(
            self.visibilities, self.points, self.own, self.centres, strict=True
        ):
            if not own or _sees_point(visibility, professional):
                shown.append(point)
                hidden.append(False)
            else:
                shown.append(centre)
                hidden.append(True)
        self._shown[professional] = (shown, hidden)
        return shown, hidden


def _sees_point(visibility: str, professional: bool) -> bool:
    """Whether a viewer may see a facility's own point (and locality): not when its address is
    confidential, nor professionals-only to someone who is not one."""
    return visibility == AddressVisibility.PUBLIC or (
        professional and visibility == AddressVisibility.PROFESSIONALS
    )


def _directory(db: str, statements: Statements, version: str | None) -> Directory:
    """The selection's Directory, kept or made."""
    (sql, params), _rooms, confidential_statement, _clocks = statements
    key = (db, sql, params)
    if version is not None:
        try:
            found = _DIRECTORIES.pop(key, None)  # put back last: the least used goes first
        except TypeError:  # an unhashable parameter: nothing kept
            found, version = None, None
        if found is not None:
            _DIRECTORIES[key] = found
        if found is not None and found[0] == version:
            return found[1]
    with connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # Confidential points through the model's fields (their from_db_value: unsealed as the
    # model gives them), one query; its statement kept with the others.
    latitude, longitude = (Facility._meta.get_field(c) for c in ("latitude", "longitude"))
    connection = connections[db]
    points = {}
    for pk, lat, lon in _each_raw_row(db, *confidential_statement):
        lat = latitude.from_db_value(lat, None, connection)  # type: ignore[attr-defined]
        lon = longitude.from_db_value(lon, None, connection)  # type: ignore[attr-defined]
        if valid_point(lat, lon):
            points[_text(pk)] = (lat, lon)
    directory = Directory(rows, points)
    if version is not None:
        _keep(_DIRECTORIES, key, (version, directory), _DIRECTORIES_KEPT)
    return directory


# Each facility's rooms in service (one flat list of RoomRow values, as Derivation keeps them),
# per selection and per process, with the rooms version they were read under: a search reads
# again only the rooms of the facilities whose version moved (a report, a room changed), all of
# them when most did. A facility without a version (no room was ever written) is read each time.
_ROOMS: dict[tuple, tuple[dict[Any, str], dict[Any, list], dict]] = {}
_ROOMS_KEPT = 8
_ROOMS_BY_FACILITY = (
    "SELECT id, facility_id, kind, beds, reported_free_beds FROM vacancies_room "
    "WHERE in_service AND facility_id IN ({})"
)
_READ_ALL_ABOVE = 0.25  # the share of changed facilities above which all rooms are read


def _kept_rooms(
    db: str, statement: Statement, raw_ids: list[Any], clocks: list[tuple]
) -> tuple[dict[Any, list], dict]:
    """Each facility's rooms (flat lists by raw id), and the Derivation's memo kept with them."""
    key = (db, *statement)
    try:
        found = _ROOMS.pop(key, None)  # put back last: the least used goes first
        if found is not None:
            _ROOMS[key] = found
    except TypeError:
        found, key = None, None  # type: ignore[assignment]
    tokens, flats, memo = found if found is not None else ({}, {}, {})
    changed = {
        raw_id: clock[4]
        for raw_id, clock in zip(raw_ids, clocks, strict=True)
        if clock[4] is None or tokens.get(raw_id) != clock[4]
    }
    if not changed:
        return flats, memo
    if found is None or len(changed) > _READ_ALL_ABOVE * len(raw_ids) or len(changed) > 900:
        tokens = {raw_id: clock[4] for raw_id, clock in zip(raw_ids, clocks, strict=True)}
        flats, memo = {}, {}
        rows = _each_raw_row(db, *statement)
    else:
        # Copies: a search still reading the old lists keeps them whole.
        tokens, flats = {**tokens, **changed}, dict(flats)
        for raw_id in changed:
            flats.pop(raw_id, None)
        sql = _ROOMS_BY_FACILITY.format(", ".join(["%s"] * len(changed)))
        rows = _each_raw_row(db, sql, tuple(changed))
    read: dict[Any, list] = {}
    for room in rows:
        flat = read.get(room[1])
        if flat is None:
            flat = read[room[1]] = []
        flat.extend(room)
    flats.update(read)
    if key is not None:
        _keep(_ROOMS, key, (tokens, flats, memo), _ROOMS_KEPT)
    return flats, memo


_NO_CLOCK = (None, None, None, None, None)
# SQLite's limit of parameters in one statement is 32,766 (since 3.32); a larger selection is
# asked through a subquery.
_RAW_IDS_AT_MOST = 20_000
_ASKS = Q(availability__source="system") | Q(availability__reported_at__isnull=False)


def _asking_sources(facilities: QuerySet[Facility]) -> QuerySet:
    """The ids of the selection's facilities the occupancy sources are asked about
    (`asks_sources`), as a subquery: the selection's own filters, one level deep and unordered
    (nested and sorted by name, it cost a whole-network search about 20 ms a source on
    SQLite); a slice (a page) cannot be filtered, so it is nested."""
    if facilities.query.is_sliced:
        asking = Facility.objects.filter(_ASKS, pk__in=facilities.values("pk"))
        return asking.order_by().values_list("pk", flat=True)
    return facilities.filter(_ASKS).order_by().values_list("pk", flat=True)


# The last search's `_read` of a selection, kept in its rooms' memo under this key (no raw id
# is a tuple): while the directory is the same and `at` is on the same side of every kept
# facility's time-to-live, a facility whose clock did not move, that no occupancy source uses
# a room of (now or then) and whose figure is not derived has the same fields, and the same
# fit Facility, as then (the per-facility memo's own argument; see Derivation.fields). Made
# again, never changed in place: a search still reading the old one keeps it whole.
_SHEET = ("sheet",)


class _KeptSheet:
    __slots__ = (
        "directory",
        "can_derive",
        "clocks",
        "fields",
        "statuses",
        "facilities",
        "always",
        "used",
        "after",
        "until",
    )

    def __init__(self, sheet: FactSheet, **values: Any) -> None:
        self.directory = sheet.directory
        self.can_derive = sheet._derivation.can_derive
        self.clocks = sheet._clocks
        self.fields, self.statuses = sheet._fields, sheet.statuses
        self.facilities = sheet.facilities
        for name, value in values.items():
            setattr(self, name, value)

    @classmethod
    def made(cls, sheet: FactSheet) -> _KeptSheet:
        """From a sheet read facility by facility: which facilities are read every time, and
        the times between which `at` keeps every other one's side of its time-to-live."""
        derivation = sheet._derivation
        memo = derivation.memo or {}
        at = derivation.at
        always: set[int] = set()
        after, until = None, None
        for i, (raw_id, clock) in enumerate(
            zip(sheet.directory.raw_ids, sheet._clocks, strict=True)
        ):
            if clock[4] is None or (clock[0] == "system" and derivation.can_derive):
                always.add(i)
                continue
            found = memo.get(raw_id)
            if found is None:  # used by a source now (not in the memo): read again anyway
                continue
            ends = found[2]
            if ends is None:
                continue
            if at > ends:
                after = ends if after is None or ends > after else after
            else:
                until = ends if until is None or ends < until else until
        return cls(
            sheet, always=frozenset(always), used=sheet._used_indices(), after=after, until=until
        )

    def holds(self, directory: Directory, derivation: Derivation) -> bool:
        at = derivation.at
        return (
            self.directory is directory
            and self.can_derive == derivation.can_derive
            and (self.after is None or at > self.after)
            and (self.until is None or not at > self.until)
        )

    def again(self, sheet: FactSheet, used: list[int], redo: Iterable[int] = ()) -> _KeptSheet:
        """After a search that read again the facilities ``redo`` (and kept the rest): whether
        each is read every time now (its clock moved), and its time-to-live's side narrows
        the window of ``at``."""
        derivation = sheet._derivation
        memo = derivation.memo or {}
        at = derivation.at
        after, until = self.after, self.until
        always = self.always
        raw_ids, clocks = sheet.directory.raw_ids, sheet._clocks
        for i in redo:
            clock = clocks[i]
            if clock[4] is None or (clock[0] == "system" and derivation.can_derive):
                if i not in always:
                    always = always | {i}
                continue
            if i in always:
                always = always - {i}
            found = memo.get(raw_ids[i])
            ends = None if found is None else found[2]
            if ends is None:
                continue
            if at > ends:
                after = ends if after is None or ends > after else after
            else:
                until = ends if until is None or ends < until else until
        return _KeptSheet(sheet, always=always, used=used, after=after, until=until)


class FactSheet:
    """The facilities of a queryset (in its order) with what is known of their availability at
    ``at``: the directory's side kept between searches (see Directory), the rest read now (the
    availability clocks, the rooms, the occupancy sources).

    What placement needs is made at once, for thousands of facilities: ``facilities`` (fit's
    view, with the location as the viewer may know it), ``statuses`` (confirmed, reported or
    unknown) and ``names``; ``raw_ids`` are the ids as the database returns them, to match
    other raw rows by. The rest, which a search mostly does not read (``ids`` as UUIDs, the
    ``availability`` objects, the full ``facts()``), is made when first asked for.
    """

    def __init__(self, facilities: QuerySet[Facility], *, at: datetime, viewer: Principal):
        db = facilities.db
        statements = _statements(facilities)
        self.version = facts_version(db)
        directory = _directory(db, statements, self.version)
        # The clocks (and the rooms versions) are read apart from the directory's rows, by
        # every search: they change all day.
        clocks = {raw[0]: raw[1:] for raw in _each_raw_row(db, *statements[3])}
        self.directory = directory
        self.raw_ids = directory.raw_ids
        self.names = directory.names
        self._rows = directory.rows
        self._clocks = [clocks.get(raw_id, _NO_CLOCK) for raw_id in directory.raw_ids]
        # The occupancy sources are asked about the facilities that ask them. On SQLite (in
        # this process) as the raw ids the clocks gave, written as they are; on a server, as
        # a subquery the server works out (its CPU is not the app server's).
        asking = [
            raw_id
            for raw_id, (source, _ttl, reported, _confirmed, _rooms) in zip(
                directory.raw_ids, self._clocks, strict=True
            )
            if asks_sources(source, reported)
        ]
        if not asking:
            source_ids: Any = []
        elif connections[db].vendor == "sqlite" and len(asking) <= _RAW_IDS_AT_MOST:
            source_ids = RawIds(asking)
        else:
            source_ids = _asking_sources(facilities)
        rooms, memo = _kept_rooms(db, statements[1], directory.raw_ids, self._clocks)
        self._derivation = Derivation(rooms, at, source_ids, memo=memo)
        self._professional = viewer.role in ADDRESS_ROLES
        self._language = (get_language() or "en")[:2]  # for the region's name
        self.shown_points, self.hidden = directory.shown(self._professional)
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

    def _sees_point(self, visibility: str) -> bool:
        return _sees_point(visibility, self._professional)

    def _read(self) -> None:
        """Each facility's availability and fit's view of it: from the last search's (kept with
        the rooms' memo) for every facility whose fields cannot have changed since, else made
        one facility at a time (`_read_all`)."""
        derivation = self._derivation
        memo = derivation.memo
        if memo is None:
            self._read_all()
            return
        kept = memo.get(_SHEET)
        if not (isinstance(kept, _KeptSheet) and kept.holds(self.directory, derivation)):
            self._read_all()
            memo[_SHEET] = _KeptSheet.made(self)
            return
        # What may have changed since: the facilities whose clock (report, time-to-live, rooms
        # version) moved, those an occupancy source uses a room of now or used one of then,
        # and those read every time (derived figures, rooms without a version).
        clocks = self._clocks
        redo = set(kept.always)
        redo.update(kept.used)
        if clocks != kept.clocks:
            redo.update(
                i
                for i, (now, then) in enumerate(zip(clocks, kept.clocks, strict=True))
                if now != then
            )
        used = self._used_indices()
        redo.update(used)
        self._fields, self.statuses = list(kept.fields), list(kept.statuses)
        self.facilities = list(kept.facilities)
        if not redo:
            memo[_SHEET] = kept.again(self, used)
            return
        for i in sorted(redo):
            self._read_one(i)
        memo[_SHEET] = kept.again(self, used, redo)

    def _used_indices(self) -> list[int]:
        """The positions of the facilities an occupancy source uses a room of now."""
        derivation = self._derivation
        if not derivation.use:
            return []
        index = self.directory.index
        return [index[raw_id] for raw_id in derivation._used_facilities() if raw_id in index]

    def _read_one(self, i: int) -> None:
        d = self.directory
        source, ttl, reported, confirmed, _rooms = self._clocks[i]
        availability = self._derivation.fields(
            d.raw_ids[i],
            source,
            ttl,
            None if reported is None else _datetime(reported),
            None if confirmed is None else _datetime(confirmed),
        )
        self._fields[i] = availability
        self.statuses[i] = availability[0]
        self.facilities[i] = fit.Facility(
            d.texts[i],
            d.rules[i],
            availability[2],
            d.countries[i],
            d.regions[i],
            d.points[i],
            d.compromised[i],
        )

    def _read_all(self) -> None:
        """One pass over the facilities (the hot loop of a search): availability, fit's view."""
        fields = self._derivation.fields
        Facility = fit.Facility
        d = self.directory
        self._fields: list[tuple] = []  # each facility's Availability fields, less its id
        self.statuses: list[str] = []  # confirmed | reported | unknown
        self.facilities: list[fit.Facility] = []
        append_fields, append_status = self._fields.append, self.statuses.append
        append = self.facilities.append
        for raw_id, (
            source,
            ttl,
            reported,
            confirmed,
            _rooms,
        ), text, rules, country, region, point, (compromised) in zip(
            d.raw_ids,
            self._clocks,
            d.texts,
            d.rules,
            d.countries,
            d.regions,
            d.points,
            d.compromised,
            strict=True,
        ):
            availability = fields(  # status, source, capacity, ...
                raw_id,
                source,
                ttl,
                None if reported is None else _datetime(reported),
                None if confirmed is None else _datetime(confirmed),
            )
            append_fields(availability)
            append_status(availability[0])
            # id, rules, capacity, country, region, point (for safety), compromised
            append(Facility(text, rules, availability[2], country, region, point, compromised))

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
            self.directory.rule_values,
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
