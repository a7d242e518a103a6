"""Every reason that applies (SPEC "Placement search", issue 15 item 5): a metamorphic property.

Adding a second violation to a household or a facility never removes a reason already there,
except the moot pairs the fit module documents (an age limit, or a cap on children, under
"children not accepted"). Checked on fit and on the brute-force oracle alike, and fit agrees
with the oracle before and after.
"""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from refuge.placement import fit as fitmod
from refuge.placement.fit import REASON_CODES, Capacity, Child, Household, Rules, fit
from tests.placement.oracle import Borderline, normalise, oracle
from tests.placement.test_fit import BISHKEK, MOSCOW, facilities, households

# The moot pairs of refuge.placement.fit's docstring, written out again here on purpose: a change
# to them must be a change to this test too.
MOOT_UNDER_NO_CHILDREN = {"boys_age_limit", "girls_age_limit"}


def _rules(f, **changes):
    return dataclasses.replace(f, rules=dataclasses.replace(f.rules, **changes))


def _cap(f, **changes):
    return dataclasses.replace(f, capacity=dataclasses.replace(f.capacity, **changes))


def _largest_room(f) -> int:
    return max(max(f.capacity.family_rooms, default=0), 1 if f.capacity.dorm_beds else 0)


# Each: (name, the code it adds, a function (h, f) -> (h, f) or None when it does not apply).
def _compromise(h, f):
    return h, dataclasses.replace(f, compromised=True)


def _gender(h, f):
    return dataclasses.replace(h, gender="male"), _rules(f, women_only=True)


def _too_young(h, f):
    return h, _rules(f, min_age=h.woman_age + 1)


def _no_children(h, f):
    h = dataclasses.replace(h, children=(*h.children, Child(4, "female")))
    return h, _rules(f, children_accepted=False)


def _boys(h, f):
    limit = 12 if f.rules.boys_max_age is None else min(12, f.rules.boys_max_age)
    return dataclasses.replace(h, children=(*h.children, Child(15, "male"))), _rules(
        f, boys_max_age=limit
    )


def _girls(h, f):
    limit = 5 if f.rules.girls_max_age is None else min(5, f.rules.girls_max_age)
    return dataclasses.replace(h, children=(*h.children, Child(9, "female"))), _rules(
        f, girls_max_age=limit
    )


def _max_children(h, f):
    if not h.children:
        return None
    return h, _rules(f, max_children=len(h.children) - 1)


def _too_large_for_rooms(h, f):
    largest = _largest_room(f)
    if largest == 0 or h.size > largest:
        return None
    extra = tuple(Child(2, "female") for _ in range(largest - h.size + 1))
    return dataclasses.replace(h, children=(*h.children, *extra)), f


def _full(h, f):
    return h, _cap(f, free_family_rooms=(), free_dorm_beds=0)


def _pets(h, f):
    return dataclasses.replace(h, pets=1), _rules(f, pets_accepted=False)


def _need(need, rule):
    def add(h, f):
        return dataclasses.replace(h, needs=h.needs | {need}), _rules(f, **{rule: False})

    return add


def _passport(h, f):
    return dataclasses.replace(h, documents=h.documents - {"passport"}), _rules(
        f, requires_passport=True
    )


def _registration(h, f):
    return dataclasses.replace(h, documents=h.documents - {"local_registration"}), _rules(
        f, requires_local_registration=True
    )


def _foreign(h, f):
    if not f.country or h.citizenship == f.country:
        return None
    if not h.citizenship:
        h = dataclasses.replace(h, citizenship="UA" if f.country != "UA" else "KG")
    return h, _rules(f, foreign_citizens_accepted=False)


def _language(h, f):
    return dataclasses.replace(h, languages=frozenset({"de"})), _rules(
        f, staff_languages=frozenset({"ru"}), interpretation=False
    )


