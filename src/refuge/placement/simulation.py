"""Network simulation (SPEC C7): would women have been turned away, and under which policy?

A discrete-event model of a shelter network over years. Time is in days.

The model
---------
* **Facilities** have a *pool* of ``beds`` (a household of ``d`` people takes ``d`` of them),
  *family rooms* (a room takes one household no larger than its beds, whatever its size),
  optionally *dorm beds* (one woman alone each), and house rules (``sim_scenario.MODELLED_RULES``) checked with the same ``fit`` function as
  the live placement search, so the model and the product agree on who may go where.
* **Arrivals** in each region form a Poisson process (``per_day``); each household's size is
  drawn from the region's distribution, and so are her children's sex and age (the rules
  on boys' and girls' ages need them).
* **Stays** are exponential, lognormal (mean and coefficient of variation) or fixed. A stay is
  the woman's own need, drawn once; a facility with ``max_stay_days`` ends it at that limit.
* **Inside a facility** the facility puts a woman alone in a dorm bed, else a pool bed, else
  its smallest free family room; a family in its smallest free family room that is large
  enough, else in pool beds. Shelters keep family rooms for families when they can.
* Figures are counted for arrivals after ``warmup_days``; occupancy is people × days in the
  observed window over beds × days (a family of two in a room of four counts two).

Policies (where does she go?)
-----------------------------
* ``isolated``: she calls one facility of her own region, drawn at random with probability
  proportional to its beds, and is turned away if it cannot take her (or if her region has no
  facility). Each shelter alone, as today.
* ``first_fit``: she calls up to ``first_fit_calls`` facilities of the whole network, drawn
  at random proportionally to beds without repetition, and goes to the first that can take her.
  The phone chain between shelters.
* ``network``: the platform sees every facility. Among all that can take her it picks, in
  order: her own region; the least waste (beds of the unit left empty: 0 in the pool, room
  beds minus household size in a family room); the tightest fit (fewest free beds left at that
  facility, so large free blocks stay whole for families elsewhere); the first listed.
* ``network_reserve``: the platform, household-aware. The same candidates, ranked by:
  1. a woman alone does not take one of the last ``reserve_family_rooms`` free family rooms of
     a region (at facilities that take children) while any other place exists in the network;
  2. her own region;
  3. the least *family demand shut out*: the share of arrivals that are families this facility
     could take now and could not take after this placement (a woman alone in the 3rd of 3 free
     pool beds shuts out families of three; in a dorm bed, or in one of 10 free pool beds,
     none);
  4. then as ``network``: least waste, tightest fit.
  It only steers: it never turns anyone away while a place exists. docs/simulation.md shows
  what it buys and what it costs (more women placed outside their region, or fewer).

A turn-away is *unnecessary* when some facility of the network (rules and free places) could
have taken her at that moment; ``unnecessary_turn_away_rate`` is their share of all arrivals.
Under ``network`` and ``network_reserve`` it is zero by construction, and the tests check it.

Replications and common random numbers
--------------------------------------
Replication ``r`` draws its whole arrival stream (times, regions, households, stays and the
random numbers used to pick whom she calls) from ``SeedSequence([seed, r])`` before any policy
runs, and every policy (and every what-if option) replays the same stream. Differences between
policies are therefore not blurred by different luck, and paired confidence intervals of the
differences are narrow. Confidence intervals are Student t intervals across replications.

The event loop is a merge of the pre-sorted arrivals with a heap of departures: it does what a
SimPy environment would do for this model, several times faster (see bench/simulation.py).
On large networks ``network`` and ``network_reserve`` do not look at every facility for each
arrival: an index of who has a unit for whom, kept up to date on every admission and departure,
gives the same choice (see ``run_policy``; docs/decisions.md, issue 18).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from heapq import heapify, heappop, heappush
from typing import Any

import numpy as np

from .erlang import erlang_b as _erlang_b
from .fit import Child, Household, Rules, fit_many
from .fit import Facility as FitFacility
from .sim_scenario import (
    MAX_HOUSEHOLD,
    POLICIES,
    Scenario,
    ScenarioError,
    SimFacility,
    parse_scenario,
)
from .sim_stats import mean_ci95

__all__ = [
    "POLICIES",
    "PolicyResult",
    "ReplicationStats",
    "Scenario",
    "ScenarioError",
    "SimulationResult",
    "Stream",
    "WhatIfOption",
    "WhatIfResult",
    "build_stream",
    "compile_network",
    "erlang_b_of_scenario",
    "parse_scenario",
    "run_policy",
    "simulate",
    "what_if",
]

WOMAN_AGE = 30  # her own age is not modelled (no min_age rule); any adult age fits alike


# --------------------------------------------------------------------------------------------
# The arrival stream of one replication (common to every policy)


AgeLimits = tuple[tuple[int, ...], tuple[int, ...]]  # boys', girls' distinct limits, ascending


@dataclass(slots=True)
class Stream:
    """Everything random about one replication, drawn before any policy runs."""

    times: list[float]
    region: list[int]  # index into regions
    regions: tuple[str, ...]
    size: list[int]
    klass: list[int]  # what the rules can see of the household, one code (see _representative)
    stay: list[float]
    u_isolated: list[float]
    u_calls: list[float]  # first_fit_calls uniforms per arrival, flat
    calls: int
    limits: AgeLimits
    first_counted: int  # index of the first arrival after the warm-up
    warmup_days: float
    horizon_days: float

    def __len__(self) -> int:
        return len(self.times)


def age_limits(*scenarios: Scenario) -> AgeLimits:
    """The distinct age limits for boys and for girls over the facilities of ``scenarios``."""
    boys: set[int] = set()
    girls: set[int] = set()
    for sc in scenarios:
        for f in sc.facilities:
            if f.rules.boys_max_age is not None:
                boys.add(f.rules.boys_max_age)
            if f.rules.girls_max_age is not None:
                girls.add(f.rules.girls_max_age)
    return tuple(sorted(boys)), tuple(sorted(girls))


# Rules see a household through its number of children and, for each age limit, whether her
# oldest son (daughter) is above it. Households alike in those respects share one code, so the
# rules are evaluated once per code and network, not once per arrival. A code packs
# (size, boys' bucket + 1, girls' bucket + 1); a bucket is the number of limits below the
# oldest child's age, -1 for no child of that sex.
_BUCKETS = MAX_HOUSEHOLD + 2


def _representative(code: int, limits: AgeLimits) -> Household:
    """A household with the given code (the rules give every household of a code the same
    answer, so any one will do)."""
    size, rest = divmod(code, _BUCKETS * _BUCKETS)
    boy_bucket, girl_bucket = divmod(rest, _BUCKETS)
    boy_bucket -= 1
    girl_bucket -= 1

    def age(bucket: int, lim: tuple[int, ...]) -> int:
        # The youngest age with `bucket` limits strictly below it.
        return 0 if bucket == 0 or not lim else lim[bucket - 1] + 1

    children: list[Child] = []
    if boy_bucket >= 0:
        children.append(Child(age(boy_bucket, limits[0]), "male"))
    if girl_bucket >= 0:
        children.append(Child(age(girl_bucket, limits[1]), "female"))
    filler = "female" if girl_bucket >= 0 or boy_bucket < 0 else "male"
    while len(children) < size - 1:
        children.append(Child(0, filler))
    return Household(woman_age=WOMAN_AGE, children=tuple(children))


def build_stream(scenario: Scenario, replication: int, limits: AgeLimits | None = None) -> Stream:
    """Draw replication ``replication``'s arrivals from ``SeedSequence([seed, replication])``.

    ``limits`` are the age limits the stream's household codes must resolve (by default those
    of ``scenario``; what-if passes those of every option). The random draws themselves never
    depend on them, so every variant of a scenario sees the same women."""
    if limits is None:
        limits = age_limits(scenario)
    rng = np.random.default_rng(np.random.SeedSequence([scenario.seed, replication]))
    regions = {g: i for i, g in enumerate(scenario.regions)}
    horizon = scenario.horizon_days
    rates = np.array([a.per_day for a in scenario.arrivals], dtype=float)
    total_rate = float(rates.sum())
    n = int(rng.poisson(total_rate * horizon))
    # A Poisson process on [0, T] is N ~ Poisson(ΛT) points placed uniformly; the superposition
    # of the regions' processes is split again by a categorical draw.
    times = np.sort(rng.uniform(0.0, horizon, n))
    which = rng.choice(len(rates), size=n, p=rates / total_rate)
    sizes = np.ones(n, dtype=np.int64)
    for s, a in enumerate(scenario.arrivals):
        mask = which == s
        k = int(mask.sum())
        if k:
            values = np.array([d for d, _ in a.household_size])
            probs = np.array([p for _, p in a.household_size])
            sizes[mask] = rng.choice(values, size=k, p=probs / probs.sum())
    stay = scenario.stay
    if stay.distribution == "exponential":
        stays = rng.exponential(stay.mean, n)
    elif stay.distribution == "lognormal":
        assert stay.cv is not None
        sigma2 = math.log1p(stay.cv**2)
        stays = rng.lognormal(math.log(stay.mean) - sigma2 / 2, math.sqrt(sigma2), n)
    else:
        stays = np.full(n, stay.mean)
    u_isolated = rng.random(n)
    u_calls = rng.random(n * scenario.first_fit_calls)
    # Children: each a boy with the stream's probability, aged uniformly 0 … max_age.
    width = max(max(d for a in scenario.arrivals for d, _ in a.household_size) - 1, 1)
    boys_share = np.array([a.boys_share for a in scenario.arrivals])[which]
    max_age = np.array([a.child_max_age for a in scenario.arrivals])[which]
    is_boy = rng.random((n, width)) < boys_share[:, None]
    ages = np.floor(rng.random((n, width)) * (max_age[:, None] + 1)).astype(np.int64)
    present = np.arange(width)[None, :] < (sizes - 1)[:, None]
    oldest_boy = np.where(present & is_boy, ages, -1).max(axis=1, initial=-1)
    oldest_girl = np.where(present & ~is_boy, ages, -1).max(axis=1, initial=-1)
    boy_bucket = np.where(
        oldest_boy >= 0, np.searchsorted(np.array(limits[0], dtype=np.int64), oldest_boy), -1
    )
    girl_bucket = np.where(
        oldest_girl >= 0, np.searchsorted(np.array(limits[1], dtype=np.int64), oldest_girl), -1
    )
    code = (sizes * _BUCKETS + boy_bucket + 1) * _BUCKETS + girl_bucket + 1
    region_index = np.array([regions[a.region] for a in scenario.arrivals], dtype=np.int64)
    return Stream(
        times=times.tolist(),
        region=region_index[which].tolist(),
        regions=scenario.regions,
        size=sizes.tolist(),
        klass=code.tolist(),
        stay=stays.tolist(),
        u_isolated=u_isolated.tolist(),
        u_calls=u_calls.tolist(),
        calls=scenario.first_fit_calls,
        limits=limits,
        first_counted=int(np.searchsorted(times, scenario.warmup_days, side="left")),
        warmup_days=scenario.warmup_days,
        horizon_days=horizon,
    )


# --------------------------------------------------------------------------------------------
# The compiled network (static facts about facilities)


@dataclass(slots=True)
class Network:
    """Facilities as parallel lists (fast to index in the event loop)."""

    regions: tuple[str, ...]
    facilities: tuple[SimFacility, ...]
    region_of: list[int]
    pool: list[int]
    dorm: list[int]
    room_sizes: list[tuple[int, ...]]  # ascending
    room_counts: list[tuple[int, ...]]
    total_beds: list[int]
    max_stay: list[float]
    family_ok: list[bool]  # takes children at all (its rooms count for the reservation)
    rule_max: list[int]  # the largest household its rules allow (by number of children)
    largest_unit: list[int]
    region_facilities: list[list[int]]
    region_cum: list[list[float]]  # cumulative beds within the region, for the isolated draw
    all_cum: list[float]  # cumulative beds over the network, for first_fit
    positive: int  # facilities with at least one bed
    reserve_family_rooms: int
    family_demand: list[float]  # [k]: share of arrivals that are families of 2 … k people
    limits: AgeLimits  # the age limits of its facilities' rules
    # Facilities whose rules give every household the same answer share a rule group (the
    # rules but max_stay_days, which a household without a stated stay never meets).
    group_of: list[int]
    _fit_facilities: list[FitFacility]
    _group_facilities: list[FitFacility]  # one per rule group
    _eligible: dict[tuple[AgeLimits, int], tuple[list[bool], list[list[int]]]] = field(
        default_factory=dict
    )
    _group_eligible: dict[tuple[AgeLimits, int], list[bool]] = field(default_factory=dict)

    def eligibility(self, stream: Stream, klass: int) -> tuple[list[bool], list[list[int]]]:
        """For one household code: may each facility take it by its rules and its largest
        unit, and the candidate facilities of each region. Cached per network."""
        hit = self._eligible.get((stream.limits, klass))
        if hit is None:
            household = _representative(klass, stream.limits)
            d = household.size
            fits = fit_many(household, self._fit_facilities)
            ok = [r.ok and self.largest_unit[f] >= d for f, r in enumerate(fits)]
            by_region: list[list[int]] = [[] for _ in self.regions]
            for f, good in enumerate(ok):
                if good:
                    by_region[self.region_of[f]].append(f)
            hit = (ok, by_region)
            self._eligible[(stream.limits, klass)] = hit
        return hit

    def group_eligibility(self, stream: Stream, klass: int) -> list[bool]:
        """For one household code: may each rule group take it by its rules (capacity aside).
        Cached per network."""
        hit = self._group_eligible.get((stream.limits, klass))
        if hit is None:
            household = _representative(klass, stream.limits)
            hit = [r.ok for r in fit_many(household, self._group_facilities)]
            self._group_eligible[(stream.limits, klass)] = hit
        return hit


def compile_network(scenario: Scenario, regions: tuple[str, ...] | None = None) -> Network:
    """The scenario's facilities as flat arrays. ``regions`` fixes the order of the regions
    (a variant of a scenario keeps its base's order, so the base's arrival streams fit it);
    by default the scenario's own order of first mention."""
    if regions is None:
        regions = scenario.regions
    elif missing := set(scenario.regions) - set(regions):
        raise ValueError(f"regions not in the given order: {sorted(missing)}")
    index = {g: i for i, g in enumerate(regions)}
    facilities = scenario.facilities
    region_of = [index[f.region] for f in facilities]
    room_sizes = [tuple(r.beds for r in f.family_rooms) for f in facilities]
    room_counts = [tuple(r.count for r in f.family_rooms) for f in facilities]
    total = [f.total_beds for f in facilities]
    region_facilities: list[list[int]] = [[] for _ in regions]
    region_cum: list[list[float]] = [[] for _ in regions]
    for i in range(len(facilities)):
        if total[i] > 0:
            g = region_of[i]
            region_facilities[g].append(i)
            prev = region_cum[g][-1] if region_cum[g] else 0.0
            region_cum[g].append(prev + total[i])
    all_cum: list[float] = []
    acc = 0.0
    for t in total:
        acc += t
        all_cum.append(acc)
    rule_max = []
    for f in facilities:
        if f.rules.children_accepted is False:
            rule_max.append(1)
        elif f.rules.max_children is not None:
            rule_max.append(1 + f.rules.max_children)
        else:
            rule_max.append(MAX_HOUSEHOLD)
    rate = scenario.arrivals_per_day
    share = [0.0] * (MAX_HOUSEHOLD + 1)
    for a in scenario.arrivals:
        for d, p in a.household_size:
            share[d] += a.per_day * p / rate
    demand = [0.0] * (MAX_HOUSEHOLD + 1)
    for k in range(2, MAX_HOUSEHOLD + 1):
        demand[k] = demand[k - 1] + share[k]
    fit_facilities = [FitFacility(id=f.id, rules=f.rules, region=f.region) for f in facilities]
    groups: dict[Rules, int] = {}
    group_of = []
    group_facilities = []
    for f, ff in zip(facilities, fit_facilities, strict=True):
        key = replace(f.rules, max_stay_days=None)
        if key not in groups:
            groups[key] = len(groups)
            group_facilities.append(ff)
        group_of.append(groups[key])
    return Network(
        regions=regions,
        facilities=facilities,
        region_of=region_of,
        pool=[f.beds for f in facilities],
        dorm=[f.dorm_beds for f in facilities],
        room_sizes=room_sizes,
        room_counts=room_counts,
        total_beds=total,
        max_stay=[
            float(f.rules.max_stay_days) if f.rules.max_stay_days is not None else math.inf
            for f in facilities
        ],
        family_ok=[m > 1 for m in rule_max],
        rule_max=rule_max,
        largest_unit=[
            max(f.beds, 1 if f.dorm_beds else 0, max(s, default=0))
            for f, s in zip(facilities, room_sizes, strict=True)
        ],
        region_facilities=region_facilities,
        region_cum=region_cum,
        all_cum=all_cum,
        positive=sum(1 for t in total if t > 0),
        reserve_family_rooms=scenario.reserve_family_rooms,
        family_demand=demand,
        limits=age_limits(scenario),
        group_of=group_of,
        _fit_facilities=fit_facilities,
        _group_facilities=group_facilities,
    )


