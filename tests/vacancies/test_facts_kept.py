"""What placement search keeps between searches (refuge.vacancies.facts: the directory's facts,
kept per process under the facts version) is never stale: after every service that writes
facilities, house rules, services, rooms, regions or organisations, and after a write made by
another process, a search gives what a search with nothing kept gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.services import ServiceError
from refuge.directory.models import Facility, Region
from refuge.directory.services import (
    facility_services_set,
    facility_set_compromised,
    facility_update,
    house_rules_update,
)
from refuge.referrals import search
from refuge.vacancies import facts
from refuge.vacancies.models import FactsVersion, Room
from refuge.vacancies.services import (
    availability_report,
    availability_settings_update,
    room_create,
    room_update,
)
from tests.directory.factories import make_facility

pytestmark = pytest.mark.django_db

FAMILY = {
    "woman_age": 34,
    "children": [{"age": 15, "sex": "male"}, {"age": 9, "sex": "female"}],
    "pets": 1,
    "languages": ["ru"],
    "services": ["lawyer"],
    "home_region": "RU-MOW",
}
OPERATOR = Principal(name="op", role="operator", organisation=None)
FACILITATOR = Principal(name="fac", role="facilitator", organisation=None)


def outcome(p: Principal = OPERATOR) -> Any:
    """Everything a search answers, comparable."""
    result = search.search(p, search.household_from(FAMILY))
    return (
        [
            (r.facility_id, r.name, r.region, r.distance_km, r.score, r.free_beds)
            + (r.availability, r.reasons, r.unverified)
            for r in result.ranking.results
        ],
        [(e.facility_id, e.name, e.reasons) for e in result.ranking.excluded],
    )


def fresh(p: Principal = OPERATOR) -> Any:
    """What a search answers in a process that keeps nothing yet."""
    kept = keep()
    facts.clear_kept()
    try:
        return outcome(p)
    finally:
        back(kept)


def keep() -> tuple[dict, ...]:
    """What this process keeps, as a copy."""
    return dict(facts._DIRECTORIES), dict(facts._VERSIONED), dict(facts._ROOMS)


def back(kept: tuple[dict, ...]) -> None:
    """This process again, keeping what it kept."""
    facts.clear_kept()
    facts._DIRECTORIES.update(kept[0])
    facts._VERSIONED.update(kept[1])
    facts._ROOMS.update(kept[2])


def org() -> Organisation:
    return Organisation.objects.create(slug="kept", name="Kept", kind="shelter")


@pytest.fixture
def network():
    FactsVersion.objects.get_or_create(pk=1)  # a flushed database has none: nothing is kept
    o = org()
    a = make_facility(
        o, "A", region="RU-VLA", rooms=[("family", 4), ("dorm", 6)], free=[4, 3],
        services=["lawyer"], address_visibility="public", latitude=56.1, longitude=40.4,
    )  # fmt: skip
    b = make_facility(
        o, "B", region="RU-YAR", rooms=[("family", 3)], free=[3],
        address_visibility="confidential", latitude=57.6, longitude=39.9,
    )  # fmt: skip
    c = make_facility(o, "C", region="RU-MOW", rooms=[("dorm", 2)], free=[1])
    return {"a": a, "b": b, "c": c}


def test_a_second_search_reads_the_kept_facts_and_answers_the_same(network):
    first = outcome()
    version = facts.facts_version("default")
    assert version is not None
    assert any(v == version for v, _d in facts._DIRECTORIES.values())
    assert outcome() == first == fresh()


def _rules(f):
    house_rules_update(by=None, facility=f, pets_accepted=False)


def _rules_children(f):
    house_rules_update(by=None, facility=f, boys_max_age=10)


def _languages(f):
    house_rules_update(by=None, facility=f, staff_languages=["cs"])


def _name(f):
    facility_update(by=None, facility=f, name="Renamed")


def _inactive(f):
    facility_update(by=None, facility=f, is_active=False)


def _visibility(f):
    facility_update(by=None, facility=f, address_visibility="professionals")


def _point(f):
    facility_update(by=None, facility=f, latitude=43.2, longitude=76.9)


def _region(f):
    facility_update(by=None, facility=f, region="RU-TVE")


def _services(f):
    facility_services_set(by=None, facility=f, services=["psychologist"])


def _compromised(f):
    facility_set_compromised(by=None, facility=f, compromised=True)


def _room_added(f):
    room_create(by=None, facility=f, name="New", kind="family", beds=5)


def _room_changed(f):
    room = Room.objects.filter(facility=f).first()
    room_update(by=None, room=room, name=room.name, kind="dorm", beds=1)


def _room_out_of_service(f):
    room = Room.objects.filter(facility=f).first()
    room_update(
        by=None, room=room, name=room.name, kind=room.kind, beds=room.beds, in_service=False
    )


def _report(f):
    availability_report(
        by=None, facility=f, free_beds={r.pk: 0 for r in Room.objects.filter(facility=f)}
    )


def _ttl(f):
    availability_settings_update(
        by=None, facility=f, source="reported", ttl_hours=1, publish_availability=False
    )


def _region_centre(f):  # not through a service: the triggers see any statement
    Region.objects.filter(code=f.region_id).update(latitude=10.0, longitude=10.0)


def _organisation(f):
    Organisation.objects.filter(pk=f.organisation_id).update(name="Renamed organisation")


def _room_raw(f):  # not through a service: the rooms' triggers see any statement
    Room.objects.filter(facility=f).update(reported_free_beds=0)


def _room_deleted(f):
    Room.objects.filter(facility=f).delete()


def _deleted(f):
    Facility.objects.filter(pk=f.pk).delete()


WRITES = [
    _rules, _rules_children, _languages, _name, _inactive, _visibility, _point, _region,
    _services, _compromised, _room_added, _room_changed, _room_out_of_service, _report, _ttl,
    _region_centre, _organisation, _deleted, _room_raw, _room_deleted,
]  # fmt: skip


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__.strip("_"))
@pytest.mark.parametrize("which", ["a", "b"])
def test_every_write_is_seen_by_the_next_search(network, write, which):
    for p in (OPERATOR, FACILITATOR):
        outcome(p)  # kept
    before = facts.facts_version("default")
    write(network[which])
    for p in (OPERATOR, FACILITATOR):
        assert outcome(p) == fresh(p)
    if write not in (
        _report, _ttl, _room_added, _room_changed, _room_out_of_service, _room_raw, _room_deleted
    ):  # fmt: skip
        # Rooms and reports are read by every search; the rest is kept, under the version.
        assert facts.facts_version("default") != before


def test_a_report_reads_again_the_rooms_of_that_facility_only(network):
    o = Organisation.objects.get(slug="kept")
    for i in range(5):  # one facility in eight changes: its rooms alone are read again
        make_facility(o, f"More {i}", rooms=[("dorm", 2)], free=[2])
    facts.clear_kept()
    outcome()
    (tokens, flats, _memo), *_ = facts._ROOMS.values()
    a, b = (facts._text(i) for i in (network["a"].pk, network["b"].pk))
    by_text = {facts._text(k): k for k in tokens}
    before = {x: (tokens[by_text[x]], flats[by_text[x]]) for x in (a, b)}
    _report(network["a"])
    assert outcome() == fresh()
    (tokens, flats, _memo), *_ = facts._ROOMS.values()
    assert tokens[by_text[a]] != before[a][0] and flats[by_text[a]] != before[a][1]
    assert tokens[by_text[b]] == before[b][0] and flats[by_text[b]] is before[b][1]


def test_a_report_in_another_process_is_seen_by_the_next_search_here(network):
    ours = outcome()
    kept = keep()
    facts.clear_kept()  # the other process
    availability_report(
        by=None,
        facility=network["a"],
        free_beds={r.pk: 0 for r in Room.objects.filter(facility=network["a"])},
    )
    theirs = outcome()
    back(kept)
    assert outcome() == theirs != ours


def test_a_write_in_another_process_is_seen_by_the_next_search_here(network):
    """Two processes: this one keeps the facts; the other (its own, empty keep) changes the
    rules. This one's next search reads the new version and makes the facts again."""
    ours = outcome()
    kept = keep()
    facts.clear_kept()  # the other process
    house_rules_update(by=None, facility=network["a"], children_accepted=False)
    theirs = outcome()
    back(kept)  # this one, with what it kept before the write
    assert outcome() == theirs != ours
    excluded = {e[0]: e[2] for e in theirs[1]}
    assert "children_not_accepted" in {r.code for r in excluded[str(network["a"].pk)]}


