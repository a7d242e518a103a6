"""Ranking against a brute-force oracle: every facility exactly once, hard rules never broken,
and the order and scores recomputed independently."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.placement.fit import Capacity, Child, Facility, Household, Rules
from refuge.placement.rank import Candidate, Preferences, rank
from tests.placement.oracle import Borderline, chord_distance_km, oracle
from tests.placement.test_fit import POINTS, facilities, households

SERVICES = ["psychologist", "lawyer", "gynaecologist", "interpretation", "child_psychologist"]


@st.composite
def candidates(draw):
    f = draw(facilities())
    availability = (
        ("confirmed" if draw(st.booleans()) else "reported") if f.capacity.known else "unknown"
    )
    return Candidate(
        facility=f,
        name=f"Facility {f.id[:4]}",
        services=frozenset(draw(st.sets(st.sampled_from(SERVICES)))),
        availability=availability,
    )


def oracle_score(h, c, prefs, unverified_count):
    """The score from the module docstring, computed the long way."""
    f = c.facility
    if prefs.home_point is not None and f.point is not None:
        d = chord_distance_km(prefs.home_point, f.point)
        travel = 1 / (1 + d / 300)
    else:
        travel = 0.5
    services = (
        1.0
        if not prefs.services
        else sum(1 for s in prefs.services if s in c.services) / len(prefs.services)
    )
    language = (
        1.0
        if not h.languages or any(lang in f.rules.staff_languages for lang in h.languages)
        else 0.5
    )
    size = 1 + len(h.children) + h.other_adults
    if not f.capacity.known:
        tight = 0.5
    else:
        units = [b for b in f.capacity.free_family_rooms if b >= size]
        if size == 1 and f.capacity.free_dorm_beds > 0:
            units.append(1)
        tight = size / min(units)
    certainty = max(0.0, 1 - 0.25 * unverified_count)
    return 0.35 * travel + 0.25 * services + 0.15 * language + 0.15 * tight + 0.10 * certainty


@settings(max_examples=300, deadline=None)
@given(
    households(),
    st.lists(candidates(), min_size=1, max_size=30, unique_by=lambda c: c.facility.id),
    st.one_of(st.none(), st.sampled_from(POINTS)),
    st.sets(st.sampled_from(SERVICES), max_size=3),
)
def test_ranking_agrees_with_the_brute_force_oracle(h, cands, home, wanted):
    prefs = Preferences(home_point=home, services=frozenset(wanted))
    ranking = rank(h, cands, prefs)
    ids = [r.facility_id for r in ranking.results] + [e.facility_id for e in ranking.excluded]
    assert sorted(ids) == sorted(c.facility.id for c in cands)  # each exactly once

    expected = []
    for c in cands:
        try:
            bad, unsure, _known, _largest = oracle(h, c.facility)
        except Borderline:
            return
        if bad:
            assert c.facility.id in {e.facility_id for e in ranking.excluded}
            continue
        score = oracle_score(h, c, prefs, sum(unsure.values()))
        expected.append((0 if c.facility.capacity.known else 1, -score, c.facility.id))
    got = {r.facility_id: r for r in ranking.results}
    assert set(got) == {fid for _k, _s, fid in expected}  # no hard rule broken, none missed
    for _known, neg_score, fid in expected:
        assert math.isclose(got[fid].score, -neg_score, abs_tol=2e-4)
        assert 0 <= got[fid].score <= 1
    # Known availability first, then score, then id (ties within rounding may swap places).
    order = [(0 if r.availability != "unknown" else 1, -r.score) for r in ranking.results]
    assert order == sorted(order)


def _fac(fid, region, point, free_family=(), free_dorm=0, family=(4,), dorm=4, **rules):
    return Facility(
        id=fid,
        region=region,
        country=region[:2],
        point=point,
        rules=Rules(**rules),
        capacity=Capacity(
            family_rooms=family,
            dorm_beds=dorm,
            free_family_rooms=free_family,
            free_dorm_beds=free_dorm,
        ),
    )


MOSCOW, VLADIMIR, TVER, YAROSLAVL = (55.75, 37.62), (56.13, 40.41), (56.86, 35.9), (57.63, 39.87)


def test_a_woman_with_sons_of_15_and_9_and_a_dog():
    """The question the board must answer (SPEC C3), worked by hand."""
    h = Household(
        woman_age=34,
        children=(Child(15, "male"), Child(9, "female")),
        pets=1,
        avoid_regions=frozenset({"RU-MOW"}),
        avoid_points=(MOSCOW,),
        min_distance_km=100,
        languages=frozenset({"ru"}),
    )
    cands = [
        Candidate(_fac("moscow", "RU-MOW", MOSCOW, free_family=(4,), pets_accepted=True), "Moscow"),
        Candidate(
            _fac(
                "boys14", "RU-VLA", VLADIMIR, free_family=(4,), boys_max_age=14, pets_accepted=True
            ),
            "B14",
        ),
        Candidate(_fac("nopets", "RU-TVE", TVER, free_family=(3,), pets_accepted=False), "No pets"),
        Candidate(_fac("full", "RU-YAR", YAROSLAVL, free_family=(), pets_accepted=True), "Full"),
        Candidate(
            _fac(
                "yes",
                "RU-YAR",
                YAROSLAVL,
                free_family=(3, 5),
                boys_max_age=16,
                pets_accepted=True,
                staff_languages=frozenset({"ru"}),
            ),
            "Yes",
            availability="confirmed",
        ),
        Candidate(
            Facility(
                id="unknown",
                region="RU-VLA",
                country="RU",
                point=VLADIMIR,
                rules=Rules(pets_accepted=True),
                capacity=Capacity(family_rooms=(4,)),
            ),
            "Unknown",
        ),
    ]
    r = rank(h, cands, Preferences(home_point=MOSCOW, home_region="RU-MOW"))
    assert [x.facility_id for x in r.results] == ["yes", "unknown"]
    assert r.results[1].availability == "unknown"
    why = {e.facility_id: {x.code for x in e.reasons} for e in r.excluded}
    assert why == {
        "moscow": {"too_close"},
        "boys14": {"boys_age_limit"},
        "nopets": {"pets_not_accepted"},
        "full": {"no_capacity"},
    }
    best = r.results[0]
    codes = {x.code for x in best.reasons}
    assert {"place_confirmed", "family_room_fits", "distance", "common_language"} <= codes
    assert dict(next(x for x in best.reasons if x.code == "family_room_fits").params)["beds"] == 3


def test_a_single_woman_gets_a_dorm_bed_before_a_family_room():
    h = Household(woman_age=30)
    dorm = Candidate(
        _fac("dorm", "RU-VLA", VLADIMIR, free_family=(), free_dorm=2), availability="reported"
    )
    family = Candidate(
        _fac("family", "RU-VLA", VLADIMIR, free_family=(5,), free_dorm=0), availability="reported"
    )
    assert [x.facility_id for x in rank(h, [family, dorm]).results] == ["dorm", "family"]


@pytest.mark.parametrize("wanted, first", [({"lawyer"}, "a"), ({"psychologist"}, "b")])
def test_wanted_services_decide_between_equal_facilities(wanted, first):
    h = Household(woman_age=30)
    a = Candidate(
        _fac("a", "RU-VLA", VLADIMIR, free_dorm=1),
        services=frozenset({"lawyer"}),
        availability="reported",
    )
    b = Candidate(
        _fac("b", "RU-VLA", VLADIMIR, free_dorm=1),
        services=frozenset({"psychologist"}),
        availability="reported",
    )
    assert rank(h, [a, b], Preferences(services=frozenset(wanted))).results[0].facility_id == first


@settings(max_examples=200, deadline=None)
@given(
    households(),
    st.lists(candidates(), min_size=0, max_size=30, unique_by=lambda c: c.facility.id),
    st.booleans(),
)
def test_the_lazy_excluded_list_holds_what_an_eager_one_would(h, cands, hidden):
    """rank keeps the excluded as rows and makes an Excluded only when one is read: the same
    facilities, names and reasons, in the order (fewest reasons, then id), however read."""
    from dataclasses import replace

    from refuge.placement.fit import coarse_reasons, fit
    from refuge.placement.rank import Excluded

    cands = [replace(c, hidden=hidden, shown_point=None) for c in cands]
    eager = []
    for c in cands:
        reasons = fit(h, c.facility).reasons
        if reasons:
            if hidden and h.min_distance_km > 0:
                reasons = coarse_reasons(reasons, h.min_distance_km)
            eager.append(Excluded(c.facility.id, c.name, reasons))
    eager.sort(key=lambda e: (len(e.reasons), e.facility_id))

    lazy = rank(h, cands).excluded
    assert len(lazy) == len(eager)
    assert list(lazy) == eager
    assert lazy == eager
    assert [lazy[i] for i in range(len(lazy))] == eager
    assert [lazy[i] for i in range(-len(lazy), 0)] == eager
    assert lazy[1:] == eager[1:] and lazy[::-1] == eager[::-1]
    assert lazy.rows() == [(e.facility_id, e.name, e.reasons) for e in eager]
    assert bool(lazy) is bool(eager)
    if eager:
        assert eager[0] in lazy and lazy.index(eager[-1]) == len(eager) - 1


@settings(max_examples=200, deadline=None)
@given(
    households(),
    st.lists(candidates(), min_size=0, max_size=30, unique_by=lambda c: c.facility.id),
    st.integers(0, 30),
    st.sets(st.sampled_from(SERVICES), max_size=3),
)
def test_ranking_columns_is_ranking_candidates_and_makes_only_the_fitting_ones(
    h, cands, split, wanted
):
    from dataclasses import replace

    from refuge.placement.fit import fit
    from refuge.placement.rank import rank_columns

    cands = [replace(c, hidden=i % 3 == 0) for i, c in enumerate(cands)]
    prefs = Preferences(home_point=POINTS[0], services=frozenset(wanted))
    columns, more = cands[:split], cands[split:]
    made = []

    def candidate(i):
        made.append(i)
        return columns[i]

    by_columns = rank_columns(
        h,
        [c.facility for c in columns],
        [c.name for c in columns],
        [c.hidden for c in columns],
        candidate,
        prefs,
        more=iter(more),
    )
    assert by_columns == rank(h, cands, prefs)
    assert made == [i for i, c in enumerate(columns) if fit(h, c.facility).ok]
