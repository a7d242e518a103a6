"""Aggregate exports for ministries and funders (SPEC C7, S4): counts only, never a row about a
person; the reporting basis (selectors.reporting_basis) whoever downloads them; one completed
calendar quarter each; small cells suppressed with their complements.

Two shapes of the same figures:
* XLSX (openpyxl): an "About" sheet (what, when, on which basis, how hidden figures are
  marked), then one sheet per table, as on the dashboard;
* CSV: one figure a line (table, row, column, value, status), the shape statistics tools read.
Hidden figures are empty in the CSV with status "suppressed", and "x" in the workbook.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from . import pages
from .figures import Dashboard
from .tables import HIDDEN_MARK, CountTable, safe_cell

# Sheet and table order of an export (the dashboard's, with the derived tables).
ORDER = [
    "women",
    "calls_by_day",
    "calls_by_region",
    "demand",
    "referrals_by_month",
    "referrals_by_region",
    "time_to_place",
    "turnaways_by_reason",
    "turnaways_by_region",
    "occupancy",
    "out_of_region",
    "discharges",
    "services",
]


def export_tables(d: Dashboard) -> list[CountTable]:
    tables = pages.section_tables(d)
    return [tables[k] for k in ORDER]


def about_lines(d: Dashboard, generated: datetime) -> list[tuple[str, str]]:
    basis = d.basis
    return [
        (_("Refuge: network figures"), ""),
        (
            _("Period"),
            f"{d.filters.period.label} ({d.filters.period.start} – {d.filters.period.end})",
        ),
        (_("Prepared"), timezone.localtime(generated).strftime("%Y-%m-%d %H:%M")),
        (_("Basis"), basis.describe()),
        (
            _("Hidden figures"),
            _(
                "“%(mark)s” marks a figure that is hidden: counts from 1 to %(n)s, and the "
                "counts from which they could be worked out. Zeros are shown."
            )
            % {"mark": HIDDEN_MARK, "n": basis.threshold - 1},
        ),
        (
            _("Each woman once"),
            _(
                "The table of women counts each woman once across the network (the same phone "
                "number at two centres); the other tables count events (calls, referrals, "
                "admissions, services)."
            ),
        ),
        (_("Median time to a place"), pages.duration(d.wait_median)),
        (_("Time within which 9 in 10 were placed"), pages.duration(d.wait_p90)),
        (_("Median length of stay"), pages.days(d.stay_median)),
        (_("9 in 10 stays shorter than"), pages.days(d.stay_p90)),
    ]


def _sheet_name(key: str, used: set[str]) -> str:
    name = key.replace("_", " ")[:31]
    n = 2
    while name in used:
        name = f"{key[:28]} {n}"
        n += 1
    used.add(name)
    return name


def xlsx(d: Dashboard, generated: datetime | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    generated = generated or timezone.now()
    wb = Workbook()
    about = wb.active
    about.title = "About"
    bold = Font(bold=True)
    for name, text in about_lines(d, generated):
        about.append([safe_cell(name), safe_cell(text)])
    about["A1"].font = bold
    about.column_dimensions["A"].width = 34
    about.column_dimensions["B"].width = 110
    about.append([])
    about.append([_("Sheet"), _("Table")])
    used = {"About"}
    for t in export_tables(d):
        sheet = wb.create_sheet(_sheet_name(t.key, used))
        about.append([sheet.title, t.title])
        sheet.append([t.title])
        sheet["A1"].font = bold
        if t.note:
            sheet.append([t.note])
        sheet.append([])
        sheet.append([safe_cell(h) for h in t.header()])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for row in t.body():
            sheet.append([safe_cell(v) for v in row])
        sheet.column_dimensions["A"].width = 36
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def long_rows(d: Dashboard) -> Iterable[list[str]]:
    yield ["table", "table_title", "row_key", "row", "column_key", "column", "value", "status"]
    for t in export_tables(d):
        col_keys = [k for k, _l in t.cols]
        for (rk, rl), values, total in zip(
            t.rows,
            t.shown,
            t.shown_row_totals or [None] * len(t.rows),
            strict=True,
        ):
            for ck, (_k, cl), v in zip(col_keys, t.cols, values, strict=True):
                yield _line(t, rk, rl, ck, cl, v)
            if t.row_totals:
                yield _line(t, rk, rl, "_total", _("Total"), total)
        if t.col_totals and t.shown_col_totals is not None:
            for ck, (_k, cl), v in zip(col_keys, t.cols, t.shown_col_totals, strict=True):
                yield _line(t, "_total", _("Total"), ck, cl, v)
            if t.row_totals:
                yield _line(t, "_total", _("Total"), "_total", _("Total"), t.shown_total)


def _line(t: CountTable, rk: str, rl: str, ck: str, cl: str, v) -> list[str]:
    status = "suppressed" if v is None else ""
    value = "" if v is None else v
    return [safe_cell(x) for x in (t.key, t.title, rk, str(rl), ck, str(cl))] + [
        value,
        status,
    ]


def long_csv(d: Dashboard) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    for row in long_rows(d):
        w.writerow(row)
    return buf.getvalue()
