"""Network simulation (SPEC.md P): one network-year of 400 facilities in 10 s, and single-shelter
turn-away within 3 % of Erlang B. Prints ratios measured in this run.

The network: 400 shelters of 2–60 places over the 18 regions of the Central Federal District,
four in ten with family rooms, some with dorm beds, a mix of house rules; households of 1–5
people; lognormal stays (mean 30 days, cv 1); arrivals offering 0.9 of the beds (bed-days
demanded per day / beds), unevenly spread over the regions. Simulated: 60 days of warm-up and
then one year, under each of the four policies, on one common arrival stream.

``--facilities N`` builds the same kind of network with N facilities (default 400; the first
facilities of a larger network are those of a smaller one, and the arrivals scale with the
beds), to see how the cost per household grows with the network. Each policy is reported with
its wall time, its CPU time (the machine is shared) and µs of CPU per household; the load
average is printed before and after.

Baselines in the same run, on exactly the same arrivals and stays:
* a bare event loop: the same merge of sorted arrivals with a heap of departures, with no
  logic at all (the floor for a Python event loop);
* SimPy: the same events as SimPy timeouts, with no logic (what SimPy's own loop costs).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from heapq import heappop, heappush
from pathlib import Path

from _report import result  # noqa: E402  (bench/ is on sys.path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import simpy  # noqa: E402

from refuge.placement.erlang import erlang_b  # noqa: E402
from refuge.placement.sim_scenario import parse_scenario  # noqa: E402
from refuge.placement.simulation import (  # noqa: E402
    POLICIES,
    build_stream,
    compile_network,
    run_policy,
    simulate,
)

BUDGET_S = 10.0
REGIONS = [
    "RU-MOW", "RU-MOS", "RU-BEL", "RU-BRY", "RU-VLA", "RU-VOR", "RU-IVA", "RU-KLU", "RU-KOS",
    "RU-KRS", "RU-LIP", "RU-ORL", "RU-RYA", "RU-SMO", "RU-TAM", "RU-TVE", "RU-TUL", "RU-YAR",
]  # fmt: skip
SIZES = {"1": 0.45, "2": 0.28, "3": 0.15, "4": 0.08, "5": 0.04}
MEAN_STAY = 30.0
LOAD = 0.9


def network_scenario(seed: int = 400, n_facilities: int = 400) -> dict:
    rng = random.Random(seed)
    facilities = []
    for i in range(n_facilities):
        places = rng.randint(2, 60)
        rooms = []
        if rng.random() < 0.4 and places >= 6:
            size = rng.choice([2, 3, 4, 5])
            count = rng.randint(1, max(1, places // (2 * size)))
            rooms = [{"beds": size, "count": count}]
            places -= size * count
        dorm = rng.randint(0, places // 2) if rng.random() < 0.3 else 0
        rules: dict = {}
        x = rng.random()
        if x < 0.15:
            rules = {"children_accepted": False}
        elif x < 0.55:
            rules = {"boys_max_age": rng.choice([7, 10, 12, 14])}
        elif x < 0.65:
            rules = {"max_children": rng.choice([1, 2, 3]), "boys_max_age": 14}
        if rng.random() < 0.2:
            rules["max_stay_days"] = rng.choice([14, 30, 60, 90])
        facilities.append(
            {
                "id": f"f{i:03d}",
                "region": rng.choice(REGIONS),
                "beds": places - dorm,
                "dorm_beds": dorm,
                "family_rooms": rooms,
                "rules": rules,
            }
        )
    beds = sum(
        f["beds"] + f["dorm_beds"] + sum(r["beds"] * r["count"] for r in f["family_rooms"])
        for f in facilities
    )
    mean_size = sum(int(d) * p for d, p in SIZES.items())
    households_per_day = LOAD * beds / (MEAN_STAY * mean_size)
    weights = [rng.uniform(0.5, 1.5) for _ in REGIONS]
    arrivals = [
        {"region": g, "per_day": households_per_day * w / sum(weights), "household_size": SIZES}
        for g, w in zip(REGIONS, weights, strict=True)
    ]
    return {
        "years": 1,
        "warmup_days": 60,
        "replications": 2,
        "seed": seed,
        "facilities": facilities,
        "arrivals": arrivals,
        "stay_days": {"distribution": "lognormal", "mean": MEAN_STAY, "cv": 1.0},
    }


def bare_loop(times: list[float], stays: list[float]) -> int:
    """The same arrivals and departures, merged through a heap, with no logic."""
    heap: list[float] = []
    events = 0
    for t, s in zip(times, stays, strict=True):
        while heap and heap[0] <= t:
            heappop(heap)
            events += 1
        heappush(heap, t + s)
        events += 1
    return events


def simpy_loop(times: list[float], stays: list[float], horizon: float) -> None:
    env = simpy.Environment()

    def arrivals():
        last = 0.0
        for t, s in zip(times, stays, strict=True):
            yield env.timeout(t - last)
            last = t
            env.timeout(s)  # her departure: an event SimPy must schedule and process

    env.process(arrivals())
    env.run(until=horizon)


def timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def cpu_timed(fn, *args):
    """Wall time, CPU time of this process, value."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    return time.perf_counter() - start, time.process_time() - cpu, value


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facilities", type=int, default=400)
    args = parser.parse_args()
    budget = BUDGET_S * args.facilities / 400
    print(f"load average before: {loadavg()}")
    data = network_scenario(n_facilities=args.facilities)
    sc = parse_scenario(data)
    print(
        f"network: {len(sc.facilities)} facilities, {sc.total_beds} beds, "
        f"{sc.arrivals_per_day:.1f} households a day, 60 days warm-up + 1 year"
    )
    t_stream, stream = timed(build_stream, sc, 0)
    t_compile, network = timed(compile_network, sc)
    print(
        f"arrival stream: {len(stream)} households in {t_stream:.3f} s; network in {t_compile:.3f} s"
    )

    total = t_stream + t_compile
    total_cpu = 0.0
    slowest = 0.0
    events = 0
    for policy in POLICIES:
        t, cpu, stats = cpu_timed(run_policy, network, stream, policy)
        total += t
        total_cpu += cpu
        events = len(stream) + stats.departures
        slowest = max(slowest, t)
        print(
            f"  {policy:<16} {t:7.3f} s wall {cpu:7.3f} s CPU "
            f"{1e6 * cpu / len(stream):6.1f} µs CPU/household  {events / t:10,.0f} events/s  "
            f"turned away {100 * stats.turn_away_rate:5.1f}%  occupancy {100 * stats.occupancy:5.1f}%"
        )
    t_bare, bare_events = timed(bare_loop, stream.times, stream.stay)
    t_simpy, _ = timed(simpy_loop, stream.times, stream.stay, stream.horizon_days)
    print(
        f"baseline bare heap loop: {t_bare:.3f} s for {bare_events:,} events ({bare_events / t_bare:,.0f}/s)"
    )
    print(f"baseline SimPy, no logic: {t_simpy:.3f} s ({bare_events / t_simpy:,.0f} events/s)")
    print(f"ratio slowest policy / bare loop: {slowest / t_bare:.1f}x")
    print(f"ratio slowest policy / SimPy with no logic: {slowest / t_simpy:.2f}x")
    print(
        f"all four policies, one network-year, with stream: {total:.2f} s wall "
        f"(budget {budget:.0f} s); the policies alone {total_cpu:.2f} s CPU"
    )

    # Single shelter: 10 beds offered 12 Erlangs, lognormal stays; against Erlang B.
    shelter = {
        "years": 22,
        "warmup_days": 20,
        "replications": 5,
        "seed": 11,
        "facilities": [{"id": "a", "region": "X", "beds": 10}],
        "arrivals": [{"region": "X", "per_day": 12.0, "household_size": {"1": 1.0}}],
        "stay_days": {"distribution": "lognormal", "mean": 1.0, "cv": 1.5},
        "policies": ["network"],
    }
    t_single, single = timed(simulate, shelter)
    r = single.policies["network"]
    exact = erlang_b(10, 12.0)
    error = abs(r.turn_away_rate - exact) / exact
    print(
        f"single shelter: simulated {r.turn_away_rate:.4f} (95% CI {r.ci95[0]:.4f}–{r.ci95[1]:.4f}) "
        f"vs Erlang B {exact:.4f}: {100 * error:.2f}% off (target < 3%), {t_single:.2f} s"
    )
    print(f"load average after: {loadavg()}")
    ok = total <= budget and error < 0.03
    print("OK" if ok else "FAILED")
    if args.facilities != 400:  # the SPEC target is about 400 facilities
        return 0 if ok else 1
    result(
        target="Simulation: one network-year of 400 facilities in 10 s; single-shelter "
        "turn-away within 3 % of Erlang B",
        measured=f"{total:.2f} s for all four policies ({total / budget:.2f}× the budget; the "
        f"slowest policy {slowest / t_bare:.1f}× a bare event loop of the same events); "
        f"Erlang B {100 * error:.2f} % off",
        met=ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
