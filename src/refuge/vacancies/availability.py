"""Free places, derived in one place (SPEC C3, C13; STYLE habit 6: derive, don't mirror).

``availability_for(facilities, rooms, at)`` turns rooms and what is known about their use into
one `Availability` per facility, and ``Derivation.room_free`` gives the same figure room by room
to the services that hold a place: the board, the search, the facility page, the referral, the
accept step, the evacuation and the turn-away check all read this one derivation. Two ways a
figure is known:

* ``reported``: a member of staff reported the free beds of each room (who, when); the figure
  is trusted for the facility's time-to-live (default 24 h) after the later of the report and
  the last "still accurate", then it decays to ``unknown``. What Refuge itself records since
  the report is applied to it (issue 15): holds placed and admissions made since the report
  take places, discharges since give them back, and a room never shows more free than its beds
  minus the stays and holds Refuge records in it now. A report is never trusted beyond that.
* ``system``: the facility keeps its stays (and the network its holds) in Refuge, so free beds
  are rooms minus what is occupied or held *now*, and the figure is ``confirmed`` and never
  stale.

A facility with no room in service is ``unknown`` ("rooms not set up") whichever way it
reports: no place can be held there, so it is never offered as one.

The use of the rooms comes from *occupancy sources*: functions registered by the apps that own
stays (refuge.cases) and holds (refuge.referrals). This is the extension point: a source gets
the facility ids (a list, or a queryset of primary keys: filter with ``__in``) and the moment,
and returns per room id either the beds taken now (an int) or a `RoomUse`: taken now, taken since the facility's last hand report, freed since it (a family
room with any bed taken is taken). An expired hold is simply not returned. Until at least one
source is registered, no facility can switch to ``system`` (vacancies.services refuses it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from refuge.placement.fit import Capacity

CONFIRMED = "confirmed"
REPORTED = "reported"
UNKNOWN = "unknown"

# Why a figure is unknown (Availability.unknown_reason).
NO_ROOMS = "no_rooms"  # no room in service: nothing can be held there
NEVER_REPORTED = "never_reported"
STALE = "stale"  # the last report is older than the facility's time-to-live
NOT_DERIVED = "not_derived"  # "system", but this installation records no stays or holds


class RoomUse(NamedTuple):
    """What an occupancy source knows of one room: beds taken (or held) at the moment asked;
    beds taken since the facility's last hand report (admissions, holds still active) and
    freed since it (discharges). The last two are 0 for a facility that has no report."""

    now: int
    taken_since: int = 0
    freed_since: int = 0


OccupancySource = Callable[[Sequence[Any], datetime], Mapping[Any, "int | RoomUse"]]
_sources: list[OccupancySource] = []


def register_occupancy_source(source: OccupancySource) -> None:
    """Add a source of occupied (or held) beds per room. A source may carry a ``kind`` attribute
    ("stays", "holds"): the changes since a report are then shown by kind ("1 admitted since")."""
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
    # Why it is unknown (NO_ROOMS, NEVER_REPORTED, STALE, NOT_DERIVED); "" when known.
    unknown_reason: str = ""
    # A hand report, in its parts: the free beds reported, and what Refuge recorded since
    # (kind, beds taken, beds freed: "stays" 1 0 is one admission since the report), and the
    # beds the report gave that stays and holds in Refuge take now ("capped"). Shown beside the
    # figure ("reported 4 at 09:10; 1 admitted since"), so a figure is never silently trusted.
    reported_free: int | None = None
    since: tuple[tuple[str, int, int], ...] = ()
    capped: int = 0
    reported_at: datetime | None = None  # when the hand report was made

    @property
    def known(self) -> bool:
        return self.status != UNKNOWN

    @property
    def adjusted(self) -> bool:
        """Whether the figure differs from the hand report, or Refuge recorded a change since."""
        return bool(self.since or self.capped)


def asks_sources(source: str | None, reported_at: datetime | None) -> bool:
    """Whether the occupancy sources are asked about a facility: its figure is derived, or
    a hand report is corrected by what Refuge recorded since."""
    return source == "system" or reported_at is not None


def availability_for(
    facilities: Sequence[FacilityClock],
    rooms: Iterable[RoomRow],
    at: datetime,
    *,
    default_ttl_hours: int = 24,
    sources: Sequence[OccupancySource] | None = None,
) -> dict[Any, Availability]:
    """One Availability per facility, at `at`. `rooms` are the rooms in service.

    Each occupancy source is asked once for all facilities together, so the number of
    queries does not grow with the number of facilities.
    """
    derivation = Derivation(
        rooms,
        at,
        [
            c.facility_id if c.pk is None else c.pk
            for c in facilities
            if asks_sources(c.source, c.reported_at)
        ],
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


def room_free(
    kind: str, beds: int, reported: int | None, use: RoomUse | None, derived: bool
) -> tuple[int, int]:
    """The free beds of one room (a family room: all its beds or 0), and the beds its hand
    report gave that are taken now by what Refuge records (0 when derived).

    Derived: beds minus what is taken now. Reported: the report, minus what was taken since it,
    plus what was freed since, never below 0 and never above the beds not taken now. A room
    never reported (added after the last report) is not free until it is."""
    now, taken, freed = use if use is not None else (0, 0, 0)
    family = kind == "family"
    if derived:
        if family:
            return (0 if now else beds), 0
        return (beds - now if now < beds else 0), 0
    if family:
        unit = (1 if reported is not None and reported >= beds else 0) - taken + freed
        if unit <= 0:
            return 0, 0
        return (0, beds) if now else (beds, 0)
    free = reported if reported is not None and reported < beds else beds if reported else 0
    free = free - taken + freed
    free = beds if free > beds else free
    if free <= 0:
        return 0, 0
    room_left = beds - now
    if free > room_left:
        return (room_left if room_left > 0 else 0), free - (room_left if room_left > 0 else 0)
    return free, 0


class Derivation:
    """`availability_for` one facility at a time, as the plain fields of its Availability: for
    a caller that reads thousands of facilities and needs only the capacity and the status of
    most of them (placement search), the Availability objects can wait until asked for.

    `source_ids` are the primary keys of the facilities the occupancy sources are asked about
    (those for which `asks_sources`): each source is asked once for all of them together. A
    queryset of them (``values_list("pk", flat=True)``) is passed to the sources as it is.
    """

    def __init__(
        self,
        rooms: Iterable[RoomRow] | Mapping[Any, list],
        at: datetime,
        source_ids: Sequence[Any],
        *,
        default_ttl_hours: int = 24,
        sources: Sequence[OccupancySource] | None = None,
        memo: dict | None = None,
    ) -> None:
        self.memo = memo
        self._used: set | None = None
        # Each facility's rooms as one flat list, five values a room (a RoomRow's): no object
        # is kept per room, so `rooms` can be a cursor, read one row at a time.
        # Rooms already grouped so (a mapping: placement search keeps them between searches)
        # are taken as they are, and only read.
        by_facility: Mapping[Any, list]
        if isinstance(rooms, Mapping):
            by_facility = rooms
        else:
            by_facility = defaultdict(list)
            for room in rooms:
                by_facility[room[1]].extend(room)
        self.by_facility = by_facility
        sources = _sources if sources is None else sources
        use: dict[Any, RoomUse] = {}
        # Per room, the changes since a report by kind of source: rare, kept only when some.
        changes: dict[Any, list[tuple[str, int, int]]] = defaultdict(list)
        # A queryset of ids (placement search's) is not evaluated here: the sources filter by it.
        if getattr(source_ids, "query", None) is not None or source_ids:
            for source in sources:
                kind = getattr(source, "kind", "") or getattr(source, "__name__", "")
                for room_id, value in source(source_ids, at).items():
                    value = RoomUse(value) if isinstance(value, int) else RoomUse(*value)
                    had = use.get(room_id)
                    use[room_id] = (
                        value
                        if had is None
                        else RoomUse(
                            had.now + value.now,
                            had.taken_since + value.taken_since,
                            had.freed_since + value.freed_since,
                        )
                    )
                    if value.taken_since or value.freed_since:
                        changes[room_id].append((kind, value.taken_since, value.freed_since))
        self.use = use
        self.changes = changes
        self.can_derive = bool(sources)
        self.at = at
        self.default_ttl_hours = default_ttl_hours
        self.ttls: dict[int, timedelta] = {}  # one per distinct number of hours
        # Capacities are immutable and often alike (the same rooms, all free or unknown).
        self.capacities: dict[tuple, Capacity] = {}

    def _clock(
        self,
        facility_id: Any,
        source: str | None,
        ttl_hours: int | None,
        reported_at: datetime | None,
        confirmed_at: datetime | None,
    ) -> tuple[str, bool, datetime | None, timedelta, int]:
        """(unknown reason or "", derived, as_of, ttl, number of rooms)."""
        n_rooms = len(self.by_facility.get(facility_id, ())) // 5
        derived = self.can_derive and source == "system"
        as_of: datetime | None
        if derived:
            as_of = self.at
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
        if not n_rooms:
            why = NO_ROOMS
        elif derived:
            why = ""
        elif source == "system":
            why = NOT_DERIVED
        elif as_of is None:
            why = NEVER_REPORTED
        elif self.at - as_of > ttl:
            why = STALE
        else:
            why = ""
        return why, derived, as_of, ttl, n_rooms

    def _rooms(self, facility_id: Any) -> Iterator[tuple]:
        flat = self.by_facility.get(facility_id, ())
        values = iter(flat)
        return zip(values, values, values, values, values, strict=True)  # RoomRows

    def room_free(
        self,
        facility_id: Any,
        source: str | None,
        ttl_hours: int | None,
        reported_at: datetime | None,
        confirmed_at: datetime | None,
    ) -> dict[Any, int] | None:
        """The free beds of each room of the facility (a family room: all its beds or 0), by
        room id: the figures its Availability adds up; None when they are unknown."""
        why, derived, _as_of, _ttl, _n = self._clock(
            facility_id, source, ttl_hours, reported_at, confirmed_at
        )
        if why:
            return None
        use = self.use
        return {
            room_id: room_free(kind, beds, reported, use.get(room_id), derived)[0]
            for room_id, _facility, kind, beds, reported in self._rooms(facility_id)
        }

    def fields(
        self,
        facility_id: Any,
        source: str | None,
        ttl_hours: int | None,
        reported_at: datetime | None,
        confirmed_at: datetime | None,
    ) -> tuple:
        """The Availability of one facility, less its ``facility_id``, as a tuple in the order of
        the fields: status, source, capacity, beds_total, free_beds, as_of, expires_at, rooms,
        unknown_reason, reported_free, since, capped, reported_at. ``facility_id`` is the key of its rooms
        (``RoomRow.facility_id``).

        With a ``memo`` (placement search keeps one between searches, with the rooms), the
        fields of a facility nothing in Refuge uses a room of (no stay, no hold) and whose figure
        is not derived are those of the last time while its rooms (the same list), its clock and
        which side of its time-to-live ``at`` is on are the same: they depend on nothing else."""
        memo = self.memo
        if memo is None or (source == "system" and self.can_derive):
            return self._fields(facility_id, source, ttl_hours, reported_at, confirmed_at)
        flat = self.by_facility.get(facility_id)
        if flat is not None and self.use and facility_id in self._used_facilities():
            return self._fields(facility_id, source, ttl_hours, reported_at, confirmed_at)
        clock = (source, ttl_hours, reported_at, confirmed_at, self.can_derive)
        found = memo.get(facility_id)
        if found is not None and found[0] is flat and found[1] == clock:
            ends = found[2]
            if ends is None or (self.at > ends) == found[3]:
                return found[4]
        made = self._fields(facility_id, source, ttl_hours, reported_at, confirmed_at)
        times = [t for t in (reported_at, confirmed_at) if t is not None]
        ends = max(times) + self._ttl(ttl_hours) if times else None
        memo[facility_id] = (flat, clock, ends, ends is not None and self.at > ends, made)
        return made

    def _ttl(self, ttl_hours: int | None) -> timedelta:
        hours = ttl_hours or self.default_ttl_hours
        ttl = self.ttls.get(hours)
        if ttl is None:
            ttl = self.ttls[hours] = timedelta(hours=hours)
        return ttl

    def _used_facilities(self) -> set:
        """The facilities a room of which an occupancy source uses (made once)."""
        if self._used is None:
            rooms = self.use.keys()
            self._used = {
                fid for fid, flat in self.by_facility.items() if not rooms.isdisjoint(flat[0::5])
            }
        return self._used

    def _fields(
        self,
        facility_id: Any,
        source: str | None,
        ttl_hours: int | None,
        reported_at: datetime | None,
        confirmed_at: datetime | None,
    ) -> tuple:
        why, derived, as_of, ttl, n_rooms = self._clock(
            facility_id, source, ttl_hours, reported_at, confirmed_at
        )
        its_rooms = self._rooms(facility_id)
        family: list[int] = []
        free_family: list[int] = []
        dorm = free_dorm = 0
        if why:
            for _room_id, _facility, kind, beds, _reported in its_rooms:
                if kind == "family":
                    family.append(beds)
                else:
                    dorm += beds
            key: tuple = (tuple(family), dorm)
            capacity = self.capacities.get(key)
            if capacity is None:
                capacity = self.capacities[key] = Capacity(*key)
            return (
                UNKNOWN,
                source or "reported",
                capacity,
                sum(family) + dorm,
                None,
                None if derived else as_of,
                (as_of + ttl) if as_of and not derived else None,
                n_rooms,
                why,
                None,
                (),
                0,
                reported_at,
            )
        # One pass over the rooms: the structure, and what is free (room_free, inlined where
        # nothing since a report applies: the board reads twenty thousand rooms).
        use = self.use
        reported_free = capped = 0
        for room_id, _facility, kind, beds, reported in its_rooms:
            used = use.get(room_id)
            if not derived:
                if kind == "family":
                    reported_free += beds if reported is not None and reported >= beds else 0
                elif reported:
                    reported_free += reported if reported < beds else beds
            if used is None and derived:
                free, lost = beds, 0
            elif used is None and kind == "family":
                free, lost = (beds if reported is not None and reported >= beds else 0), 0
            else:
                free, lost = room_free(kind, beds, reported, used, derived)
            capped += lost
            if kind == "family":
                family.append(beds)
                if free:
                    free_family.append(beds)
            else:
                dorm += beds
                free_dorm += free
        key = (tuple(family), dorm, tuple(free_family), free_dorm)
        capacity = self.capacities.get(key)
        if capacity is None:
            capacity = self.capacities[key] = Capacity(*key)
        since: tuple[tuple[str, int, int], ...] = ()
        if not derived and self.changes:
            by_kind: dict[str, list[int]] = {}
            for room_id, _facility, _kind, _beds, _reported in self._rooms(facility_id):
                for kind, taken, freed in self.changes.get(room_id, ()):
                    counts = by_kind.setdefault(kind, [0, 0])
                    counts[0] += taken
                    counts[1] += freed
            since = tuple((k, t, f) for k, (t, f) in sorted(by_kind.items()))
        return (
            CONFIRMED if derived else REPORTED,
            "system" if derived else "reported",
            capacity,
            sum(family) + dorm,
            sum(free_family) + free_dorm,
            as_of,
            None if derived else as_of + ttl,
            n_rooms,
            "",
            None if derived else reported_free,
            since,
            capped,
            None if derived else reported_at,
        )
