"""Confidence intervals across simulation replications (Student t), without scipy.

Replications are independent and identically distributed, so the 95 % interval for the mean
of ``n`` replication values is ``mean ± t(0.975, n-1) · s/√n``. The t quantile is found by
bisection on the exact Student t distribution function for integer degrees of freedom
(Abramowitz & Stegun 26.7.3–26.7.4, a finite trigonometric series).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache


def t_cdf_two_sided(t: float, df: int) -> float:
    """P(|T| ≤ t) for Student's t with ``df`` ≥ 1 degrees of freedom, t ≥ 0."""
    if df < 1:
        raise ValueError("df must be ≥ 1")
    theta = math.atan(t / math.sqrt(df))
    s, c = math.sin(theta), math.cos(theta)
    c2 = c * c
    if df % 2 == 1:
        total = 0.0
        if df > 1:
            term = 1.0
            total = 1.0
            for k in range(1, (df - 3) // 2 + 1):
                term *= c2 * (2 * k) / (2 * k + 1)
                total += term
            total *= s * c
        return (2 / math.pi) * (theta + total)
    term = 1.0
    total = 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return s * total


@lru_cache(maxsize=256)
def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t with ``df`` degrees of freedom."""
    if not 0.5 < p < 1:
        raise ValueError("p must be in (0.5, 1)")
    target = 2 * p - 1  # two-sided coverage
    lo, hi = 0.0, 1.0
    while t_cdf_two_sided(hi, df) < target:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_cdf_two_sided(mid, df) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def mean_ci95(values: Sequence[float]) -> tuple[float, float, float]:
    """(mean, low, high) of the 95 % t interval; needs at least two values."""
    n = len(values)
    if n < 2:
        raise ValueError("a confidence interval needs at least two replications")
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    half = t_quantile(0.975, n - 1) * math.sqrt(var / n)
    return mean, mean - half, mean + half