def _stay(h, f):
    limit = 300 if f.rules.max_stay_days is None else f.rules.max_stay_days
    return dataclasses.replace(h, stay_days=limit + 1), _rules(f, max_stay_days=limit)


def _avoid_region(h, f):
    region = f.region or "RU-MOW"
    return dataclasses.replace(h, avoid_regions=h.avoid_regions | {region}), f


def _too_near(h, f):
    points = h.avoid_points or (f.point or MOSCOW,)
    if f.point is not None and f.point not in points:
        points = (*points, f.point)
    return dataclasses.replace(h, avoid_points=points, min_distance_km=25000.0), f


VIOLATIONS = [
    ("compromised", _compromise),
    ("gender", _gender),
    ("too_young", _too_young),
    ("children_not_accepted", _no_children),
    ("boys_age_limit", _boys),
    ("girls_age_limit", _girls),
    ("household_too_large", _max_children),
    ("household_too_large", _too_large_for_rooms),
    ("no_capacity", _full),
    ("pets_not_accepted", _pets),
    ("no_wheelchair_access", _need("wheelchair", "wheelchair_accessible")),
    ("substance_use_not_accepted", _need("substance_use", "substance_use_accepted")),
    ("mental_health_not_accepted", _need("mental_health", "mental_health_accepted")),
    ("documents_required", _passport),
    ("local_registration_required", _registration),
    ("foreign_citizens_not_accepted", _foreign),
    ("no_common_language", _language),
    ("stay_too_long", _stay),
    ("too_close", _avoid_region),
    ("too_close", _too_near),
]


def _moot(code: str, params, codes_after) -> bool:
    """Whether a reason may be missing after the change: only the documented moot pairs."""
    if "children_not_accepted" not in codes_after:
        return False
    return code in MOOT_UNDER_NO_CHILDREN or (
        code == "household_too_large" and "max_children" in dict(params)
    )


def _kept(before, after_codes):
    """The reasons of `before` ((code, params) pairs) that are missing from after, less moot."""
    return [(c, p) for c, p in before if c not in after_codes and not _moot(c, p, after_codes)]


def _check(h, f, h2, f2, added):
    try:
        expected_before = oracle(h, f)[0]
        expected_after = oracle(h2, f2)[0]
    except Borderline:
        return
    before, after = fit(h, f), fit(h2, f2)
    # fit lists exactly the oracle's reasons, before and after the change
    assert normalise(before.reasons) == expected_before, (h, f)
    assert normalise(after.reasons) == expected_after, (h2, f2)
    # the change made its own violation (unless that one is moot)
    assert added in after.codes or _moot(added, (), after.codes) or added == "household_too_large"
    # the metamorphic relation, on fit and on the oracle
    assert _kept([(r.code, r.params) for r in before.reasons], set(after.codes)) == [], (
        before.codes,
        after.codes,
    )
    oracle_after = {code for code, _p in expected_after}
    assert _kept(list(expected_before), oracle_after) == []
    # a stable order: the order of REASON_CODES
    positions = [REASON_CODES.index(c) for c in after.codes]
    assert positions == sorted(positions), after.codes


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households(), facilities(), st.sampled_from(VIOLATIONS))
def test_adding_a_second_violation_never_removes_the_first_reason(h, f, violation):
    added, change = violation
    changed = change(h, f)
    assume(changed is not None)
    h2, f2 = changed
    _check(h, f, h2, f2, added)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households(), facilities(), st.sampled_from(VIOLATIONS), st.sampled_from(VIOLATIONS))
def test_two_violations_added_one_after_the_other_keep_every_reason(h, f, one, two):
    first = one[1](h, f)
    assume(first is not None)
    second = two[1](*first)
    assume(second is not None)
    _check(*first, *second, two[0])


# --- the cases of the issue, by hand ------------------------------------------------------------

