"""Small-cell suppression for published count tables (SPEC C7, S4). Pure Python, no Django.

A table is a grid of counts published with its margins: a total per row, a total per column
and the grand total. Think of it as the grid *augmented* with a total row and a total column:
every line of the augmented grid (a row or a column) says "these cells add up to that one".

1. **Primary suppression.** Every count from 1 to ``threshold - 1`` is hidden, margins
   included. Zeros are shown: a zero reveals no one.
2. **Complementary suppression.** A hidden cell must not be recoverable from what is
   published. Write the augmented grid as a bipartite graph: one node per row (the total row
   included), one per column (the total column included), one edge per cell; each node's
   constraint is "its cells add up to its margin". Changing hidden cells by +1, −1, +1, …
   around a *cycle* of hidden cells keeps every published figure, so a hidden cell on such a
   cycle is not determined by linear algebra; a hidden cell on no cycle is determined exactly.
   Readers also know that a hidden count is at least 1 (zeros are shown), so the cycle must be
   one that can really be travelled: in one direction or the other, every hidden cell it
   lowers must be 2 or more. Then a second table of whole counts publishes the very same
   figures with a different value in that cell. While some hidden cell has no such cycle, we
   hide the cheapest path of published cells that makes one (Dijkstra on the directed graph of
   allowed steps; a cell costs its value, margins cost more, the grand total most, and zeros
   are never used: a hidden zero that is known to be structural protects nothing).
3. **No small line sums.** When a line's margin is published and its hidden cells add up to
   less than the threshold, each of them is known to be small; one more cell of that line is
   hidden (the smallest), then step 2 runs again.

Some margins are not published at all (a one-column table publishes only its column total).
Such cells are *absent*: unknown to the reader and never shown, so they act as hidden cells
that cost nothing.

Linked tables (one figure published in two tables, e.g. the total number of calls) are
suppressed together by ``suppress_linked``: a figure hidden in one is hidden in every other,
and each table's own complementary suppression runs again, until nothing changes. A shared
figure that is hidden must be able to move both up and down within each table, so that any
move of one table can be matched by a move of the other and the tables cannot be played
against each other.

The test (tests/insights/test_suppression.py) attacks the result with exact linear algebra
over the rationals and with an integer search for a second table that publishes the same
figures, on tables drawn by hypothesis.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Cell = tuple[int, int]  # (row, column) in the augmented grid; row r / column c are the totals

# Cost weights for complementary cells: prefer inner cells, then margins; the grand total is
# a last resort (it is the figure most often published elsewhere too).
MARGIN_WEIGHT = 4
GRAND_TOTAL_COST = 10**9


@dataclass(frozen=True)
class Published:
    """A table as it may be published. ``None`` marks a hidden figure."""

    cells: list[list[int | None]]
    row_totals: list[int | None] | None  # None when the table publishes no row totals
    col_totals: list[int | None] | None
    total: int | None  # the grand total (None if hidden or not published)
    primary: frozenset[Cell] = field(default_factory=frozenset)
    complementary: frozenset[Cell] = field(default_factory=frozenset)

    @property
    def hidden(self) -> frozenset[Cell]:
        return self.primary | self.complementary

    def value(self, cell: Cell) -> int | None:
        """The published value of an augmented-grid cell."""
        i, j = cell
        r, c = len(self.cells), len(self.cells[0]) if self.cells else 0
        if i < r and j < c:
            return self.cells[i][j]
        if i < r:
            return self.row_totals[i] if self.row_totals is not None else None
        if j < c:
            return self.col_totals[j] if self.col_totals is not None else None
        return self.total


def augmented(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The grid with its row totals (last column) and column totals (last row)."""
    rows = [list(map(int, row)) for row in cells]
    c = len(rows[0]) if rows else 0
    out = [[*row, sum(row)] for row in rows]
    col = [sum(row[j] for row in rows) for j in range(c)]
    out.append([*col, sum(col)])
    return out


def absent_cells(r: int, c: int, *, row_totals: bool, col_totals: bool) -> set[Cell]:
    """Margins the table does not publish at all."""
    absent: set[Cell] = set()
    if not row_totals:
        absent |= {(i, c) for i in range(r)}
    if not col_totals:
        absent |= {(r, j) for j in range(c)}
    if not (row_totals and col_totals):
        absent.add((r, c))
    return absent


def _check(cells: Sequence[Sequence[int]], threshold: int) -> tuple[int, int]:
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    r = len(cells)
    c = len(cells[0]) if r else 0
    if any(len(row) != c for row in cells):
        raise ValueError("every row must have the same number of cells")
    for row in cells:
        for v in row:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError("cells must be whole numbers ≥ 0")
    return r, c


