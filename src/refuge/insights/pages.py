"""What the dashboard shows, section by section: a chart, its tables, their CSV links, notes.

Kept apart from views.py so the views stay thin, and so the CSV of a section is exactly the
table on the page (``section_tables``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from . import charts
from .figures import Dashboard
from .tables import CountTable


@dataclass
class Tile:
    value: Any
    label: str


@dataclass
class Section:
    id: str
    title: str
    charts: list[tuple[str, charts.Chart]] = field(default_factory=list)  # (title, chart)
    tables: list[CountTable] = field(default_factory=list)
    tiles: list[Tile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def chart_items(self) -> list[tuple[str, str, charts.Chart]]:
        """(element id, title, chart), ids unique on the page."""
        return [(f"{self.id}-chart-{n}", title, c) for n, (title, c) in enumerate(self.charts)]


def duration(value: timedelta | None) -> str:
    """“3 h 20 min”, “2 days 4 h”, or “—”."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(h)s h %(m)s min") % {"h": hours, "m": minutes}
    days, hours = divmod(hours, 24)
    return ngettext("%(d)s day %(h)s h", "%(d)s days %(h)s h", days) % {"d": days, "h": hours}


def days(value: timedelta | None) -> str:
    if value is None:
        return "—"
    n = value.days
    return ngettext("%(n)s day", "%(n)s days", n) % {"n": n}


def pct(share: float | None) -> str:
    return "—" if share is None else f"{charts.num(100 * share, 0)}%"


def _series(t: CountTable) -> list[charts.Series]:
    return [([row[j] for row in t.shown], label) for j, (_k, label) in enumerate(t.cols)]


def _bars(t: CountTable, limit: int = 15) -> charts.Chart:
    return charts.bars(
        [label for _k, label in t.rows],
        _series(t),
        limit=limit,
        totals=t.shown_row_totals if t.row_totals else None,
    )


def _short_day(t: CountTable) -> list[str]:
    return [label[:5] for _k, label in t.rows]


def demand_table(d: Dashboard) -> CountTable:
    """Demand against capacity by region, as a table of published figures."""
    rows = d.demand()
    cols = [
        ("calls", _("calls")),
        ("referrals", _("referrals")),
        ("turnaways", _("turn-aways")),
        ("admissions", _("admissions")),
        ("beds", pgettext("capacity", "beds")),
    ]
    t = CountTable(
        key="demand",
        title=_("Demand and capacity by region"),
        row_head=_("Region"),
        rows=[(r["key"], r["label"]) for r in rows],
        cols=cols,
        cells=[[0] * len(cols) for _r in rows],
        row_totals=False,
    )
    t.shown = [[r[k] for k, _l in cols] for r in rows]
    sources = ["calls_by_region", "referrals_by_region", "turnaways_by_region", "out_of_region"]
    t.shown_col_totals = [d[s].total for s in sources] + [sum(d.beds.values())]
    t.suppressed = d.basis.suppress
    t.note = _(
        "Calls by the caller's region; referrals and turn-aways by the woman's region; "
        "admissions and beds by the facility's region."
    )
    return t


def occupancy_table(d: Dashboard) -> CountTable:
    occ = d.occupancy
    cols = [("people", _("women and children in residence")), ("beds", pgettext("capacity", "beds")),
            ("share", _("occupancy"))]  # fmt: skip
    t = CountTable(
        key="occupancy",
        title=_("Occupancy"),
        row_head=_("Day"),
        rows=list(occ.table.rows),
        cols=cols,
        cells=[[0, 0, 0] for _r in occ.table.rows],
        row_totals=False,
        col_totals=False,
    )
    t.shown = [[p["people"], occ.beds, pct(p["share"])] for p in occ.series()]
    t.suppressed = d.basis.suppress
    return t


def section_tables(d: Dashboard) -> dict[str, CountTable]:
    """Every table a CSV link can ask for, by key."""
    out = dict(d.tables)
    out["demand"] = demand_table(d)
    out["occupancy"] = occupancy_table(d)
    return out


