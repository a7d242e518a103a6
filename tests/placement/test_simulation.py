"""refuge.placement.simulation: validated against loss-system theory, and its invariants.

Every statistical test is seeded (deterministic) and sized so that its tolerance is several
standard errors wide: the 3 % bands hold because the runs are long enough, not because a lucky
seed was picked. The figures these tests produce are quoted in docs/simulation.md.
"""

from __future__ import annotations

import copy
import itertools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuge.placement.erlang import erlang_b, kaufman_roberts
from refuge.placement.fit import Rules, fit
from refuge.placement.sim_scenario import ScenarioError, parse_scenario
from refuge.placement.sim_stats import mean_ci95, t_quantile
from refuge.placement.simulation import (
    DORM,
    POLICIES,
    POOL,
    _representative,
    build_stream,
    compile_network,
    erlang_b_of_scenario,
    run_policy,
    simulate,
    what_if,
)


def scenario(**over):
    base = {
        "years": 1,
        "warmup_days": 10,
        "replications": 2,
        "seed": 1,
        "facilities": [{"id": "a", "region": "X", "beds": 10}],
        "arrivals": [{"region": "X", "per_day": 1.0, "household_size": {"1": 1.0}}],
        "stay_days": {"distribution": "exponential", "mean": 5},
    }
    base.update(over)
    return base


def rel_err(x: float, ref: float) -> float:
    return abs(x - ref) / ref


# --- Validation against Erlang B and Kaufman–Roberts -----------------------------------------


@pytest.mark.parametrize(
    "stay",
    [
        {"distribution": "exponential", "mean": 1.0},
        {"distribution": "lognormal", "mean": 1.0, "cv": 1.5},
        {"distribution": "fixed", "mean": 1.0},
    ],
    ids=["exponential", "lognormal", "fixed"],
)
def test_a_single_shelter_matches_erlang_b_whatever_the_stay_distribution(stay):
    # 10 beds offered 12 Erlangs: B = 0.3019, whatever the stay distribution (insensitivity).
    # 5 × 22 years ≈ 480,000 arrivals: the standard error is about 0.5 % of B.
    sc = scenario(
        years=22,
        warmup_days=20,
        replications=5,
        seed=11,
        arrivals=[{"region": "X", "per_day": 12.0, "household_size": {"1": 1.0}}],
        stay_days=stay,
        policies=["network"],
    )
    res = simulate(sc)
    exact = erlang_b(10, 12.0)
    assert res.erlang_b == pytest.approx(exact)
    r = res.policies["network"]
    assert rel_err(r.turn_away_rate, exact) < 0.03, (r.turn_away_rate, exact)
    # Little's law: occupied beds = accepted load.
    assert r.occupancy == pytest.approx(12.0 * (1 - exact) / 10, rel=0.03)


def test_mixed_household_sizes_on_one_pool_match_kaufman_roberts_per_size():
    # 20 pool beds; households of 1, 2, 3 people; 12 per day, mean stay 1 day.
    mix = {"1": 0.5, "2": 0.3, "3": 0.2}
    sc = scenario(
        years=50,
        warmup_days=20,
        replications=5,
        seed=5,
        facilities=[{"id": "a", "region": "X", "beds": 20}],
        arrivals=[{"region": "X", "per_day": 12.0, "household_size": mix}],
        stay_days={"distribution": "lognormal", "mean": 1.0, "cv": 1.0},
        policies=["network"],
    )
    res = simulate(sc).policies["network"]
    exact = kaufman_roberts(20, [12.0 * p for p in mix.values()], [1, 2, 3])
    for d, b in zip((1, 2, 3), exact, strict=True):
        assert rel_err(res.by_household_size[d], b) < 0.03, (d, res.by_household_size[d], b)
    overall = sum(p * b for p, b in zip(mix.values(), exact, strict=True))
    assert rel_err(res.turn_away_rate, overall) < 0.03


def test_a_pooled_symmetric_network_under_the_platform_is_erlang_b_of_the_pool():
    # Four regions, one 5-bed shelter each, 6 women a day each: one pool of 20 offered 24.
    facilities = [{"id": f"f{g}", "region": f"R{g}", "beds": 5} for g in range(4)]
    arrivals = [{"region": f"R{g}", "per_day": 6.0, "household_size": {"1": 1.0}} for g in range(4)]
    sc = scenario(
        years=12,
        warmup_days=20,
        replications=5,
        seed=3,
        facilities=facilities,
        arrivals=arrivals,
        stay_days={"distribution": "exponential", "mean": 1.0},
        policies=["isolated", "network"],
    )
    res = simulate(sc)
    pooled = erlang_b(20, 24.0)
    assert res.erlang_b == pytest.approx(pooled)
    assert rel_err(res.policies["network"].turn_away_rate, pooled) < 0.03
    # Alone, each shelter is its own 5-bed Erlang system offered 6 Erlangs.
    assert rel_err(res.policies["isolated"].turn_away_rate, erlang_b(5, 6.0)) < 0.03


