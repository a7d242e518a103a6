"""refuge.placement.erlang against exact arithmetic, published tables and a brute-force CTMC."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.placement.erlang import (
    beds_for_blocking,
    erlang_b,
    kaufman_roberts,
    kaufman_roberts_distribution,
)


def erlang_b_exact(c: int, a: Fraction) -> Fraction:
    """The textbook formula in exact rational arithmetic: (a^c/c!) / Σ_k a^k/k!."""
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def loss_ctmc_blocking(capacity: int, loads: list[float], sizes: list[int]) -> list[float]:
    """Per-class blocking of a multi-rate loss system, from its continuous-time Markov chain.

    States are the numbers of households of each class present (Σ n_k d_k ≤ C); arrivals of
    class k come at rate a_k (mean stay 1) and are admitted when d_k beds are free; each
    household leaves at rate 1. The stationary distribution solves πQ = 0, Σπ = 1.
    """

    def beds(n: tuple[int, ...]) -> int:
        return sum(k * d for k, d in zip(n, sizes, strict=True))

    ranges = [range(capacity // d + 1) for d in sizes]
    states = [n for n in itertools.product(*ranges) if beds(n) <= capacity]
    index = {s: i for i, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))
    for s, i in index.items():
        used = beds(s)
        for c, (a, d) in enumerate(zip(loads, sizes, strict=True)):
            if used + d <= capacity:
                t = list(s)
                t[c] += 1
                q[i, index[tuple(t)]] += a
            if s[c] > 0:
                t = list(s)
                t[c] -= 1
                q[i, index[tuple(t)]] += s[c]
        q[i, i] = -q[i].sum()
    # Replace one balance equation by the normalisation.
    m = q.T.copy()
    m[-1, :] = 1.0
    rhs = np.zeros(len(states))
    rhs[-1] = 1.0
    pi = np.linalg.solve(m, rhs)
    return [float(sum(pi[i] for s, i in index.items() if beds(s) + d > capacity)) for d in sizes]


# --- Erlang B ---------------------------------------------------------------------------------


def test_small_values_by_hand():
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    assert erlang_b(3, 2.0) == pytest.approx((8 / 6) / (1 + 2 + 2 + 8 / 6))
    assert erlang_b(5, 0.0) == 0.0


@pytest.mark.parametrize(
    ("servers", "erlangs"),
    # Published Erlang B table, 1 % grade of service (offered traffic to 3 decimals).
    [(1, 0.010), (2, 0.153), (5, 1.361), (10, 4.461), (20, 12.031), (50, 37.901), (100, 84.064)],
)
def test_it_matches_the_published_table_at_one_percent(servers, erlangs):
    # The load at which blocking is exactly 1 % (bisection on our B), rounded as the table is.
    lo, hi = 0.0, 2.0 * servers
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if erlang_b(servers, mid) < 0.01 else (lo, mid)
    assert round(lo, 3) == erlangs


@given(c=st.integers(0, 60), a=st.fractions(min_value=0, max_value=80, max_denominator=20))
@settings(max_examples=150, deadline=None)
def test_the_recursion_equals_the_exact_formula(c, a):
    assert erlang_b(c, float(a)) == pytest.approx(
        float(erlang_b_exact(c, a)), rel=1e-12, abs=1e-300
    )


def test_it_is_stable_for_a_large_network():
    # a^c/c! overflows a float long before c = 10,000; the recursion does not.
    b = erlang_b(10_000, 9_000.0)
    assert 0 < b < 1e-20
    # Heavily overloaded: blocking tends to 1 - c/a.
    assert erlang_b(5_000, 10_000.0) == pytest.approx(0.5, rel=1e-3)


@pytest.mark.parametrize("bad", [(-1, 1.0), (3, -0.5), (3, math.inf), (3, math.nan), (2.5, 1.0)])
def test_it_refuses_bad_arguments(bad):
    with pytest.raises(ValueError):
        erlang_b(*bad)


@given(a=st.floats(0.1, 200), target=st.floats(0.001, 0.5))
@settings(max_examples=80, deadline=None)
def test_beds_for_blocking_is_the_fewest_that_reach_the_target(a, target):
    c = beds_for_blocking(a, target)
    assert erlang_b(c, a) <= target
    assert c == 0 or erlang_b(c - 1, a) > target


# --- Kaufman–Roberts -------------------------------------------------------------------------


def test_kaufman_roberts_matches_the_ctmc_of_a_small_system():
    capacity, loads, sizes = 6, [2.0, 1.0, 0.5], [1, 2, 3]
    expected = loss_ctmc_blocking(capacity, loads, sizes)
    got = kaufman_roberts(capacity, loads, sizes)
    assert got == pytest.approx(expected, abs=1e-12)
    # A larger household is turned away more often: it needs more beds free at once.
    assert got[0] < got[1] < got[2]


@given(
    capacity=st.integers(1, 10),
    classes=st.lists(st.tuples(st.floats(0.05, 6.0), st.integers(1, 4)), min_size=1, max_size=3),
)
@settings(max_examples=60, deadline=None)
def test_kaufman_roberts_matches_the_ctmc_for_random_small_systems(capacity, classes):
    loads = [a for a, _ in classes]
    sizes = [d for _, d in classes]
    assert kaufman_roberts(capacity, loads, sizes) == pytest.approx(
        loss_ctmc_blocking(capacity, loads, sizes), abs=1e-9
    )


@given(c=st.integers(0, 200), a=st.floats(0.0, 250.0))
@settings(max_examples=100, deadline=None)
def test_kaufman_roberts_with_one_class_of_single_women_is_erlang_b(c, a):
    assert kaufman_roberts(c, [a], [1])[0] == pytest.approx(erlang_b(c, a), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(("capacity", "size", "load"), [(12, 3, 2.5), (10, 4, 1.0), (9, 2, 3.0)])
def test_one_class_of_families_is_erlang_b_over_whole_units(capacity, size, load):
    # Households of d people in C beds behave as floor(C/d) servers.
    assert kaufman_roberts(capacity, [load], [size])[0] == pytest.approx(
        erlang_b(capacity // size, load), rel=1e-12
    )


def test_kaufman_roberts_is_stable_for_a_large_pool():
    p = kaufman_roberts_distribution(5_000, [1_500.0, 700.0, 300.0], [1, 2, 3])
    assert math.fsum(p) == pytest.approx(1.0)
    assert all(math.isfinite(x) and x >= 0 for x in p)
    # Offered 3,800 beds' worth of demand on 5,000 beds: almost nobody is turned away.
    assert all(b < 1e-30 for b in kaufman_roberts(5_000, [1_500.0, 700.0, 300.0], [1, 2, 3]))


def test_a_household_larger_than_the_pool_is_always_turned_away():
    assert kaufman_roberts(3, [1.0, 0.5], [1, 4]) == [pytest.approx(erlang_b(3, 1.0)), 1.0]


@pytest.mark.parametrize(
    "bad",
    [(-1, [1.0], [1]), (5, [1.0], [0]), (5, [-1.0], [1]), (5, [1.0, 2.0], [1]), (5, [1.0], [1.5])],
)
def test_kaufman_roberts_refuses_bad_arguments(bad):
    with pytest.raises(ValueError):
        kaufman_roberts(*bad)