# --------------------------------------------------------------------------------------------
# One replication under one policy


@dataclass(slots=True)
class ReplicationStats:
    """Counts for arrivals after the warm-up (index = household size)."""

    arrivals: list[int]
    turned_away: list[int]
    unnecessary: list[int]
    placed: int = 0
    out_of_region: int = 0
    people_days: float = 0.0
    bed_days: float = 0.0
    departures: int = 0  # events processed besides the arrivals (warm-up included)

    @property
    def total_arrivals(self) -> int:
        return sum(self.arrivals)

    @property
    def turn_away_rate(self) -> float:
        n = self.total_arrivals
        return sum(self.turned_away) / n if n else 0.0

    @property
    def unnecessary_rate(self) -> float:
        n = self.total_arrivals
        return sum(self.unnecessary) / n if n else 0.0

    @property
    def occupancy(self) -> float:
        return self.people_days / self.bed_days if self.bed_days else 0.0

    def rate_for(self, d: int) -> float | None:
        n = self.arrivals[d] if d < len(self.arrivals) else 0
        return self.turned_away[d] / n if n else None


# Facilities per region (on average) from which the network policies use the index (bench:
# at 2 a region the scan costs half as much per household, at 22 the index is as fast or
# faster, at 222 three to twelve times).
SCAN_BELOW = 16
POOL, DORM = -1, -2  # units; a room type is its index j ≥ 0 in the facility's room_sizes
# trace(arrival_index, facility (-1: turned away), unit, departure_time)
Trace = Callable[[int, int, int, float], None]


