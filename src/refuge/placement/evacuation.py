"""Evacuation: move every household of a compromised facility to safe places (SPEC.md C6).

Each household goes whole into one unit: a family room (one household no larger than its beds)
or a dorm bed (one woman alone). A household may use a unit only where `fit` finds no reason
against it (house rules, safety distance from the threat, not the compromised place itself).

Objective, lexicographic: most people placed, then least travel (km from the compromised
facility). This is a maximum-weight b-matching, which is solved exactly as a min-cost flow
(OR-Tools): source → household class (supply = households of that class) → unit pool
(identical rooms of one facility; capacity = how many) → sink, plus an "unplaced" arc. The
constraint matrix is totally unimodular, so the optimum of the flow is integral and equals the
LP bound: the reported gap is 0 whenever the solver says OPTIMAL. Past the time limit the plan
is the optimum over the households decided so far, flagged ``stopped_early``, and its gap is
taken against min(people, free beds).

Greedy first-fit, as a coordinator on the phone would do it (households in the order given,
facilities nearest first, the first free unit that fits), is computed alongside for comparison.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .fit import Capacity, Facility, Household, fit_many, limits_of, rules_key
from .geo import Point, distance_km


@dataclass(frozen=True, slots=True)
class Evacuee:
    id: str
    household: Household


@dataclass(frozen=True, slots=True)
class Destination:
    """A facility with its free units now: ``free_family_rooms`` (beds of each free family room)
    and ``free_dorm_beds``."""

    facility: Facility
    free_family_rooms: tuple[int, ...] = ()
    free_dorm_beds: int = 0


@dataclass(frozen=True, slots=True)
class Assignment:
    evacuee_id: str
    facility_id: str
    unit: str  # "family" or "dorm"
    beds: int  # beds of the family room, or 1 for a dorm bed
    km: float


@dataclass
class Plan:
    method: str
    assignments: list[Assignment] = field(default_factory=list)
    unplaced: list[str] = field(default_factory=list)
    people_placed: int = 0
    people_total: int = 0
    travel_km: float = 0.0
    status: str = ""
    bound_people: int | None = None  # upper bound on people placed (LP bound)
    gap: float | None = None  # relative gap of people placed against the bound
    seconds: float = 0.0
    # The time limit passed before every household was considered: a feasible plan, not
    # necessarily the best; ``gap`` says how far it may be from the best.
    stopped_early: bool = False

    @property
    def households_placed(self) -> int:
        return len(self.assignments)


# --- eligibility ------------------------------------------------------------------------------


def _rules_only(f: Facility) -> Facility:
    """The facility with availability unknown, so `fit` judges rules and safety, not capacity."""
    return replace(
        f, capacity=Capacity(family_rooms=f.capacity.family_rooms, dorm_beds=f.capacity.dorm_beds)
    )


def _classes(evacuees: Sequence[Evacuee]) -> dict[Household, list[str]]:
    classes: dict[Household, list[str]] = defaultdict(list)
    for e in evacuees:
        classes[e.household].append(e.id)
    return classes


def eligible_facilities(h: Household, destinations: Sequence[Destination]) -> list[int]:
    """Indexes of destinations whose rules and safety let this household in (one household;
    a plan uses `eligibility`, which decides once for all households the rules cannot tell
    apart)."""
    results = fit_many(h, [_rules_only(d.facility) for d in destinations])
    return [i for i, r in enumerate(results) if r.ok]


def _km(origin: Point | None, d: Destination) -> float:
    if origin is None or d.facility.point is None:
        return 0.0
    return distance_km(origin, d.facility.point)


@dataclass
class Eligibility:
    """Which destinations each household may use, and the travel to each, computed once and
    shared by the exact plan and greedy. Households are grouped by `fit.rules_key` (what the
    rules read of them), so `fit` runs once per group and destination, not per household."""

    kms: list[float]  # travel from the origin, by destination
    key_of: dict[Household, tuple[object, ...]]
    eligible: dict[tuple[object, ...], list[int]]  # destination indexes, ascending, by group
    complete: bool  # False when the time limit stopped it: some groups are not decided
    seconds: float

    def of(self, h: Household) -> list[int] | None:
        """The destinations this household may use; None when its group was not decided."""
        return self.eligible.get(self.key_of[h])


def eligibility(
    evacuees: Sequence[Evacuee],
    destinations: Sequence[Destination],
    *,
    origin: Point | None,
    deadline: float | None = None,
) -> Eligibility:
    """Decide eligibility for every group of households; past ``deadline`` (a
    `time.perf_counter()` value) it stops after the group in hand, so at least one group is
    always decided."""
    start = time.perf_counter()
    kms = [_km(origin, d) for d in destinations]
    rules_only = [_rules_only(d.facility) for d in destinations]  # once per destination
    limits = limits_of(rules_only)
    key_of: dict[Household, tuple[object, ...]] = {}
    groups: dict[tuple[object, ...], Household] = {}
    for e in evacuees:
        h = e.household
        if h not in key_of:
            key = key_of[h] = rules_key(h, limits)
            groups.setdefault(key, h)
    # The threat distance of each destination, measured once for all households avoiding the
    # same points.
    nearest: dict[tuple[Point, ...], dict[Point, float]] = defaultdict(dict)
    eligible: dict[tuple[object, ...], list[int]] = {}
    complete = True
    for key, h in groups.items():
        if eligible and deadline is not None and time.perf_counter() > deadline:
            complete = False
            break
        results = fit_many(h, rules_only, nearest=nearest[h.avoid_points])
        eligible[key] = [i for i, r in enumerate(results) if r.ok]
    return Eligibility(kms, key_of, eligible, complete, time.perf_counter() - start)


def _bound_people(evacuees: Sequence[Evacuee], destinations: Sequence[Destination]) -> int:
    """An upper bound on people placed that needs no eligibility: nobody without a bed."""
    beds = sum(sum(d.free_family_rooms) + d.free_dorm_beds for d in destinations)
    return min(sum(e.household.size for e in evacuees), beds)


def _stopped(plan: Plan, evacuees: Sequence[Evacuee], destinations: Sequence[Destination]) -> None:
    plan.stopped_early = True
    plan.status = "stopped early (time limit)"
    plan.bound_people = _bound_people(evacuees, destinations)
    plan.gap = (
        (plan.bound_people - plan.people_placed) / plan.bound_people if plan.bound_people else 0.0
    )


# --- exact --------------------------------------------------------------------------------


def plan_optimal(
    evacuees: Sequence[Evacuee],
    destinations: Sequence[Destination],
    *,
    origin: Point | None,
    time_limit_s: float = 10.0,
    shared: Eligibility | None = None,
) -> Plan:
    """The exact plan. Past ``time_limit_s`` it stops deciding eligibility (checked between
    groups of households), solves the flow over the households decided, and returns that
    feasible plan with ``stopped_early`` and the gap to a bound. The flow's solve itself is one call
    that cannot be interrupted (OR-Tools' min-cost flow takes no time limit): 1.5 s of 1.8 s at
    3,000 households into 15,000 places (docs/benchmarks.md). ``shared``: eligibility already
    computed (its time counts against the limit).
    """
    import numpy as np
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    if shared is None:
        deadline = start + time_limit_s
        shared = eligibility(evacuees, destinations, origin=origin, deadline=deadline)
    classes = _classes(evacuees)
    kms = shared.kms
    # Integer costs: one more person placed outweighs any possible saving in travel.
    km_units = [round(k * 10) for k in kms]  # 0.1 km resolution
    big = (max(km_units, default=0) + 1) * (len(evacuees) + 1)

    # Unit pools: (destination index, kind, beds) -> count.
    pools: list[tuple[int, str, int, int]] = []
    for i, d in enumerate(destinations):
        for beds, count in sorted(_tally(d.free_family_rooms).items()):
            pools.append((i, "family", beds, count))
        if d.free_dorm_beds > 0:
            pools.append((i, "dorm", 1, d.free_dorm_beds))
    pools_by_dest: dict[int, list[int]] = defaultdict(list)
    for p_idx, (i, _kind, _beds, _count) in enumerate(pools):
        pools_by_dest[i].append(p_idx)

    class_list = list(classes.items())
    n_classes = len(class_list)
    source = 0
    sink = 1 + n_classes + len(pools)
    # The arcs in the order the planner has always added them (the solver's tie-breaking, and
    # so the assignment, depends on it): for each class, source -> class, class -> sink
    # ("unplaced"), then class -> each pool that fits, by destination and pool; then pool -> sink.
    # A class's pools and costs depend only on its group (which includes its size).
    by_group: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray] | None] = {}

    def _targets(h: Household, eligible: list[int]) -> tuple[np.ndarray, np.ndarray]:
        ps, cs = [], []
        for i in eligible:
            for p in pools_by_dest.get(i, ()):
                _i, kind, beds, _count = pools[p]
                if (kind == "dorm" and h.size == 1) or (kind == "family" and beds >= h.size):
                    ps.append(p)
                    cs.append(-(h.size * big - km_units[i]))
        return np.array(ps, dtype=np.int64), np.array(cs, dtype=np.int64)

    tails, heads, caps, costs, arc_pool = [], [], [], [], []
    # No time check here: once eligibility is decided, the arcs cost little (0.1 s for 2.2
    # million) and dropping some would throw away work done; a class whose group was not
    # decided (eligibility stopped early) gets no pool arc and stays unplaced.
    for c, (h, ids) in enumerate(class_list):
        key = shared.key_of[h]
        if key not in by_group:
            eligible = shared.eligible.get(key)
            by_group[key] = None if eligible is None else _targets(h, eligible)
        targets = by_group[key]
        node = 1 + c
        n = len(ids)
        m = 0 if targets is None else len(targets[0])
        tails.append(np.full(m + 2, node, dtype=np.int64))
        tails[-1][0] = source
        head = np.empty(m + 2, dtype=np.int64)
        head[0], head[1] = node, sink
        cost = np.zeros(m + 2, dtype=np.int64)
        pool = np.full(m + 2, -1, dtype=np.int64)
        if targets is not None:
            head[2:] = targets[0] + 1 + n_classes
            cost[2:] = targets[1]
            pool[2:] = targets[0]
        heads.append(head)
        caps.append(np.full(m + 2, n, dtype=np.int64))
        costs.append(cost)
        arc_pool.append(pool)
    counts = np.array([count for _i, _k, _b, count in pools], dtype=np.int64)
    tails.append(np.arange(len(pools), dtype=np.int64) + 1 + n_classes)
    heads.append(np.full(len(pools), sink, dtype=np.int64))
    caps.append(counts)
    costs.append(np.zeros(len(pools), dtype=np.int64))
    arc_pool.append(np.full(len(pools), -1, dtype=np.int64))
    arc_class = np.concatenate(
        [np.full(len(t), c, dtype=np.int64) for c, t in enumerate(tails[:-1])]
        + [np.full(len(pools), -1, dtype=np.int64)]
    )
    arc_pool_all = np.concatenate(arc_pool)

    smcf = min_cost_flow.SimpleMinCostFlow()
    smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(caps), np.concatenate(costs)
    )
    smcf.set_node_supply(source, len(evacuees))
    smcf.set_node_supply(sink, -len(evacuees))

    status = smcf.solve()
    plan = Plan(method="optimal", people_total=sum(e.household.size for e in evacuees))
    if status != smcf.OPTIMAL:
        plan.status = f"solver status {status}"
        plan.unplaced = [e.id for e in evacuees]
        plan.seconds = time.perf_counter() - start + shared.seconds
        return plan
    flows = smcf.flows(np.arange(smcf.num_arcs(), dtype=np.int64))
    remaining = {c: list(ids) for c, (_h, ids) in enumerate(class_list)}
    for arc in np.flatnonzero((flows > 0) & (arc_pool_all >= 0)).tolist():
        c, p = int(arc_class[arc]), int(arc_pool_all[arc])
        i, kind, beds, _count = pools[p]
        h = class_list[c][0]
        for _ in range(int(flows[arc])):
            eid = remaining[c].pop(0)
            plan.assignments.append(
                Assignment(eid, destinations[i].facility.id, kind, beds, round(kms[i], 1))
            )
            plan.people_placed += h.size
            plan.travel_km += kms[i]
    plan.unplaced = [eid for ids in remaining.values() for eid in ids]
    plan.travel_km = round(plan.travel_km, 1)
    plan.seconds = time.perf_counter() - start + shared.seconds
    if not shared.complete:
        _stopped(plan, evacuees, destinations)
        return plan
    plan.status = "optimal"
    plan.bound_people = plan.people_placed  # integral min-cost flow: the LP bound is attained
    plan.gap = 0.0
    if plan.seconds > time_limit_s:
        plan.status = "optimal (over the time limit)"
    return plan


def _tally(values: Sequence[int]) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return out


# --- greedy ---------------------------------------------------------------------------------


def plan_greedy(
    evacuees: Sequence[Evacuee],
    destinations: Sequence[Destination],
    *,
    origin: Point | None,
    shared: Eligibility | None = None,
) -> Plan:
    """First fit: each household in turn, facilities nearest first, the first free unit.
    Households whose eligibility was not decided (``shared`` stopped early) stay unplaced."""
    start = time.perf_counter()
    if shared is None:
        shared = eligibility(evacuees, destinations, origin=origin)
    kms = shared.kms
    order = sorted(range(len(destinations)), key=lambda i: (kms[i], destinations[i].facility.id))
    rank = {i: r for r, i in enumerate(order)}
    free_rooms = {i: list(destinations[i].free_family_rooms) for i in order}
    free_dorm = {i: destinations[i].free_dorm_beds for i in order}
    nearest_first: dict[tuple[object, ...], list[int]] = {}  # eligible, in `order`, by group
    plan = Plan(method="greedy_first_fit", people_total=sum(e.household.size for e in evacuees))
    for e in evacuees:
        h = e.household
        key = shared.key_of[h]
        candidates = nearest_first.get(key)
        if candidates is None:
            candidates = nearest_first[key] = sorted(shared.eligible.get(key, ()), key=rank.get)
        placed = False
        for i in candidates:
            if h.size == 1 and free_dorm[i] > 0:
                free_dorm[i] -= 1
                plan.assignments.append(
                    Assignment(e.id, destinations[i].facility.id, "dorm", 1, round(kms[i], 1))
                )
                placed = True
            else:
                room = next((b for b in free_rooms[i] if b >= h.size), None)
                if room is not None:
                    free_rooms[i].remove(room)
                    plan.assignments.append(
                        Assignment(
                            e.id, destinations[i].facility.id, "family", room, round(kms[i], 1)
                        )
                    )
                    placed = True
            if placed:
                plan.people_placed += h.size
                plan.travel_km += kms[i]
                break
        if not placed:
            plan.unplaced.append(e.id)
    plan.travel_km = round(plan.travel_km, 1)
    plan.status = "heuristic"
    plan.seconds = time.perf_counter() - start + shared.seconds
    if not shared.complete:
        _stopped(plan, evacuees, destinations)
    return plan


@dataclass
class Comparison:
    optimal: Plan
    greedy: Plan

    @property
    def extra_people_placed(self) -> int:
        return self.optimal.people_placed - self.greedy.people_placed


def plan_evacuation(
    evacuees: Sequence[Evacuee],
    destinations: Sequence[Destination],
    *,
    origin: Point | None,
    time_limit_s: float = 10.0,
) -> Comparison:
    """Both plans over one eligibility (decided once for both, within the time limit); each
    plan's ``seconds`` includes it."""
    deadline = time.perf_counter() + time_limit_s
    shared = eligibility(evacuees, destinations, origin=origin, deadline=deadline)
    return Comparison(
        optimal=plan_optimal(
            evacuees, destinations, origin=origin, time_limit_s=time_limit_s, shared=shared
        ),
        greedy=plan_greedy(evacuees, destinations, origin=origin, shared=shared),
    )
