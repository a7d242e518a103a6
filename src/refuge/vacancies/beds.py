"""Allocating a bed in a room, race-free (SPEC.md R: no place is ever promised twice).

Apps that occupy beds (stays in refuge.cases, holds in refuge.referrals) register a *claims*
function: given a room and a moment, the bed numbers it takes. To take a bed, a service locks
the room row (SELECT ... FOR NO KEY UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction
already holds the write lock), asks every claims function, and picks a free bed in the same
transaction.

Only the room rows are locked (``of=("self",)``): locking the facility or organisation beside
them, as a join with ``select_related`` does, made every insert that refers to those rows (a
referral target, a referral, an audit event) wait on them, and crossed waits became deadlocks
(issue 14, M1). A service that may need several rooms locks them all at once, in primary-key
order (``lock_rooms``), before it writes anything: two transactions then never hold rooms the
other one waits for. Numbers: 0 is a whole family room (one household), 1..beds the beds of a shared
room (one woman each). Each app also guards its own rows with a partial unique index.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from refuge.core.services import ServiceError

from .models import Room, RoomKind

Claims = Callable[[Any, datetime], set[int]]
_claims: list[Claims] = []


def register_bed_claims(fn: Claims) -> None:
    if fn not in _claims:
        _claims.append(fn)


def _locked() -> Any:
    # NO KEY UPDATE: other transactions may still insert rows that refer to the room (their
    # foreign-key check takes KEY SHARE, which FOR UPDATE would block); they cannot lock it.
    return Room.objects.select_for_update(of=("self",), no_key=True)


def lock_room(room_id: Any) -> Room:
    """The room, locked until the end of the transaction (call inside transaction.atomic)."""
    try:
        room = _locked().get(pk=room_id)
    except (Room.DoesNotExist, ValueError, TypeError) as exc:
        raise ServiceError(_("This room does not exist."), "not_found") from exc
    return room


def lock_rooms(room_ids: Iterable[Any]) -> dict[Any, Room]:
    """Every one of these rooms, locked in primary-key order (so that two transactions wanting
    some of the same rooms take them in the same order and cannot deadlock), by primary key."""
    ids = sorted(set(room_ids))
    if not ids:
        return {}
    return {room.pk: room for room in _locked().filter(pk__in=ids).order_by("pk")}


def claimed(room: Room, at: datetime) -> set[int]:
    taken: set[int] = set()
    for fn in _claims:
        taken |= fn(room.pk, at)
    return taken


def pick_bed(room: Room, household_size: int, taken: set[int]) -> int:
    """A free bed number for the household, or a clear refusal."""
    if not room.in_service:
        raise ServiceError(_("This room is out of service."), "room_closed")
    if room.kind == RoomKind.FAMILY:
        if household_size > room.beds:
            raise ServiceError(
                _("This family room has %(beds)s beds; the household is %(size)s.")
                % {"beds": room.beds, "size": household_size},
                "household_too_large",
            )
        if taken:
            raise ServiceError(_("This family room is taken."), "room_full")
        return 0
    if household_size != 1:
        raise ServiceError(
            _("A bed in a shared room takes one woman alone; choose a family room."),
            "household_too_large",
        )
    for bed in range(1, room.beds + 1):
        if bed not in taken:
            return bed
    raise ServiceError(_("Every bed in this room is taken."), "room_full")
