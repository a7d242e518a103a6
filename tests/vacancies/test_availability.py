"""Availability: derived from rooms and occupancy, or reported by hand, each figure with an
age that decays to unknown."""

from datetime import timedelta

import pytest
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.directory.models import Facility
from refuge.vacancies import services
from refuge.vacancies.availability import (
    CONFIRMED,
    REPORTED,
    UNKNOWN,
    FacilityClock,
    RoomRow,
    availability_for,
    register_occupancy_source,
    unregister_occupancy_source,
)
from refuge.vacancies.facts import load_facts
from refuge.vacancies.models import FacilityAvailability, Room
from tests.directory.factories import make_facility

NOW = timezone.now()


def _rooms(facility):
    return list(Room.objects.filter(facility=facility).order_by("name"))


def _now(facility, p, at=None):
    return load_facts(Facility.objects.filter(pk=facility.pk), at=at or timezone.now(), viewer=p)[
        0
    ].availability


def test_a_report_is_trusted_for_the_ttl_then_unknown_and_still_accurate_refreshes_it(
    orgs, personas
):
    p = personas["caseworker_a"].principal
    f = make_facility(orgs["a"], rooms=[("family", 4), ("family", 2), ("dorm", 5)], free=[4, 0, 3])
    now = _now(f, p)
    assert (now.status, now.free_beds, now.beds_total) == (REPORTED, 7, 11)
    assert now.capacity.free_family_rooms == (4,) and now.capacity.free_dorm_beds == 3
    later = timezone.now() + timedelta(hours=25)
    assert _now(f, p, later).status == UNKNOWN
    assert _now(f, p, later).free_beds is None
    FacilityAvailability.objects.filter(facility=f).update(
        reported_at=timezone.now() - timedelta(hours=25)
    )
    assert _now(f, p).status == UNKNOWN
    services.availability_confirm(by=p, facility=f)
    fresh = _now(f, p)
    assert fresh.status == REPORTED and fresh.free_beds == 7
    assert (timezone.now() - fresh.as_of).total_seconds() < 5
    event = AuditEvent.objects.get(action="availability.confirm")
    assert event.actor == "caseworker-a"


def test_the_ttl_is_set_per_facility(orgs, personas):
    p = personas["manager_a"].principal
    f = make_facility(orgs["a"], rooms=[("dorm", 3)], free=[1])
    services.availability_settings_update(by=p, facility=f, source="reported", ttl_hours=4)
    assert _now(f, p, timezone.now() + timedelta(hours=3)).status == REPORTED
    assert _now(f, p, timezone.now() + timedelta(hours=5)).status == UNKNOWN
    with pytest.raises(ServiceError, match="between 1 hour and 14 days"):
        services.availability_settings_update(by=p, facility=f, source="reported", ttl_hours=0)


@pytest.mark.parametrize(
    ("free", "message"),
    [
        ([-1, 0], "cannot be below zero"),
        ([5, 0], "has 4 beds: it cannot have 5 free"),
        ([0, 3], "Room 2 has 2 beds: it cannot have 3 free"),
        ([2, 0], "family room: it is either free"),
    ],
)
def test_impossible_figures_are_refused_clearly_and_nothing_is_saved(orgs, personas, free, message):
    p = personas["caseworker_a"].principal
    f = make_facility(orgs["a"], rooms=[("family", 4), ("dorm", 2)], free=[0, 1])
    before = FacilityAvailability.objects.get(facility=f).reported_at
    rooms = _rooms(f)
    with pytest.raises(ServiceError, match=message):
        services.availability_report(
            by=p, facility=f, free_beds={r.pk: n for r, n in zip(rooms, free, strict=True)}
        )
    assert [r.reported_free_beds for r in _rooms(f)] == [0, 1]
    assert FacilityAvailability.objects.get(facility=f).reported_at == before


def test_every_room_must_be_reported(orgs, personas):
    p = personas["caseworker_a"].principal
    f = make_facility(orgs["a"], rooms=[("family", 4), ("dorm", 2)])
    first = _rooms(f)[0]
    with pytest.raises(ServiceError, match="missing: Room 2"):
        services.availability_report(by=p, facility=f, free_beds={first.pk: 4})
    with pytest.raises(ServiceError, match="not rooms of this facility"):
        services.availability_report(by=p, facility=f, free_beds={first.pk: 4, 999999: 1})


