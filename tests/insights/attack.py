"""An attacker on published tables, written independently of refuge.insights.suppression.

It knows what any reader of an export knows: every published figure, that a row's cells add up
to its total (and so on for columns and the grand total), that hidden figures are at least 1
(zeros are shown) and that counts are whole numbers. It tries to recover each hidden figure:

* ``determined_by_algebra``: exact Gaussian elimination over the rationals. A hidden figure
  is determined when its unit vector lies in the row space of the published constraints.
* ``determined_by_search``: for small tables, every change of the hidden inner cells by −1, 0
  or +1 that keeps every published figure, and keeps hidden figures ≥ 1, is tried. A hidden
  figure that no such change moves is reported (the whole-number attacker: it also catches a
  figure pinned by non-negativity, which algebra alone would miss).
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

Cell = tuple[int, int]


def _grid(cells):
    r, c = len(cells), len(cells[0])
    g = [[*row, sum(row)] for row in cells]
    g.append([sum(cells[i][j] for i in range(r)) for j in range(c)] + [sum(map(sum, cells))])
    return g


def unknowns(published, r: int, c: int) -> list[Cell]:
    """Every figure of the augmented grid the reader does not see (hidden or never shown)."""
    return [(i, j) for i in range(r + 1) for j in range(c + 1) if published.value((i, j)) is None]


def _constraints(r: int, c: int) -> list[list[Cell]]:
    """Each line: its inner cells (+1) and its margin (−1) add up to 0."""
    lines = []
    for i in range(r + 1):
        lines.append([(i, j) for j in range(c)] + [(i, c)])
    for j in range(c + 1):
        lines.append([(i, j) for i in range(r)] + [(r, j)])
    return lines


def _rref(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    pivots: list[tuple[int, list[Fraction]]] = []
    rows = [list(x) for x in rows]
    ncols = len(rows[0]) if rows else 0
    col = 0
    for col in range(ncols):
        pick = next((k for k, row in enumerate(rows) if row[col] != 0), None)
        if pick is None:
            continue
        row = rows.pop(pick)
        row = [x / row[col] for x in row]
        rows = [[a - b[col] * p for a, p in zip(b, row, strict=True)] for b in rows]
        pivots = [
            (pc, [a - pr[col] * p for a, p in zip(pr, row, strict=True)]) for pc, pr in pivots
        ]
        pivots.append((col, row))
    return pivots


def determined_by_algebra(published, r: int, c: int, links=()) -> set[Cell]:
    """Hidden figures fixed by the published ones (a single table)."""
    return determined_jointly([(published, r, c)], links)[0]


def determined_jointly(tables, links=()) -> list[set[Cell]]:
    """The same attack on several tables at once; ``links`` equate a figure across tables:
    ``[((k1, cell1), (k2, cell2)), ...]``."""
    index: dict[tuple[int, Cell], int] = {}
    for k, (p, r, c) in enumerate(tables):
        for cell in unknowns(p, r, c):
            index[(k, cell)] = len(index)
    if not index:
        return [set() for _ in tables]
    rows: list[list[Fraction]] = []
    for k, (_p, r, c) in enumerate(tables):
        for line in _constraints(r, c):
            coeffs = [Fraction(0)] * len(index)
            signs = {cell: (-1 if n == len(line) - 1 else 1) for n, cell in enumerate(line)}
            for cell, s in signs.items():
                if (k, cell) in index:
                    coeffs[index[(k, cell)]] += s
            if any(coeffs):
                rows.append(coeffs)
    for a, b in links:
        if a in index and b in index:
            coeffs = [Fraction(0)] * len(index)
            coeffs[index[a]] += 1
            coeffs[index[b]] -= 1
            rows.append(coeffs)
    basis = _rref(rows) if rows else []
    out: list[set[Cell]] = [set() for _ in tables]
    for (k, cell), n in index.items():
        if tables[k][0].value(cell) is not None:
            continue
        v = [Fraction(0)] * len(index)
        v[n] = Fraction(1)
        for pc, prow in basis:
            if v[pc] != 0:
                f = v[pc]
                v = [a - f * b for a, b in zip(v, prow, strict=True)]
        if not any(v):
            out[k].add(cell)
    return out


def _feasible_moves(published, cells, absent: set[Cell]):
    """Every −1/0/+1 change of the hidden inner cells that keeps the published figures and
    keeps hidden figures ≥ 1 (absent ones ≥ 0): an array (moves, rows + 1, columns + 1)."""
    r, c = len(cells), len(cells[0])
    g = _grid(cells)
    free = [(i, j) for i in range(r) for j in range(c) if published.cells[i][j] is None]
    deltas = np.array(list(itertools.product((-1, 0, 1), repeat=len(free))), dtype=np.int64)
    change = np.zeros((len(deltas), r + 1, c + 1), dtype=np.int64)
    for n, (i, j) in enumerate(free):
        change[:, i, j] += deltas[:, n]
        change[:, i, c] += deltas[:, n]
        change[:, r, j] += deltas[:, n]
        change[:, r, c] += deltas[:, n]
    ok = np.ones(len(deltas), dtype=bool)
    for i in range(r + 1):
        for j in range(c + 1):
            if (i, j) in absent:
                ok &= g[i][j] + change[:, i, j] >= 0
            elif published.value((i, j)) is not None:
                ok &= change[:, i, j] == 0
            else:
                ok &= g[i][j] + change[:, i, j] >= 1
    return change[ok]


def _hidden(published, r: int, c: int, absent: set[Cell]) -> list[Cell]:
    return [
        (i, j)
        for i in range(r + 1)
        for j in range(c + 1)
        if published.value((i, j)) is None and (i, j) not in absent
    ]


def determined_by_search(published, cells, absent: set[Cell]) -> set[Cell]:
    """Hidden figures that no −1/0/+1 change of the hidden inner cells can move."""
    r, c = len(cells), len(cells[0])
    hidden = _hidden(published, r, c, absent)
    feasible = _feasible_moves(published, cells, absent)
    return {(i, j) for i, j in hidden if not np.any(feasible[:, i, j] != 0)}


def determined_jointly_by_search(tables, links) -> list[set[Cell]]:
    """The whole-number attack on two linked tables: ``tables`` are (published, cells, absent),
    ``links`` pairs ((0, cell), (1, cell)) of one figure in both. A move of one table counts
    only if the other has a move that changes every shared figure the same way."""
    assert len(tables) == 2
    moves = [_feasible_moves(p, cells, absent) for p, cells, absent in tables]
    left = [a[1] for a, _b in links]
    right = [b[1] for _a, b in links]

    def signature(m, cells_):
        return tuple(int(m[i, j]) for i, j in cells_)

    sig_right = {signature(m, right) for m in moves[1]}
    sig_left = {signature(m, left) for m in moves[0]}
    out = []
    for t, (p, cells, absent) in enumerate(tables):
        r, c = len(cells), len(cells[0])
        mine, theirs = (left, sig_right) if t == 0 else (right, sig_left)
        usable = [m for m in moves[t] if signature(m, mine) in theirs]
        out.append(
            {(i, j) for i, j in _hidden(p, r, c, absent) if not any(m[i, j] != 0 for m in usable)}
        )
    return out