def sections(d: Dashboard) -> list[Section]:
    t = d.tables
    out: list[Section] = []

    calls = t["calls_by_day"]
    out.append(
        Section(
            "calls",
            _("Calls by day"),
            charts=[
                (_("Incoming calls by day"), charts.columns(_short_day(calls), _series(calls)))
            ],
            tables=[calls],
            tiles=[
                Tile(calls.total, _("incoming calls")),
                Tile(calls.col_total("answered"), _("answered calls")),
            ],
        )
    )
    by_region = t["calls_by_region"]
    out.append(
        Section(
            "calls-region",
            _("Calls by region and who called"),
            charts=[(by_region.title, _bars(by_region))],
            tables=[by_region],
            notes=[by_region.note],
        )
    )

    demand = demand_table(d)
    # The chart: regions with a request or a bed, most requests first (calls are in the table).
    rows = [
        r for r in d.demand() if any(r[k] for k in ("referrals", "turnaways", "admissions", "beds"))
    ]
    rows.sort(key=lambda r: (-((r["referrals"] or 0) + (r["turnaways"] or 0)), -(r["beds"] or 0)))
    rows = rows[:15]
    out.append(
        Section(
            "demand",
            _("Demand and capacity by region"),
            charts=[
                (
                    demand.title,
                    charts.bars(
                        [r["label"] for r in rows],
                        [
                            ([r["referrals"] for r in rows], _("referrals")),
                            ([r["turnaways"] for r in rows], _("turn-aways")),
                            ([r["admissions"] for r in rows], _("admissions")),
                            ([r["beds"] for r in rows], pgettext("capacity", "beds")),
                        ],
                        stacked=False,
                    ),
                )
            ],
            tables=[demand],
            notes=[demand.note],
        )
    )

    months, waits = t["referrals_by_month"], t["time_to_place"]
    out.append(
        Section(
            "placements",
            _("Referrals and placements"),
            charts=[
                (months.title, charts.columns([lbl for _k, lbl in months.rows], _series(months))),
                (waits.title, charts.columns([lbl for _k, lbl in waits.rows], _series(waits))),
            ],
            tables=[months, t["referrals_by_region"], waits],
            tiles=[
                Tile(months.total, _("referrals")),
                Tile(months.col_total("placed"), _("placed")),
                Tile(duration(d.wait_median), _("median time to a place")),
                Tile(duration(d.wait_p90), _("9 in 10 placed within")),
            ],
            notes=[
                _(
                    "Time to a place runs from the referral to the facility's acceptance. It "
                    "cannot start at her first call: the hotline keeps no caller's number, and "
                    "its caller key is kept apart from case records and forgotten after the "
                    "repeat window, so calls are not linked to cases."
                )
            ],
        )
    )

    reasons, ta_regions = t["turnaways_by_reason"], t["turnaways_by_region"]
    out.append(
        Section(
            "turnaways",
            _("Turn-aways"),
            charts=[(reasons.title, _bars(reasons)), (ta_regions.title, _bars(ta_regions))],
            tables=[reasons, ta_regions],
            tiles=[
                Tile(reasons.total, _("turn-aways")),
                Tile(reasons.col_total("unnecessary"), _("unnecessary")),
            ],
            notes=[reasons.note],
        )
    )

    occ = d.occupancy
    series = occ.series()
    out.append(
        Section(
            "occupancy",
            _("Occupancy"),
            charts=[
                (
                    _("Occupancy: people in residence as a share of beds"),
                    charts.line([p["label"][:5] for p in series], [p["share"] for p in series]),
                )
            ],
            tables=[occupancy_table(d)],
            tiles=[
                Tile(occ.facilities, _("facilities recording their stays")),
                Tile(occ.beds, _("their beds")),
                Tile(pct(occ.average), _("average occupancy")),
            ],
            notes=[
                _(
                    "Facilities that record their stays in Refuge, with the rooms they have in "
                    "service today (room history is not kept). Families count every member."
                )
            ],
        )
    )

    oor = t["out_of_region"]
    out.append(
        Section(
            "out-of-region",
            oor.title,
            charts=[(oor.title, _bars(oor))],
            tables=[oor],
            tiles=[
                Tile(oor.total, _("admissions")),
                Tile(oor.col_total("other"), _("from another region")),
            ],
        )  # fmt: skip
    )

    ends = t["discharges"]
    out.append(
        Section(
            "stays",
            _("Stays and where women went"),
            charts=[(ends.title, _bars(ends))],
            tables=[ends],
            tiles=[
                Tile(ends.total, _("stays ended")),
                Tile(days(d.stay_median), _("median length of stay")),
                Tile(days(d.stay_p90), _("9 in 10 stays shorter than")),
            ],
        )
    )

    services = t["services"]
    out.append(
        Section(
            "services",
            services.title,
            charts=[(services.title, _bars(services))],
            tables=[services],
            tiles=[Tile(services.total, _("services"))],
        )  # fmt: skip
    )

    women = t["women"]
    out.append(
        Section(
            "women",
            women.title,
            charts=[(women.title, _bars(women))],
            tables=[women],
            tiles=[Tile(women.total, _("women"))],
            notes=[women.note],
        )  # fmt: skip
    )
    return out