def test_a_report_is_audited_with_who_and_what(orgs, personas):
    p = personas["caseworker_a"].principal
    f = make_facility(orgs["a"], rooms=[("dorm", 3)])
    (room,) = _rooms(f)
    services.availability_report(by=p, facility=f, free_beds={room.pk: 2})
    status = FacilityAvailability.objects.get(facility=f)
    assert status.reported_by == "caseworker-a"
    event = AuditEvent.objects.filter(action="availability.report").last()
    assert event.details["free"] == {str(room.pk): 2} and event.details["free_total"] == 2


def test_changing_a_room_voids_its_last_report(orgs, personas):
    p = personas["manager_a"].principal
    f = make_facility(orgs["a"], rooms=[("dorm", 3)], free=[3])
    (room,) = _rooms(f)
    services.room_update(by=p, room=room, name=room.name, kind="dorm", beds=2)
    room.refresh_from_db()
    assert room.reported_free_beds is None
    assert _now(f, p).free_beds == 0  # a room never reported counts as not free


def test_rooms_out_of_service_do_not_count(orgs, personas):
    p = personas["manager_a"].principal
    f = make_facility(orgs["a"], rooms=[("family", 3), ("dorm", 2)], free=[3, 2])
    family = _rooms(f)[0]
    services.room_update(
        by=p, room=family, name=family.name, kind="family", beds=3, in_service=False
    )
    now = _now(f, p)
    assert now.beds_total == 2 and now.capacity.family_rooms == ()


def test_a_room_needs_sensible_beds_and_a_unique_name(orgs, personas):
    p = personas["manager_a"].principal
    f = make_facility(orgs["a"], rooms=[("dorm", 3)])
    with pytest.raises(ServiceError, match="between 1 and 200"):
        services.room_create(by=p, facility=f, name="Big", kind="dorm", beds=0)
    with pytest.raises(ServiceError, match="already a room"):
        services.room_create(by=p, facility=f, name="Room 1", kind="dorm", beds=2)


@pytest.fixture
def no_sources(monkeypatch):
    """An installation where no app records stays or holds (the cases app registers one)."""
    from refuge.vacancies import availability

    monkeypatch.setattr(availability, "_sources", [])


def test_a_facility_cannot_switch_to_derived_availability_before_stays_exist(
    orgs, personas, no_sources
):
    p = personas["manager_a"].principal
    f = make_facility(orgs["a"], rooms=[("dorm", 3)])
    with pytest.raises(ServiceError, match="does not record stays"):
        services.availability_settings_update(by=p, facility=f, source="system", ttl_hours=24)


def test_derived_availability_counts_what_the_occupancy_sources_return(orgs, personas, no_sources):
    """The extension point: stays (cases) and holds (referrals) register occupancy sources."""
    p = personas["manager_a"].principal
    f = make_facility(orgs["a"], rooms=[("family", 4), ("family", 3), ("dorm", 5)])
    family_4, family_3, dorm = _rooms(f)
    calls = []

    def stays(facility_ids, at):
        calls.append(list(facility_ids))
        return {family_4.pk: 1, dorm.pk: 2}

    def holds(facility_ids, at):
        return {dorm.pk: 1}

    register_occupancy_source(stays)
    register_occupancy_source(holds)
    try:
        services.availability_settings_update(by=p, facility=f, source="system", ttl_hours=24)
        now = _now(f, p, timezone.now() + timedelta(days=30))  # derived figures never go stale
        assert now.status == CONFIRMED
        assert now.capacity.free_family_rooms == (3,)  # one bed taken = the family room is taken
        assert now.capacity.free_dorm_beds == 2 and now.free_beds == 5
        assert calls == [[f.pk]]
        with pytest.raises(ServiceError, match="not reported by hand"):
            services.availability_report(by=p, facility=f, free_beds={dorm.pk: 1})
    finally:
        unregister_occupancy_source(stays)
        unregister_occupancy_source(holds)
    assert _now(f, p).status == UNKNOWN  # no source any more: nothing can be derived


def test_availability_for_is_pure_over_plain_rows():
    clock = FacilityClock("f", "reported", 24, NOW - timedelta(hours=1), None)
    rooms = [RoomRow(1, "f", "family", 3, 3), RoomRow(2, "f", "dorm", 4, 9)]
    result = availability_for([clock], rooms, NOW, sources=())["f"]
    assert result.free_beds == 7  # a report above capacity is clamped, never trusted beyond it
    never = availability_for([FacilityClock("g", None, None, None, None)], [], NOW, sources=())["g"]
    assert never.status == UNKNOWN and never.rooms == 0 and never.unknown_reason == "no_rooms"