def run_policy(
    network: Network,
    stream: Stream,
    policy: str,
    *,
    trace: Trace | None = None,
    scan: bool | None = None,
) -> ReplicationStats:
    """Replay ``stream`` through ``network`` under ``policy``.

    ``scan``: under ``network`` and ``network_reserve``, look at every facility of a region for
    each arrival (True) or ask the index (False); both make the same choice every time (the
    scan is the tests' oracle). By default the scan while regions hold fewer than
    ``SCAN_BELOW`` facilities on average, where keeping the index costs more than it saves."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    if stream.regions != network.regions:
        raise ValueError("the stream and the network do not list the same regions")
    if not (set(network.limits[0]) <= set(stream.limits[0])) or not (
        set(network.limits[1]) <= set(stream.limits[1])
    ):
        # The stream's household codes could not tell households apart that these rules do.
        raise ValueError("the stream was drawn without this network's age limits")
    n_fac = len(network.pool)
    pool = list(network.pool)
    dorm = list(network.dorm)
    rsize = network.room_sizes
    rfree = [list(c) for c in network.room_counts]
    maxroom = [
        max((s for s, c in zip(rs, rc, strict=True) if c), default=0)
        for rs, rc in zip(rsize, rfree, strict=True)
    ]
    region_of = network.region_of
    n_regions = len(network.regions)
    region_free = [0] * n_regions  # free beds per region (a necessary condition to look there)
    ffree = list(network.total_beds)  # free beds per facility
    region_rooms = [0] * n_regions  # free family rooms at facilities that take children
    family_ok = network.family_ok
    rule_max = network.rule_max
    demand = network.family_demand
    top = len(demand) - 1
    for f in range(n_fac):
        region_free[region_of[f]] += network.total_beds[f]
        if family_ok[f]:
            region_rooms[region_of[f]] += sum(rfree[f])
    max_stay = network.max_stay
    reserve_rooms = network.reserve_family_rooms
    region_facilities = network.region_facilities
    region_cum = network.region_cum
    all_cum = network.all_cum
    all_total = all_cum[-1] if all_cum else 0.0
    total_beds = network.total_beds
    n_calls = min(stream.calls, network.positive)
    K = stream.calls

    max_size = max(stream.size, default=1)
    stats = ReplicationStats([0] * (max_size + 1), [0] * (max_size + 1), [0] * (max_size + 1))
    warm = stream.warmup_days
    end = stream.horizon_days
    stats.bed_days = float(sum(total_beds)) * (end - warm)
    times, regions, sizes, klasses, stays = (
        stream.times,
        stream.region,
        stream.size,
        stream.klass,
        stream.stay,
    )
    u_iso, u_calls = stream.u_isolated, stream.u_calls
    heap: list[tuple[float, int, int, int]] = []
    eligibility = network.eligibility
    reserve = policy == "network_reserve"

    def unit_for(f: int, d: int) -> int | None:
        # The facility's own choice of unit, or None when it has no place for her now.
        if d == 1:
            if dorm[f]:
                return DORM
            if pool[f]:
                return POOL
        if maxroom[f] >= d:
            fr = rfree[f]
            for j, s in enumerate(rsize[f]):
                if s >= d and fr[j]:
                    return j
        if pool[f] >= d:
            return POOL
        return None

    def harm(f: int, u: int, d: int) -> float:
        # Family demand this placement shuts out at f: the share of arrivals that are
        # families f could take now and could not take after it.
        if u == DORM:
            return 0.0
        cap = rule_max[f]
        p = pool[f]
        m = maxroom[f]
        before = max(p, m)
        if u == POOL:
            after = max(p - d, m)
        else:
            after = p
            fr = rfree[f]
            for j, s in enumerate(rsize[f]):
                if (fr[j] - (1 if j == u else 0)) > 0 and s > after:
                    after = s
        before = min(before, cap, top)
        after = min(after, cap, top)
        return demand[before] - demand[after] if before > after else 0.0

    def best_in(cands: list[int], d: int, reserve: bool) -> tuple[tuple, int, int]:
        # The least key among cands, with its facility and unit (facility -1: none fits).
        best: tuple = ()
        bf = bu = -1
        for f in cands:
            if pool[f] < d and maxroom[f] < d and (d > 1 or not dorm[f]):
                continue
            u = unit_for(f, d)
            if u is None:
                continue
            taken = d if u < 0 else rsize[f][u]
            if reserve:
                # A woman alone in one of the last free family rooms of its region.
                blocked = (
                    u >= 0
                    and d == 1
                    and family_ok[f]
                    and region_rooms[region_of[f]] <= reserve_rooms
                )
                key = (1 if blocked else 0, harm(f, u, d), taken - d, ffree[f] - taken)
            else:
                key = (0, taken - d, ffree[f] - taken)
            if bf < 0 or key < best:
                best, bf, bu = key, f, u
        return best, bf, bu

    # The index (network policies): for each region, rule group and household size d, a heap
    # of the facilities that have a unit for d now, ranked as best_in ranks them (its key, then
    # the facility's number). Keys are packed into one int, so that the heaps compare ints:
    # ((rank of harm · W + waste) · B + free beds left) · F + facility, where the rank of harm
    # is its place among the few values harm can take (so ints and floats order alike). A
    # woman alone's entry for a family room at a facility that takes children has its own heap,
    # since whether it is reserved depends on its region at the time of asking. Every admission
    # and departure at a facility rewrites its current keys and pushes them; an entry that is
    # no longer its facility's current key is dropped when it reaches the top (or when a heap
    # grows to twice its facilities). An event costs O(d_max log n); an arrival looks at one
    # heap top per rule group of a region instead of at every facility.
    if scan is None:
        scan = n_fac < SCAN_BELOW * n_regions
    indexed = policy in ("network", "network_reserve") and not scan
    d_max = min(max_size, MAX_HOUSEHOLD)
    stride = 2 * (d_max + 1)
    group_of = network.group_of
    blocks: dict[tuple[int, int], int] = {}  # (region, rule group) -> its heaps' block
    block_size: list[int] = []
    for f in range(n_fac):
        b = blocks.setdefault((region_of[f], group_of[f]), len(blocks))
        if b == len(block_size):
            block_size.append(0)
        block_size[b] += 1
    base_of = [blocks[(region_of[f], group_of[f])] * stride for f in range(n_fac)]
    heap_cap = [2 * block_size[b // stride] + 16 for b in base_of]
    sizes_of = [min(d_max, network.largest_unit[f], rule_max[f]) for f in range(n_fac)]
    heaps: list[list[int]] = [[] for _ in range(len(blocks) * stride if indexed else 0)]
    current = [-1] * (n_fac * stride)  # [f · stride + 2d + reserved]: f's key there, or -1
    heap_ids: dict[tuple[int, int], list[list[int]]] = {}
    F = max(n_fac, 1)
    B = max(total_beds, default=0) + 1
    W = max((max(rs, default=0) for rs in rsize), default=0) + 1
    harms = sorted(
        {0.0} | {demand[x] - demand[y] for x in range(top + 1) for y in range(x) if reserve}
    )
    harm_rank = {h: r for r, h in enumerate(harms)}
    rank_of = [
        [
            harm_rank[demand[x] - demand[y] if x > y else 0.0] if reserve else 0
            for y in range(top + 1)
        ]
        for x in range(top + 1)
    ]
    reserved_penalty = len(harms) * W * B * F  # above every key: a reserved room comes last

    def reindex(f: int) -> None:
        # unit_for and harm for every d at once (the same units, the same ranks).
        n = sizes_of[f]
        o = f * stride
        current[o : o + stride] = blank
        if n == 0:
            return
        b = base_of[f]
        cap = heap_cap[f]
        free = ffree[f]
        p = pool[f]
        m = maxroom[f]
        rs = rsize[f]
        fr = rfree[f]
        limit = rule_max[f] if rule_max[f] < top else top
        before = p if p > m else m
        if before > limit:
            before = limit
        ranks = rank_of[before]
        j = 0
        for d in range(1, n + 1):
            if d == 1 and (dorm[f] or p):
                u = DORM if dorm[f] else POOL
                taken = 1
            elif m >= d:
                while rs[j] < d or not fr[j]:
                    j += 1
                u = j
                taken = rs[j]
            elif p >= d:
                u = POOL
                taken = d
            else:
                break  # no unit for d, so none for a larger household either
            slot = 2 * d
            if not reserve or u == DORM:
                r = 0
            else:
                if u == POOL:
                    after = p - d if p - d > m else m
                else:
                    slot += 1 if d == 1 and family_ok[f] else 0
                    rest = m
                    if fr[u] == 1 and rs[u] == m:
                        rest = max((s for k, s in enumerate(rs) if fr[k] and k != u), default=0)
                    after = p if p > rest else rest
                r = ranks[after if after < limit else limit]
            e = ((r * W + taken - d) * B + free - taken) * F + f
            current[o + slot] = e
            h = heaps[b + slot]
            heappush(h, e)
            if len(h) > cap:
                h[:] = {x for x in h if current[(x % F) * stride + slot] == x}
                heapify(h)

    blank = [-1] * stride

    def ids_for(klass: int, d: int) -> list[list[int]]:
        # The heaps to look at for this household in each region.
        hit = heap_ids.get((klass, d))
        if hit is None:
            ok = network.group_eligibility(stream, klass)
            hit = [[] for _ in range(n_regions)]
            for (g, group), b in blocks.items():
                if ok[group]:
                    first = b * stride + 2 * d
                    hit[g].append(first)
                    if reserve and d == 1:
                        hit[g].append(first + 1)
            heap_ids[(klass, d)] = hit
        return hit

    def best_indexed(ids: list[int], g: int, d: int, reserve: bool) -> tuple[tuple, int]:
        # best_in(by_region[g], d, reserve) from the heaps' tops: (blocked, key), facility.
        blocked = reserve and d == 1 and region_rooms[g] <= reserve_rooms
        best = -1
        for hid in ids:
            h = heaps[hid]
            slot = hid % stride
            while h:
                e = h[0]
                if current[(e % F) * stride + slot] == e:
                    break
                heappop(h)
            else:
                continue
            if blocked and hid & 1:
                e += reserved_penalty
            if best < 0 or e < best:
                best = e
        if best < 0:
            return (), -1
        if best >= reserved_penalty:
            return (1, (best - reserved_penalty) // F), best % F
        return (0, best // F), best % F

    def choose_indexed(g: int, klass: int, d: int, reserve: bool) -> tuple[int, int]:
        # choose_network, with the same order of regions and the same tie-breaking.
        ids = ids_for(klass, d)
        key, f = best_indexed(ids[g], g, d, reserve)
        if f >= 0 and key[0] == 0:
            return f, unit_for_(f, d)
        best = (key[0], 0, *key[1:]) if f >= 0 else ()
        bf = f
        for g2 in range(n_regions):
            if g2 == g or region_free[g2] < d or not ids[g2]:
                continue
            key2, f2 = best_indexed(ids[g2], g2, d, reserve)
            if f2 < 0:
                continue
            full = (key2[0], 1, *key2[1:])
            if bf < 0 or full < best:
                best, bf = full, f2
        return bf, (unit_for_(bf, d) if bf >= 0 else -1)

    def unit_for_(f: int, d: int) -> int:
        u = unit_for(f, d)
        assert u is not None
        return u

    def anyone_could_indexed(klass: int, d: int) -> bool:
        ids = ids_for(klass, d)
        return any(
            region_free[g2] >= d and best_indexed(ids[g2], g2, d, False)[1] >= 0
            for g2 in range(n_regions)
        )

    def choose_network(g: int, klass: int, d: int, reserve: bool) -> tuple[int, int]:
        _, by_region = eligibility(stream, klass)
        key, f, u = best_in(by_region[g], d, reserve)
        # Her own region first, unless the only place there is reserved.
        if f >= 0 and key[0] == 0:
            return f, u
        best = (key[0], 0, *key[1:]) if f >= 0 else ()
        bf, bu = f, u
        for g2 in range(n_regions):
            if g2 == g or region_free[g2] < d:
                continue
            key2, f2, u2 = best_in(by_region[g2], d, reserve)
            if f2 < 0:
                continue
            full = (key2[0], 1, *key2[1:])
            if bf < 0 or full < best:
                best, bf, bu = full, f2, u2
        return bf, bu

    def anyone_could(klass: int, d: int) -> bool:
        _, by_region = eligibility(stream, klass)
        for g2 in range(n_regions):
            if region_free[g2] < d:
                continue
            for f in by_region[g2]:
                if pool[f] >= d or maxroom[f] >= d or (d == 1 and dorm[f]):
                    return True
        return False

    def can_take(f: int, klass: int, d: int) -> int | None:
        ok, _ = eligibility(stream, klass)
        return unit_for(f, d) if ok[f] else None

    isolated = policy == "isolated"
    first_fit = policy == "first_fit"
    if indexed:
        for f in range(n_fac):
            reindex(f)
    choose = choose_indexed if indexed else choose_network
    could = anyone_could_indexed if indexed else anyone_could
    first_counted = stream.first_counted
    arrivals_c, turned_c, unnecessary_c = stats.arrivals, stats.turned_away, stats.unnecessary
    placed = out_of_region = departures = 0
    people_days = 0.0

    for i in range(len(times)):
        t = times[i]
        while heap and heap[0][0] <= t:
            _, f, u, d = heappop(heap)
            departures += 1
            g = region_of[f]
            if u == POOL:
                pool[f] += d
                region_free[g] += d
                ffree[f] += d
            elif u == DORM:
                dorm[f] += 1
                region_free[g] += 1
                ffree[f] += 1
            else:
                s = rsize[f][u]
                rfree[f][u] += 1
                region_free[g] += s
                ffree[f] += s
                if s > maxroom[f]:
                    maxroom[f] = s
                if family_ok[f]:
                    region_rooms[g] += 1
            if indexed:
                reindex(f)
        d = sizes[i]
        klass = klasses[i]
        g = regions[i]
        f = -1
        u: int | None = None
        if isolated:
            cum = region_cum[g]
            if cum:
                j = bisect_right(cum, u_iso[i] * cum[-1])
                f = region_facilities[g][j if j < len(cum) else len(cum) - 1]
                u = can_take(f, klass, d)
                if u is None:
                    f = -1
        elif first_fit:
            called: list[int] = []
            excluded = 0.0
            base = i * K
            for k in range(n_calls):
                x = u_calls[base + k] * (all_total - excluded)
                # Successive sampling without replacement: map x onto the cumulative line of
                # beds, skipping the stretches of those already called (in ascending order).
                for c in sorted(called):
                    if x >= all_cum[c] - total_beds[c]:
                        x += total_beds[c]
                j = bisect_right(all_cum, x)
                if j >= n_fac:
                    j = n_fac - 1
                while total_beds[j] == 0 or j in called:  # rounding at a stretch's edge
                    j = (j + 1) % n_fac
                called.append(j)
                excluded += total_beds[j]
                u = can_take(j, klass, d)
                if u is not None:
                    f = j
                    break
        else:
            f, u = choose(g, klass, d, reserve)
        counted = i >= first_counted
        if f >= 0:
            assert u is not None
            s_ = stays[i]
            cap = max_stay[f]
            dep = t + (s_ if s_ <= cap else cap)
            gf = region_of[f]
            if u == POOL:
                pool[f] -= d
                region_free[gf] -= d
                ffree[f] -= d
            elif u == DORM:
                dorm[f] -= 1
                region_free[gf] -= 1
                ffree[f] -= 1
            else:
                size_u = rsize[f][u]
                fr = rfree[f]
                fr[u] -= 1
                region_free[gf] -= size_u
                ffree[f] -= size_u
                if family_ok[f]:
                    region_rooms[gf] -= 1
                if fr[u] == 0 and size_u == maxroom[f]:
                    maxroom[f] = max((s for s, c in zip(rsize[f], fr, strict=True) if c), default=0)
            if indexed:
                reindex(f)
            heappush(heap, (dep, f, u, d))
            overlap = (dep if dep < end else end) - (t if t > warm else warm)
            if overlap > 0:
                people_days += d * overlap
            if counted:
                arrivals_c[d] += 1
                placed += 1
                if gf != g:
                    out_of_region += 1
            if trace is not None:
                trace(i, f, u, dep)
        else:
            if counted:
                arrivals_c[d] += 1
                turned_c[d] += 1
                if could(klass, d):
                    unnecessary_c[d] += 1
            if trace is not None:
                trace(i, -1, 0, t)
    stats.placed = placed
    stats.departures = departures
    stats.out_of_region = out_of_region
    stats.people_days = people_days
    return stats


# --------------------------------------------------------------------------------------------
# Replications, confidence intervals, output


def _r(x: float) -> float:
    return round(x, 6)


def _clip(lo: float, hi: float) -> tuple[float, float]:
    return max(0.0, lo), min(1.0, hi)


@dataclass(frozen=True, slots=True)
class PolicyResult:
    policy: str
    turn_away_rate: float
    ci95: tuple[float, float]
    by_household_size: dict[int, float | None]
    unnecessary_turn_away_rate: float
    unnecessary_ci95: tuple[float, float]
    occupancy: float
    occupancy_ci95: tuple[float, float]
    out_of_region_share: float  # of placements
    people_turn_away_rate: float  # women and children turned away / arrived
    replication_rates: tuple[float, ...]
    arrivals_per_replication: float

    def to_json(self) -> dict[str, Any]:
        """Exactly the keys of the SPEC contract."""
        return {
            "turn_away_rate": _r(self.turn_away_rate),
            "ci95": [_r(self.ci95[0]), _r(self.ci95[1])],
            "by_household_size": {
                str(d): (None if v is None else _r(v)) for d, v in self.by_household_size.items()
            },
            "unnecessary_turn_away_rate": _r(self.unnecessary_turn_away_rate),
            "occupancy": _r(self.occupancy),
        }


@dataclass(frozen=True, slots=True)
class SimulationResult:
    scenario: Scenario
    policies: dict[str, PolicyResult]
    erlang_b: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "policies": {name: r.to_json() for name, r in self.policies.items()},
            "erlang_b": None if self.erlang_b is None else _r(self.erlang_b),
        }


def erlang_b_of_scenario(scenario: Scenario) -> float | None:
    """Erlang B of the pooled network when it is a plain loss system (pool beds only, no rules,
    every household of one person); otherwise None, as the SPEC contract says."""
    if any(f.family_rooms or f.dorm_beds or f.has_rules for f in scenario.facilities):
        return None
    if any(a.household_size != ((1, 1.0),) for a in scenario.arrivals if a.per_day > 0):
        return None
    load = scenario.arrivals_per_day * scenario.stay.mean
    return _erlang_b(sum(f.beds for f in scenario.facilities), load)


def _sizes(scenario: Scenario) -> list[int]:
    return sorted({d for a in scenario.arrivals if a.per_day > 0 for d, _ in a.household_size})


def summarise(scenario: Scenario, policy: str, reps: Sequence[ReplicationStats]) -> PolicyResult:
    rates = [r.turn_away_rate for r in reps]
    mean, lo, hi = mean_ci95(rates)
    unn, ulo, uhi = mean_ci95([r.unnecessary_rate for r in reps])
    occ, olo, ohi = mean_ci95([r.occupancy for r in reps])
    by_size: dict[int, float | None] = {}
    for d in _sizes(scenario):
        values = [v for r in reps if (v := r.rate_for(d)) is not None]
        by_size[d] = math.fsum(values) / len(values) if values else None
    placed = sum(r.placed for r in reps)
    people_arrived = sum(d * n for r in reps for d, n in enumerate(r.arrivals))
    people_turned = sum(d * n for r in reps for d, n in enumerate(r.turned_away))
    return PolicyResult(
        policy=policy,
        turn_away_rate=mean,
        ci95=_clip(lo, hi),
        by_household_size=by_size,
        unnecessary_turn_away_rate=unn,
        unnecessary_ci95=_clip(ulo, uhi),
        occupancy=occ,
        occupancy_ci95=_clip(olo, ohi),
        out_of_region_share=sum(r.out_of_region for r in reps) / placed if placed else 0.0,
        people_turn_away_rate=people_turned / people_arrived if people_arrived else 0.0,
        replication_rates=tuple(rates),
        arrivals_per_replication=sum(r.total_arrivals for r in reps) / len(reps),
    )


Progress = Callable[[int, int], None]


def simulate(
    scenario: Scenario | dict[str, Any],
    *,
    policies: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Run every replication under every policy on common random numbers."""
    sc = scenario if isinstance(scenario, Scenario) else parse_scenario(scenario)
    names = tuple(policies) if policies is not None else sc.policies
    for name in names:
        if name not in POLICIES:
            raise ValueError(f"unknown policy {name!r}")
    network = compile_network(sc)
    per_policy: dict[str, list[ReplicationStats]] = {p: [] for p in names}
    for rep in range(sc.replications):
        stream = build_stream(sc, rep)
        for name in names:
            per_policy[name].append(run_policy(network, stream, name))
        if progress is not None:
            progress(rep + 1, sc.replications)
    return SimulationResult(
        scenario=sc,
        policies={p: summarise(sc, p, per_policy[p]) for p in names},
        erlang_b=erlang_b_of_scenario(sc),
    )