def test_isolated_calls_her_region_s_shelters_in_proportion_to_their_beds():
    # One region, shelters of 2, 6 and 12 beds; load 16. Each gets 16·c/20 Erlangs.
    facilities = [{"id": f"f{c}", "region": "X", "beds": c} for c in (2, 6, 12)]
    sc = scenario(
        years=25,
        warmup_days=20,
        replications=5,
        seed=8,
        facilities=facilities,
        arrivals=[{"region": "X", "per_day": 16.0, "household_size": {"1": 1.0}}],
        stay_days={"distribution": "exponential", "mean": 1.0},
        policies=["isolated"],
    )
    res = simulate(sc).policies["isolated"]
    expected = sum(c / 20 * erlang_b(c, 16.0 * c / 20) for c in (2, 6, 12))
    assert rel_err(res.turn_away_rate, expected) < 0.03


def test_first_fit_calling_every_shelter_is_the_pooled_system_and_one_call_is_not():
    facilities = [{"id": "a", "region": "X", "beds": 4}, {"id": "b", "region": "Y", "beds": 8}]
    arrivals = [{"region": "X", "per_day": 9.0, "household_size": {"1": 1.0}}]
    common = {
        "years": 30,
        "warmup_days": 20,
        "replications": 5,
        "seed": 9,
        "facilities": facilities,
        "arrivals": arrivals,
        "stay_days": {"distribution": "exponential", "mean": 1.0},
        "policies": ["first_fit"],
    }
    two = simulate(scenario(**common, first_fit_calls=2)).policies["first_fit"]
    assert rel_err(two.turn_away_rate, erlang_b(12, 9.0)) < 0.03
    one = simulate(scenario(**common, first_fit_calls=1)).policies["first_fit"]
    split = 4 / 12 * erlang_b(4, 9.0 * 4 / 12) + 8 / 12 * erlang_b(8, 9.0 * 8 / 12)
    assert rel_err(one.turn_away_rate, split) < 0.03


# --- A brute-force Markov chain of one facility with every kind of unit ---------------------


def facility_ctmc(dorm: int, pool: int, rooms: list[int], loads: dict[int, float]):
    """Per-size blocking and mean occupancy (people) of one facility with exponential stays
    (mean 1), from the stationary distribution of its Markov chain. The unit rule is written
    out again here from the documentation, independently of the engine."""
    sizes = sorted(loads)
    rooms = sorted(rooms)

    def choose(state, d):
        n_dorm, in_pool, occ = state
        pool_free = pool - sum(k * e for k, e in zip(sizes, in_pool, strict=True))
        if d == 1 and n_dorm < dorm:
            return ("dorm",)
        if d == 1 and pool_free >= 1:
            return ("pool",)
        for i, size in enumerate(rooms):
            if occ[i] == 0 and size >= d:
                return ("room", i)
        if d > 1 and pool_free >= d:
            return ("pool",)
        return None

    start = (0, tuple(0 for _ in sizes), tuple(0 for _ in rooms))
    states, todo, edges = {start: 0}, [start], []
    while todo:
        s = todo.pop()
        n_dorm, in_pool, occ = s
        moves = []
        for d in sizes:
            unit = choose(s, d)
            if unit is None:
                continue
            if unit[0] == "dorm":
                t = (n_dorm + 1, in_pool, occ)
            elif unit[0] == "pool":
                p = list(in_pool)
                p[sizes.index(d)] += 1
                t = (n_dorm, tuple(p), occ)
            else:
                o = list(occ)
                o[unit[1]] = d
                t = (n_dorm, in_pool, tuple(o))
            moves.append((t, loads[d]))
        if n_dorm:
            moves.append(((n_dorm - 1, in_pool, occ), float(n_dorm)))
        for j, k in enumerate(in_pool):
            if k:
                p = list(in_pool)
                p[j] -= 1
                moves.append(((n_dorm, tuple(p), occ), float(k)))
        for i, o in enumerate(occ):
            if o:
                oo = list(occ)
                oo[i] = 0
                moves.append(((n_dorm, in_pool, tuple(oo)), 1.0))
        for t, rate in moves:
            if t not in states:
                states[t] = len(states)
                todo.append(t)
            edges.append((states[s], states[t], rate))
    q = np.zeros((len(states), len(states)))
    for i, j, rate in edges:
        q[i, j] += rate
        q[i, i] -= rate
    m = q.T.copy()
    m[-1, :] = 1.0
    rhs = np.zeros(len(states))
    rhs[-1] = 1.0
    pi = np.linalg.solve(m, rhs)
    blocking = {d: sum(pi[i] for s, i in states.items() if choose(s, d) is None) for d in sizes}
    people = sum(
        pi[i] * (s[0] + sum(k * e for k, e in zip(sizes, s[1], strict=True)) + sum(s[2]))
        for s, i in states.items()
    )
    return blocking, people


