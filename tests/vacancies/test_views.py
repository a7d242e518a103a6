from refuge.vacancies.models import FacilityAvailability, Room
from tests.directory.factories import make_facility


def _room_fields(facility, values):
    rooms = Room.objects.filter(facility=facility).order_by("name")
    return {f"room_{r.pk}": v for r, v in zip(rooms, values, strict=True)}


def test_a_caseworker_reports_free_beds_room_by_room(orgs, as_persona):
    f = make_facility(orgs["a"], rooms=[("family", 4), ("dorm", 3)])
    client = as_persona("caseworker_a")
    page = client.get(f"/vacancies/facility/{f.pk}/").content.decode()
    assert "Room 1 (family room, 4 beds)" in page and "unknown: never reported" in page
    response = client.post(
        f"/vacancies/facility/{f.pk}/report/", _room_fields(f, ["4", "2"]), follow=True
    )
    assert "Availability saved." in response.content.decode()
    assert [r.reported_free_beds for r in Room.objects.filter(facility=f).order_by("name")] == [
        4,
        2,
    ]
    assert "6 beds free" in client.get(f"/vacancies/facility/{f.pk}/").content.decode()


def test_below_zero_or_above_capacity_is_refused_with_a_clear_message(orgs, as_persona):
    f = make_facility(orgs["a"], rooms=[("family", 4), ("dorm", 3)], free=[0, 1])
    client = as_persona("caseworker_a")
    for values, message in (
        (["0", "-1"], "Room 2: free beds cannot be below zero (you gave -1)."),
        (["0", "4"], "Room 2 has 3 beds: it cannot have 4 free."),
    ):
        response = client.post(
            f"/vacancies/facility/{f.pk}/report/", _room_fields(f, values), follow=True
        )
        assert message in response.content.decode()
    assert [r.reported_free_beds for r in Room.objects.filter(facility=f).order_by("name")] == [
        0,
        1,
    ]


def test_rooms_are_added_and_edited(orgs, as_persona):
    f = make_facility(orgs["a"])
    client = as_persona("manager_a")
    response = client.post(
        f"/vacancies/facility/{f.pk}/rooms/new/",
        {"name": "Blue room", "kind": "family", "beds": "4", "in_service": "on"},
    )
    assert response.status_code == 302
    room = Room.objects.get(facility=f)
    response = client.post(
        f"/vacancies/facility/{f.pk}/rooms/{room.pk}/",
        {"name": "Blue room", "kind": "family", "beds": "0", "in_service": "on"},
    )
    assert "greater than or equal to 1" in response.content.decode()
    response = client.post(
        f"/vacancies/facility/{f.pk}/rooms/{room.pk}/",
        {"name": "Blue room", "kind": "dorm", "beds": "6"},
    )
    assert response.status_code == 302
    room.refresh_from_db()
    assert (room.kind, room.beds, room.in_service) == ("dorm", 6, False)


def test_settings_are_saved_and_a_publish_choice_is_kept(orgs, as_persona):
    f = make_facility(orgs["a"], rooms=[("dorm", 2)], free=[1])
    response = as_persona("manager_a").post(
        f"/vacancies/facility/{f.pk}/settings/",
        {"source": "reported", "ttl_hours": "6"},
        follow=True,
    )
    assert "Settings saved." in response.content.decode()
    assert FacilityAvailability.objects.get(facility=f).ttl_hours == 6


def test_another_organisations_room_is_not_found(orgs, as_persona):
    mine = make_facility(orgs["a"], rooms=[("dorm", 2)])
    theirs = make_facility(orgs["b"], rooms=[("dorm", 2)])
    room = Room.objects.get(facility=theirs)
    assert (
        as_persona("manager_a").get(f"/vacancies/facility/{mine.pk}/rooms/{room.pk}/").status_code
        == 404
    )