def test_a_write_rolled_back_leaves_nothing_kept_behind(network):
    before = outcome()
    with pytest.raises(RuntimeError), transaction.atomic():
        house_rules_update(by=None, facility=network["a"], children_accepted=False)
        assert outcome() != before  # kept under the rolled-back version
        raise RuntimeError
    assert outcome() == before == fresh()
    house_rules_update(by=None, facility=network["a"], pets_accepted=False)
    assert outcome() == fresh()


def test_without_a_version_row_nothing_is_kept(network):
    FactsVersion.objects.all().delete()
    facts.clear_kept()
    first = outcome()
    assert not facts._DIRECTORIES
    house_rules_update(by=None, facility=network["a"], children_accepted=False)
    assert outcome() == fresh() != first


RULE_VALUES = {
    "children_accepted": st.sampled_from([True, False, None]),
    "boys_max_age": st.sampled_from([None, 10, 14, 18]),
    "pets_accepted": st.sampled_from([True, False, None]),
    "max_children": st.sampled_from([None, 1, 3]),
    "staff_languages": st.sampled_from([[], ["ru"], ["cs", "ky"]]),
}
WRITE = st.one_of(
    st.tuples(st.just("rules"), st.sampled_from("abc"), st.fixed_dictionaries(RULE_VALUES)),
    st.tuples(
        st.just("visibility"),
        st.sampled_from("abc"),
        st.sampled_from(["public", "professionals", "confidential"]),
    ),  # fmt: skip
    st.tuples(
        st.just("services"),
        st.sampled_from("abc"),
        st.lists(st.sampled_from(["lawyer", "psychologist"]), unique=True),
    ),  # fmt: skip
    st.tuples(st.just("room"), st.sampled_from("abc"), st.integers(1, 6)),
    st.tuples(st.just("active"), st.sampled_from("abc"), st.booleans()),
    st.tuples(st.just("compromised"), st.sampled_from("abc"), st.booleans()),
    st.tuples(st.just("report"), st.sampled_from("abc"), st.booleans()),
)


