"""Can this facility take this household now, and if not, why?

One pure function (`fit`) and its list form (`fit_many`), over plain frozen dataclasses. No
Django import: the directory and vacancies apps load the facts, placement search (SPEC C6)
ranks the results. The reason codes are the ones of SPEC.md "Placement search".

The contract, rule by rule (tests/placement/oracle.py implements it independently):

* A rule that is *stated* and not met gives a reason in ``Fit.reasons``; the facility cannot
  take the household. ``ok`` is true exactly when there is no reason.
* A yes/no rule that the facility has *not stated* (``None``) never excludes it: it gives the
  same code in ``Fit.unverified`` ("call to check"), and only when it matters for this
  household. Number limits (``min_age``, ``max_children``, age limits, ``max_stay_days``) that
  are ``None`` mean "no limit".
* ``gender``: a women-only facility and a household whose adult client is not a woman.
* ``too_young``: the woman is younger than ``min_age``.
* ``children_not_accepted``: she has children and the facility takes none.
* ``boys_age_limit`` / ``girls_age_limit``: a boy (girl) older than the limit (the limit age
  itself is accepted: "boys up to 14").
* ``household_too_large``: more children than ``max_children`` (a reason with
  ``max_children``); and, separately, when the rooms are known and no room in the facility could
  ever hold a household of this size (a reason with ``size`` and ``largest``; a family room
  holds one household of up to its beds; a dorm bed holds one woman alone). Both are listed
  when both apply.
* ``no_capacity``: availability is known and no free place fits the whole household now. It is
  listed beside ``household_too_large`` too: the caseworker needs to know that the house is also
  full. Unknown availability never excludes.
* ``pets_not_accepted``, ``no_wheelchair_access``, ``substance_use_not_accepted``,
  ``mental_health_not_accepted``: the household has pets / that need, the facility says no.
* ``documents_required``: a passport required and missing; or a residence permit required for
  a foreign citizen who has none. ``local_registration_required``: local registration required
  and missing. ``foreign_citizens_not_accepted``: her citizenship differs from the facility's
  country. An unknown citizenship or country makes the foreign-citizen rules unverified.
* ``no_common_language``: she speaks languages, the staff speak languages, none in common, and
  the facility offers no interpretation (with interpretation it is only unverified).
* ``stay_too_long``: she needs more days than ``max_stay_days``.
* ``too_close``: the facility is in a region she must avoid (a reason with ``region``); and,
  separately, nearer than ``min_distance_km`` to one of the points she must avoid (a reason with
  ``km``, the distance rounded); or we cannot tell (its region, or its point, is unknown: one
  reason with ``unknown_location``). The point is the facility's own point whenever it has one,
  confidential or not: this is judged on the server, and what a viewer may see of it is decided
  by the caller (`coarse_reasons`).
* ``compromised``: the facility's location is known to the threat (evacuation).

Every reason that applies is listed (SPEC "Placement search"), in the order of
``REASON_CODES`` (safety first, then who she is, her children, size and places, needs, papers,
language and stay), so that a page can show the first two and fold the rest. Within one code
the order is the order above (``max_children`` before ``size``; ``region`` before ``km``).

Moot reasons, left out on purpose. These exact pairs, and no others: under
``children_not_accepted`` (the facility takes no children at all),

* ``boys_age_limit`` and ``girls_age_limit`` are not listed, and
* ``household_too_large`` with ``max_children`` is not listed,

because any way round "no children" (the children stay elsewhere) is also a way round them.
``household_too_large`` for the rooms' size, ``no_capacity`` and every other reason are never
left out. So adding a second violation never removes a reason already there, except by making it
moot as above (tests/placement/test_reasons.py checks this against the brute-force oracle).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache, partial
from typing import Any

from .geo import Point, distance_km


class Code(StrEnum):
    # In the order in which an excluded facility lists its reasons.
    COMPROMISED = "compromised"
    TOO_CLOSE = "too_close"
    GENDER = "gender"
    TOO_YOUNG = "too_young"
    CHILDREN_NOT_ACCEPTED = "children_not_accepted"
    BOYS_AGE_LIMIT = "boys_age_limit"
    GIRLS_AGE_LIMIT = "girls_age_limit"
    HOUSEHOLD_TOO_LARGE = "household_too_large"
    NO_CAPACITY = "no_capacity"
    PETS_NOT_ACCEPTED = "pets_not_accepted"
    NO_WHEELCHAIR_ACCESS = "no_wheelchair_access"
    SUBSTANCE_USE_NOT_ACCEPTED = "substance_use_not_accepted"
    MENTAL_HEALTH_NOT_ACCEPTED = "mental_health_not_accepted"
    DOCUMENTS_REQUIRED = "documents_required"
    LOCAL_REGISTRATION_REQUIRED = "local_registration_required"
    FOREIGN_CITIZENS_NOT_ACCEPTED = "foreign_citizens_not_accepted"
    NO_COMMON_LANGUAGE = "no_common_language"
    STAY_TOO_LONG = "stay_too_long"


REASON_CODES: tuple[str, ...] = tuple(c.value for c in Code)
# The pairs (moot, because of) of the module docstring: the first is left out under the second.
MOOT: frozenset[tuple[str, str]] = frozenset(
    {
        ("boys_age_limit", "children_not_accepted"),
        ("girls_age_limit", "children_not_accepted"),
        ("household_too_large:max_children", "children_not_accepted"),
    }
)
# Plain strings for the hot path (an enum member lookup costs more than the rule it names).
_S = {c.name: c.value for c in Code}
NEEDS = frozenset({"wheelchair", "substance_use", "mental_health"})
DOCUMENTS = frozenset({"passport", "residence_permit", "local_registration"})
SEXES = frozenset({"male", "female"})


# For the classes made once per facility per search (fit's Facility and Fit, rank's Candidate,
# Excluded and Ranked): not frozen. A frozen dataclass's __init__ sets each field through
# object.__setattr__, four to five times slower: about 25 ms of CPU in a search over 5,000
# facilities (issue 18). They are used as immutable all the same (nothing assigns to them; they
# are equal and hashed by value, as frozen ones are).
made_often = dataclass(slots=True, unsafe_hash=True)


@dataclass(frozen=True, slots=True)
class Child:
    age: int
    sex: str  # "male" or "female"


@dataclass(frozen=True, slots=True)
class Household:
    """Who needs a place. Only ``woman_age`` is required (SPEC placement search)."""

    woman_age: int
    children: tuple[Child, ...] = ()
    other_adults: int = 0
    pets: int = 0
    gender: str = "female"
    needs: frozenset[str] = frozenset()
    documents: frozenset[str] = frozenset()
    citizenship: str = ""  # ISO 3166-1 alpha-2; "" when not known
    languages: frozenset[str] = frozenset()
    stay_days: int | None = None
    avoid_regions: frozenset[str] = frozenset()
    avoid_points: tuple[Point, ...] = ()  # e.g. centroids of the regions she must avoid
    min_distance_km: float = 0.0

    @property
    def size(self) -> int:
        return 1 + len(self.children) + self.other_adults


@dataclass(frozen=True, slots=True)
class Rules:
    """House rules. ``None`` on a yes/no rule: not stated; on a number: no limit."""

    women_only: bool = True
    min_age: int | None = None
    children_accepted: bool | None = None
    max_children: int | None = None
    boys_max_age: int | None = None
    girls_max_age: int | None = None
    pets_accepted: bool | None = None
    wheelchair_accessible: bool | None = None
    substance_use_accepted: bool | None = None
    mental_health_accepted: bool | None = None
    requires_passport: bool | None = None
    requires_residence_permit: bool | None = None
    requires_local_registration: bool | None = None
    foreign_citizens_accepted: bool | None = None
    staff_languages: frozenset[str] = frozenset()
    interpretation: bool = False
    max_stay_days: int | None = None


@dataclass(frozen=True, slots=True)
class Capacity:
    """Rooms in service and, when known, which of them are free now.

    ``family_rooms``: the beds of each family room (one household each). ``dorm_beds``: beds
    that each take one woman alone. ``free_*`` are ``None`` when availability is unknown
    (never reported, or the report is older than the facility's time-to-live).
    """

    family_rooms: tuple[int, ...] = ()
    dorm_beds: int = 0
    free_family_rooms: tuple[int, ...] | None = None
    free_dorm_beds: int | None = None

    @property
    def known(self) -> bool:
        return self.free_family_rooms is not None and self.free_dorm_beds is not None

    @property
    def rooms_known(self) -> bool:
        return bool(self.family_rooms) or self.dorm_beds > 0

    @property
    def largest_unit(self) -> int:
        return max(max(self.family_rooms, default=0), 1 if self.dorm_beds > 0 else 0)

    @property
    def largest_free_unit(self) -> int | None:
        if not self.known:
            return None
        assert self.free_family_rooms is not None and self.free_dorm_beds is not None
        return max(max(self.free_family_rooms, default=0), 1 if self.free_dorm_beds > 0 else 0)

    @property
    def free_beds(self) -> int | None:
        if not self.known:
            return None
        assert self.free_family_rooms is not None and self.free_dorm_beds is not None
        return sum(self.free_family_rooms) + self.free_dorm_beds


@made_often
class Facility:
    id: str
    rules: Rules = field(default_factory=Rules)
    capacity: Capacity = field(default_factory=Capacity)
    country: str = ""  # ISO 3166-1 alpha-2 of its region; "" when not known
    region: str = ""  # ISO 3166-2; "" when not known
    point: Point | None = None  # its own point, or its region's centroid
    compromised: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.params)


@made_often
class Fit:
    facility_id: str
    reasons: tuple[Reason, ...]
    unverified: tuple[Reason, ...]
    capacity_known: bool
    largest_household_now: int | None  # a woman and her children; None when unknown

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


class _Facts:
    """What the rules need to know about a household, computed once for many facilities."""

    __slots__ = (
        "h",
        "size",
        "n_children",
        "oldest_boy",
        "oldest_girl",
        "wheelchair",
        "substance_use",
        "mental_health",
        "passport",
        "residence_permit",
        "local_registration",
        "languages",
        "avoid_regions",
        "avoid_points",
        "min_distance",
        "avoiding",
        "any_need",
        "nearest",
        "not_female",
        "woman_age",
        "pets",
        "citizenship",
        "stay_days",
    )

    def __init__(self, h: Household, nearest: dict[Point, float] | None = None) -> None:
        self.h = h
        self.size = h.size
        self.n_children = len(h.children)
        self.oldest_boy = max((c.age for c in h.children if c.sex == "male"), default=None)
        self.oldest_girl = max((c.age for c in h.children if c.sex == "female"), default=None)
        self.wheelchair = "wheelchair" in h.needs
        self.substance_use = "substance_use" in h.needs
        self.mental_health = "mental_health" in h.needs
        self.passport = "passport" in h.documents
        self.residence_permit = "residence_permit" in h.documents
        self.local_registration = "local_registration" in h.documents
        self.languages = h.languages
        self.avoid_regions = h.avoid_regions
        self.avoid_points = h.avoid_points
        self.min_distance = h.min_distance_km if h.avoid_points else 0.0
        self.avoiding = bool(h.avoid_regions) or self.min_distance > 0
        self.any_need = self.wheelchair or self.substance_use or self.mental_health
        self.not_female = h.gender != "female"
        self.woman_age = h.woman_age
        self.pets = h.pets > 0
        self.citizenship = h.citizenship
        self.stay_days = h.stay_days
        # Distance to the nearest point to avoid, by facility point; households with the same
        # points to avoid share one (`nearest` in fit_many; otherwise the process's own, below).
        self.nearest: dict[Point, float] = (
            _nearest_to(self.avoid_points) if nearest is None else nearest
        )


# The distance from a point to the nearest of some points to avoid is a pure function of the
# two: kept per process for the last few sets of points to avoid (the regions women flee are
# few: a network's searches ask the same ones all day), so a search measures only the points
# it has not met before. Bounded: at most _NEAREST_SETS sets of at most _NEAREST_POINTS points.
_NEAREST: dict[tuple[Point, ...], dict[Point, float]] = {}
_NEAREST_SETS = 32
_NEAREST_POINTS = 100_000
_NEAREST_LOCK = threading.Lock()


def _nearest_to(avoid: tuple[Point, ...]) -> dict[Point, float]:
    if not avoid:
        return {}
    with _NEAREST_LOCK:
        try:
            found = _NEAREST.pop(avoid, None)  # put back last: the least used goes first
        except TypeError:  # not hashable (a list given for the tuple): nothing kept
            return {}
        if found is None or len(found) > _NEAREST_POINTS:
            found = {}
        while len(_NEAREST) >= _NEAREST_SETS:
            _NEAREST.pop(next(iter(_NEAREST)))
        _NEAREST[avoid] = found
    return found


@lru_cache(maxsize=4096)
def _R(code: str, **params: Any) -> Reason:
    # Reasons are immutable and few (a code and a limit): made once, shared by every facility.
    return Reason(code, tuple(sorted(params.items())) if params else ())


@lru_cache(maxsize=4096)
def _R1(code: str, name: str, value: Any) -> Reason:
    """``_R(code, name=value)`` without the keyword arguments (the hot path)."""
    return Reason(code, ((name, value),))


# The reasons without parameters, made once.
_COMPROMISED = _R(_S["COMPROMISED"])
_GENDER = _R(_S["GENDER"])
_CHILDREN_NOT_ACCEPTED = _R(_S["CHILDREN_NOT_ACCEPTED"])
_NO_CAPACITY = _R(_S["NO_CAPACITY"])
_PETS_NOT_ACCEPTED = _R(_S["PETS_NOT_ACCEPTED"])
_LOCAL_REGISTRATION_REQUIRED = _R(_S["LOCAL_REGISTRATION_REQUIRED"])
_FOREIGN_CITIZENS_NOT_ACCEPTED = _R(_S["FOREIGN_CITIZENS_NOT_ACCEPTED"])
_NO_COMMON_LANGUAGE = _R(_S["NO_COMMON_LANGUAGE"])
_PASSPORT = _R(_S["DOCUMENTS_REQUIRED"], document="passport")
_RESIDENCE_PERMIT = _R(_S["DOCUMENTS_REQUIRED"], document="residence_permit")
_UNKNOWN_LOCATION = _R(_S["TOO_CLOSE"], unknown_location=True)
_NEEDS = (
    ("wheelchair", "wheelchair_accessible", _R(_S["NO_WHEELCHAIR_ACCESS"])),
    ("substance_use", "substance_use_accepted", _R(_S["SUBSTANCE_USE_NOT_ACCEPTED"])),
    ("mental_health", "mental_health_accepted", _R(_S["MENTAL_HEALTH_NOT_ACCEPTED"])),
)


def _evaluate(x: _Facts, f: Facility) -> Fit:
    # The hot path of a search (thousands of facilities for one household): each rule reads
    # its attributes once, and reasons are shared objects. Reasons are appended in the order
    # of REASON_CODES; every one that applies is listed (moot ones aside: see the docstring).
    r = f.rules
    bad: list[Reason] = []
    unsure: list[Reason] = []

    if f.compromised:
        bad.append(_COMPROMISED)

    # Safety: the region, and the distance from the facility's own point.
    if x.avoiding:
        region = f.region
        unknown_location = False
        if x.avoid_regions:
            if not region:
                unknown_location = True
            elif region in x.avoid_regions:
                bad.append(_R1(_S["TOO_CLOSE"], "region", region))
        if x.min_distance > 0:
            point = f.point
            if point is None:
                unknown_location = True
            else:
                nearest = x.nearest.get(point)
                if nearest is None:  # many facilities share a point (their region's centre)
                    avoid = x.avoid_points
                    nearest = x.nearest[point] = min([distance_km(point, p) for p in avoid])
                if nearest < x.min_distance:
                    bad.append(_R1(_S["TOO_CLOSE"], "km", round(nearest)))
        if unknown_location:
            bad.append(_UNKNOWN_LOCATION)

    if x.not_female and r.women_only:
        bad.append(_GENDER)
    min_age = r.min_age
    if min_age is not None and x.woman_age < min_age:
        bad.append(_R1(_S["TOO_YOUNG"], "min_age", min_age))

    # Children
    children_accepted = r.children_accepted
    max_children = r.max_children
    children_refused = False
    if x.n_children:
        if children_accepted is False:
            bad.append(_CHILDREN_NOT_ACCEPTED)
            children_refused = True
        elif children_accepted is None:
            unsure.append(_CHILDREN_NOT_ACCEPTED)
    if not children_refused:  # under "no children" the age limits are moot
        oldest = x.oldest_boy
        if oldest is not None:
            limit = r.boys_max_age
            if limit is not None and oldest > limit:
                bad.append(_R1(_S["BOYS_AGE_LIMIT"], "limit", limit))
        oldest = x.oldest_girl
        if oldest is not None:
            limit = r.girls_max_age
            if limit is not None and oldest > limit:
                bad.append(_R1(_S["GIRLS_AGE_LIMIT"], "limit", limit))

    # Size and capacity
    cap = f.capacity
    size = x.size
    if not children_refused and max_children is not None and x.n_children > max_children:
        bad.append(_R1(_S["HOUSEHOLD_TOO_LARGE"], "max_children", max_children))
    family, dorm = cap.family_rooms, cap.dorm_beds
    if family or dorm > 0:  # the rooms are known
        # max(max(family, default=0), 1 if dorm > 0 else 0), with one call (thousands a search)
        floor = 1 if dorm > 0 else 0
        largest = max(family) if family else 0
        if largest < floor:
            largest = floor
        if size > largest:
            bad.append(_R(_S["HOUSEHOLD_TOO_LARGE"], size=size, largest=largest))
    largest_now: int | None = None
    free_rooms, free_dorm = cap.free_family_rooms, cap.free_dorm_beds
    known = free_rooms is not None and free_dorm is not None
    if known:
        free_rooms = free_rooms or ()
        free_dorm = free_dorm or 0
        largest_room = max(free_rooms) if free_rooms else 0
        fits_now = (size == 1 and free_dorm > 0) or (bool(free_rooms) and largest_room >= size)
        if not fits_now:
            bad.append(_NO_CAPACITY)
        floor = 1 if free_dorm > 0 else 0
        largest_now = largest_room if largest_room > floor else floor
        if largest_now:
            if children_accepted is False:
                largest_now = 1
            elif max_children is not None:
                largest_now = min(largest_now, 1 + max_children)

    # Pets and needs
    if x.pets:
        pets = r.pets_accepted
        if pets is False:
            bad.append(_PETS_NOT_ACCEPTED)
        elif pets is None:
            unsure.append(_PETS_NOT_ACCEPTED)
    if x.any_need:
        for need, rule, reason in _NEEDS:
            if getattr(x, need):
                value = getattr(r, rule)
                if value is False:
                    bad.append(reason)
                elif value is None:
                    unsure.append(reason)

    # Citizenship and documents
    foreign: bool | None = None  # None: cannot tell
    citizenship = x.citizenship
    if citizenship and f.country:
        foreign = citizenship != f.country
    if not x.passport:
        required = r.requires_passport
        if required:
            bad.append(_PASSPORT)
        elif required is None:
            unsure.append(_PASSPORT)
    if not x.residence_permit:
        required = r.requires_residence_permit
        if foreign and required:
            bad.append(_RESIDENCE_PERMIT)
        elif (foreign and required is None) or (foreign is None and required):
            unsure.append(_RESIDENCE_PERMIT)
    if not x.local_registration:
        required = r.requires_local_registration
        if required:
            bad.append(_LOCAL_REGISTRATION_REQUIRED)
        elif required is None:
            unsure.append(_LOCAL_REGISTRATION_REQUIRED)
    accepted = r.foreign_citizens_accepted
    if foreign and accepted is False:
        bad.append(_FOREIGN_CITIZENS_NOT_ACCEPTED)
    elif (foreign and accepted is None) or (foreign is None and accepted is False):
        unsure.append(_FOREIGN_CITIZENS_NOT_ACCEPTED)

    # Language
    if x.languages:
        staff = r.staff_languages
        if not staff:
            unsure.append(_NO_COMMON_LANGUAGE)
        elif x.languages.isdisjoint(staff):
            if r.interpretation:
                unsure.append(_NO_COMMON_LANGUAGE)
            else:
                bad.append(_NO_COMMON_LANGUAGE)

    stay = x.stay_days
    if stay is not None:
        longest = r.max_stay_days
        if longest is not None and stay > longest:
            bad.append(_R1(_S["STAY_TOO_LONG"], "max_days", longest))

    return Fit(f.id, tuple(bad), tuple(unsure), known, largest_now)


def coarse_reasons(reasons: tuple[Reason, ...], threshold_km: float) -> tuple[Reason, ...]:
    """The reasons as shown to someone who may not see the facility's point: a distance reason
    says only "closer than the threshold" (``within``), never how close (which, asked from
    several places, would locate the facility)."""
    for reason in reasons:
        if reason.code == "too_close" and reason.params and reason.params[0][0] == "km":
            break
    else:
        return reasons  # the common case: nothing to hide
    within = _R1(_S["TOO_CLOSE"], "within", round(threshold_km))
    return tuple(
        within if r.code == "too_close" and r.params and r.params[0][0] == "km" else r
        for r in reasons
    )


def fit(household: Household, facility: Facility) -> Fit:
    """Can `facility` take `household` now? See the module docstring for every rule."""
    return _evaluate(_Facts(household), facility)


def fitter(household: Household) -> Callable[[Facility], Fit]:
    """`fit` for one household and any number of facilities, one at a time, with the
    household's facts computed once."""
    return partial(_evaluate, _Facts(household))  # no Python frame of its own per facility


def fit_many(
    household: Household,
    facilities: Iterable[Facility],
    *,
    nearest: dict[Point, float] | None = None,
) -> list[Fit]:
    """`fit` for many facilities, with the household's facts computed once (same order).

    ``nearest``: a cache of the distance from a facility's point to the nearest of
    ``household.avoid_points``, filled as it goes; pass the same dict for households with the
    same ``avoid_points`` (and only then) to measure each distance once."""
    x = _Facts(household, nearest)
    return [_evaluate(x, f) for f in facilities]


@dataclass(frozen=True, slots=True)
class Limits:
    """The distinct number limits of some facilities, sorted: all that `rules_key` needs."""

    min_ages: tuple[int, ...] = ()
    boys_max_ages: tuple[int, ...] = ()
    girls_max_ages: tuple[int, ...] = ()
    max_children: tuple[int, ...] = ()
    max_stay_days: tuple[int, ...] = ()


def limits_of(facilities: Iterable[Facility]) -> Limits:
    sets: tuple[set[int], ...] = (set(), set(), set(), set(), set())
    for f in facilities:
        r = f.rules
        for values, limit in zip(
            sets,
            (r.min_age, r.boys_max_age, r.girls_max_age, r.max_children, r.max_stay_days),
            strict=True,
        ):
            if limit is not None:
                values.add(limit)
    return Limits(*(tuple(sorted(v)) for v in sets))


def rules_key(h: Household, limits: Limits) -> tuple[Any, ...]:
    """What `_evaluate` reads of a household, as far as facilities with these `limits` can tell
    households apart: two households with the same key get the same `Fit` from each such
    facility. A number compared with a limit is kept only as how many of the limits it passes
    (a woman of 30 and one of 40 are alike where no house has a minimum age between them).

    This mirrors `_evaluate` rule by rule and must change with it;
    tests/placement/test_evacuation.py checks it against per-pair evaluation."""
    x = _Facts(h)
    return (
        h.gender != "female",
        bisect_right(limits.min_ages, h.woman_age),
        x.n_children > 0,
        bisect_left(limits.max_children, x.n_children),
        0 if x.oldest_boy is None else bisect_left(limits.boys_max_ages, x.oldest_boy),
        0 if x.oldest_girl is None else bisect_left(limits.girls_max_ages, x.oldest_girl),
        x.size,  # exact: a too-large reason names it, and a room fits it or not
        h.pets > 0,
        x.wheelchair,
        x.substance_use,
        x.mental_health,
        x.passport,
        x.residence_permit,
        x.local_registration,
        h.citizenship,
        x.languages,
        0 if h.stay_days is None else bisect_left(limits.max_stay_days, h.stay_days),
        x.avoid_regions,
        x.avoid_points if x.min_distance > 0 else (),
        x.min_distance,
    )


def check_household(h: Household) -> list[str]:
    """Problems with the household itself (for API validation); empty when it is well formed."""
    problems = []
    if not 0 <= h.woman_age <= 130:
        problems.append("woman_age must be between 0 and 130")
    for i, c in enumerate(h.children):
        if not 0 <= c.age <= 25:
            problems.append(f"children[{i}].age must be between 0 and 25")
        if c.sex not in SEXES:
            problems.append(f"children[{i}].sex must be male or female")
    if h.other_adults < 0 or h.pets < 0:
        problems.append("other_adults and pets cannot be negative")
    if unknown := h.needs - NEEDS:
        problems.append(f"unknown needs: {sorted(unknown)}")
    if unknown := h.documents - DOCUMENTS:
        problems.append(f"unknown documents: {sorted(unknown)}")
    if h.stay_days is not None and h.stay_days < 0:
        problems.append("stay_days cannot be negative")
    return problems


def sort_key(result: Fit) -> tuple[int, int]:
    """Known and fitting first, then fitting with unknown availability, then those that cannot;
    within each, fewer open questions (or reasons) first."""
    if not result.ok:
        return (2, len(result.reasons))
    return (0 if result.capacity_known else 1, len(result.unverified))
