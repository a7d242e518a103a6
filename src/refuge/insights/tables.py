"""Count tables: what the database counted, and what may be shown of it.

Every chart, table, CSV and XLSX sheet of the insights pages is one ``CountTable``: rows and
columns with labels, whole counts in the cells, and the totals it publishes. ``publish`` hides
what the basis requires (refuge.insights.suppression), every table of one page together, so
that a figure shown in two tables is hidden in both or in neither.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from .suppression import Cell, TableSpec, suppress_linked

HIDDEN_MARK = "x"  # in files; pages show a marker explained next to the table


@dataclass
class CountTable:
    key: str
    title: str
    row_head: str
    rows: list[tuple[str, str]]  # (key, label)
    cols: list[tuple[str, str]]
    cells: list[list[int]]
    row_totals: bool = True
    col_totals: bool = True
    note: str = ""
    # what may be shown (set by publish)
    shown: list[list[int | None]] = field(default_factory=list)
    shown_row_totals: list[int | None] | None = None
    shown_col_totals: list[int | None] | None = None
    shown_total: int | None = None
    suppressed: bool = False

    # -- the raw figures ------------------------------------------------------------------------

    def raw_total(self) -> int:
        return sum(map(sum, self.cells))

    def raw_col_total(self, col: str) -> int:
        j = self._col(col)
        return sum(row[j] for row in self.cells)

    # -- what is shown --------------------------------------------------------------------------

    def _col(self, key: str) -> int:
        return [k for k, _label in self.cols].index(key)

    def _row(self, key: str) -> int:
        return [k for k, _label in self.rows].index(key)

    @property
    def total(self) -> int | None:
        """The grand total as shown (for one-column tables, the column's total)."""
        if self.row_totals and self.col_totals:
            return self.shown_total
        if self.col_totals and len(self.cols) == 1 and self.shown_col_totals is not None:
            return self.shown_col_totals[0]
        return None

    def col_total(self, key: str) -> int | None:
        if self.shown_col_totals is None:
            return None
        return self.shown_col_totals[self._col(key)]

    def row_total(self, key: str) -> int | None:
        if key not in [k for k, _label in self.rows]:
            return 0
        i = self._row(key)
        if self.row_totals and self.shown_row_totals is not None:
            return self.shown_row_totals[i]
        if len(self.cols) == 1:
            return self.shown[i][0]
        return None

    def value(self, row: str, col: str) -> int | None:
        return self.shown[self._row(row)][self._col(col)]

    def lines(self) -> list[dict[str, Any]]:
        """Rows for templates and charts: key, label, values, total."""
        out = []
        for i, (key, label) in enumerate(self.rows):
            out.append(
                {
                    "key": key,
                    "label": label,
                    "values": self.shown[i],
                    "total": self.shown_row_totals[i] if self.shown_row_totals else None,
                }
            )
        return out

    @property
    def empty(self) -> bool:
        return not self.rows or self.raw_total() == 0

    # -- coordinates for linking -----------------------------------------------------------------

    def grand_cell(self) -> Cell:
        return (len(self.rows), len(self.cols) if self.row_totals else 0)

    def col_total_cell(self, key: str) -> Cell:
        return (len(self.rows), self._col(key))

    def spec(self) -> TableSpec:
        return TableSpec(self.cells, row_totals=self.row_totals, col_totals=self.col_totals)

    # -- files ---------------------------------------------------------------------------------

    def header(self) -> list[str]:
        head = [self.row_head, *(str(label) for _k, label in self.cols)]
        if self.row_totals:
            head.append(_("Total"))
        return head

    def body(self) -> list[list[Any]]:
        """Rows of the table as published: hidden figures are ``None``."""
        out: list[list[Any]] = []
        for line in self.lines():
            row = [str(line["label"]), *line["values"]]
            if self.row_totals:
                row.append(line["total"])
            out.append(row)
        if self.col_totals:
            row = [_("Total"), *(self.shown_col_totals or [])]
            if self.row_totals:
                row.append(self.shown_total)
            out.append(row)
        return out

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow([safe_cell(h) for h in self.header()])
        for row in self.body():
            w.writerow([safe_cell(v) for v in row])
        return buf.getvalue()


def safe_cell(value: Any) -> Any:
    """A cell for a spreadsheet: hidden figures marked, and no text a spreadsheet would run as
    a formula (a label starting with =, +, - or @)."""
    if value is None:
        return HIDDEN_MARK
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


Link = Sequence[tuple[str, Cell]]  # (table key, augmented cell)


def publish(
    tables: Sequence[CountTable], links: Iterable[Link], *, suppress: bool, threshold: int
) -> None:
    """Fill what each table may show: everything, or after suppressing all tables together."""
    tables = list(tables)
    if not suppress:
        _show_all(tables)
        return
    empty = [t for t in tables if not t.rows]
    _show_all(empty)  # nothing to hide in a table without rows: its totals are 0
    tables = [t for t in tables if t.rows]
    index = {t.key: n for n, t in enumerate(tables)}
    pairs = [[(index[key], cell) for key, cell in link if key in index] for link in links]
    done = suppress_linked([t.spec() for t in tables], [p for p in pairs if len(p) > 1], threshold)
    for t, p in zip(tables, done, strict=True):
        t.shown = p.cells
        t.shown_row_totals = p.row_totals
        t.shown_col_totals = p.col_totals
        t.shown_total = p.total
        t.suppressed = True


def _show_all(tables: Sequence[CountTable]) -> None:
    for t in tables:
        t.shown = [list(row) for row in t.cells]
        cols = [sum(row[j] for row in t.cells) for j in range(len(t.cols))]
        t.shown_row_totals = [sum(row) for row in t.cells] if t.row_totals else None
        t.shown_col_totals = cols if t.col_totals else None
        t.shown_total = sum(cols) if t.row_totals and t.col_totals else None
        t.suppressed = False
