"""Availability, derived (SPEC C3; STYLE habit 6: derive, don't mirror).

``availability_for(facilities, rooms, at)`` turns rooms and what is known about their use into
one `Availability` per facility. Two ways a figure is known:

* ``reported``: a member of staff reported the free beds of each room (who, when); the figure
  is trusted for the facility's time-to-live (default 24 h) after the later of the report and
  the last "still accurate", then it decays to ``unknown``.
* ``system``: the facility keeps its stays (and the network its holds) in Refuge, so free beds
  are rooms minus what is occupied or held *now*, and the figure is ``confirmed`` and never
  stale. The occupancy comes from *occupancy sources*: functions registered by the apps that
  own stays (refuge.cases) and holds (refuge.referrals). This is the extension point: a source
  gets the facility ids and the moment, and returns the beds taken per room id (a family room
  with any bed taken is taken). An expired hold is simply not returned. Until at least one
  source is registered, no facility can switch to ``system`` (vacancies.services refuses it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from refuge.placement.fit import Capacity

CONFIRMED = "confirmed"
REPORTED = "reported"
UNKNOWN = "unknown"

OccupancySource = Callable[[Sequence[Any], datetime], Mapping[Any, int]]
_sources: list[OccupancySource] = []


def register_occupancy_source(source: OccupancySource) -> None:
    """Add a source of occupied (or held) beds per room, for facilities using the system."""
    if source not in _sources:
        _sources.append(source)


def unregister_occupancy_source(source: OccupancySource) -> None:
    if source in _sources:
        _sources.remove(source)


def occupancy_sources() -> tuple[OccupancySource, ...]:
    return tuple(_sources)


@dataclass(frozen=True, slots=True)
class FacilityClock:
    """The per-facility inputs: how availability is known and when it was last vouched for."""

    facility_id: Any
    source: str | None  # "reported", "system" or None (never set up)
    ttl_hours: int | None
    reported_at: datetime | None
    confirmed_at: datetime | None
    # The facility's primary key as occupancy sources expect it, when ``facility_id`` is some
    # other key (the board keys rooms by the id as the database returns it).
    pk: Any = None


class RoomRow(NamedTuple):
    """A room in service. A plain tuple in this order works too (the board reads twenty
    thousand of them straight from the database)."""

    id: Any
    facility_id: Any
    kind: str  # "family" or "dorm"
    beds: int
    reported_free_beds: int | None


@dataclass(frozen=True, slots=True)
class Availability:
    facility_id: Any
    status: str  # confirmed | reported | unknown
    source: str  # system | reported
    capacity: Capacity
    beds_total: int
    free_beds: int | None
    as_of: datetime | None  # when the figure was last vouched for (``at`` when derived)
    expires_at: datetime | None
    rooms: int

    @property
    def known(self) -> bool:
        return self.status != UNKNOWN


def availability_for(
    facilities: Sequence[FacilityClock],
    rooms: Iterable[RoomRow],
    at: datetime,
    *,
    default_ttl_hours: int = 24,
    sources: Sequence[OccupancySource] | None = None,
) -> dict[Any, Availability]:
    """One Availability per facility, at `at`. `rooms` are the rooms in service.

    Each occupancy source is asked once for all system facilities together, so the number of
    queries does not grow with the number of facilities.
    """
    derivation = Derivation(
        rooms,
        at,
        [c.facility_id if c.pk is None else c.pk for c in facilities if c.source == "system"],
        default_ttl_hours=default_ttl_hours,
        sources=sources,
    )
    return {
        c.facility_id: Availability(
            c.facility_id if c.pk is None else c.pk,
            *derivation.fields(c.facility_id, c.source, c.ttl_hours, c.reported_at, c.confirmed_at),
        )
        for c in facilities
    }


class Derivation:
    """`availability_for` one facility at a time, as the plain fields of its Availability: for
    a caller that reads thousands of facilities and needs only the capacity and the status of
    most of them (placement search), the Availability objects can wait until asked for.

    `system_ids` are the primary keys of the facilities that use the system: each occupancy
    source is asked once for all of them together.
    """

    def __init__(
        self,
        rooms: Iterable[RoomRow],
        at: datetime,
        system_ids: Sequence[Any],
        *,
        default_ttl_hours: int = 24,
        sources: Sequence[OccupancySource] | None = None,
    ) -> None:
        # Each facility's rooms as one flat list, five values a room (a RoomRow's): no object
        # is kept per room, so `rooms` can be a cursor, read one row at a time.
        by_facility: dict[Any, list] = defaultdict(list)
        for room in rooms:
            by_facility[room[1]].extend(room)
        self.by_facility = by_facility
        sources = _sources if sources is None else sources
        occupied: dict[Any, int] = defaultdict(int)
        if system_ids:
            for source in sources:
                for room_id, beds in source(system_ids, at).items():
                    occupied[room_id] += beds
        self.occupied = occupied
        self.can_derive = bool(sources)
        self.at = at
        self.default_ttl_hours = default_ttl_hours
        self.ttls: dict[int, timedelta] = {}  # one per distinct number of hours
        # Capacities are immutable and often alike (the same rooms, all free or unknown).
        self.capacities: dict[tuple, Capacity] = {}

    def fields(
        self,
        facility_id: Any,
        source: str | None,
        ttl_hours: int | None,
        reported_at: datetime | None,
        confirmed_at: datetime | None,
    ) -> tuple:
        """The Availability of one facility, less its ``facility_id``, as a tuple in the order of
        the fields: status, source, capacity, beds_total, free_beds, as_of, expires_at, rooms.
        ``facility_id`` is the key of its rooms (``RoomRow.facility_id``)."""
        at = self.at
        flat = self.by_facility.get(facility_id, ())
        n_rooms = len(flat) // 5
        values = iter(flat)
        its_rooms = zip(values, values, values, values, values, strict=True)  # RoomRows
        derived = self.can_derive and source == "system"
        as_of: datetime | None
        if derived:
            as_of = at
        elif reported_at is None:
            as_of = confirmed_at
        elif confirmed_at is None:
            as_of = reported_at
        else:
            as_of = max(reported_at, confirmed_at)
        hours = ttl_hours or self.default_ttl_hours
        ttl = self.ttls.get(hours)
        if ttl is None:
            ttl = self.ttls[hours] = timedelta(hours=hours)
        known = derived or (
            source != "system" and as_of is not None and at - as_of <= ttl and n_rooms > 0
        )
        # One pass over the rooms: the structure, and what is free when that is known. A
        # room never reported (added after the last report) counts as not free; a report is
        # never trusted beyond the room's beds.
        family: list[int] = []
        free_family: list[int] = []
        dorm = free_dorm = 0
        if derived:
            occupied = self.occupied
            for room_id, _facility, kind, beds, _reported in its_rooms:
                taken = occupied.get(room_id, 0)
                if kind == "family":
                    family.append(beds)
                    if not taken:
                        free_family.append(beds)
                else:
                    dorm += beds
                    free_dorm += beds - taken if taken < beds else 0
        elif known:
            for _room_id, _facility, kind, beds, reported in its_rooms:
                if kind == "family":
                    family.append(beds)
                    if reported is not None and reported >= beds:
                        free_family.append(beds)
                else:
                    dorm += beds
                    if reported:
                        free_dorm += reported if reported < beds else beds
        else:
            for _room_id, _facility, kind, beds, _reported in its_rooms:
                if kind == "family":
                    family.append(beds)
                else:
                    dorm += beds
        total = sum(family) + dorm
        if not known:
            key: tuple = (tuple(family), dorm)
            capacity = self.capacities.get(key)
            if capacity is None:
                capacity = self.capacities[key] = Capacity(*key)
            return (
                UNKNOWN,
                source or "reported",
                capacity,
                total,
                None,
                as_of,
                (as_of + ttl) if as_of else None,
                n_rooms,
            )
        key = (tuple(family), dorm, tuple(free_family), free_dorm)
        capacity = self.capacities.get(key)
        if capacity is None:
            capacity = self.capacities[key] = Capacity(*key)
        return (
            CONFIRMED if derived else REPORTED,
            "system" if derived else "reported",
            capacity,
            total,
            sum(free_family) + free_dorm,
            as_of,
            None if derived else as_of + ttl,
            n_rooms,
        )