def suppress(
    cells: Sequence[Sequence[int]],
    threshold: int,
    *,
    row_totals: bool = True,
    col_totals: bool = True,
    forced: Iterable[Cell] = (),
    two_way: Iterable[Cell] = (),
) -> Published:
    """Hide small counts and enough others that none can be worked out (see the module doc).

    ``forced`` cells (augmented coordinates) are hidden whatever their value: a figure hidden
    in a linked table. ``two_way`` cells, when hidden, must be able to move both up and down
    (as far as their value allows): a figure shared with another table, whose own moves may
    need either direction.
    """
    r, c = _check(cells, threshold)
    if r == 0 or c == 0:
        return Published(
            [list(row) for row in cells],
            [] if row_totals else None,
            [0] * c if col_totals else None,
            0 if row_totals and col_totals else None,
        )
    grid = augmented(cells)
    absent = absent_cells(r, c, row_totals=row_totals, col_totals=col_totals)
    every = [(i, j) for i in range(r + 1) for j in range(c + 1)]
    primary = {e for e in every if e not in absent and 0 < grid[e[0]][e[1]] < threshold}
    hidden = set(primary) | {e for e in forced if e not in absent and grid[e[0]][e[1]] > 0}

    def cost(e: Cell) -> float:
        v = grid[e[0]][e[1]]
        if v == 0:
            return float("inf")
        if e == (r, c):
            return GRAND_TOTAL_COST + v
        if e[0] == r or e[1] == c:
            return MARGIN_WEIGHT * (v + 1)
        return v + 1

    protected: set[Cell] = set()
    both = {e for e in two_way if e not in absent}
    while True:
        _protect(grid, r, c, hidden, absent, cost, protected, both)
        if not _widen_small_lines(grid, r, c, hidden, absent, threshold):
            break

    def shown(i: int, j: int) -> int | None:
        return None if (i, j) in hidden else grid[i][j]

    return Published(
        cells=[[shown(i, j) for j in range(c)] for i in range(r)],
        row_totals=[shown(i, c) for i in range(r)] if row_totals else None,
        col_totals=[shown(r, j) for j in range(c)] if col_totals else None,
        total=shown(r, c) if row_totals and col_totals else None,
        primary=frozenset(primary),
        complementary=frozenset(hidden - primary),
    )


# --- step 2: every hidden cell can move -----------------------------------------------------
#
# Signs. Give every cell a variable y: y = x for inner cells and the grand total, y = -x for
# row and column totals. Then every node's constraint reads "the y of its cells sum to 0", and a
# change that keeps every published figure is a sum of cycles along which y goes +1, -1, +1 ...
# We look for a *simple* cycle through the hidden cell e, made of hidden (or absent) cells, such
# that moving along it in one of the two directions keeps every hidden cell at 1 or more (and
# every absent margin at 0 or more): then a second table of whole non-negative counts publishes
# exactly the same figures and differs in e. The cycle is e plus a path from e's row node to
# e's column node. The graph is bipartite, so an edge crossed from a row node to a column node
# is at an odd place on the path (y = -1) and one crossed the other way at an even place
# (y = +1): the direction of travel fixes each step's sign, and a plain Dijkstra on a directed
# graph finds the path.

_COL = 1 << 20


def _sign(e: Cell, r: int, c: int) -> int:
    """x = sign * y: -1 for a row or column total, +1 for inner cells and the grand total."""
    return -1 if (e[0] == r) != (e[1] == c) else 1