# --------------------------------------------------------------------------------------------
# What if we add N places?


@dataclass(frozen=True, slots=True)
class WhatIfOption:
    target: str  # a region code, or a facility id
    turn_away_rate: float
    ci95: tuple[float, float]
    reduction: float  # baseline rate minus this option's rate (paired, same streams)
    reduction_ci95: tuple[float, float]
    turn_aways_avoided_per_year: float  # households

    def to_json(self, by: str) -> dict[str, Any]:
        return {
            by: self.target,
            "turn_away_rate": _r(self.turn_away_rate),
            "ci95": [_r(self.ci95[0]), _r(self.ci95[1])],
            "reduction": _r(self.reduction),
            "reduction_ci95": [_r(self.reduction_ci95[0]), _r(self.reduction_ci95[1])],
            "turn_aways_avoided_per_year": round(self.turn_aways_avoided_per_year, 2),
        }


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    places: int
    by: str  # "region" | "facility"
    policy: str
    baseline: float
    baseline_ci95: tuple[float, float]
    options: tuple[WhatIfOption, ...]  # best first

    def to_json(self) -> dict[str, Any]:
        return {
            "what_if": {
                "places": self.places,
                "by": self.by,
                "policy": self.policy,
                "baseline": {
                    "turn_away_rate": _r(self.baseline),
                    "ci95": [_r(self.baseline_ci95[0]), _r(self.baseline_ci95[1])],
                },
                "options": [o.to_json(self.by) for o in self.options],
            }
        }


