"""Allocating a bed in a room, race-free (SPEC.md R: no place is ever promised twice).

Apps that occupy beds (stays in refuge.cases, holds in refuge.referrals) register a *claims*
function: given a room and a moment, the bed numbers it takes. To take a bed, a service locks
the room row (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction already
holds the write lock), asks every claims function, and picks a free bed in the same
transaction. Numbers: 0 is a whole family room (one household), 1..beds the beds of a shared
room (one woman each). Each app also guards its own rows with a partial unique index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from refuge.core.services import ServiceError

from .models import Room, RoomKind

Claims = Callable[[Any, datetime], set[int]]
_claims: list[Claims] = []


def register_bed_claims(fn: Claims) -> None:
    if fn not in _claims:
        _claims.append(fn)


def lock_room(room_id: Any) -> Room:
    """The room, locked until the end of the transaction (call inside transaction.atomic)."""
    try:
        return Room.objects.select_for_update().select_related("facility").get(pk=room_id)
    except Room.DoesNotExist as exc:
        raise ServiceError("This room does not exist.", "not_found") from exc


def claimed(room: Room, at: datetime) -> set[int]:
    taken: set[int] = set()
    for fn in _claims:
        taken |= fn(room.pk, at)
    return taken


def pick_bed(room: Room, household_size: int, taken: set[int]) -> int:
    """A free bed number for the household, or a clear refusal."""
    if not room.in_service:
        raise ServiceError("This room is out of service.", "room_closed")
    if room.kind == RoomKind.FAMILY:
        if household_size > room.beds:
            raise ServiceError(
                f"This family room has {room.beds} beds; the household is {household_size}.",
                "household_too_large",
            )
        if taken:
            raise ServiceError("This family room is taken.", "room_full")
        return 0
    if household_size != 1:
        raise ServiceError(
            "A bed in a shared room takes one woman alone; choose a family room.",
            "household_too_large",
        )
    for bed in range(1, room.beds + 1):
        if bed not in taken:
            return bed
    raise ServiceError("Every bed in this room is taken.", "room_full")
