"""A simulation scenario from the live network: facilities, rooms and rules as recorded today,
demand as the recorded stays show it.

The pure model is ``refuge.placement.simulation``; this module only loads rows into the
scenario format of SPEC.md "Simulation" (a plain dict, so it can be saved, edited and run with
``refuge simulate``).

What comes from where:

* **Facilities**: every active facility that offers accommodation, has a region and is not
  compromised. Its in-service *family* rooms become ``family_rooms`` (grouped by beds), its
  *dorm* rooms become ``dorm_beds`` (one woman alone per bed, as on the vacancy board). A
  facility with no rooms recorded gets its published capacity as a pool of ``beds``.
* **Rules**: the house rules the model acts on (children accepted, number of children, age
  limits for boys and girls, maximum stay). Other rules (documents, languages, pets …) are
  left out: the model does not draw those traits.
* **Demand** (unless given): admissions in the window, by the woman's region of residence
  (the facility's region when not recorded) and household size; the stay-length mean and
  spread from the stays that ended in the window. Admissions are a *lower bound* on demand:
  the women who were turned away were never admitted. Add them (or give ``arrivals``) before
  reading the results as the network's real need.

Only aggregates leave this module (rates per region and size, a mean stay): no row about a
person, and no address.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from refuge.cases.models import Stay
from refuge.directory.models import ACCOMMODATION_KINDS, Facility
from refuge.placement.sim_scenario import MODELLED_RULES, POLICIES, parse_scenario
from refuge.vacancies.models import Room, RoomKind

# Below this many admissions a region's household sizes are too few to trust on their own; it
# borrows the network's distribution.
MIN_ADMISSIONS_FOR_OWN_SIZES = 30
MIN_STAYS_FOR_SPREAD = 5


def live_facilities() -> list[dict[str, Any]]:
    """The scenario's ``facilities`` for the network as recorded now (two queries)."""
    rows = list(
        Facility.objects.filter(
            is_active=True,
            kind__in=ACCOMMODATION_KINDS,
            compromised_since__isnull=True,
            region__isnull=False,
        )
        .order_by("region_id", "name", "id")
        .values(
            "id", "name", "region_id", "stated_capacity", *(f"rules__{r}" for r in MODELLED_RULES)
        )
    )
    rooms: dict[Any, list[tuple[str, int]]] = defaultdict(list)
    for facility_id, kind, beds in Room.objects.filter(
        facility_id__in=[r["id"] for r in rows], in_service=True
    ).values_list("facility_id", "kind", "beds"):
        rooms[facility_id].append((kind, beds))
    out = []
    for row in rows:
        family: Counter[int] = Counter()
        dorm = 0
        for kind, beds in rooms.get(row["id"], []):
            if kind == RoomKind.FAMILY:
                family[beds] += 1
            else:
                dorm += beds
        recorded = bool(rooms.get(row["id"]))
        rules = {r: row[f"rules__{r}"] for r in MODELLED_RULES if row[f"rules__{r}"] is not None}
        if rules.get("max_stay_days") == 0:
            del rules["max_stay_days"]  # 0 is not a limit anyone means; treat as not stated
        out.append(
            {
                "id": str(row["id"]),
                "name": row["name"],
                "region": row["region_id"],
                "beds": 0 if recorded else int(row["stated_capacity"] or 0),
                "dorm_beds": dorm,
                "family_rooms": [{"beds": b, "count": n} for b, n in sorted(family.items())],
                "rules": rules,
            }
        )
    return out


