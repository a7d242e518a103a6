"""Evacuation: move every household of a compromised facility to safe places (SPEC.md C6).

Each household goes whole into one unit: a family room (one household no larger than its beds)
or a dorm bed (one woman alone). A household may use a unit only where `fit` finds no reason
against it (house rules, safety distance from the threat, not the compromised place itself).

Objective, lexicographic: most people placed, then least travel (km from the compromised
facility). This is a maximum-weight b-matching, which is solved exactly as a min-cost flow
(OR-Tools): source → household class (supply = households of that class) → unit pool
(identical rooms of one facility; capacity = how many) → sink, plus an "unplaced" arc. The
constraint matrix is totally unimodular, so the optimum of the flow is integral and equals the
LP bound: the reported gap is 0 whenever the solver says OPTIMAL.

Greedy first-fit, as a coordinator on the phone would do it (households in the order given,
facilities nearest first, the first free unit that fits), is computed alongside for comparison.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .fit import Capacity, Facility, Household, fit_many
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
    """Indexes of destinations whose rules and safety let this household in."""
    results = fit_many(h, [_rules_only(d.facility) for d in destinations])
    return [i for i, r in enumerate(results) if r.ok]


def _km(origin: Point | None, d: Destination) -> float:
    if origin is None or d.facility.point is None:
        return 0.0
    return distance_km(origin, d.facility.point)


# --- exact --------------------------------------------------------------------------------


def plan_optimal(
    evacuees: Sequence[Evacuee],
    destinations: Sequence[Destination],
    *,
    origin: Point | None,
    time_limit_s: float = 10.0,
) -> Plan:
    from ortools.graph.python import min_cost_flow

    start = time.perf_counter()
    classes = _classes(evacuees)
    kms = [_km(origin, d) for d in destinations]
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

    smcf = min_cost_flow.SimpleMinCostFlow()
    class_list = list(classes.items())
    n_classes = len(class_list)
    source = 0
    sink = 1 + n_classes + len(pools)
    class_node = lambda c: 1 + c  # noqa: E731
    pool_node = lambda p: 1 + n_classes + p  # noqa: E731
    arcs: list[tuple[int, int]] = []  # (class index, pool index) for each household->pool arc

    for c, (h, ids) in enumerate(class_list):
        smcf.add_arc_with_capacity_and_unit_cost(source, class_node(c), len(ids), 0)
        smcf.add_arc_with_capacity_and_unit_cost(class_node(c), sink, len(ids), 0)  # unplaced
        for i in eligible_facilities(h, destinations):
            for p in pools_by_dest.get(i, ()):
                _i, kind, beds, _count = pools[p]
                if (kind == "dorm" and h.size == 1) or (kind == "family" and beds >= h.size):
                    cost = -(h.size * big - km_units[i])
                    arc = smcf.add_arc_with_capacity_and_unit_cost(
                        class_node(c), pool_node(p), len(ids), cost
                    )
                    while len(arcs) <= arc:
                        arcs.append((-1, -1))
                    arcs[arc] = (c, p)
    for p, (_i, _kind, _beds, count) in enumerate(pools):
        smcf.add_arc_with_capacity_and_unit_cost(pool_node(p), sink, count, 0)
    smcf.set_node_supply(source, len(evacuees))
    smcf.set_node_supply(sink, -len(evacuees))

    status = smcf.solve()
    plan = Plan(method="optimal", people_total=sum(e.household.size for e in evacuees))
    if status != smcf.OPTIMAL:
        plan.status = f"solver status {status}"
        plan.unplaced = [e.id for e in evacuees]
        plan.seconds = time.perf_counter() - start
        return plan
    remaining = {c: list(ids) for c, (_h, ids) in enumerate(class_list)}
    for arc in range(smcf.num_arcs()):
        flow = smcf.flow(arc)
        if flow <= 0 or arc >= len(arcs) or arcs[arc][0] < 0:
            continue
        c, p = arcs[arc]
        i, kind, beds, _count = pools[p]
        h = class_list[c][0]
        for _ in range(flow):
            eid = remaining[c].pop(0)
            plan.assignments.append(
                Assignment(eid, destinations[i].facility.id, kind, beds, round(kms[i], 1))
            )
            plan.people_placed += h.size
            plan.travel_km += kms[i]
    plan.unplaced = [eid for ids in remaining.values() for eid in ids]
    plan.travel_km = round(plan.travel_km, 1)
    plan.status = "optimal"
    plan.bound_people = plan.people_placed  # integral min-cost flow: the LP bound is attained
    plan.gap = 0.0
    plan.seconds = time.perf_counter() - start
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
    evacuees: Sequence[Evacuee], destinations: Sequence[Destination], *, origin: Point | None
) -> Plan:
    """First fit: each household in turn, facilities nearest first, the first free unit."""
    start = time.perf_counter()
    kms = [_km(origin, d) for d in destinations]
    order = sorted(range(len(destinations)), key=lambda i: (kms[i], destinations[i].facility.id))
    free_rooms = {i: list(destinations[i].free_family_rooms) for i in order}
    free_dorm = {i: destinations[i].free_dorm_beds for i in order}
    eligible_cache: dict[Household, set[int]] = {}
    plan = Plan(method="greedy_first_fit", people_total=sum(e.household.size for e in evacuees))
    for e in evacuees:
        h = e.household
        if h not in eligible_cache:
            eligible_cache[h] = set(eligible_facilities(h, destinations))
        placed = False
        for i in order:
            if i not in eligible_cache[h]:
                continue
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
    plan.seconds = time.perf_counter() - start
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
    return Comparison(
        optimal=plan_optimal(evacuees, destinations, origin=origin, time_limit_s=time_limit_s),
        greedy=plan_greedy(evacuees, destinations, origin=origin),
    )