def _move_path(
    grid, r: int, c: int, e: Cell, orient: int, hidden: set[Cell], absent: set[Cell], cost
) -> tuple[float, list[Cell]] | None:
    """The cheapest path closing a feasible cycle through ``e`` in direction ``orient`` (e's
    x changes by ``orient * sign(e)``), or None. Published cells on the path cost ``cost``."""

    def room(x: Cell, change: int) -> bool:
        if change > 0:
            return True
        floor = 0 if x in absent else 1
        return grid[x[0]][x[1]] - 1 >= floor

    if not room(e, orient * _sign(e, r, c)):
        return None
    start, goal = e[0], _COL + e[1]
    dist = {start: 0.0}
    back: dict[int, tuple[int, Cell]] = {}
    heap = [(0.0, start)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == goal:
            path = []
            while u != start:
                u, x = back[u]
                path.append(x)
            return d, path
        if d > dist.get(u, float("inf")):
            continue
        if u < _COL:  # a row node: the next cell is at an odd place, y = -1
            steps = [((u, j), _COL + j, -1) for j in range(c + 1)]
        else:
            steps = [((i, u - _COL), i, +1) for i in range(r + 1)]
        for x, v, y in steps:
            if x == e:
                continue
            if x in hidden or x in absent:
                w = 0.0
            else:
                w = cost(x)
                if w == float("inf"):
                    continue
            if not room(x, orient * y * _sign(x, r, c)):
                continue
            nd = d + w
            if nd < dist.get(v, float("inf")):
                dist[v], back[v] = nd, (u, x)
                heapq.heappush(heap, (nd, v))
    return None


def _closed(_x: Cell) -> float:
    return float("inf")


def can_move(grid, r: int, c: int, e: Cell, hidden: set[Cell], absent: set[Cell]) -> bool:
    """Whether a feasible cycle of hidden and absent cells runs through ``e``."""
    return any(_move_path(grid, r, c, e, o, hidden, absent, _closed) is not None for o in (1, -1))


def _needs(grid, r: int, c: int, e: Cell, two_way: bool) -> list[int]:
    """The directions (orientations) ``e`` must be able to move in: any one of them, or, for
    a two-way cell, each one its value allows (a hidden 1 cannot go down)."""
    if not two_way:
        return []
    return [o for o in (1, -1) if o * _sign(e, r, c) > 0 or grid[e[0]][e[1]] >= 2]


def _protect(
    grid,
    r: int,
    c: int,
    hidden: set[Cell],
    absent: set[Cell],
    cost,
    protected: set[Cell],
    two_way: set[Cell],
) -> None:
    """Give every hidden cell a feasible cycle. A cell once protected stays protected (hiding
    more only relaxes what the reader knows), so each cell is looked at about once."""
    queue = sorted(hidden - protected, key=lambda e: (grid[e[0]][e[1]], e))
    while queue:
        e = queue.pop(0)
        if e in protected:
            continue
        directions = _needs(grid, r, c, e, e in two_way)
        groups = [[o] for o in directions] if directions else [[1, -1]]
        for group in groups:
            if any(_move_path(grid, r, c, e, o, hidden, absent, _closed) for o in group):
                continue
            options = [
                found
                for o in group
                if (found := _move_path(grid, r, c, e, o, hidden, absent, cost)) is not None
            ]
            if not options:  # nothing can protect it (cannot happen with a total > 0)
                hidden |= {
                    (i, j)
                    for i in range(r + 1)
                    for j in range(c + 1)
                    if grid[i][j] > 0 and (i, j) not in absent
                }
                protected |= hidden
                return
            _d, path = min(options, key=lambda t: t[0])
            new = sorted(x for x in path if x not in absent and x not in hidden)
            hidden.update(new)
            queue.extend(new)
        protected.add(e)


# --- step 3: no line whose hidden cells add up to a small number ------------------------------


def _lines(r: int, c: int) -> list[tuple[Cell, list[Cell]]]:
    """(the line's margin, the cells that add up to it), for every line of the grid."""
    out: list[tuple[Cell, list[Cell]]] = []
    for i in range(r + 1):
        out.append(((i, c), [(i, j) for j in range(c)]))
    for j in range(c + 1):
        out.append(((r, j), [(i, j) for i in range(r)]))
    return out


def _widen_small_lines(grid, r: int, c: int, hidden: set[Cell], absent: set[Cell], threshold):
    changed = False
    for margin, parts in _lines(r, c):
        if margin in hidden or margin in absent:
            continue
        in_line = [p for p in parts if p in hidden]
        total = sum(grid[i][j] for i, j in in_line)
        if not in_line or total >= threshold:
            continue
        spare = [p for p in parts if p not in hidden and p not in absent and grid[p[0]][p[1]] > 0]
        if spare:
            hidden.add(min(spare, key=lambda p: (grid[p[0]][p[1]], p)))
        else:
            hidden.add(margin)
        changed = True
    return changed


# --- linked tables ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    cells: Sequence[Sequence[int]]
    row_totals: bool = True
    col_totals: bool = True


Link = Sequence[tuple[int, Cell]]  # (table index, augmented cell): one figure in several tables


def suppress_linked(
    tables: Sequence[TableSpec], links: Sequence[Link], threshold: int
) -> list[Published]:
    """Suppress tables that publish some of the same figures: a figure hidden in one table
    is hidden in all, and each table is protected again, until nothing more changes."""
    forced: list[set[Cell]] = [set() for _ in tables]
    shared: list[set[Cell]] = [set() for _ in tables]
    for link in links:
        for k, cell in link:
            shared[k].add(cell)
    while True:
        out = [
            suppress(
                t.cells,
                threshold,
                row_totals=t.row_totals,
                col_totals=t.col_totals,
                forced=forced[k],
                two_way=shared[k],
            )
            for k, t in enumerate(tables)
        ]
        changed = False
        for link in links:
            if any(out[k].value(cell) is None and _exists(out[k], cell) for k, cell in link):
                for k, cell in link:
                    if cell not in forced[k]:
                        forced[k].add(cell)
                        changed = True
        if not changed:
            return out


def _exists(p: Published, cell: Cell) -> bool:
    """Whether the table publishes that figure at all (absent margins are not linked)."""
    i, j = cell
    r, c = len(p.cells), len(p.cells[0]) if p.cells else 0
    if i < r and j < c:
        return True
    if i < r:
        return p.row_totals is not None
    if j < c:
        return p.col_totals is not None
    return p.row_totals is not None and p.col_totals is not None