def demand_from_stays(*, since: datetime, until: datetime) -> dict[str, Any]:
    """``arrivals`` and ``stay_days`` estimated from the admissions and discharges recorded
    between ``since`` and ``until``. Raises ValueError when there is nothing to estimate from."""
    if until <= since:
        raise ValueError("the window must end after it starts")
    days = (until - since).total_seconds() / 86400
    admitted = (
        Stay.objects.filter(admitted_at__gte=since, admitted_at__lt=until)
        .values("client__residence_region", "facility__region_id", "household_size")
        .annotate(n=Count("id"))
    )
    by_region: dict[str, Counter[int]] = defaultdict(Counter)
    for row in admitted:
        region = row["client__residence_region"] or row["facility__region_id"]
        if region and row["household_size"]:
            by_region[region][row["household_size"]] += row["n"]
    if not by_region:
        raise ValueError(
            "no admissions are recorded in this window: give the arrivals (per region and "
            "household size) instead"
        )
    network: Counter[int] = Counter()
    for sizes in by_region.values():
        network.update(sizes)
    arrivals = []
    for region in sorted(by_region):
        sizes = by_region[region]
        total = sum(sizes.values())
        basis = sizes if total >= MIN_ADMISSIONS_FOR_OWN_SIZES else network
        arrivals.append(
            {
                "region": region,
                "per_day": round(total / days, 6),
                "household_size": _shares(basis),
            }
        )
    lengths = [
        (end - start).total_seconds() / 86400
        for start, end in Stay.objects.filter(
            discharged_at__gte=since, discharged_at__lt=until
        ).values_list("admitted_at", "discharged_at")
    ]
    lengths = [max(x, 1 / 24) for x in lengths]  # a stay shorter than an hour counts as one
    if not lengths:
        raise ValueError(
            "no stay ended in this window, so the length of stay is unknown: give stay_days"
        )
    mean = math.fsum(lengths) / len(lengths)
    stay: dict[str, Any] = {"distribution": "exponential", "mean": round(mean, 3)}
    if len(lengths) >= MIN_STAYS_FOR_SPREAD:
        sd = math.sqrt(math.fsum((x - mean) ** 2 for x in lengths) / (len(lengths) - 1))
        if sd > 0:
            stay = {"distribution": "lognormal", "mean": round(mean, 3), "cv": round(sd / mean, 3)}
    return {"arrivals": arrivals, "stay_days": stay}


def _shares(sizes: Counter[int]) -> dict[str, float]:
    total = sum(sizes.values())
    shares = {str(d): round(n / total, 6) for d, n in sorted(sizes.items())}
    # Rounding must not break "the probabilities sum to 1": put the remainder on the largest.
    largest = max(shares, key=lambda k: shares[k])
    shares[largest] = round(shares[largest] + 1 - math.fsum(shares.values()), 6)
    return shares


def scenario_from_network(
    *,
    arrivals: list[dict[str, Any]] | None = None,
    stay_days: dict[str, Any] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    years: float = 10,
    warmup_days: float = 365,
    replications: int = 20,
    seed: int = 1,
    policies: tuple[str, ...] = POLICIES,
) -> dict[str, Any]:
    """A scenario (the JSON of SPEC "Simulation") for the live network. Demand not given is
    estimated from the stays of the window (default: the last 365 days). The result is checked
    with ``parse_scenario`` before it is returned (raises ``ScenarioError`` if it cannot run)."""
    until = until or timezone.now()
    since = since or until - timedelta(days=365)
    if arrivals is None or stay_days is None:
        estimated = demand_from_stays(since=since, until=until)
        arrivals = arrivals if arrivals is not None else estimated["arrivals"]
        stay_days = stay_days if stay_days is not None else estimated["stay_days"]
    scenario = {
        "name": "Live network",
        "description": (
            f"Facilities, rooms and rules as recorded on {until:%Y-%m-%d}; demand from "
            f"admissions {since:%Y-%m-%d} to {until:%Y-%m-%d} unless given (a lower bound: "
            "women turned away were never admitted)."
        ),
        "years": years,
        "warmup_days": warmup_days,
        "replications": replications,
        "seed": seed,
        "facilities": live_facilities(),
        "arrivals": arrivals,
        "stay_days": stay_days,
        "policies": list(policies),
        "first_fit_calls": 3,
    }
    parse_scenario(scenario)
    return scenario