OPEN = Rules(
    children_accepted=True,
    pets_accepted=True,
    requires_passport=False,
    requires_residence_permit=False,
    requires_local_registration=False,
    foreign_citizens_accepted=True,
)
FULL_FAMILY_ROOMS = Capacity(
    family_rooms=(3, 2), dorm_beds=2, free_family_rooms=(), free_dorm_beds=2
)


def _facility(**kw):
    kw.setdefault("rules", OPEN)
    kw.setdefault("capacity", FULL_FAMILY_ROOMS)
    return fitmod.Facility(id="f", country="RU", region="RU-VLA", point=(56.13, 40.41), **kw)


def test_a_full_house_stays_full_when_the_household_is_also_too_large():
    mother_and_son = Household(woman_age=30, children=(Child(5, "male"),))
    assert fit(mother_and_son, _facility()).codes == ("no_capacity",)
    four_children = dataclasses.replace(
        mother_and_son, children=tuple(Child(a, "male") for a in (2, 4, 6, 8))
    )
    result = fit(four_children, _facility())
    assert result.codes == ("household_too_large", "no_capacity")


def test_a_cap_on_children_and_small_rooms_are_two_reasons():
    h = Household(woman_age=30, children=tuple(Child(a, "female") for a in (2, 4, 6)))
    result = fit(h, _facility(rules=dataclasses.replace(OPEN, max_children=2)))
    assert [r.data for r in result.reasons if r.code == "household_too_large"] == [
        {"max_children": 2},
        {"size": 4, "largest": 3},
    ]


def test_an_avoided_region_and_a_short_distance_are_two_reasons_safety_first():
    h = Household(
        woman_age=30,
        pets=1,
        avoid_regions=frozenset({"RU-VLA"}),
        avoid_points=((56.0, 40.0),),
        min_distance_km=100,
    )
    result = fit(h, _facility(rules=dataclasses.replace(OPEN, pets_accepted=False)))
    assert result.codes == ("too_close", "too_close", "pets_not_accepted")
    assert result.reasons[0].data == {"region": "RU-VLA"}
    assert set(result.reasons[1].data) == {"km"}


def test_an_age_limit_under_no_children_is_the_one_documented_moot_reason():
    h = Household(woman_age=30, children=(Child(15, "male"),))
    rules = dataclasses.replace(OPEN, children_accepted=False, boys_max_age=12)
    assert fit(h, _facility(rules=rules)).codes == ("children_not_accepted", "no_capacity")
    assert ("boys_age_limit", "children_not_accepted") in fitmod.MOOT


def test_a_hidden_point_shows_only_the_threshold_never_how_close():
    h = Household(woman_age=30, avoid_points=(BISHKEK,), min_distance_km=100)
    near = fit(h, _near_bishkek())
    assert near.reasons[0].data["km"] == 11
    shown = fitmod.coarse_reasons(near.reasons, 100)
    assert [r.data for r in shown] == [{"within": 100}]


def _near_bishkek():
    return fitmod.Facility(id="b", country="KG", region="KG-C", point=(42.87, 74.72))


def test_ranking_a_hidden_point_judges_it_but_shows_only_its_region():
    from refuge.placement.rank import Candidate, Preferences, rank

    h = Household(woman_age=30, avoid_points=(BISHKEK,), min_distance_km=100)
    centre = (41.5, 75.0)  # its region's centre, far from Bishkek
    near = _near_bishkek()
    hidden = rank(h, [Candidate(near, "Near", hidden=True, shown_point=centre)])
    assert [r.data for r in hidden.excluded[0].reasons] == [{"within": 100}]
    seen = rank(h, [Candidate(near, "Near")])
    assert seen.excluded[0].reasons[0].data == {"km": 11}
    far = dataclasses.replace(near, point=(41.0, 73.0))
    shown = rank(
        Household(woman_age=30),
        [Candidate(far, "Far", hidden=True, shown_point=centre)],
        Preferences(home_point=BISHKEK),
    )
    from refuge.placement.geo import distance_km

    assert shown.results[0].distance_km == round(distance_km(BISHKEK, centre), 1)
