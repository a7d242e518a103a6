"""Evacuation planner against an exhaustive oracle on small instances, and its guarantees."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.placement.evacuation import Destination, Evacuee, eligible_facilities, plan_evacuation
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