def test_a_facility_with_dorm_pool_and_family_rooms_matches_its_markov_chain():
    # One dorm bed, a pool of 3, family rooms of 2 and 3 beds. (With one facility every policy
    # makes the same choices on every sample path, tested below, so one policy is enough.)
    mix = {1: 0.5, 2: 0.3, 3: 0.2}
    rate = 4.0
    exact, people = facility_ctmc(1, 3, [2, 3], {d: rate * p for d, p in mix.items()})
    sc = scenario(
        years=60,
        warmup_days=20,
        replications=5,
        seed=21,
        facilities=[
            {
                "id": "a",
                "region": "X",
                "beds": 3,
                "dorm_beds": 1,
                "family_rooms": [{"beds": 3, "count": 1}, {"beds": 2, "count": 1}],
            }
        ],
        arrivals=[
            {"region": "X", "per_day": rate, "household_size": {"1": 0.5, "2": 0.3, "3": 0.2}}
        ],
        stay_days={"distribution": "exponential", "mean": 1.0},
        policies=["network"],
    )
    res = simulate(sc)
    assert res.erlang_b is None
    for name, r in res.policies.items():
        for d in (1, 2, 3):
            assert rel_err(r.by_household_size[d], exact[d]) < 0.03, (name, d, exact[d])
        assert r.occupancy == pytest.approx(people / 9, rel=0.03)


# --- Invariants on every sample path (hypothesis) ---------------------------------------------

