"""Small-cell suppression for analysts (SPEC.md S4, C7): pure Python, no Django.

A table is rows of counts plus the totals row that is published with it. Counts from 1 to
threshold-1 are hidden (primary suppression; zeros are shown). Then, because hidden cells can
be worked out by subtraction from a row's or a column's known total, more cells of that line
are hidden (the smallest first) until every line with a known total has no hidden cell, or at
least two whose sum is not itself a small count (complementary suppression). Hidden cells
read as None.
"""

from __future__ import annotations

from typing import Any


def suppress_table(
    rows: list[dict[str, Any]],
    *,
    total_key: str | None,
    part_keys: list[str],
    other_keys: list[str] = (),  # type: ignore[assignment]
    totals: dict[str, Any] | None = None,
    threshold: int,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Return copies of ``rows`` and ``totals`` with small and derivable counts set to None.

    In each row, ``total_key`` is the sum of ``part_keys`` (offered = answered + abandoned + …);
    ``other_keys`` are counts with no such relation inside the row. Down each column, the
    rows add up to ``totals``.
    """
    keys = ([total_key] if total_key else []) + list(part_keys) + list(other_keys)
    grid = [dict(r) for r in rows]
    tot = dict(totals) if totals is not None else None
    hidden: set[tuple[int, str]] = set()  # (row index, key); row index -1 is the totals row

    def value(i: int, k: str) -> int:
        src = tot if i == -1 else grid[i]
        return int(src.get(k) or 0)  # type: ignore[union-attr]

    all_rows = list(range(len(grid))) + ([-1] if tot is not None else [])
    for i in all_rows:
        for k in keys:
            if 0 < value(i, k) < threshold:
                hidden.add((i, k))

    def lines() -> list[tuple[tuple[int, str] | None, list[tuple[int, str]]]]:
        """(the line's total cell or None if it has none, the cells that add up to it)."""
        out: list[tuple[tuple[int, str] | None, list[tuple[int, str]]]] = []
        if total_key:
            for i in all_rows:
                out.append(((i, total_key), [(i, k) for k in part_keys]))
        if tot is not None:
            for k in keys:
                out.append(((-1, k), [(i, k) for i in range(len(grid))]))
        return out

    changed = True
    while changed:
        changed = False
        for total_cell, cells in lines():
            in_line = [c for c in cells if c in hidden]
            total_hidden = total_cell in hidden if total_cell else False
            if total_hidden:
                # An unknown total with every part known is known after all.
                if not in_line and cells:
                    candidates = cells
                else:
                    continue
            elif in_line and (len(in_line) == 1 or 0 < sum(value(*c) for c in in_line) < threshold):
                candidates = [c for c in cells if c not in hidden]
            else:
                continue
            if not candidates:
                if total_cell and not total_hidden:
                    hidden.add(total_cell)
                    changed = True
                continue
            pick = min(candidates, key=lambda c: (value(*c), c[0], c[1]))
            hidden.add(pick)
            changed = True

    for i, k in hidden:
        if i == -1:
            tot[k] = None  # type: ignore[index]
        else:
            grid[i][k] = None
    return grid, tot
