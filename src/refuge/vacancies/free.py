"""Free places of a few facilities, room by room: for the services that hold, accept, place or
report (the board and the search read many facilities through refuge.vacancies.facts). Both
read the one derivation in refuge.vacancies.availability, so what a page shows and what a
service then does cannot disagree (issue 15).

A service that is about to take a place locks the rooms first (refuge.vacancies.beds) and reads
the free places after, in the same transaction: every change to a room's use (a hold, a stay, a
discharge, a report) takes the same lock, so the figure cannot move before the place is taken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .availability import Availability, Derivation, FacilityClock, asks_sources
from .models import FacilityAvailability, Room


def room_can_take(kind: str, beds: int, household_size: int) -> bool:
    """Whether a room of this kind and size could take the household when empty: a family room
    takes one household that fits in it, a shared room one woman alone (the rule of holds, of
    the accept step and of the "put right" panel)."""
    return beds >= household_size if kind == "family" else household_size == 1


@dataclass(frozen=True, slots=True)
class FreePlaces:
    availability: Availability
    # Free beds per room id in service (a family room: all its beds, or 0); None when unknown.
    rooms: dict[Any, int] | None

    def fits(self, room: Room, household_size: int) -> bool:
        """Whether this room has a free place for the household now."""
        if self.rooms is None or not room.in_service:
            return False
        free = self.rooms.get(room.pk, 0)
        if room.kind == "family":
            return free >= household_size and free == room.beds
        return household_size == 1 and free >= 1


def free_places(facility_ids: Iterable[Any], at: datetime) -> dict[str, FreePlaces]:
    """The free places of each facility, by the facility id as text. Three queries, plus one
    per occupancy source."""
    ids = list(dict.fromkeys(str(f) for f in facility_ids))
    clocks = {
        str(fid): FacilityClock(fid, source, ttl, reported_at, confirmed_at)
        for fid, source, ttl, reported_at, confirmed_at in FacilityAvailability.objects.filter(
            facility_id__in=ids
        ).values_list("facility_id", "source", "ttl_hours", "reported_at", "confirmed_at")
    }
    rooms = list(
        Room.objects.filter(facility_id__in=ids, in_service=True).values_list(
            "id", "facility_id", "kind", "beds", "reported_free_beds"
        )
    )
    for room in rooms:
        clocks.setdefault(str(room[1]), FacilityClock(room[1], None, None, None, None))
    derivation = Derivation(
        rooms,
        at,
        [c.facility_id for c in clocks.values() if asks_sources(c.source, c.reported_at)],
    )
    out = {}
    for fid in ids:
        c = clocks.get(fid)
        if c is None:  # no availability row and no room: nothing set up
            c = FacilityClock(fid, None, None, None, None)
        args = (c.facility_id, c.source, c.ttl_hours, c.reported_at, c.confirmed_at)
        out[fid] = FreePlaces(
            Availability(c.facility_id, *derivation.fields(*args)), derivation.room_free(*args)
        )
    return out
