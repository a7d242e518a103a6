"""The simulation page's side of the model: demand from what the network recorded, a short run
that fits in a web request, and the figures to show.

The model is refuge.placement.simulation; the facilities, rooms and rules come from
refuge.insights.simulation.live_facilities (through ``scenario_from_network``). This module
only decides the *demand*, in one of three ways, each said plainly on the page:

* ``recorded``: admissions and recorded turn-aways of the last 365 days, by the woman's region
  and household size. Still a lower bound: women who never reached anyone are not in it.
* ``hotline``: hotline calls in which safe accommodation was asked for (at wrap-up), by the
  caller's region: first calls only (not repeat callers), from the woman herself, a friend or
  family member, or a professional. Calls that show only the country are shared among that
  country's regions in proportion to the calls whose region is known; calls with no region
  at all are left out and counted. Household sizes are not asked on the phone: they come from
  the recorded admissions and turn-aways when there are enough, else from the form.
* ``entered``: households a year per region, typed in.

Stays: the mean (and spread) of the stays that ended in the last 365 days when there are at
least five, else the mean typed in.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F
from django.utils import timezone

from refuge.cases.models import Stay
from refuge.hotline.models import ContactType, Direction, Need, WrapUpNeed
from refuge.placement.sim_scenario import POLICIES, ScenarioError, parse_scenario
from refuge.placement.simulation import SimulationResult, WhatIfResult, simulate, what_if
from refuge.referrals.models import TurnAway

from . import conf
from .selectors import Basis
from .simulation import live_facilities, scenario_from_network

WINDOW_DAYS = 365
MIN_FOR_OWN_SIZES = 30  # as refuge.insights.simulation: fewer, and a region borrows the network's
MIN_STAYS = 5
REQUEST_CONTACTS = (ContactType.VICTIM, ContactType.FRIEND_FAMILY, ContactType.PROFESSIONAL)
SOURCES = ("recorded", "hotline", "entered")


@dataclass
class Demand:
    source: str
    counts: dict[str, float]  # households per region over the window
    days: float
    recorded: dict[str, int] = field(default_factory=dict)  # the whole counts behind ``counts``
    left_out: int = 0  # hotline requests with no region at all
    shared_out: int = 0  # hotline requests with only the country, shared among its regions

    @property
    def total(self) -> float:
        return sum(self.counts.values())

    def per_year(self) -> dict[str, float]:
        return {r: n * 365.0 / self.days for r, n in self.counts.items()}


def _window(now: datetime | None = None) -> tuple[datetime, datetime]:
    until = now or timezone.now()
    return until - timedelta(days=WINDOW_DAYS), until


def _stays(basis: Basis):
    return Stay.objects.filter(basis.org_q("facility__organisation"), basis.consent_q("client"))


def _sizes_by_region(basis: Basis) -> dict[str, Counter[int]]:
    """Admissions and turn-aways of the window by region and household size (two queries)."""
    since, until = _window()
    out: dict[str, Counter[int]] = defaultdict(Counter)
    for r in (
        _stays(basis)
        .filter(admitted_at__gte=since, admitted_at__lt=until)
        .values("client__residence_region", "facility__region_id", "household_size")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        region = r["client__residence_region"] or r["facility__region_id"] or ""
        if region and r["household_size"]:
            out[region][r["household_size"]] += r["n"]
    for r in (
        TurnAway.objects.filter(basis.org_q("organisation"), at__gte=since, at__lt=until)
        .exclude(region="")
        .values("region", "household_size")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if r["household_size"]:
            out[r["region"]][r["household_size"]] += r["n"]
    return dict(out)


def recorded_demand(basis: Basis) -> Demand:
    sizes = _sizes_by_region(basis)
    counts = {r: sum(c.values()) for r, c in sizes.items() if sum(c.values())}
    return Demand("recorded", {r: float(n) for r, n in counts.items()}, WINDOW_DAYS, counts)


def hotline_demand(basis: Basis) -> Demand:
    since, until = _window()
    rows = (
        WrapUpNeed.objects.filter(
            basis.org_q("wrapup__call__organisation"),
            need=Need.SHELTER,
            wrapup__contact_type__in=REQUEST_CONTACTS,
            wrapup__call__direction=Direction.INCOMING,
            wrapup__call__repeat_caller=False,
            wrapup__call__created_at__gte=since,
            wrapup__call__created_at__lt=until,
        )
        .values(region=F("wrapup__call__caller_region"))
        .annotate(n=Count("pk"))
        .order_by()
    )
    raw = {r["region"]: r["n"] for r in rows}
    counts: dict[str, float] = {r: float(n) for r, n in raw.items() if len(r) > 2}
    demand = Demand("hotline", counts, WINDOW_DAYS, dict(raw))
    demand.left_out = raw.get("", 0)
    for country, n in raw.items():
        if len(country) != 2:
            continue
        known = {r: v for r, v in counts.items() if r.startswith(country + "-")}
        base = sum(known.values())
        if not base:
            demand.left_out += n
            continue
        demand.shared_out += n
        for r, v in known.items():
            counts[r] += n * v / base
    return demand


def network_sizes(basis: Basis) -> tuple[Counter[int], dict[str, Counter[int]]]:
    by_region = _sizes_by_region(basis)
    total: Counter[int] = Counter()
    for c in by_region.values():
        total.update(c)
    return total, by_region


@dataclass(frozen=True)
class StayEstimate:
    mean: float
    cv: float | None
    n: int


def recorded_stays(basis: Basis) -> StayEstimate | None:
    since, until = _window()
    lengths = [
        max((end - start).total_seconds() / 86400, 1 / 24)
        for start, end in _stays(basis)
        .filter(discharged_at__gte=since, discharged_at__lt=until)
        .values_list("admitted_at", "discharged_at")
    ]
    if len(lengths) < MIN_STAYS:
        return None
    mean = math.fsum(lengths) / len(lengths)
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in lengths) / (len(lengths) - 1))
    return StayEstimate(round(mean, 3), round(sd / mean, 3) if sd > 0 else None, len(lengths))


def shares(sizes: Counter[int]) -> dict[str, float]:
    total = sum(sizes.values())
    out = {str(d): round(n / total, 6) for d, n in sorted(sizes.items())}
    largest = max(out, key=lambda k: out[k])
    out[largest] = round(out[largest] + 1 - math.fsum(out.values()), 6)
    return out


def parse_sizes(text: str) -> dict[str, float]:
    """``"1: 40, 2: 30, 3: 20, 4: 10"`` (percent, or shares) to shares that sum to 1."""
    sizes: Counter[int] = Counter()
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        size, sep, value = part.partition(":")
        if not sep:
            raise ValueError(part.strip())
        d, v = int(size.strip()), float(value.strip().rstrip("%"))
        if not 1 <= d <= 20 or v < 0 or not math.isfinite(v):
            raise ValueError(part.strip())
        sizes[d] += v  # type: ignore[assignment]
    if not sizes or sum(sizes.values()) <= 0:
        raise ValueError(text)
    return shares(sizes)


@dataclass
class Plan:
    """What the page will run, and what it rests on."""

    scenario: dict[str, Any]
    demand: Demand
    stay: StayEstimate | None  # recorded, or None when typed in
    sizes_from: str  # "recorded" | "entered"
    warmup_days: float
    expected_households: float  # households simulated by the whole request
    places: int | None = None
    region: str | None = None
    policy: str = "network"


def plan(
    *,
    basis: Basis,
    demand: Demand,
    entered_sizes: dict[str, float] | None,
    stay_mean: float | None,
    places: int | None = None,
    region: str | None = None,
    policy: str = "network",
) -> Plan:
    """The scenario for this network and demand. Raises ValueError with a message for people
    when something needed is missing."""
    network, by_region = network_sizes(basis)
    stay = recorded_stays(basis) if stay_mean is None else None
    if stay_mean is None and stay is None:
        raise ValueError("stay_needed")
    sizes_from = "recorded" if sum(network.values()) >= MIN_FOR_OWN_SIZES else "entered"
    if sizes_from == "entered" and not entered_sizes:
        raise ValueError("sizes_needed")
    arrivals = []
    for r in sorted(demand.counts):
        n = demand.counts[r]
        if n <= 0:
            continue
        if sizes_from == "recorded":
            own = by_region.get(r, Counter())
            mix = shares(own if sum(own.values()) >= MIN_FOR_OWN_SIZES else network)
        else:
            mix = dict(entered_sizes or {})
        arrivals.append({"region": r, "per_day": round(n / demand.days, 6), "household_size": mix})
    if not arrivals:
        raise ValueError("no_demand")
    if stay_mean is not None:
        stay_days: dict[str, Any] = {"distribution": "exponential", "mean": float(stay_mean)}
    else:
        assert stay is not None
        stay_days = {"distribution": "exponential", "mean": stay.mean}
        if stay.cv:
            stay_days = {"distribution": "lognormal", "mean": stay.mean, "cv": stay.cv}
    warmup = float(max(60, min(365, round(3 * stay_days["mean"]))))
    scenario = scenario_from_network(
        arrivals=arrivals,
        stay_days=stay_days,
        years=conf.SIM_YEARS,
        warmup_days=warmup,
        replications=conf.SIM_REPLICATIONS,
        seed=1,
    )
    sc = parse_scenario(scenario)
    runs = len(sc.policies) + ((len(sc.regions) + 1) if places else 0)
    expected = sc.arrivals_per_day * sc.horizon_days * sc.replications * runs
    return Plan(scenario, demand, stay, sizes_from, warmup, expected, places, region, policy)


@dataclass
class Outcome:
    result: SimulationResult
    what_if: WhatIfResult | None


def run(p: Plan) -> Outcome:
    if p.expected_households > conf.SIM_MAX_ARRIVALS:
        raise ValueError("too_big")
    result = simulate(p.scenario)
    extra = None
    if p.places:
        extra = what_if(p.scenario, p.places, by="region", policy=p.policy)
    return Outcome(result, extra)


def facilities_by_region() -> list[dict[str, Any]]:
    """Facilities and beds the model sees, by region (the network as recorded now)."""
    rows: dict[str, dict[str, Any]] = {}
    for f in live_facilities():
        row = rows.setdefault(f["region"], {"region": f["region"], "facilities": 0, "beds": 0})
        row["facilities"] += 1
        row["beds"] += (
            f["beds"] + f["dorm_beds"] + sum(r["beds"] * r["count"] for r in f["family_rooms"])
        )
    return sorted(rows.values(), key=lambda r: (-r["beds"], r["region"]))


__all__ = [
    "POLICIES",
    "SOURCES",
    "Demand",
    "Outcome",
    "Plan",
    "ScenarioError",
    "facilities_by_region",
    "hotline_demand",
    "parse_sizes",
    "plan",
    "recorded_demand",
    "run",
]
