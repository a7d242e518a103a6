"""Simulation scenarios: plain dataclasses, and the one function that reads and checks them.

``parse_scenario(data)`` turns the JSON of SPEC.md "Simulation" into a ``Scenario`` or raises
``ScenarioError`` listing *every* problem with its field path
(``facilities[2].beds: must be ≥ 0``), so a coordinator fixes a file in one go.

Beyond the SPEC example a scenario may say:

* ``facilities[i].dorm_beds``: beds that each take one woman alone (the "dorm beds" of SPEC
  C3 and of ``fit.Capacity``), besides the ``beds`` pool that families may share.
* ``facilities[i].rules``: only the house rules the model can act on:
  ``children_accepted`` (true/false/null), ``max_children``, ``boys_max_age``,
  ``girls_max_age`` (integers or null) and ``max_stay_days`` (a stay there ends at that
  limit). Rules about pets, documents, languages … would need household traits the model does
  not draw, so they are refused rather than silently ignored.
* ``arrivals[i].children``: ``{"boys_share": 0.5, "max_age": 17}``, how the children of a
  household are drawn (each a boy with that probability, aged uniformly 0 … max_age); used
  only when some facility has an age limit.
* ``reserve_family_rooms``: the ``network_reserve`` policy keeps this many free family rooms
  of each region for families (default 1); see ``refuge.placement.simulation``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .fit import Rules

POLICIES: tuple[str, ...] = ("isolated", "first_fit", "network", "network_reserve")
DISTRIBUTIONS: tuple[str, ...] = ("exponential", "lognormal", "fixed")
MODELLED_RULES: tuple[str, ...] = (
    "children_accepted",
    "max_children",
    "boys_max_age",
    "girls_max_age",
    "max_stay_days",
)
MAX_HOUSEHOLD = 20
MAX_CHILD_AGE = 25
# A guard against a typo (per_day 1e6) filling the memory: arrivals per replication.
MAX_ARRIVALS = 20_000_000


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; ``problems`` are ``"path: message"`` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True, slots=True)
class RoomType:
    beds: int
    count: int


@dataclass(frozen=True, slots=True)
class SimFacility:
    id: str
    region: str
    beds: int  # the pool: a household of size d takes d of them
    family_rooms: tuple[RoomType, ...] = ()
    rules: Rules = field(default_factory=Rules)
    name: str = ""
    dorm_beds: int = 0  # beds that take one woman alone each (SPEC C3 "dorm beds")

    @property
    def total_beds(self) -> int:
        return self.beds + self.dorm_beds + sum(r.beds * r.count for r in self.family_rooms)

    @property
    def has_rules(self) -> bool:
        return self.rules != Rules()


@dataclass(frozen=True, slots=True)
class ArrivalStream:
    region: str
    per_day: float
    household_size: tuple[tuple[int, float], ...]  # (size, probability), sizes ascending
    boys_share: float = 0.5
    child_max_age: int = 17

    @property
    def mean_size(self) -> float:
        return sum(d * p for d, p in self.household_size)


@dataclass(frozen=True, slots=True)
class StayDistribution:
    distribution: str  # exponential | lognormal | fixed
    mean: float  # days
    cv: float | None = None  # lognormal only


@dataclass(frozen=True, slots=True)
class Scenario:
    years: float
    warmup_days: float
    replications: int
    seed: int
    facilities: tuple[SimFacility, ...]
    arrivals: tuple[ArrivalStream, ...]
    stay: StayDistribution
    policies: tuple[str, ...] = ("isolated", "first_fit", "network", "network_reserve")
    first_fit_calls: int = 3
    reserve_family_rooms: int = 1

    @property
    def horizon_days(self) -> float:
        return self.warmup_days + self.years * 365.0

    @property
    def arrivals_per_day(self) -> float:
        return sum(a.per_day for a in self.arrivals)

    @property
    def total_beds(self) -> int:
        return sum(f.total_beds for f in self.facilities)

    @property
    def regions(self) -> tuple[str, ...]:
        """Every region named by a facility or an arrival stream, in order of first mention."""
        seen: dict[str, None] = {}
        for f in self.facilities:
            seen.setdefault(f.region, None)
        for a in self.arrivals:
            seen.setdefault(a.region, None)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, which ``parse_scenario`` reads back to an equal scenario."""
        stay: dict[str, Any] = {"distribution": self.stay.distribution, "mean": self.stay.mean}
        if self.stay.cv is not None:
            stay["cv"] = self.stay.cv
        return {
            "years": self.years,
            "warmup_days": self.warmup_days,
            "replications": self.replications,
            "seed": self.seed,
            "facilities": [
                {
                    "id": f.id,
                    **({"name": f.name} if f.name else {}),
                    "region": f.region,
                    "beds": f.beds,
                    **({"dorm_beds": f.dorm_beds} if f.dorm_beds else {}),
                    "family_rooms": [{"beds": r.beds, "count": r.count} for r in f.family_rooms],
                    "rules": {
                        k: getattr(f.rules, k)
                        for k in MODELLED_RULES
                        if getattr(f.rules, k) is not None
                    },
                }
                for f in self.facilities
            ],
            "arrivals": [
                {
                    "region": a.region,
                    "per_day": a.per_day,
                    "household_size": {str(d): p for d, p in a.household_size},
                    "children": {"boys_share": a.boys_share, "max_age": a.child_max_age},
                }
                for a in self.arrivals
            ],
            "stay_days": stay,
            "policies": list(self.policies),
            "first_fit_calls": self.first_fit_calls,
            "reserve_family_rooms": self.reserve_family_rooms,
        }


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def bad(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def obj(self, value: Any, path: str, allowed: set[str], required: tuple[str, ...]) -> bool:
        if not isinstance(value, dict):
            self.bad(path or "scenario", "must be an object")
            return False
        for key in required:
            if key not in value or value[key] is None:
                self.bad(_join(path, key), "is required")
        for key in sorted(set(value) - allowed, key=str):
            self.bad(_join(path, str(key)), "unknown field")
        return True

    def number(
        self,
        value: Any,
        path: str,
        *,
        minimum: float | None = None,
        positive: bool = False,
        maximum: float | None = None,
        integer: bool = False,
    ) -> Any:
        """The value if it is a number in range, else None (and a problem is recorded)."""
        kind = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.bad(path, f"must be {kind}")
            return None
        if integer and isinstance(value, float):
            if not value.is_integer():
                self.bad(path, "must be an integer")
                return None
            value = int(value)
        if isinstance(value, float) and not math.isfinite(value):
            self.bad(path, "must be a finite number")
            return None
        if positive and value <= 0:
            self.bad(path, "must be > 0")
            return None
        if minimum is not None and value < minimum:
            self.bad(path, f"must be ≥ {minimum:g}")
            return None
        if maximum is not None and value > maximum:
            self.bad(path, f"must be ≤ {maximum:g}")
            return None
        return value

    def text(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.bad(path, "must be a non-empty string")
            return None
        return value

    def items(self, value: Any, path: str, *, non_empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return []
        if non_empty and not value:
            self.bad(path, "must not be empty")
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _rules(c: _Checker, value: Any, path: str) -> Rules:
    if value is None:
        return Rules()
    if not isinstance(value, dict):
        c.bad(path, "must be an object")
        return Rules()
    kwargs: dict[str, Any] = {}
    for key in sorted(value, key=str):
        v = value[key]
        p = _join(path, str(key))
        if key not in MODELLED_RULES:
            c.bad(p, "not modelled by the simulation (modelled: " + ", ".join(MODELLED_RULES) + ")")
        elif v is None:
            continue
        elif key == "children_accepted":
            if not isinstance(v, bool):
                c.bad(p, "must be true, false or null")
            else:
                kwargs[key] = v
        elif key == "max_stay_days":
            n = c.number(v, p, positive=True, integer=True)
            if n is not None:
                kwargs[key] = n
        else:
            n = c.number(v, p, minimum=0, integer=True)
            if n is not None:
                kwargs[key] = n
    return Rules(**kwargs)


def _facility(c: _Checker, value: Any, path: str) -> SimFacility | None:
    allowed = {"id", "region", "beds", "dorm_beds", "family_rooms", "rules", "name"}
    if not c.obj(value, path, allowed, ("id", "region", "beds")):
        return None
    ident = c.text(value.get("id"), _join(path, "id")) if "id" in value else None
    region = c.text(value.get("region"), _join(path, "region")) if "region" in value else None
    beds = c.number(value.get("beds"), _join(path, "beds"), minimum=0, integer=True)
    dorm = c.number(value.get("dorm_beds", 0), _join(path, "dorm_beds"), minimum=0, integer=True)
    rooms: list[RoomType] = []
    for j, room in enumerate(
        c.items(value.get("family_rooms", []), _join(path, "family_rooms"), non_empty=False)
    ):
        rp = f"{path}.family_rooms[{j}]"
        if not c.obj(room, rp, {"beds", "count"}, ("beds",)):
            continue
        size = c.number(room.get("beds"), _join(rp, "beds"), minimum=1, integer=True)
        count = c.number(room.get("count", 1), _join(rp, "count"), minimum=0, integer=True)
        if size is not None and count is not None:
            rooms.append(RoomType(size, count))
    rules = _rules(c, value.get("rules"), _join(path, "rules"))
    if ident is None or region is None or beds is None or dorm is None:
        return None
    # Room types merged by size and sorted: the engine relies on ascending sizes.
    merged: dict[int, int] = {}
    for r in rooms:
        merged[r.beds] = merged.get(r.beds, 0) + r.count
    family_rooms = tuple(RoomType(b, n) for b, n in sorted(merged.items()) if n > 0)
    name = value.get("name") or ""
    if not isinstance(name, str):
        c.bad(_join(path, "name"), "must be a string")
        name = ""
    return SimFacility(ident, region, beds, family_rooms, rules, name, dorm)


def _arrival(c: _Checker, value: Any, path: str) -> ArrivalStream | None:
    allowed = {"region", "per_day", "household_size", "children"}
    if not c.obj(value, path, allowed, ("region", "per_day", "household_size")):
        return None
    region = c.text(value.get("region"), _join(path, "region")) if "region" in value else None
    per_day = c.number(value.get("per_day"), _join(path, "per_day"), minimum=0)
    sizes: list[tuple[int, float]] = []
    hp = _join(path, "household_size")
    dist = value.get("household_size")
    if dist is not None:
        if not isinstance(dist, dict) or not dist:
            c.bad(hp, 'must be an object of probabilities by size, e.g. {"1": 0.6, "2": 0.4}')
        else:
            ok = True
            for key, p in dist.items():
                kp = f"{hp}.{key}"
                try:
                    size = int(key)
                except (TypeError, ValueError):
                    size = 0
                if str(size) != str(key).strip() or not 1 <= size <= MAX_HOUSEHOLD:
                    c.bad(kp, f"the size must be a whole number from 1 to {MAX_HOUSEHOLD}")
                    ok = False
                    continue
                prob = c.number(p, kp, minimum=0, maximum=1)
                if prob is None:
                    ok = False
                elif prob > 0:
                    sizes.append((size, float(prob)))
            total = math.fsum(p for _, p in sizes)
            if ok and abs(total - 1) > 1e-6:
                c.bad(hp, f"the probabilities must sum to 1 (they sum to {total:.6g})")
    boys_share, max_age = 0.5, 17
    if "children" in value and value["children"] is not None:
        cp = _join(path, "children")
        if c.obj(value["children"], cp, {"boys_share", "max_age"}, ()):
            ch = value["children"]
            if "boys_share" in ch:
                b = c.number(ch["boys_share"], _join(cp, "boys_share"), minimum=0, maximum=1)
                boys_share = b if b is not None else boys_share
            if "max_age" in ch:
                m = c.number(
                    ch["max_age"],
                    _join(cp, "max_age"),
                    minimum=0,
                    maximum=MAX_CHILD_AGE,
                    integer=True,
                )
                max_age = m if m is not None else max_age
    if region is None or per_day is None or not sizes:
        return None
    return ArrivalStream(region, float(per_day), tuple(sorted(sizes)), float(boys_share), max_age)


def _stay(c: _Checker, value: Any) -> StayDistribution | None:
    path = "stay_days"
    if not c.obj(value, path, {"distribution", "mean", "cv"}, ("distribution", "mean")):
        return None
    kind = value.get("distribution")
    if kind is not None and kind not in DISTRIBUTIONS:
        c.bad(_join(path, "distribution"), "must be one of " + ", ".join(DISTRIBUTIONS))
        kind = None
    mean = c.number(value.get("mean"), _join(path, "mean"), positive=True)
    cv = None
    if kind == "lognormal":
        if value.get("cv") is None:
            c.bad(_join(path, "cv"), "is required for a lognormal distribution")
        else:
            cv = c.number(value["cv"], _join(path, "cv"), positive=True, maximum=20)
            if cv is None:
                return None
    elif "cv" in value and kind is not None:
        c.bad(_join(path, "cv"), "applies only to the lognormal distribution")
    if kind is None or mean is None:
        return None
    return StayDistribution(kind, float(mean), None if cv is None else float(cv))


def parse_scenario(data: Any) -> Scenario:
    """Read and check a scenario (the parsed JSON). Raises ``ScenarioError`` with every
    problem, each as ``"field.path: message"``."""
    c = _Checker()
    allowed = {
        "years",
        "warmup_days",
        "replications",
        "seed",
        "facilities",
        "arrivals",
        "stay_days",
        "policies",
        "first_fit_calls",
        "reserve_family_rooms",
        "name",
        "description",
    }
    required = (
        "years",
        "warmup_days",
        "replications",
        "seed",
        "facilities",
        "arrivals",
        "stay_days",
    )
    if not c.obj(data, "", allowed, required):
        raise ScenarioError(c.problems)
    years = c.number(data.get("years"), "years", positive=True, maximum=1000)
    warmup = c.number(data.get("warmup_days"), "warmup_days", minimum=0)
    reps = c.number(data.get("replications"), "replications", integer=True, maximum=10_000)
    if reps is not None and reps < 2:
        c.bad("replications", "must be ≥ 2 (a confidence interval needs two)")
        reps = None
    seed = c.number(data.get("seed"), "seed", minimum=0, integer=True)

    facilities = []
    for i, f in enumerate(c.items(data.get("facilities"), "facilities")):
        parsed = _facility(c, f, f"facilities[{i}]")
        if parsed is not None:
            facilities.append(parsed)
    seen: dict[str, int] = {}
    for i, f in enumerate(facilities):
        if f.id in seen:
            c.bad(f"facilities[{i}].id", f"duplicate id {f.id!r}")
        seen[f.id] = i

    arrivals = []
    for i, a in enumerate(c.items(data.get("arrivals"), "arrivals")):
        parsed_a = _arrival(c, a, f"arrivals[{i}]")
        if parsed_a is not None:
            arrivals.append(parsed_a)
    if arrivals and all(a.per_day == 0 for a in arrivals):
        c.bad("arrivals", "at least one stream must have per_day > 0")

    stay = _stay(c, data.get("stay_days")) if data.get("stay_days") is not None else None

    policies: tuple[str, ...] = POLICIES
    if "policies" in data:
        names = c.items(data["policies"], "policies")
        bad_names = False
        for j, name in enumerate(names):
            if name not in POLICIES:
                c.bad(f"policies[{j}]", "must be one of " + ", ".join(POLICIES))
                bad_names = True
        if not bad_names and len(set(names)) != len(names):
            c.bad("policies", "lists a policy twice")
        if names and not bad_names:
            policies = tuple(names)
    calls = 3
    if "first_fit_calls" in data:
        calls = c.number(data["first_fit_calls"], "first_fit_calls", minimum=1, integer=True) or 3
    reserve = 1
    if "reserve_family_rooms" in data:
        r = c.number(data["reserve_family_rooms"], "reserve_family_rooms", minimum=0, integer=True)
        reserve = r if r is not None else reserve

    if years is not None and warmup is not None and arrivals:
        expected = sum(a.per_day for a in arrivals) * (warmup + years * 365.0)
        if expected > MAX_ARRIVALS:
            c.bad(
                "years",
                f"about {expected:,.0f} arrivals per replication; the limit is "
                f"{MAX_ARRIVALS:,} (shorten the horizon or split the scenario)",
            )
    if c.problems:
        raise ScenarioError(c.problems)
    assert years is not None and warmup is not None and reps is not None and seed is not None
    assert stay is not None
    return Scenario(
        years=float(years),
        warmup_days=float(warmup),
        replications=int(reps),
        seed=int(seed),
        facilities=tuple(facilities),
        arrivals=tuple(arrivals),
        stay=stay,
        policies=policies,
        first_fit_calls=int(calls),
        reserve_family_rooms=int(reserve),
    )
