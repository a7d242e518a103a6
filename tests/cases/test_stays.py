import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from refuge.cases import services
from refuge.cases.models import Stay
from refuge.core.services import ServiceError
from refuge.vacancies.models import Room
from refuge.vacancies.services import availability_settings_update
from tests.directory.factories import make_facility


@pytest.fixture
def shelter(orgs):
    facility = make_facility(orgs["a"], "Kitezh", rooms=[("family", 4), ("dorm", 2)])
    availability_settings_update(by=None, facility=facility, source="system", ttl_hours=24)
    return facility


@pytest.fixture
def rooms(shelter):
    family = Room.objects.get(facility=shelter, kind="family")
    dorm = Room.objects.get(facility=shelter, kind="dorm")
    return family, dorm


def _client(p, children=0):
    c = services.client_create(by=p, name="X")
    for age in range(children):
        services.household_member_add(by=p, client=c, age=3 + age, sex="female")
    return c


def _availability(shelter, p):
    from refuge.directory.models import Facility
    from refuge.vacancies.facts import load_facts

    return load_facts(Facility.objects.filter(pk=shelter.pk), at=timezone.now(), viewer=p)[
        0
    ].facility.capacity


def test_admission_takes_a_bed_and_the_board_sees_it(personas, rooms, shelter):
    p = personas["caseworker_a"].principal
    family, dorm = rooms
    stay = services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)
    assert stay.bed == 1 and stay.household_size == 1
    cap = _availability(shelter, p)
    assert cap.known and cap.free_beds == 4 + 1
    services.stay_admit(by=p, client=_client(p, children=2), room_id=family.pk)
    cap = _availability(shelter, p)
    assert cap.free_beds == 1 and cap.free_family_rooms == ()


def test_a_full_room_and_a_household_that_does_not_fit_are_refused(personas, rooms):
    p = personas["caseworker_a"].principal
    family, dorm = rooms
    with pytest.raises(ServiceError) as exc:
        services.stay_admit(by=p, client=_client(p, children=1), room_id=dorm.pk)
    assert exc.value.code == "household_too_large"
    with pytest.raises(ServiceError) as exc:
        services.stay_admit(by=p, client=_client(p, children=4), room_id=family.pk)
    assert exc.value.code == "household_too_large"
    services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)
    services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)
    with pytest.raises(ServiceError) as exc:
        services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)
    assert exc.value.code == "room_full"
    assert Stay.objects.count() == 2


def test_discharge_frees_the_bed_and_records_the_outcome(personas, rooms, as_persona):
    p = personas["caseworker_a"].principal
    _family, dorm = rooms
    client = _client(p)
    stay = services.stay_admit(by=p, client=client, room_id=dorm.pk)
    r = as_persona("caseworker_a").post(
        reverse("cases:stays", args=[client.case_code]),
        {"discharge": "1", "outcome": "independent_housing", "sure": "1"},
    )
    assert r.status_code == 302 and reverse("cases:aftercare", args=[client.case_code]) in r.url
    stay.refresh_from_db()
    assert stay.outcome == "independent_housing" and stay.discharged_at is not None
    services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)
    services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)


def test_another_organisation_cannot_admit_into_these_rooms(personas, rooms):
    p = personas["caseworker_b"].principal
    with pytest.raises(ServiceError) as exc:
        services.stay_admit(by=p, client=_client(p), room_id=rooms[1].pk)
    assert exc.value.code == "forbidden"


def test_the_database_refuses_two_women_in_one_bed(personas, rooms):
    from django.db import IntegrityError, transaction

    p = personas["caseworker_a"].principal
    dorm = rooms[1]
    services.stay_admit(by=p, client=_client(p), room_id=dorm.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stay.objects.create(
            client=_client(p),
            facility=dorm.facility,
            room=dorm,
            bed=1,
            household_size=1,
            admitted_at=timezone.now(),
            admitted_by="bug",
        )


@pytest.mark.django_db(transaction=True)
def test_the_last_bed_goes_to_exactly_one_of_many_concurrent_admissions(orgs):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite's in-memory test database is one connection; the race runs on PostgreSQL in CI"
        )
    from tests.conftest import make_user

    facility = make_facility(orgs["a"], "Last bed", rooms=[("dorm", 1)])
    room = Room.objects.get(facility=facility)
    from refuge.core.access import Principal

    p = Principal.for_user(make_user(orgs["a"], "caseworker", "racer"))
    clients = [_client(p) for _ in range(12)]
    results: list[str] = []
    barrier = threading.Barrier(len(clients))

    def admit(c):
        try:
            barrier.wait()
            services.stay_admit(by=p, client=c, room_id=room.pk)
            results.append("ok")
        except ServiceError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=admit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and results.count("room_full") == len(clients) - 1
    assert Stay.objects.filter(room=room, discharged_at__isnull=True).count() == 1


def test_discharge_without_the_tick_does_nothing_and_says_why(personas, rooms, as_persona):
    p = personas["caseworker_a"].principal
    client = _client(p)
    stay = services.stay_admit(by=p, client=client, room_id=rooms[1].pk)
    url = reverse("cases:stays", args=[client.case_code])
    c = as_persona("caseworker_a")
    assert 'name="sure"' in c.get(url).content.decode()
    r = c.post(url, {"discharge": "1", "outcome": "independent_housing"})
    assert r.status_code == 200 and "Tick the box to confirm." in r.content.decode()
    c.cookies["django_language"] = "ru"
    r = c.post(url, {"discharge": "1", "outcome": "independent_housing"})
    assert "Отметьте флажок, чтобы подтвердить." in r.content.decode()
    stay.refresh_from_db()
    assert stay.discharged_at is None and stay.outcome == ""


def test_another_organisation_cannot_discharge_even_with_the_tick(personas, rooms, as_persona):
    p = personas["caseworker_a"].principal
    client = _client(p)
    stay = services.stay_admit(by=p, client=client, room_id=rooms[1].pk)
    r = as_persona("caseworker_b").post(
        reverse("cases:stays", args=[client.case_code]),
        {"discharge": "1", "outcome": "independent_housing", "sure": "1"},
    )
    assert r.status_code in (403, 404)
    stay.refresh_from_db()
    assert stay.discharged_at is None
