"""Loss-system formulas: Erlang B for one pool, Kaufman–Roberts for households of several sizes.

Both describe a pool of ``C`` beds offered Poisson arrivals that are turned away when they do
not fit (no queue), and both are *insensitive*: the answer depends on the stay-length
distribution only through its mean. That is why the network simulation
(``refuge.placement.simulation``) is validated against them with exponential and lognormal
stays alike.

* ``erlang_b(c, a)``: the probability that an arrival finds all ``c`` beds taken when the
  offered load is ``a`` Erlangs (arrivals per day × mean stay in days). Computed with the
  recursion ``B(0) = 1, B(k) = a·B(k-1) / (k + a·B(k-1))``, which never overflows and loses
  no precision, unlike the textbook ratio of ``a^c/c!`` to a partial exponential sum.
* ``kaufman_roberts(capacity, loads, sizes)``: households of size ``d_k`` arrive at ``λ_k`` per
  day and each takes ``d_k`` beds of the shared pool for its stay (load ``a_k = λ_k·mean stay``).
  The occupancy distribution satisfies ``j·q(j) = Σ_k a_k·d_k·q(j - d_k)``; a household of
  size ``d`` is turned away when more than ``C - d`` beds are taken.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def _check_load(a: float, name: str = "offered load") -> None:
    if not math.isfinite(a) or a < 0:
        raise ValueError(f"{name} must be a finite number ≥ 0, got {a!r}")


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of ``c`` servers (beds) offered ``a`` Erlangs."""
    if isinstance(c, bool) or not isinstance(c, int) or c < 0:
        raise ValueError(f"c must be an integer ≥ 0, got {c!r}")
    _check_load(a)
    b = 1.0
    for k in range(1, c + 1):
        ab = a * b
        b = ab / (k + ab)
    return b


def beds_for_blocking(a: float, target: float) -> int:
    """The fewest beds whose Erlang B blocking at load ``a`` is at most ``target`` (0 < target
    ≤ 1). Runs the same recursion until it reaches the target."""
    _check_load(a)
    if not 0 < target <= 1:
        raise ValueError(f"target must be in (0, 1], got {target!r}")
    b = 1.0
    c = 0
    while b > target:
        c += 1
        ab = a * b
        b = ab / (c + ab)
    return c


def kaufman_roberts_distribution(
    capacity: int, loads: Sequence[float], sizes: Sequence[int]
) -> list[float]:
    """The stationary distribution of occupied beds, ``p[j]`` for ``j = 0 … capacity``."""
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
        raise ValueError(f"capacity must be an integer ≥ 0, got {capacity!r}")
    if len(loads) != len(sizes):
        raise ValueError("loads and sizes must have the same length")
    for a in loads:
        _check_load(a)
    for d in sizes:
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise ValueError(f"every size must be an integer ≥ 1, got {d!r}")
    terms = [(a * d, d) for a, d in zip(loads, sizes, strict=True) if a > 0]
    q = [0.0] * (capacity + 1)
    q[0] = 1.0
    for j in range(1, capacity + 1):
        s = 0.0
        for ad, d in terms:
            if d <= j:
                s += ad * q[j - d]
        q[j] = s / j
        # Unnormalised terms grow like a^j/j!; rescale before they overflow. Scaling every
        # term by the same factor leaves the normalised distribution unchanged.
        if q[j] > 1e250:
            inv = 1.0 / q[j]
            for i in range(j + 1):
                q[i] *= inv
    total = math.fsum(q)
    return [x / total for x in q]


def kaufman_roberts(capacity: int, loads: Sequence[float], sizes: Sequence[int]) -> list[float]:
    """Per-class blocking: the probability that a household of size ``sizes[k]`` (offered
    ``loads[k]`` Erlangs, in households) finds fewer than ``sizes[k]`` free beds."""
    p = kaufman_roberts_distribution(capacity, loads, sizes)
    return [min(1.0, math.fsum(p[max(0, capacity - d + 1) :])) for d in sizes]
