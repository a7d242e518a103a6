"""Evacuation planner against an exhaustive oracle on small instances, and its guarantees."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.placement.evacuation import (
    Destination,
    Evacuee,
    eligibility,
    eligible_facilities,
    plan_evacuation,
    plan_optimal,
)
from refuge.placement.fit import Capacity, Child, Facility, Household, Rules, fit
from refuge.placement.geo import distance_km

ORIGIN = (55.75, 37.62)  # the compromised facility (Moscow)
POINTS = [(56.13, 40.41), (56.86, 35.9), (57.63, 39.87), (54.19, 37.62), (55.75, 37.62)]


@st.composite
def households(draw):
    kids = tuple(
        Child(draw(st.integers(0, 16)), draw(st.sampled_from(["male", "female"])))
        for _ in range(draw(st.integers(0, 3)))
    )
    return Household(
        woman_age=draw(st.integers(18, 60)),
        children=kids,
        avoid_points=(ORIGIN,),
        min_distance_km=draw(st.sampled_from([0, 50, 150])),
    )


@st.composite
def destinations(draw, index):
    family = tuple(draw(st.lists(st.integers(1, 5), max_size=2)))
    dorm = draw(st.integers(0, 2))
    rules = Rules(
        children_accepted=draw(st.sampled_from([None, True, False])),
        boys_max_age=draw(st.sampled_from([None, 10, 14])),
    )
    f = Facility(
        id=f"f{index}",
        region="RU-X",
        country="RU",
        point=draw(st.sampled_from(POINTS)),
        rules=rules,
        capacity=Capacity(family_rooms=family, dorm_beds=dorm),
    )
    return Destination(facility=f, free_family_rooms=family, free_dorm_beds=dorm)


@st.composite
def instances(draw):
    hs = draw(st.lists(households(), min_size=1, max_size=5))
    ds = [draw(destinations(i)) for i in range(draw(st.integers(1, 3)))]
    return [Evacuee(f"h{i}", h) for i, h in enumerate(hs)], ds


def brute_force(evacuees, dests):
    """Try every assignment of each household to one unit (or none); the lexicographic best."""
    units = []
    for i, d in enumerate(dests):
        units += [(i, "family", b) for b in d.free_family_rooms]
        units += [(i, "dorm", 1)] * d.free_dorm_beds
    options = []
    for e in evacuees:
        ok = set(eligible_facilities(e.household, dests))
        opts = [None] + [
            u
            for u, (i, kind, beds) in enumerate(units)
            if i in ok
            and (
                (kind == "dorm" and e.household.size == 1)
                or (kind == "family" and beds >= e.household.size)
            )
        ]
        options.append(opts)
    best = (-1, 0.0)
    for choice in itertools.product(*options):
        used = [u for u in choice if u is not None]
        if len(used) != len(set(used)):
            continue
        people = sum(
            e.household.size for e, u in zip(evacuees, choice, strict=True) if u is not None
        )
        km = sum(distance_km(ORIGIN, dests[units[u][0]].facility.point) for u in used)
        if people > best[0] or (people == best[0] and km < best[1] - 1e-6):
            best = (people, km)
    return best


@settings(max_examples=200, deadline=None)
@given(instances())
def test_the_plan_is_optimal_against_exhaustive_search(instance):
    evacuees, dests = instance
    result = plan_evacuation(evacuees, dests, origin=ORIGIN)
    people, km = brute_force(evacuees, dests)
    assert result.optimal.status == "optimal" and result.optimal.gap == 0.0
    assert result.optimal.people_placed == people
    assert abs(result.optimal.travel_km - km) <= 0.1 * len(evacuees) + 1e-6


@settings(max_examples=200, deadline=None)
@given(instances())
def test_never_worse_than_greedy_never_split_never_over_capacity_never_unsafe(instance):
    evacuees, dests = instance
    result = plan_evacuation(evacuees, dests, origin=ORIGIN)
    opt, greedy = result.optimal, result.greedy
    assert opt.people_placed >= greedy.people_placed
    if opt.people_placed == greedy.people_placed:
        assert opt.travel_km <= greedy.travel_km + 0.1 * len(evacuees)
    by_id = {e.id: e.household for e in evacuees}
    for plan in (opt, greedy):
        ids = [a.evacuee_id for a in plan.assignments] + plan.unplaced
        assert sorted(ids) == sorted(by_id)  # each household once, whole
        used = Counter((a.facility_id, a.unit, a.beds) for a in plan.assignments)
        for (fid, unit, beds), n in used.items():
            d = next(d for d in dests if d.facility.id == fid)
            free = d.free_dorm_beds if unit == "dorm" else d.free_family_rooms.count(beds)
            assert n <= free
        for a in plan.assignments:
            h = by_id[a.evacuee_id]
            d = next(d for d in dests if d.facility.id == a.facility_id)
            assert a.beds >= h.size and (a.unit == "family" or h.size == 1)
            rules_only = Facility(
                id=d.facility.id,
                region=d.facility.region,
                country="RU",
                point=d.facility.point,
                rules=d.facility.rules,
            )
            assert fit(h, rules_only).ok


def test_optimal_places_families_that_greedy_strands():
    """Greedy puts the first single woman into the only family room; the plan does not."""
    single, family = (
        Household(woman_age=30),
        Household(woman_age=35, children=(Child(5, "female"),) * 2),
    )
    near = Destination(
        Facility(id="near", point=POINTS[0], capacity=Capacity(family_rooms=(3,))), (3,), 0
    )
    far = Destination(Facility(id="far", point=POINTS[2], capacity=Capacity(dorm_beds=1)), (), 1)
    result = plan_evacuation(
        [Evacuee("s", single), Evacuee("f", family)], [near, far], origin=ORIGIN
    )
    assert result.greedy.people_placed == 1 and result.greedy.unplaced == ["f"]
    assert result.optimal.people_placed == 4 and not result.optimal.unplaced
    assert result.extra_people_placed == 3


def test_the_compromised_facility_and_the_threat_region_are_never_used():
    h = Household(woman_age=30, avoid_regions=frozenset({"RU-MOW"}))
    home = Destination(
        Facility(
            id="home",
            region="RU-MOW",
            point=ORIGIN,
            compromised=True,
            capacity=Capacity(dorm_beds=5),
        ),
        (),
        5,
    )
    same_region = Destination(
        Facility(id="mow2", region="RU-MOW", point=ORIGIN, capacity=Capacity(dorm_beds=5)), (), 5
    )
    result = plan_evacuation([Evacuee("a", h)], [home, same_region], origin=ORIGIN)
    assert result.optimal.unplaced == ["a"] and result.greedy.unplaced == ["a"]


# --- eligibility decided once per group of households ------------------------------------------


def per_pair_eligibility(h, dests):
    """The planner's eligibility before grouping, kept as the oracle: `fit` for this household
    and each destination with its availability made unknown (one `dataclasses.replace` each)."""
    from dataclasses import replace

    return [
        i
        for i, d in enumerate(dests)
        if fit(
            h,
            replace(
                d.facility,
                capacity=Capacity(
                    family_rooms=d.facility.capacity.family_rooms,
                    dorm_beds=d.facility.capacity.dorm_beds,
                ),
            ),
        ).ok
    ]


MAYBE = st.sampled_from([None, True, False])
PLACES = [*POINTS, None]


@st.composite
def varied_households(draw):
    """Every field the rules read, drawn from small sets so that groups have several members."""
    kids = tuple(
        Child(draw(st.integers(0, 17)), draw(st.sampled_from(["male", "female"])))
        for _ in range(draw(st.integers(0, 4)))
    )
    points = draw(st.sampled_from([(), (ORIGIN,), (ORIGIN, POINTS[1])]))
    return Household(
        woman_age=draw(st.integers(14, 70)),
        children=kids,
        other_adults=draw(st.integers(0, 1)),
        pets=draw(st.integers(0, 1)),
        gender=draw(st.sampled_from(["female", "female", "male"])),
        needs=frozenset(draw(st.sets(st.sampled_from(["wheelchair", "substance_use"])))),
        documents=frozenset(draw(st.sets(st.sampled_from(["passport", "residence_permit"])))),
        citizenship=draw(st.sampled_from(["", "RU", "UA"])),
        languages=frozenset(draw(st.sets(st.sampled_from(["ru", "uk"]), max_size=1))),
        stay_days=draw(st.sampled_from([None, 30, 90, 200])),
        avoid_regions=frozenset(draw(st.sets(st.sampled_from(["RU-MOW", "RU-VLA"]), max_size=1))),
        avoid_points=points,
        min_distance_km=draw(st.sampled_from([0, 50, 150, 300])),
    )


@st.composite
def varied_destinations(draw, index):
    family = tuple(draw(st.lists(st.integers(1, 6), max_size=3)))
    dorm = draw(st.integers(0, 3))
    rules = Rules(
        women_only=draw(st.booleans()),
        min_age=draw(st.sampled_from([None, 16, 18, 25])),
        children_accepted=draw(MAYBE),
        max_children=draw(st.sampled_from([None, 1, 2, 3])),
        boys_max_age=draw(st.sampled_from([None, 10, 14])),
        girls_max_age=draw(st.sampled_from([None, 12, 16])),
        pets_accepted=draw(MAYBE),
        wheelchair_accessible=draw(MAYBE),
        substance_use_accepted=draw(MAYBE),
        requires_passport=draw(MAYBE),
        requires_residence_permit=draw(MAYBE),
        requires_local_registration=draw(MAYBE),
        foreign_citizens_accepted=draw(MAYBE),
        staff_languages=frozenset(draw(st.sets(st.sampled_from(["ru", "uk", "en"])))),
        interpretation=draw(st.booleans()),
        max_stay_days=draw(st.sampled_from([None, 60, 180])),
    )
    f = Facility(
        id=f"f{index}",
        region=draw(st.sampled_from(["", "RU-MOW", "RU-VLA", "RU-TVE"])),
        country=draw(st.sampled_from(["", "RU"])),
        point=draw(st.sampled_from(PLACES)),
        rules=rules,
        capacity=Capacity(family_rooms=family, dorm_beds=dorm),
        compromised=draw(st.integers(0, 9)) == 0,
    )
    return Destination(f, free_family_rooms=family, free_dorm_beds=dorm)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(varied_households(), min_size=1, max_size=12),
    st.integers(1, 8).flatmap(lambda n: st.tuples(*(varied_destinations(i) for i in range(n)))),
)
def test_grouped_eligibility_is_the_per_pair_evaluation(hs, dests):
    dests = list(dests)
    evacuees = [Evacuee(f"h{i}", h) for i, h in enumerate(hs)]
    shared = eligibility(evacuees, dests, origin=ORIGIN)
    assert shared.complete
    for h in hs:
        assert shared.of(h) == per_pair_eligibility(h, dests)
    # Stronger: households of one group get the very same answer, reasons and all.
    rules_only = [
        Facility(
            id=d.facility.id,
            rules=d.facility.rules,
            capacity=Capacity(d.facility.capacity.family_rooms, d.facility.capacity.dorm_beds),
            country=d.facility.country,
            region=d.facility.region,
            point=d.facility.point,
            compromised=d.facility.compromised,
        )
        for d in dests
    ]
    for a, b in itertools.combinations(hs, 2):
        if shared.key_of[a] == shared.key_of[b]:
            assert [fit(a, f) for f in rules_only] == [fit(b, f) for f in rules_only]
    assert shared.kms == [distance_km(ORIGIN, d.facility.point) if d.facility.point else 0.0
                          for d in dests]  # fmt: skip


# --- the time limit ------------------------------------------------------------------------------


def _many_groups():
    """Twelve kinds of household (sizes 1 to 4, boys of several ages), three of each, and room
    for all of them far from the threat."""
    hs = [
        Household(
            woman_age=30,
            children=(Child(age, "male"),) * n,
            avoid_points=(ORIGIN,),
            min_distance_km=50,
        )  # fmt: skip
        for n in range(4)
        for age in (5, 11, 15)
    ]
    evacuees = [Evacuee(f"h{i}-{k}", h) for i, h in enumerate(hs) for k in range(3)]
    dests = [
        Destination(
            Facility(
                id=f"f{i}",
                point=point,
                rules=Rules(boys_max_age=limit),
                capacity=Capacity(family_rooms=(4, 4, 3, 2), dorm_beds=4),
            ),
            (4, 4, 3, 2),
            4,
        )
        for i, (point, limit) in enumerate(itertools.product(POINTS[:4], (None, 10, 14)))
    ]
    return evacuees, dests


def _assert_feasible(plan, evacuees, dests):
    by_id = {e.id: e.household for e in evacuees}
    ids = [a.evacuee_id for a in plan.assignments] + plan.unplaced
    assert sorted(ids) == sorted(by_id)  # each household once, whole
    used = Counter((a.facility_id, a.unit, a.beds) for a in plan.assignments)
    for (fid, unit, beds), n in used.items():
        d = next(d for d in dests if d.facility.id == fid)
        assert n <= (d.free_dorm_beds if unit == "dorm" else d.free_family_rooms.count(beds))
    for a in plan.assignments:
        h = by_id[a.evacuee_id]
        i = next(i for i, d in enumerate(dests) if d.facility.id == a.facility_id)
        assert a.beds >= h.size and (a.unit == "family" or h.size == 1)
        assert i in per_pair_eligibility(h, dests)


def test_a_tiny_time_limit_stops_early_with_a_feasible_partial_plan_and_a_gap():
    evacuees, dests = _many_groups()
    full = plan_evacuation(evacuees, dests, origin=ORIGIN)
    assert (
        not full.optimal.stopped_early and full.optimal.people_placed == full.optimal.people_total
    )
    result = plan_evacuation(evacuees, dests, origin=ORIGIN, time_limit_s=0.0)
    for plan in (result.optimal, result.greedy):
        assert plan.stopped_early and plan.status == "stopped early (time limit)"
        _assert_feasible(plan, evacuees, dests)
        assert 0 < plan.people_placed < plan.people_total  # one group decided, not all
        assert plan.bound_people == plan.people_total
        assert plan.gap is not None and plan.gap > 0
        assert plan.gap == pytest.approx(
            (plan.bound_people - plan.people_placed) / plan.bound_people
        )
    alone = plan_optimal(evacuees, dests, origin=ORIGIN, time_limit_s=0.0)
    assert alone.stopped_early and alone.gap > 0
    _assert_feasible(alone, evacuees, dests)


def test_within_the_time_limit_the_plan_is_not_flagged():
    evacuees, dests = _many_groups()
    result = plan_evacuation(evacuees, dests, origin=ORIGIN, time_limit_s=60)
    assert not result.optimal.stopped_early and not result.greedy.stopped_early
    assert result.optimal.status == "optimal" and result.optimal.gap == 0.0
