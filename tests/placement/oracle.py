"""A brute-force oracle for refuge.placement.fit, written from its contract, not its code.

Deliberately different in shape: each rule is a small function returning a verdict
("fail", "unsure" or None) for one (household, facility) pair; capacity is decided by listing
every single place (each family room, each dorm bed) and trying the household in each; the
distance uses 3-D unit vectors and a chord instead of the haversine formula.
"""

from __future__ import annotations

import math
from collections import Counter

R_KM = 6371.0088
BORDERLINE_KM = 1e-6


def _vector(p):
    lat, lon = math.radians(p[0]), math.radians(p[1])
    return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))


def chord_distance_km(a, b) -> float:
    va, vb = _vector(a), _vector(b)
    chord = math.sqrt(sum((x - y) ** 2 for x, y in zip(va, vb, strict=True)))
    return 2 * R_KM * math.asin(min(1.0, chord / 2))


def _places(family_rooms, dorm_beds):
    """Every single place: ('family', beds) per room, ('dorm', 1) per bed."""
    places = [("family", beds) for beds in family_rooms]
    places += [("dorm", 1) for _ in range(dorm_beds)]
    return places


def _holds(place, size) -> bool:
    kind, beds = place
    if kind == "dorm":
        return size == 1
    return beds >= size


class Borderline(Exception):
    """The distance is too close to the threshold for two formulas to agree; skip."""


def oracle(h, f):
    """Returns (reasons, unverified, capacity_known, largest_household_now).

    reasons and unverified are Counters of (code, frozenset(params)), except too_close,
    whose parameters (rounded distances) are left out.
    """
    bad: Counter = Counter()
    unsure: Counter = Counter()
    r = f.rules
    size = 1 + len(h.children) + h.other_adults
    boys = [c.age for c in h.children if c.sex == "male"]
    girls = [c.age for c in h.children if c.sex == "female"]

    def fail(code, **params):
        bad[(code, frozenset(params.items()))] += 1

    def doubt(code, **params):
        unsure[(code, frozenset(params.items()))] += 1

    def yes_no(flag_needed: bool, rule, code):
        if not flag_needed:
            return
        if rule is False:
            fail(code)
        if rule is None:
            doubt(code)

    if f.compromised:
        fail("compromised")
    if r.women_only is True and h.gender != "female":
        fail("gender")
    if r.min_age is not None and r.min_age > h.woman_age:
        fail("too_young", min_age=r.min_age)

    has_children = len(h.children) > 0
    no_children_at_all = has_children and r.children_accepted is False
    yes_no(has_children, r.children_accepted, "children_not_accepted")
    if not no_children_at_all:
        if r.boys_max_age is not None and any(age > r.boys_max_age for age in boys):
            fail("boys_age_limit", limit=r.boys_max_age)
        if r.girls_max_age is not None and any(age > r.girls_max_age for age in girls):
            fail("girls_age_limit", limit=r.girls_max_age)

    # Size: the rule on children and the rooms themselves, each its own reason.
    if not no_children_at_all and r.max_children is not None:
        if len(h.children) > r.max_children:
            fail("household_too_large", max_children=r.max_children)
    every_place = _places(f.capacity.family_rooms, f.capacity.dorm_beds)
    if every_place and not any(_holds(p, size) for p in every_place):
        biggest = max(beds for _kind, beds in every_place)
        fail("household_too_large", size=size, largest=biggest)

    known = f.capacity.free_family_rooms is not None and f.capacity.free_dorm_beds is not None
    largest = None
    if known:
        free_places = _places(f.capacity.free_family_rooms, f.capacity.free_dorm_beds)
        if not any(_holds(p, size) for p in free_places):
            fail("no_capacity")  # listed even when the household is too large anyway
        largest = 0
        for _kind, beds in free_places:
            largest = max(largest, beds)
        if largest > 0:
            if r.children_accepted is False:
                largest = 1
            elif r.max_children is not None and largest > r.max_children + 1:
                largest = r.max_children + 1

    yes_no(h.pets > 0, r.pets_accepted, "pets_not_accepted")
    yes_no("wheelchair" in h.needs, r.wheelchair_accessible, "no_wheelchair_access")
    yes_no("substance_use" in h.needs, r.substance_use_accepted, "substance_use_not_accepted")
    yes_no("mental_health" in h.needs, r.mental_health_accepted, "mental_health_not_accepted")

    # Citizenship: three states, spelled out as a table.
    if not h.citizenship or not f.country:
        state = "unknown"
    elif h.citizenship == f.country:
        state = "citizen"
    else:
        state = "foreign"

    if "passport" not in h.documents:
        if r.requires_passport is True:
            fail("documents_required", document="passport")
        elif r.requires_passport is None:
            doubt("documents_required", document="passport")
    if "residence_permit" not in h.documents:
        table = {
            ("foreign", True): fail,
            ("foreign", None): doubt,
            ("unknown", True): doubt,
        }
        action = table.get((state, r.requires_residence_permit))
        if action:
            action("documents_required", document="residence_permit")
    if "local_registration" not in h.documents:
        if r.requires_local_registration is True:
            fail("local_registration_required")
        elif r.requires_local_registration is None:
            doubt("local_registration_required")
    table = {("foreign", False): fail, ("foreign", None): doubt, ("unknown", False): doubt}
    action = table.get((state, r.foreign_citizens_accepted))
    if action:
        action("foreign_citizens_not_accepted")

    if h.languages:
        common = set(h.languages) & set(r.staff_languages)
        if not r.staff_languages:
            doubt("no_common_language")
        elif not common:
            (doubt if r.interpretation else fail)("no_common_language")

    if h.stay_days is not None and r.max_stay_days is not None and h.stay_days > r.max_stay_days:
        fail("stay_too_long", max_days=r.max_stay_days)

    # Safety: too_close parameters are not compared (they carry rounded distances). Being in
    # an avoided region and being too near an avoided point are two reasons; not knowing where
    # the facility is (for either rule) is one.
    distance_rule = h.min_distance_km > 0 and len(h.avoid_points) > 0
    cannot_tell = False
    if h.avoid_regions:
        if f.region == "":
            cannot_tell = True
        elif f.region in h.avoid_regions:
            bad[("too_close", frozenset())] += 1
    if distance_rule:
        if f.point is None:
            cannot_tell = True
        else:
            nearest = min(chord_distance_km(f.point, p) for p in h.avoid_points)
            if abs(nearest - h.min_distance_km) < BORDERLINE_KM:
                raise Borderline
            if nearest < h.min_distance_km:
                bad[("too_close", frozenset())] += 1
    if cannot_tell:
        bad[("too_close", frozenset())] += 1

    return bad, unsure, known, largest


def normalise(reasons) -> Counter:
    """A fit result's reasons in the oracle's form."""
    out: Counter = Counter()
    for reason in reasons:
        params = frozenset() if reason.code == "too_close" else frozenset(reason.params)
        out[(reason.code, params)] += 1
    return out
