"""refuge.placement.fit against a brute-force oracle, and one hand case per reason code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuge.placement import fit as fitmod
from refuge.placement.fit import (
    REASON_CODES,
    Capacity,
    Child,
    Facility,
    Household,
    Rules,
    check_household,
    fit,
    fit_many,
    sort_key,
)
from tests.placement.oracle import Borderline, normalise, oracle

SPEC_CODES = {
    "no_capacity",
    "household_too_large",
    "children_not_accepted",
    "boys_age_limit",
    "girls_age_limit",
    "too_young",
    "gender",
    "pets_not_accepted",
    "no_wheelchair_access",
    "substance_use_not_accepted",
    "mental_health_not_accepted",
    "documents_required",
    "local_registration_required",
    "foreign_citizens_not_accepted",
    "no_common_language",
    "too_close",
    "stay_too_long",
    "compromised",
}

MOSCOW = (55.75, 37.62)
VLADIMIR = (56.13, 40.41)  # about 180 km from Moscow
BISHKEK = (42.87, 74.59)
POINTS = [MOSCOW, VLADIMIR, BISHKEK, (59.22, 39.89), (50.08, 14.43)]
REGIONS = ["RU-MOW", "RU-VLA", "KG-GB", "RU-VLG", "CZ-10"]

tri = st.sampled_from([None, True, False])
limits = st.sampled_from([None, 0, 5, 10, 12, 14, 16])
ages = st.sampled_from([0, 1, 3, 5, 9, 10, 12, 13, 14, 15, 16, 17])


@st.composite
def households(draw):
    children = tuple(
        Child(age=draw(ages), sex=draw(st.sampled_from(["male", "female"])))
        for _ in range(draw(st.integers(0, 5)))
    )
    avoid_points = tuple(draw(st.lists(st.sampled_from(POINTS), max_size=2, unique=True)))
    return Household(
        woman_age=draw(st.integers(12, 70)),
        children=children,
        other_adults=draw(st.integers(0, 2)),
        pets=draw(st.integers(0, 2)),
        gender=draw(st.sampled_from(["female", "female", "female", "male"])),
        needs=frozenset(draw(st.sets(st.sampled_from(sorted(fitmod.NEEDS))))),
        documents=frozenset(draw(st.sets(st.sampled_from(sorted(fitmod.DOCUMENTS))))),
        citizenship=draw(st.sampled_from(["", "RU", "KG", "CZ", "UA"])),
        languages=frozenset(draw(st.sets(st.sampled_from(["ru", "ky", "cs", "en"]), max_size=2))),
        stay_days=draw(st.one_of(st.none(), st.integers(0, 400))),
        avoid_regions=frozenset(draw(st.sets(st.sampled_from(REGIONS), max_size=2))),
        avoid_points=avoid_points,
        min_distance_km=draw(st.sampled_from([0, 0, 50, 100, 200, 500, 3000])),
    )


@st.composite
def facilities(draw):
    family = tuple(draw(st.lists(st.integers(1, 6), max_size=4)))
    dorm = draw(st.integers(0, 8))
    if draw(st.booleans()):
        free_family = tuple(b for b in family if draw(st.booleans()))
        free_dorm = draw(st.integers(0, dorm))
    else:
        free_family, free_dorm = None, None
    rules = Rules(
        women_only=draw(st.booleans()),
        min_age=draw(st.one_of(st.none(), st.integers(14, 25))),
        children_accepted=draw(tri),
        max_children=draw(st.one_of(st.none(), st.integers(0, 4))),
        boys_max_age=draw(limits),
        girls_max_age=draw(limits),
        pets_accepted=draw(tri),
        wheelchair_accessible=draw(tri),
        substance_use_accepted=draw(tri),
        mental_health_accepted=draw(tri),
        requires_passport=draw(tri),
        requires_residence_permit=draw(tri),
        requires_local_registration=draw(tri),
        foreign_citizens_accepted=draw(tri),
        staff_languages=frozenset(draw(st.sets(st.sampled_from(["ru", "ky", "cs", "en"])))),
        interpretation=draw(st.booleans()),
        max_stay_days=draw(st.one_of(st.none(), st.sampled_from([10, 14, 30, 300]))),
    )
    region_index = draw(st.integers(-1, len(REGIONS) - 1))
    region = REGIONS[region_index] if region_index >= 0 else ""
    point = draw(st.one_of(st.none(), st.sampled_from(POINTS)))
    country = region[:2] if region else draw(st.sampled_from(["", "RU"]))
    return Facility(
        id=str(draw(st.uuids())),
        rules=rules,
        capacity=Capacity(
            family_rooms=family,
            dorm_beds=dorm,
            free_family_rooms=free_family,
            free_dorm_beds=free_dorm,
        ),
        country=country,
        region=region,
        point=point,
        compromised=draw(st.integers(0, 9)) == 0,
    )


def _agree(h, f, result):
    try:
        bad, unsure, known, largest = oracle(h, f)
    except Borderline:
        return
    assert normalise(result.reasons) == bad, (h, f)
    assert normalise(result.unverified) == unsure, (h, f)
    assert result.capacity_known == known
    assert result.largest_household_now == largest
    assert result.ok == (not bad)
    assert result.facility_id == f.id


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households(), facilities())
def test_fit_agrees_with_the_brute_force_oracle(h, f):
    _agree(h, f, fit(h, f))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(households(), st.lists(facilities(), min_size=1, max_size=25))
def test_fit_many_agrees_with_the_oracle_for_each_facility_in_order(h, fs):
    results = fit_many(h, fs)
    assert [r.facility_id for r in results] == [f.id for f in fs]
    for f, result in zip(fs, results, strict=True):
        _agree(h, f, result)


def test_the_reason_codes_are_exactly_the_specs():
    assert set(REASON_CODES) == SPEC_CODES


def test_the_package_imports_no_django():
    root = Path(fitmod.__file__).parent
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] in {"django", "refuge"} for n in names), path


# --- one hand case per reason code -----------------------------------------------------------

OPEN = Rules(
    women_only=True,
    min_age=18,
    children_accepted=True,
    pets_accepted=True,
    wheelchair_accessible=True,
    substance_use_accepted=True,
    mental_health_accepted=True,
    requires_passport=False,
    requires_residence_permit=False,
    requires_local_registration=False,
    foreign_citizens_accepted=True,
    staff_languages=frozenset({"ru"}),
)
ROOMY = Capacity(family_rooms=(4, 3), dorm_beds=4, free_family_rooms=(4, 3), free_dorm_beds=4)
BASE_H = Household(woman_age=30, citizenship="RU", languages=frozenset({"ru"}))


def _facility(rules=OPEN, capacity=ROOMY, **kw):
    kw.setdefault("country", "RU")
    kw.setdefault("region", "RU-VLA")
    kw.setdefault("point", VLADIMIR)
    return Facility(id="f", rules=rules, capacity=capacity, **kw)


def _with(rules=None, **changes):
    values = {name: getattr(rules or OPEN, name) for name in Rules.__slots__}
    values.update(changes)
    return Rules(**values)


def _h(**changes):
    values = {name: getattr(BASE_H, name) for name in Household.__slots__}
    values.update(changes)
    return Household(**values)


SON_15_DAUGHTER_9 = (Child(15, "male"), Child(9, "female"))

HAND_CASES = {
    "no_capacity": (
        _h(children=(Child(3, "female"),)),
        _facility(capacity=Capacity((4,), 2, free_family_rooms=(), free_dorm_beds=2)),
    ),
    "household_too_large": (
        _h(children=(Child(3, "male"), Child(5, "male"), Child(7, "female"), Child(9, "male"))),
        _facility(capacity=Capacity((4, 3), 2)),  # availability unknown: no no_capacity
    ),
    "children_not_accepted": (
        _h(children=(Child(3, "female"),)),
        _facility(rules=_with(children_accepted=False)),
    ),
    "boys_age_limit": (_h(children=SON_15_DAUGHTER_9), _facility(rules=_with(boys_max_age=14))),
    "girls_age_limit": (_h(children=SON_15_DAUGHTER_9), _facility(rules=_with(girls_max_age=8))),
    "too_young": (_h(woman_age=17), _facility()),
    "gender": (_h(gender="male"), _facility()),
    "pets_not_accepted": (_h(pets=1), _facility(rules=_with(pets_accepted=False))),
    "no_wheelchair_access": (
        _h(needs=frozenset({"wheelchair"})),
        _facility(rules=_with(wheelchair_accessible=False)),
    ),
    "substance_use_not_accepted": (
        _h(needs=frozenset({"substance_use"})),
        _facility(rules=_with(substance_use_accepted=False)),
    ),
    "mental_health_not_accepted": (
        _h(needs=frozenset({"mental_health"})),
        _facility(rules=_with(mental_health_accepted=False)),
    ),
    "documents_required": (_h(), _facility(rules=_with(requires_passport=True))),
    "local_registration_required": (
        _h(documents=frozenset({"passport"})),
        _facility(rules=_with(requires_local_registration=True)),
    ),
    "foreign_citizens_not_accepted": (
        _h(citizenship="KG"),
        _facility(rules=_with(foreign_citizens_accepted=False)),
    ),
    "no_common_language": (_h(languages=frozenset({"ky"})), _facility()),
    "too_close": (
        _h(avoid_points=(MOSCOW,), min_distance_km=200, avoid_regions=frozenset({"RU-MOW"})),
        _facility(),
    ),
    "stay_too_long": (_h(stay_days=30), _facility(rules=_with(max_stay_days=14))),
    "compromised": (_h(), _facility(compromised=True)),
}


def test_the_base_household_fits_the_open_facility():
    result = fit(BASE_H, _facility())
    assert result.ok and not result.unverified
    assert result.capacity_known and result.largest_household_now == 4


@pytest.mark.parametrize("code", sorted(SPEC_CODES))
def test_each_reason_code_fires_alone_in_its_hand_case(code):
    h, f = HAND_CASES[code]
    result = fit(h, f)
    assert result.codes == (code,), result
    assert not result.ok


def test_boys_up_to_the_limit_age_itself_are_accepted():
    h = _h(children=(Child(14, "male"),))
    assert fit(h, _facility(rules=_with(boys_max_age=14))).ok
    assert fit(h, _facility(rules=_with(boys_max_age=13))).codes == ("boys_age_limit",)


def test_a_woman_with_sons_15_and_9_and_a_dog():
    h = _h(children=(Child(15, "male"), Child(9, "male")), pets=1)
    strict = _facility(rules=_with(boys_max_age=12, pets_accepted=False))
    assert set(fit(h, strict).codes) == {"boys_age_limit", "pets_not_accepted"}
    assert fit(h, _facility()).ok


def test_a_single_woman_takes_a_dorm_bed_but_a_family_does_not():
    dorm_only = Capacity((4,), 3, free_family_rooms=(), free_dorm_beds=3)
    assert fit(_h(), _facility(capacity=dorm_only)).ok
    family = _h(children=(Child(2, "female"),))
    assert fit(family, _facility(capacity=dorm_only)).codes == ("no_capacity",)


def test_a_household_larger_than_any_room_is_too_large_even_with_unknown_availability():
    unknown = Capacity((3,), 2)
    big = _h(children=(Child(1, "male"), Child(2, "male"), Child(3, "male")))
    result = fit(big, _facility(capacity=unknown))
    assert result.codes == ("household_too_large",)
    assert dict(result.reasons[0].params) == {"size": 4, "largest": 3}


def test_unknown_availability_does_not_exclude():
    result = fit(_h(), _facility(capacity=Capacity((4,), 2)))
    assert result.ok and not result.capacity_known and result.largest_household_now is None


def test_rules_not_stated_are_unverified_not_reasons():
    h = _h(pets=1, needs=frozenset({"wheelchair"}), children=(Child(4, "female"),))
    result = fit(h, _facility(rules=Rules(staff_languages=frozenset({"ru"}))))
    assert result.ok
    assert {r.code for r in result.unverified} >= {
        "pets_not_accepted",
        "no_wheelchair_access",
        "children_not_accepted",
        "documents_required",
        "local_registration_required",
    }


def test_interpretation_turns_a_missing_language_into_a_question():
    h = _h(languages=frozenset({"ky"}))
    result = fit(h, _facility(rules=_with(interpretation=True)))
    assert result.ok and [r.code for r in result.unverified] == ["no_common_language"]


def test_residence_permit_matters_only_for_foreign_citizens():
    rules = _with(requires_residence_permit=True)
    assert fit(_h(citizenship="RU"), _facility(rules=rules)).ok
    foreign = fit(_h(citizenship="KG"), _facility(rules=rules))
    assert foreign.codes == ("documents_required",)
    assert foreign.reasons[0].data == {"document": "residence_permit"}
    assert fit(
        _h(citizenship="KG", documents=frozenset({"residence_permit"})), _facility(rules=rules)
    ).ok


def test_distance_rule_uses_the_point_and_unknown_locations_are_excluded():
    h = _h(avoid_points=(MOSCOW,), min_distance_km=100)
    assert fit(h, _facility(point=VLADIMIR)).ok  # about 180 km
    assert fit(_h(avoid_points=(MOSCOW,), min_distance_km=250), _facility()).codes == ("too_close",)
    unknown = fit(h, _facility(point=None))
    assert unknown.codes == ("too_close",) and unknown.reasons[0].data == {"unknown_location": True}
    in_region = fit(_h(avoid_regions=frozenset({"RU-VLA"})), _facility())
    assert in_region.reasons[0].data == {"region": "RU-VLA"}


def test_largest_household_now_respects_children_rules():
    cap = Capacity((4,), 1, free_family_rooms=(4,), free_dorm_beds=1)
    assert fit(_h(), _facility(capacity=cap)).largest_household_now == 4
    assert (
        fit(_h(), _facility(rules=_with(max_children=2), capacity=cap)).largest_household_now == 3
    )
    no_kids = _with(children_accepted=False)
    assert fit(_h(), _facility(rules=no_kids, capacity=cap)).largest_household_now == 1


def test_sort_key_puts_known_fits_first_then_unknown_then_refusals():
    h = _h()
    known = fit(h, _facility())
    unknown = fit(h, _facility(capacity=Capacity((4,), 2)))
    refused = fit(h, _facility(compromised=True))
    ordered = sorted([refused, unknown, known], key=sort_key)
    assert ordered == [known, unknown, refused]


def test_check_household_reports_bad_input():
    bad = Household(woman_age=200, children=(Child(30, "x"),), needs=frozenset({"flying"}))
    problems = check_household(bad)
    assert len(problems) == 4
    assert check_household(_h(children=SON_15_DAUGHTER_9)) == []


def test_fit_many_answers_for_five_thousand_facilities_in_order():
    # Its speed is measured in bench/ranking.py (a timing is never a unit-test assertion).
    fs = [
        _facility(capacity=Capacity((4, 3), i % 5, (4,) if i % 2 else (), i % 3))
        for i in range(5000)
    ]
    h = _h(children=SON_15_DAUGHTER_9, pets=1, avoid_points=(MOSCOW,), min_distance_km=100)
    results = fit_many(h, fs)
    assert [r.facility_id for r in results] == [f.id for f in fs]
    assert results == [fit(h, f) for f in fs]
