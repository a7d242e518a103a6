"""Every state change of rooms and availability, audited in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit
from refuge.core.access import Principal
from refuge.core.db import retry_on_conflict
from refuge.core.services import ServiceError
from refuge.directory.models import Facility
from refuge.directory.services import check_can_manage

from . import beds as bed_locks
from .availability import occupancy_sources
from .models import AvailabilitySource, FacilityAvailability, Room, RoomKind

MAX_BEDS_PER_ROOM = 200


def _audit(by: Principal | None, action: str, facility: Facility, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="directory.facility",
        target_id=facility.pk,
        target_org_slug=facility.organisation.slug,
        details=details or None,
    )


def _status(facility: Facility, *, lock: bool = False) -> FacilityAvailability:
    FacilityAvailability.objects.get_or_create(facility=facility)
    qs = (
        FacilityAvailability.objects.select_for_update(of=("self",), no_key=True)
        if lock
        else FacilityAvailability.objects
    )
    return qs.get(facility=facility)


def _check_room(name: str, kind: str, beds: int) -> None:
    if not (name or "").strip():
        raise ServiceError(_("A room needs a name (for example “Room 2”)."), "invalid")
    if kind not in RoomKind.values:
        raise ServiceError(_("A room is a family room or a shared room."), "invalid")
    if not isinstance(beds, int) or not 1 <= beds <= MAX_BEDS_PER_ROOM:
        raise ServiceError(
            _("A room has between 1 and %(max)s beds.") % {"max": MAX_BEDS_PER_ROOM}, "invalid"
        )


def room_create(
    *, by: Principal | None, facility: Facility, name: str, kind: str, beds: int
) -> Room:
    check_can_manage(by, facility.organisation_id)
    _check_room(name, kind, beds)
    with transaction.atomic():
        _status(facility)
        if Room.objects.filter(facility=facility, name=name.strip()).exists():
            raise ServiceError(_("There is already a room with this name."), "duplicate")
        room = Room.objects.create(facility=facility, name=name.strip(), kind=kind, beds=beds)
        _audit(by, "room.create", facility, room=room.pk, kind=kind, beds=beds)
    return room


@retry_on_conflict
def room_update(
    *,
    by: Principal | None,
    room: Room,
    name: str,
    kind: str,
    beds: int,
    in_service: bool = True,
) -> Room:
    facility = room.facility
    check_can_manage(by, facility.organisation_id)
    _check_room(name, kind, beds)
    with transaction.atomic():
        current = bed_locks.lock_room(room.pk)
        if Room.objects.filter(facility=facility, name=name.strip()).exclude(pk=room.pk).exists():
            raise ServiceError(_("There is already a room with this name."), "duplicate")
        changes = {}
        for field, value in (
            ("name", name.strip()),
            ("kind", kind),
            ("beds", beds),
            ("in_service", in_service),
        ):
            if getattr(current, field) != value:
                changes[field] = value
                setattr(current, field, value)
        if not changes:
            return current
        if "kind" in changes or "beds" in changes:
            # The last report was about a different room; it no longer says anything.
            current.reported_free_beds = None
        current.save()
        _audit(by, "room.update", facility, room=current.pk, changes=changes)
    return current


@retry_on_conflict
def availability_report(
    *, by: Principal | None, facility: Facility, free_beds: Mapping[int, int]
) -> FacilityAvailability:
    """Report the free beds of every room in service (room id → free beds), by hand.

    A family room takes one household: it is free (all its beds) or taken (0). Nothing is
    saved unless every figure is valid.
    """
    check_can_manage(by, facility.organisation_id)
    with transaction.atomic():
        status = _status(facility, lock=True)
        if status.source == AvailabilitySource.SYSTEM:
            raise ServiceError(
                _(
                    "This facility's availability comes from its stays in Refuge; it is not reported by hand."
                ),
                "conflict",
            )
        rooms = {r.pk: r for r in Room.objects.filter(facility=facility, in_service=True)}
        # The rooms' rows are written below: locked first, in key order, as a referral locks
        # them (refuge.vacancies.beds), so the two cannot wait on each other in a circle.
        bed_locks.lock_rooms(rooms)
        if not rooms:
            raise ServiceError(
                _("Add the rooms first: availability is reported room by room."), "invalid"
            )
        given = {int(k): v for k, v in free_beds.items()}
        if unknown := set(given) - set(rooms):
            raise ServiceError(
                _("Some rooms are not rooms of this facility in service: %(ids)s.")
                % {"ids": ", ".join(str(i) for i in sorted(unknown))},
                "invalid",
            )
        if missing := [rooms[pk].name for pk in rooms if pk not in given]:
            raise ServiceError(
                _("Give the free beds of every room (missing: %(rooms)s).")
                % {"rooms": ", ".join(sorted(missing))},
                "invalid",
            )
        for pk, value in given.items():
            room = rooms[pk]
            if not isinstance(value, int) or isinstance(value, bool):
                raise ServiceError(
                    _("%(room)s: the number of free beds must be a whole number.")
                    % {"room": room.name},
                    "invalid",
                )
            if value < 0:
                raise ServiceError(
                    _("%(room)s: free beds cannot be below zero (you gave %(value)s).")
                    % {"room": room.name, "value": value},
                    "invalid",
                )
            if value > room.beds:
                raise ServiceError(
                    _("%(room)s has %(beds)s beds: it cannot have %(value)s free.")
                    % {"room": room.name, "beds": room.beds, "value": value},
                    "invalid",
                )
            if room.kind == RoomKind.FAMILY and value not in (0, room.beds):
                raise ServiceError(
                    _("%(room)s is a family room: it is either free (%(beds)s beds) or taken (0).")
                    % {"room": room.name, "beds": room.beds},
                    "invalid",
                )
        before = {pk: r.reported_free_beds for pk, r in rooms.items()}
        for pk, value in given.items():
            if before[pk] != value:
                Room.objects.filter(pk=pk).update(reported_free_beds=value)
        now = timezone.now()
        status.reported_at = now
        status.reported_by = by.name if by else "system"
        status.confirmed_at = None
        status.confirmed_by = ""
        status.save()
        _audit(
            by,
            "availability.report",
            facility,
            free={str(pk): v for pk, v in sorted(given.items())},
            free_total=sum(given.values()),
            beds_total=sum(r.beds for r in rooms.values()),
        )
    return status


@retry_on_conflict
def availability_confirm(*, by: Principal | None, facility: Facility) -> FacilityAvailability:
    """ "Still accurate": the last report was checked and stands; its age starts again."""
    check_can_manage(by, facility.organisation_id)
    with transaction.atomic():
        status = _status(facility, lock=True)
        if status.source == AvailabilitySource.SYSTEM:
            raise ServiceError(
                _(
                    "This facility's availability comes from its stays in Refuge; it is always current."
                ),
                "conflict",
            )
        if status.reported_at is None:
            raise ServiceError(
                _("There is no report to confirm yet: report the free beds first."), "invalid"
            )
        status.confirmed_at = timezone.now()
        status.confirmed_by = by.name if by else "system"
        status.save(update_fields=["confirmed_at", "confirmed_by"])
        _audit(by, "availability.confirm", facility, reported_at=status.reported_at.isoformat())
    return status


@retry_on_conflict
def availability_settings_update(
    *,
    by: Principal | None,
    facility: Facility,
    source: str,
    ttl_hours: int,
    publish_availability: bool | None = None,
) -> FacilityAvailability:
    """How availability is known, how long a report holds, and whether the free beds are
    published in the public HSDS feed (off by default: SPEC C3, no call floods)."""
    check_can_manage(by, facility.organisation_id)
    if source not in AvailabilitySource.values:
        raise ServiceError(_("Unknown way of knowing availability."), "invalid")
    if not isinstance(ttl_hours, int) or not 1 <= ttl_hours <= 24 * 14:
        raise ServiceError(
            _("A report can stay valid between 1 hour and 14 days (336 hours)."), "invalid"
        )
    if source == AvailabilitySource.SYSTEM and not occupancy_sources():
        raise ServiceError(
            _(
                "This installation does not record stays and holds yet, so availability cannot be derived; report it by hand."
            ),
            "invalid",
        )
    with transaction.atomic():
        status = _status(facility, lock=True)
        changes = {}
        if status.source != source:
            changes["source"] = source
        if status.ttl_hours != ttl_hours:
            changes["ttl_hours"] = ttl_hours
        if publish_availability is not None and status.publish_availability != publish_availability:
            changes["publish_availability"] = publish_availability
        if not changes:
            return status
        for key, value in changes.items():
            setattr(status, key, value)
        status.save()
        _audit(by, "availability.settings", facility, changes=changes)
    return status