def _with_places(scenario: Scenario, places: int, by: str, target: str, rules: Rules) -> Scenario:
    if by == "facility":
        facilities = tuple(
            replace(f, beds=f.beds + places) if f.id == target else f for f in scenario.facilities
        )
    else:
        # A new shelter in that region: `places` pool beds under `rules`.
        new = SimFacility(id=f"what-if:{target}", region=target, beds=places, rules=rules)
        facilities = (*scenario.facilities, new)
    return replace(scenario, facilities=facilities)


def what_if(
    scenario: Scenario | dict[str, Any],
    places: int,
    *,
    by: str = "region",
    policy: str | None = None,
    rules: Rules | None = None,
    progress: Progress | None = None,
) -> WhatIfResult:
    """Where would ``places`` more beds cut turn-aways most?

    ``by="region"``: for each region, a new shelter of ``places`` pool beds there, under
    ``rules`` (default: no restricting rule). ``by="facility"``: ``places`` more pool beds at
    one facility, under its own rules. Every option replays the same arrival streams as the
    baseline, so each reduction is a paired difference with a sharp confidence interval.
    Options are ranked by mean reduction, largest first."""
    sc = scenario if isinstance(scenario, Scenario) else parse_scenario(scenario)
    if isinstance(places, bool) or not isinstance(places, int) or places < 1:
        raise ValueError("places must be an integer ≥ 1")
    if by not in ("region", "facility"):
        raise ValueError("by must be 'region' or 'facility'")
    if policy is None:
        policy = "network" if "network" in sc.policies else sc.policies[0]
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}")
    targets = list(sc.regions) if by == "region" else [f.id for f in sc.facilities]
    variants = {t: _with_places(sc, places, by, t, rules or Rules()) for t in targets}
    limits = age_limits(sc, *variants.values())
    base_net = compile_network(sc)
    # A new shelter in a region with demand but no facility yet would move that region
    # forward in the variant's own order; the baseline's streams need the baseline's order.
    nets = {t: compile_network(v, sc.regions) for t, v in variants.items()}
    base_rates: list[float] = []
    rates: dict[str, list[float]] = {t: [] for t in targets}
    arrivals = 0
    for rep in range(sc.replications):
        stream = build_stream(sc, rep, limits)
        b = run_policy(base_net, stream, policy)
        base_rates.append(b.turn_away_rate)
        arrivals += b.total_arrivals
        for t in targets:
            rates[t].append(run_policy(nets[t], stream, policy).turn_away_rate)
        if progress is not None:
            progress(rep + 1, sc.replications)
    per_year = arrivals / sc.replications / sc.years
    base, blo, bhi = mean_ci95(base_rates)
    options = []
    for t in targets:
        m, lo, hi = mean_ci95(rates[t])
        diff = [b - o for b, o in zip(base_rates, rates[t], strict=True)]
        dm, dlo, dhi = mean_ci95(diff)
        options.append(WhatIfOption(t, m, _clip(lo, hi), dm, (dlo, dhi), dm * per_year))
    options.sort(key=lambda o: (-o.reduction, o.target))
    return WhatIfResult(places, by, policy, base, _clip(blo, bhi), tuple(options))