class TestKeptAgainstFresh(HypothesisTestCase):
    """Random writes, a search after each: the search with what this process kept answers as a
    search with nothing kept, for a professional and for a facilitator."""

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(st.lists(WRITE, min_size=1, max_size=5))
    def test_kept_and_fresh_agree(self, writes):
        FactsVersion.objects.get_or_create(pk=1)
        o = org()
        net = {
            "a": make_facility(o, "A", region="RU-VLA", rooms=[("family", 4)], free=[4],
                               address_visibility="public", latitude=56.1, longitude=40.4),
            "b": make_facility(o, "B", region="RU-YAR", rooms=[("dorm", 3)], free=[2]),
            "c": make_facility(o, "C", region="RU-MOW", rooms=[("family", 3)], free=[3]),
        }  # fmt: skip
        for p in (OPERATOR, FACILITATOR):
            outcome(p)
        for kind, which, value in writes:
            f = Facility.objects.get(pk=net[which].pk)
            try:
                if kind == "rules":
                    house_rules_update(by=None, facility=f, **value)
                elif kind == "visibility":
                    facility_update(by=None, facility=f, address_visibility=value)
                elif kind == "services":
                    facility_services_set(by=None, facility=f, services=value)
                elif kind == "room":
                    room_create(by=None, facility=f, name=f"R{Room.objects.count()}", kind="dorm",
                                beds=value)  # fmt: skip
                elif kind == "active":
                    facility_update(by=None, facility=f, is_active=value)
                elif kind == "report":
                    rooms = Room.objects.filter(facility=f)
                    free = {r.pk: r.beds if value else 0 for r in rooms}
                    availability_report(by=None, facility=f, free_beds=free)
                else:
                    facility_set_compromised(by=None, facility=f, compromised=value)
            except ServiceError:  # refused (children limits without children): nothing written
                pass
            for p in (OPERATOR, FACILITATOR):
                assert outcome(p) == fresh(p)


def test_a_kept_search_reads_less_than_a_fresh_one(network):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as fresh_search:  # forgets what is kept: conftest
        outcome()
    was = connection.force_debug_cursor
    connection.force_debug_cursor = True
    start = len(connection.queries_log)
    try:
        outcome()  # with what the first search kept
        kept = len(connection.queries_log) - start
    finally:
        connection.force_debug_cursor = was
    assert 0 < kept < len(fresh_search), (kept, len(fresh_search))


def test_the_sheet_kept_between_searches_follows_the_clock_and_the_sources(network):
    """A search reuses the last one's availability for the facilities that cannot have changed
    (FactSheet._read): not across a report's time-to-live (forward or back in time), not for a
    facility a source uses a room of now or used one of then, not for a derived figure."""
    from datetime import timedelta

    from django.utils import timezone

    from refuge.vacancies.availability import (
        register_occupancy_source,
        unregister_occupancy_source,
    )

    household = search.household_from(FAMILY)

    def at(when, p=OPERATOR):
        result = search.search(p, household, at=when)
        return (
            [(r.facility_id, r.score, r.free_beds, r.availability, r.reasons)
             for r in result.ranking.results],
            result.ranking.excluded.rows(),
            [(a.status, a.free_beds, a.as_of, a.expires_at, a.unknown_reason, a.since, a.capped)
             for a in result.sheet.availability],
        )  # fmt: skip

    def fresh_at(when, p=OPERATOR):
        kept = keep()
        facts.clear_kept()
        try:
            return at(when, p)
        finally:
            back(kept)

    used: dict = {}

    def source(ids, when):
        return dict(used)

    register_occupancy_source(source)
    try:
        a, b = network["a"], network["b"]
        availability_settings_update(by=None, facility=a, source="reported", ttl_hours=1)
        _report(a)
        now = timezone.now()
        times = [0, 20, 90, 30, -2000, 30, 61, 59, 600, 0]
        for minutes in times:
            when = now + timedelta(minutes=minutes)
            assert at(when) == fresh_at(when), minutes
        room = Room.objects.filter(facility=b).first()
        for use in ({room.pk: (1, 1, 0)}, {room.pk: (1, 1, 0)}, {}, {room.pk: 3}, {}):
            used.clear()
            used.update(use)
            assert at(now) == fresh_at(now) == at(now), use
        availability_settings_update(by=None, facility=b, source="system", ttl_hours=24)
        for minutes in (0, 5, 5, 3000, 3001):
            used.clear()
            used.update({room.pk: 1} if minutes == 3000 else {})
            when = now + timedelta(minutes=minutes)
            assert at(when) == fresh_at(when), minutes
    finally:
        unregister_occupancy_source(source)