regions = st.sampled_from(["A", "B", "C"])


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 5))
    facilities = []
    for i in range(n):
        rules = {}
        if draw(st.booleans()):
            rules["children_accepted"] = draw(st.sampled_from([True, False]))
        if draw(st.booleans()):
            rules["max_children"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            rules["boys_max_age"] = draw(st.sampled_from([7, 10, 12, 14]))
        if draw(st.booleans()):
            rules["girls_max_age"] = draw(st.sampled_from([10, 17]))
        if draw(st.booleans()):
            rules["max_stay_days"] = draw(st.integers(1, 20))
        rooms = [
            {"beds": draw(st.integers(1, 5)), "count": draw(st.integers(0, 2))}
            for _ in range(draw(st.integers(0, 2)))
        ]
        facilities.append(
            {
                "id": f"f{i}",
                "region": draw(regions),
                "beds": draw(st.integers(0, 6)),
                "dorm_beds": draw(st.integers(0, 3)),
                "family_rooms": rooms,
                "rules": rules,
            }
        )
    arrivals = []
    for g in draw(st.lists(regions, min_size=1, max_size=3, unique=True)):
        weights = [draw(st.integers(0, 4)) for _ in range(4)]
        if not any(weights):
            weights[0] = 1
        total = sum(weights)
        arrivals.append(
            {
                "region": g,
                "per_day": draw(st.floats(0.2, 3.0)),
                "household_size": {str(d + 1): w / total for d, w in enumerate(weights) if w},
            }
        )
    return scenario(
        years=0.25,
        warmup_days=draw(st.sampled_from([0, 15])),
        seed=draw(st.integers(0, 2**16)),
        facilities=facilities,
        arrivals=arrivals,
        stay_days=draw(
            st.sampled_from(
                [
                    {"distribution": "exponential", "mean": 8},
                    {"distribution": "lognormal", "mean": 8, "cv": 2.0},
                    {"distribution": "fixed", "mean": 6},
                ]
            )
        ),
        first_fit_calls=draw(st.integers(1, 4)),
        reserve_family_rooms=draw(st.integers(0, 2)),
    )


def replay(sc, network, stream, policy):
    """Run with a trace, and check every placement against an independent ledger of units."""
    facilities = sc.facilities
    events = []
    stats = run_policy(
        network, stream, policy, trace=lambda i, f, u, dep: events.append((i, f, u, dep))
    )
    assert [e[0] for e in events] == list(range(len(stream)))  # each arrival exactly once
    busy: list[tuple[float, int, int, int]] = []  # (departure, facility, unit, beds)
    for i, f, u, dep in events:
        t = stream.times[i]
        busy = [b for b in busy if b[0] > t]
        d = stream.size[i]
        if f < 0:
            assert dep == t
            continue
        fac = facilities[f]
        household = _representative(stream.klass[i], stream.limits)
        assert household.size == d
        assert fit(household, network._fit_facilities[f]).ok, "a house rule was broken"
        cap = fac.rules.max_stay_days
        assert dep == pytest.approx(t + min(stream.stay[i], cap if cap else math.inf))
        here = [b for b in busy if b[1] == f]
        if u == DORM:
            assert d == 1
            assert sum(1 for b in here if b[2] == DORM) < fac.dorm_beds
        elif u == POOL:
            assert sum(b[3] for b in here if b[2] == POOL) + d <= fac.beds
        else:
            room = fac.family_rooms[u]
            assert room.beds >= d
            assert sum(1 for b in here if b[2] == u) < room.count
        busy.append((dep, f, u, d))
    return stats


@given(data=scenarios())
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
def test_no_rule_and_no_unit_is_ever_overrun_and_the_platform_never_turns_away_needlessly(data):
    sc = parse_scenario(data)
    network = compile_network(sc)
    stream = build_stream(sc, 0)
    arrivals = None
    for policy in POLICIES:
        stats = replay(sc, network, stream, policy)
        # Common random numbers: every policy sees the same women.
        if arrivals is None:
            arrivals = stats.arrivals
        assert stats.arrivals == arrivals
        assert all(u <= t for u, t in zip(stats.unnecessary, stats.turned_away, strict=True))
        assert 0 <= stats.occupancy <= 1
        if policy in ("network", "network_reserve"):
            assert sum(stats.unnecessary) == 0
        if policy == "first_fit" and sc.first_fit_calls >= len(sc.facilities):
            assert sum(stats.unnecessary) == 0  # she called everyone


@given(
    beds=st.integers(0, 8),
    load=st.floats(0.5, 12),
    seed=st.integers(0, 1000),
    stay=st.sampled_from(["exponential", "fixed"]),
)
@settings(max_examples=25, deadline=None)
def test_with_one_pool_only_shelter_every_policy_is_the_same_on_each_sample_path(
    beds, load, seed, stay
):
    sc = parse_scenario(
        scenario(
            years=0.5,
            seed=seed,
            facilities=[{"id": "a", "region": "X", "beds": beds}],
            arrivals=[{"region": "X", "per_day": load, "household_size": {"1": 1.0}}],
            stay_days={"distribution": stay, "mean": 3},
        )
    )
    network = compile_network(sc)
    stream = build_stream(sc, 0)
    results = [run_policy(network, stream, p) for p in POLICIES]
    assert all(r.turned_away == results[0].turned_away for r in results)
    assert all(r.people_days == pytest.approx(results[0].people_days) for r in results)
    assert all(sum(r.unnecessary) == 0 for r in results)


@given(
    beds=st.lists(st.integers(0, 6), min_size=1, max_size=5),
    loads=st.lists(st.floats(0.2, 4.0), min_size=1, max_size=3),
    seed=st.integers(0, 1000),
    stay=st.sampled_from(["exponential", "lognormal", "fixed"]),
)
@settings(max_examples=30, deadline=None)
def test_the_platform_pools_women_alone_exactly_as_one_shelter_would(beds, loads, seed, stay):
    # Single women, shared beds, no rules: the platform admits her exactly when some bed is
    # free anywhere, so on every sample path it turns away the same women as one shelter
    # holding all the beds. This is the sample-path form of "network = Erlang B of the pool".
    regions = ["A", "B", "C"]
    spread = {
        "years": 0.5,
        "seed": seed,
        "facilities": [
            {"id": f"f{i}", "region": regions[i % 3], "beds": b} for i, b in enumerate(beds)
        ],
        "arrivals": [
            {"region": regions[i], "per_day": a, "household_size": {"1": 1.0}}
            for i, a in enumerate(loads)
        ],
        "stay_days": {
            "distribution": stay,
            "mean": 4,
            **({"cv": 2.0} if stay == "lognormal" else {}),
        },
    }
    # The same facilities (so the same regions, in the same order) but all beds in the first.
    pooled = {
        **spread,
        "facilities": [
            {**f, "beds": sum(beds) if i == 0 else 0} for i, f in enumerate(spread["facilities"])
        ],
    }
    a, b = parse_scenario(scenario(**spread)), parse_scenario(scenario(**pooled))
    net_a, net_b = compile_network(a), compile_network(b)
    stream = build_stream(a, 0)
    spread_run = run_policy(net_a, stream, "network")
    pooled_run = run_policy(net_b, stream, "network")
    assert spread_run.turned_away == pooled_run.turned_away
    assert spread_run.people_days == pytest.approx(pooled_run.people_days)


def test_a_region_without_a_facility_is_turned_away_when_isolated_and_needlessly_so():
    sc = scenario(
        years=1,
        replications=2,
        facilities=[{"id": "a", "region": "X", "beds": 50}],
        arrivals=[{"region": "Y", "per_day": 1.0, "household_size": {"1": 1.0}}],
        policies=["isolated", "network"],
    )
    res = simulate(sc)
    assert res.policies["isolated"].turn_away_rate == 1.0
    assert res.policies["isolated"].unnecessary_turn_away_rate == 1.0
    assert res.policies["network"].turn_away_rate == 0.0
    assert res.policies["network"].out_of_region_share == 1.0


def test_a_household_that_fits_nowhere_is_turned_away_but_not_needlessly():
    sc = scenario(
        facilities=[{"id": "a", "region": "X", "beds": 30, "rules": {"children_accepted": False}}],
        arrivals=[{"region": "X", "per_day": 2.0, "household_size": {"1": 0.5, "2": 0.5}}],
        policies=["network"],
    )
    r = simulate(sc).policies["network"]
    assert r.by_household_size[2] == 1.0
    assert r.by_household_size[1] < 0.001  # 30 beds offered 5 Erlangs of single women
    assert r.unnecessary_turn_away_rate == 0.0


def test_max_stay_days_ends_a_stay_at_the_limit():
    sc = parse_scenario(
        scenario(
            facilities=[{"id": "a", "region": "X", "beds": 1000, "rules": {"max_stay_days": 7}}],
            stay_days={"distribution": "fixed", "mean": 30},
        )
    )
    network, stream = compile_network(sc), build_stream(sc, 0)
    stays = []
    run_policy(
        network, stream, "network", trace=lambda i, f, u, dep: stays.append(dep - stream.times[i])
    )
    assert stays and all(s == pytest.approx(7) for s in stays)


def test_the_platform_keeps_family_rooms_for_families_when_a_bed_is_free_elsewhere():
    # A's only free place is its family room; B has a pool bed. A woman alone from A's region:
    # `network` keeps her in her region (the room); `network_reserve` sends her to B's bed and
    # keeps the room for a family.
    sc = parse_scenario(
        scenario(
            years=1,
            warmup_days=0,
            facilities=[
                {"id": "a", "region": "A", "beds": 0, "family_rooms": [{"beds": 3, "count": 1}]},
                {"id": "b", "region": "B", "beds": 2},
            ],
            arrivals=[{"region": "A", "per_day": 0.001, "household_size": {"1": 1.0}}],
            stay_days={"distribution": "fixed", "mean": 1000},
        )
    )
    network = compile_network(sc)
    stream = build_stream(sc, 0)
    stream.times, stream.region, stream.size, stream.stay = [1.0], [0], [1], [5.0]
    stream.klass = [stream.klass[0]] if stream.klass else [(1 * 22 + 0) * 22 + 0]
    stream.u_isolated, stream.u_calls = [0.5], [0.5, 0.5, 0.5]
    stream.first_counted = 0
    placed = {}
    for policy in ("network", "network_reserve"):
        run_policy(
            network, stream, policy, trace=lambda i, f, u, dep, p=policy: placed.update({p: (f, u)})
        )
    assert placed["network"] == (0, 0)
    assert placed["network_reserve"] == (1, POOL)


# --- Results, confidence intervals, determinism -----------------------------------------------


def test_the_json_has_exactly_the_contract_keys():
    out = simulate(
        scenario(
            facilities=[
                {"id": "a", "region": "X", "beds": 4, "family_rooms": [{"beds": 3, "count": 1}]}
            ],
            arrivals=[{"region": "X", "per_day": 1.0, "household_size": {"1": 0.6, "3": 0.4}}],
        )
    ).to_json()
    assert set(out) == {"policies", "erlang_b"}
    assert out["erlang_b"] is None  # family rooms and families: not a plain loss system
    assert list(out["policies"]) == list(POLICIES)
    for r in out["policies"].values():
        assert set(r) == {
            "turn_away_rate",
            "ci95",
            "by_household_size",
            "unnecessary_turn_away_rate",
            "occupancy",
        }
        assert set(r["by_household_size"]) == {"1", "3"}
        lo, hi = r["ci95"]
        assert 0 <= lo <= r["turn_away_rate"] <= hi <= 1
    json.dumps(out)  # serialisable as is


@pytest.mark.parametrize(
    ("change", "expected_null"),
    [
        ({}, False),
        (
            {"facilities": [{"id": "a", "region": "X", "beds": 10, "rules": {"max_stay_days": 9}}]},
            True,
        ),
        ({"facilities": [{"id": "a", "region": "X", "beds": 10, "dorm_beds": 2}]}, True),
        (
            {"arrivals": [{"region": "X", "per_day": 1.0, "household_size": {"1": 0.9, "2": 0.1}}]},
            True,
        ),
    ],
)
def test_erlang_b_is_given_only_for_a_plain_loss_system(change, expected_null):
    sc = parse_scenario(scenario(**change))
    value = erlang_b_of_scenario(sc)
    assert (value is None) == expected_null
    if value is not None:
        assert value == pytest.approx(erlang_b(10, 5.0))


def test_it_is_deterministic_for_a_seed_and_changes_with_it():
    sc = scenario(arrivals=[{"region": "X", "per_day": 2.5, "household_size": {"1": 1.0}}])
    assert simulate(sc).to_json() == simulate(copy.deepcopy(sc)).to_json()
    other = simulate({**sc, "seed": 2}).to_json()
    assert other != simulate(sc).to_json()


def test_replications_differ_and_the_interval_is_a_t_interval_around_their_mean():
    res = simulate(
        scenario(
            replications=5, arrivals=[{"region": "X", "per_day": 2.5, "household_size": {"1": 1.0}}]
        )
    ).policies["network"]
    rates = res.replication_rates
    assert len(set(rates)) == 5
    mean, lo, hi = mean_ci95(list(rates))
    assert res.turn_away_rate == pytest.approx(mean)
    assert res.ci95 == pytest.approx((max(0, lo), min(1, hi)))
    sd = float(np.std(rates, ddof=1))
    assert hi - mean == pytest.approx(2.7764451 * sd / math.sqrt(5), rel=1e-6)


@pytest.mark.parametrize(
    ("p", "df", "expected"),
    [
        (0.975, 1, 12.7062047),
        (0.975, 2, 4.3026527),
        (0.975, 4, 2.7764451),
        (0.975, 19, 2.0930241),
        (0.975, 30, 2.0422725),
        (0.975, 1000, 1.9623391),
        (0.995, 9, 3.2498355),
    ],
)
def test_the_t_quantile_matches_the_table(p, df, expected):
    assert t_quantile(p, df) == pytest.approx(expected, abs=1e-6)


def test_pooling_helps_and_the_paired_interval_says_so():
    sc = scenario(
        years=2,
        replications=6,
        facilities=[{"id": "a", "region": "A", "beds": 6}, {"id": "b", "region": "B", "beds": 6}],
        arrivals=[
            {"region": "A", "per_day": 1.6, "household_size": {"1": 1.0}},
            {"region": "B", "per_day": 0.6, "household_size": {"1": 1.0}},
        ],
        policies=["isolated", "network"],
    )
    res = simulate(sc)
    iso = res.policies["isolated"].replication_rates
    net = res.policies["network"].replication_rates
    _, dlo, _ = mean_ci95([a - b for a, b in zip(iso, net, strict=True)])
    assert dlo > 0


# --- What if we add places? -------------------------------------------------------------------


def test_what_if_puts_new_places_where_women_are_turned_away():
    # Region A is overloaded, B has spare beds; women only call their own region.
    sc = scenario(
        years=3,
        replications=4,
        facilities=[{"id": "a", "region": "A", "beds": 5}, {"id": "b", "region": "B", "beds": 10}],
        arrivals=[
            {"region": "A", "per_day": 1.5, "household_size": {"1": 1.0}},
            {"region": "B", "per_day": 0.5, "household_size": {"1": 1.0}},
        ],
        policies=["isolated", "network"],
    )
    by_region = what_if(sc, 3, policy="isolated")
    assert [o.target for o in by_region.options] == ["A", "B"]
    best = by_region.options[0]
    assert best.reduction_ci95[0] > 0
    assert best.turn_away_rate < by_region.baseline
    assert best.turn_aways_avoided_per_year > 0
    b = by_region.options[1]
    assert abs(b.reduction) < 0.01  # more beds where nobody is turned away change little
    by_facility = what_if(sc, 3, by="facility", policy="isolated")
    assert [o.target for o in by_facility.options] == ["a", "b"]
    # Against Erlang B: 75 % of the women are region A's (7.5 Erlangs), 25 % B's (2.5 on 10).
    # Three more beds at a make one pool of 8; a new 3-bed shelter beside it splits A's calls
    # 5:3 between two pools, which helps less (the economy of scale of pooling).
    base = 0.75 * erlang_b(5, 7.5) + 0.25 * erlang_b(10, 2.5)
    grown = 0.75 * erlang_b(8, 7.5) + 0.25 * erlang_b(10, 2.5)
    split = 0.75 * (5 / 8 * erlang_b(5, 7.5 * 5 / 8) + 3 / 8 * erlang_b(3, 7.5 * 3 / 8))
    split += 0.25 * erlang_b(10, 2.5)
    assert by_region.baseline == pytest.approx(base, abs=0.02)
    assert best.reduction == pytest.approx(base - split, abs=0.015)
    assert by_facility.options[0].reduction == pytest.approx(base - grown, abs=0.015)
    # Common random numbers: each paired reduction is known far more sharply than the rates.
    width = by_region.baseline_ci95[1] - by_region.baseline_ci95[0]
    assert best.reduction_ci95[1] - best.reduction_ci95[0] < width / 2
    out = by_region.to_json()["what_if"]
    assert out["places"] == 3 and out["policy"] == "isolated" and out["options"][0]["region"] == "A"


def test_what_if_new_places_may_bring_their_own_rules():
    # The base network has no age limit; the new shelter takes boys up to 12 only. The streams
    # are drawn to resolve that limit, so mothers of older boys are still refused there.
    sc = scenario(
        years=2,
        replications=3,
        facilities=[{"id": "a", "region": "A", "beds": 4}],
        arrivals=[{"region": "A", "per_day": 1.0, "household_size": {"1": 0.5, "2": 0.5}}],
        policies=["network"],
    )
    open_door = what_if(sc, 6)
    limited = what_if(sc, 6, rules=Rules(boys_max_age=12))
    assert limited.baseline == open_door.baseline
    assert 0 < limited.options[0].reduction < open_door.options[0].reduction


def test_what_if_opens_a_shelter_in_each_region_that_has_none():
    # C and D have women calling but no shelter: under "isolated" every one of them is turned
    # away. A new shelter in D lists D before C in that variant's own order of regions; the
    # baseline's streams must still fit it.
    sc = scenario(
        years=3,
        replications=3,
        facilities=[{"id": "a", "region": "A", "beds": 10}],
        arrivals=[
            {"region": r, "per_day": rate, "household_size": {"1": 1.0}}
            for r, rate in (("A", 0.5), ("C", 1.0), ("D", 0.5))
        ],
        policies=["isolated"],
    )
    res = what_if(sc, 5, policy="isolated")
    assert [o.target for o in res.options] == ["C", "D", "A"]
    # Shares of the calls: A 1/4, C 1/2, D 1/4; stays of 5 days on average.
    base = 0.25 * erlang_b(10, 2.5) + 0.5 + 0.25
    assert res.baseline == pytest.approx(base, abs=0.02)
    c, d = res.options[0], res.options[1]
    assert c.turn_away_rate == pytest.approx(base - 0.5 + 0.5 * erlang_b(5, 5.0), abs=0.02)
    assert d.turn_away_rate == pytest.approx(base - 0.25 + 0.25 * erlang_b(5, 2.5), abs=0.02)


def test_a_variant_network_keeps_the_order_of_regions_it_is_given():
    plain = parse_scenario(scenario(arrivals=[
        {"region": "X", "per_day": 1.0, "household_size": {"1": 1.0}},
        {"region": "Y", "per_day": 1.0, "household_size": {"1": 1.0}},
    ]))  # fmt: skip
    assert compile_network(plain, ("Y", "X", "Z")).regions == ("Y", "X", "Z")
    with pytest.raises(ValueError, match="regions not in the given order"):
        compile_network(plain, ("X",))


def test_a_stream_must_match_the_network_it_is_replayed_on():
    plain = parse_scenario(scenario())
    with_limit = parse_scenario(
        scenario(facilities=[{"id": "a", "region": "X", "beds": 10, "rules": {"boys_max_age": 12}}])
    )
    elsewhere = parse_scenario(scenario(facilities=[{"id": "a", "region": "Y", "beds": 10}]))
    with pytest.raises(ValueError, match="age limits"):
        run_policy(compile_network(with_limit), build_stream(plain, 0), "network")
    with pytest.raises(ValueError, match="regions"):
        run_policy(compile_network(elsewhere), build_stream(plain, 0), "network")
    with pytest.raises(ValueError, match="unknown policy"):
        run_policy(compile_network(plain), build_stream(plain, 0), "lottery")


def test_what_if_refuses_nonsense():
    with pytest.raises(ValueError):
        what_if(scenario(), 0)
    with pytest.raises(ValueError):
        what_if(scenario(), 2, by="street")
    with pytest.raises(ValueError):
        what_if(scenario(), 2, policy="lottery")


# --- Scenario validation ----------------------------------------------------------------------


def problems(data) -> list[str]:
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(data)
    return exc.value.problems


def test_the_spec_example_is_a_valid_scenario():
    sc = parse_scenario(
        {
            "years": 10,
            "warmup_days": 365,
            "replications": 20,
            "seed": 1,
            "facilities": [
                {
                    "id": "a",
                    "region": "RU-MOW",
                    "beds": 10,
                    "family_rooms": [{"beds": 4, "count": 5}],
                    "rules": {"max_children": 3},
                }
            ],
            "arrivals": [
                {
                    "region": "RU-MOW",
                    "per_day": 1.0,
                    "household_size": {"1": 0.4, "2": 0.3, "3": 0.2, "4": 0.1},
                }
            ],
            "stay_days": {"distribution": "exponential", "mean": 30},
            "policies": ["isolated", "first_fit", "network"],
            "first_fit_calls": 3,
        }
    )
    assert sc.total_beds == 30
    assert sc.facilities[0].rules.max_children == 3
    assert sc.policies == ("isolated", "first_fit", "network")
    assert parse_scenario(sc.to_dict()) == sc


def test_a_negative_value_is_refused_with_its_path():
    data = scenario(
        facilities=[
            {"id": "a", "region": "X", "beds": 1},
            {"id": "b", "region": "X", "beds": 1},
            {"id": "c", "region": "X", "beds": -2},
        ]
    )
    assert problems(data) == ["facilities[2].beds: must be ≥ 0"]


def test_every_problem_is_listed_at_once_with_its_path():
    data = scenario(
        years=-1,
        replications=1,
        facilities=[
            {"id": "a", "region": "X", "beds": 2, "family_rooms": [{"beds": 0, "count": -1}]},
            {"id": "a", "beds": 2.5, "rules": {"max_children": -1, "pets_accepted": True}},
        ],
        arrivals=[{"region": "X", "per_day": -1, "household_size": {"1": 0.5, "x": 0.5}}],
        stay_days={"distribution": "lognormal", "mean": 0},
        policies=["network", "lottery"],
        first_fit_calls=0,
    )
    del data["seed"]
    got = problems(data)
    for expected in [
        "years: must be > 0",
        "replications: must be ≥ 2 (a confidence interval needs two)",
        "seed: is required",
        "facilities[0].family_rooms[0].beds: must be ≥ 1",
        "facilities[0].family_rooms[0].count: must be ≥ 0",
        "facilities[1].region: is required",
        "facilities[1].beds: must be an integer",
        "facilities[1].rules.max_children: must be ≥ 0",
        "arrivals[0].per_day: must be ≥ 0",
        "arrivals[0].household_size.x: the size must be a whole number from 1 to 20",
        "stay_days.mean: must be > 0",
        "stay_days.cv: is required for a lognormal distribution",
        "policies[1]: must be one of isolated, first_fit, network, network_reserve",
        "first_fit_calls: must be ≥ 1",
    ]:
        assert expected in got, (expected, got)
    assert any(p.startswith("facilities[1].rules.pets_accepted: not modelled") for p in got)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"facilities": []}, "facilities: must not be empty"),
        ({"facilities": "a"}, "facilities: must be a list"),
        ({"bed": 3}, "bed: unknown field"),
        ({"years": True}, "years: must be a number"),
        ({"years": float("nan")}, "years: must be a finite number"),
        (
            {"stay_days": {"distribution": "gamma", "mean": 3}},
            "stay_days.distribution: must be one of exponential, lognormal, fixed",
        ),
        (
            {"stay_days": {"distribution": "fixed", "mean": 3, "cv": 1}},
            "stay_days.cv: applies only to the lognormal distribution",
        ),
        (
            {"arrivals": [{"region": "X", "per_day": 1, "household_size": {"1": 0.5}}]},
            "arrivals[0].household_size: the probabilities must sum to 1 (they sum to 0.5)",
        ),
        (
            {"arrivals": [{"region": "X", "per_day": 0, "household_size": {"1": 1}}]},
            "arrivals: at least one stream must have per_day > 0",
        ),
        (
            {"arrivals": [{"region": "X", "household_size": {"1": 1}}]},
            "arrivals[0].per_day: is required",
        ),
        (
            {"facilities": [{"id": "a", "region": "X", "beds": 1, "colour": "red"}]},
            "facilities[0].colour: unknown field",
        ),
        (
            {
                "facilities": [
                    {"id": "a", "region": "X", "beds": 1, "rules": {"children_accepted": "yes"}}
                ]
            },
            "facilities[0].rules.children_accepted: must be true, false or null",
        ),
        ({"policies": ["network", "network"]}, "policies: lists a policy twice"),
        (
            {
                "years": 1000,
                "arrivals": [{"region": "X", "per_day": 1000, "household_size": {"1": 1}}],
            },
            "years: about 365,010,000 arrivals per replication; the limit is 20,000,000 (shorten the horizon or split the scenario)",
        ),
    ],
)
def test_it_refuses_a_bad_scenario_with_a_clear_message(change, expected):
    assert expected in problems(scenario(**change))


def test_a_scenario_that_is_not_an_object_is_refused():
    assert problems([1, 2]) == ["scenario: must be an object"]


def test_representatives_resolve_every_age_bucket():
    # Each code's representative household has that code: size, oldest boy and girl buckets.
    limits = ((7, 12, 14), (10,))
    for size, b, g in itertools.product((2, 3), range(-1, 4), range(-1, 2)):
        if (size == 2 and b >= 0 and g >= 0) or (b < 0 and g < 0):
            continue  # two oldest children in a household with one child; or no child at all
        code = (size * 22 + b + 1) * 22 + g + 1
        h = _representative(code, limits)
        assert h.size == size
        boys = [c.age for c in h.children if c.sex == "male"]
        girls = [c.age for c in h.children if c.sex == "female"]
        assert (int(np.searchsorted(limits[0], max(boys))) if boys else -1) == b
        assert (int(np.searchsorted(limits[1], max(girls))) if girls else -1) == g
