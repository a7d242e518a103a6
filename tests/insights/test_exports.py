"""Exports for ministries and funders: counts only, small cells and their complements hidden,
the reporting basis for everyone, one quarter each, every download audited (SPEC S4)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from refuge.cases import services as cases
from refuge.cases.models import Client, ServiceDelivery
from refuge.core.models import AuditEvent, Organisation
from refuge.insights import exports, figures, selectors
from refuge.insights.suppression import absent_cells
from refuge.insights.tables import CountTable
from refuge.referrals import services as referrals
from refuge.referrals.models import TurnAway
from tests.insights.attack import determined_by_algebra, determined_jointly
from tests.insights.conftest import call, in_quarter, stay, woman


@pytest.fixture
def busy_quarter(personas, network, quarter):
    """A quarter with counts of every size in most tables, made through the services."""
    op, cw = personas["operator_a"], personas["caseworker_b"]
    regions = ["RU-MOW"] * 9 + ["RU-TUL"] * 2 + ["RU-VLA"] * 6 + ["RU-YAR"]
    for n, region in enumerate(regions):
        call(op, in_quarter(quarter, day=n % 3, hour=10 + n % 8), region,
             "victim" if n % 4 else "professional")  # fmt: skip
    for n in range(8):
        w = woman(cw, region="RU-VLA" if n < 6 else "RU-MOW", phone=f"+7916000{n:04d}",
                  created=in_quarter(quarter, day=20 + n))  # fmt: skip
        cases.service_record(by=cw.principal, client=w, kind="legal" if n < 6 else "medical",
                             delivered_on=(quarter.start + timedelta(days=30 + n)))  # fmt: skip
        stay(cw, w, network["vla"] if n % 2 else network["yar"],
             admitted=in_quarter(quarter, day=2 * n, hour=9),
             discharged=in_quarter(quarter, day=2 * n + 1, hour=20))  # fmt: skip
    # a woman who did not agree to be counted, and one at a centre that does not report
    no = woman(cw, consent=False, created=in_quarter(quarter, day=40))
    cases.service_record(by=cw.principal, client=no, kind="legal",
                         delivered_on=quarter.start + timedelta(days=40))  # fmt: skip
    for n in range(3):
        row = referrals.turn_away_record(
            by=op.principal, household={"woman_age": 30, "home_region": "RU-MOW"},
            reasons=["no_place_anywhere"],
        )  # fmt: skip
        TurnAway.objects.filter(pk=row.pk).update(at=in_quarter(quarter, day=50 + n))
    return quarter


def _long(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_csv_export_holds_counts_only_with_small_cells_suppressed(as_persona, busy_quarter):
    r = as_persona("coordinator_a").get(
        f"/insights/exports/download/?period={busy_quarter.key}&format=csv"
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert f"refuge-network-{busy_quarter.key}.csv" in r["Content-Disposition"]
    rows = _long(r)
    assert {row["table"] for row in rows} >= set(exports.ORDER) - {"referrals_by_region",
                                                                   "turnaways_by_region"}  # fmt: skip
    for row in rows:
        if row["status"] == "suppressed":
            assert row["value"] == ""
        elif row["table"] != "occupancy" or row["column_key"] == "people":
            v = int(row["value"])
            assert not 0 < v < 5, row
    # nothing in the file names a person or an organisation's case
    text = r.content.decode()
    for c in Client.objects.all():
        assert c.case_code not in text
    women = [row for row in rows if row["table"] == "women" and row["row_key"] == "_total"]
    assert [row["value"] for row in women if row["column_key"] == "_total"] == ["8"]
    services = {
        (row["row_key"], row["column_key"]): row for row in rows if row["table"] == "services"
    }
    assert services[("medical", "_total")]["status"] == "suppressed"  # two: hidden
    # and its complement, or the total would give it away
    assert services[("legal", "_total")]["status"] == "suppressed"
    assert services[("_total", "_total")]["value"] == "8"  # not 9: one woman did not agree


def test_the_workbook_has_an_about_sheet_and_one_sheet_per_table(as_persona, busy_quarter):
    r = as_persona("analyst_a").get(
        f"/insights/exports/download/?period={busy_quarter.key}&format=xlsx"
    )
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[0] == "About" and len(wb.sheetnames) == 1 + len(exports.ORDER)
    about = " ".join(str(c.value) for row in wb["About"].iter_rows() for c in row if c.value)
    assert busy_quarter.label in about and "“x” marks a figure that is hidden" in about
    calls = wb["calls by region"]
    values = [c.value for row in calls.iter_rows(min_row=4) for c in row[1:]]
    assert "x" in values
    assert not any(isinstance(v, int) and 0 < v < 5 for v in values)


def test_every_export_is_audited_with_what_and_for_whom(personas, as_persona, busy_quarter):
    before = AuditEvent.objects.filter(action="insights.export").count()
    as_persona("manager_a").get(
        f"/insights/exports/download/?period={busy_quarter.key}&format=xlsx"
    )
    events = AuditEvent.objects.filter(action="insights.export").order_by("seq")
    assert events.count() == before + 1
    e = events.last()
    assert e.actor == personas["manager_a"].user.username and e.actor_role == "manager"
    assert e.target_id == f"network:{busy_quarter.key}"
    assert e.details["format"] == "xlsx" and e.details["basis"] == "reporting"


def test_a_bad_export_request_says_why_and_exports_nothing(as_persona):
    before = AuditEvent.objects.filter(action="insights.export").count()
    c = as_persona("analyst_a")
    r = c.get("/insights/exports/download/?period=2024-Q9&format=xlsx")
    assert r.status_code == 400
    assert "completed calendar quarters only" in r.content.decode()
    r = c.get("/insights/exports/download/?format=pdf")
    assert r.status_code == 400 and "Choose XLSX or CSV." in r.content.decode()
    assert AuditEvent.objects.filter(action="insights.export").count() == before


def test_an_organisation_that_does_not_report_is_left_out(personas, as_persona, busy_quarter):
    Organisation.objects.filter(pk=personas["caseworker_b"].org.pk).update(in_network_exports=False)
    rows = _long(
        as_persona("analyst_a").get(
            f"/insights/exports/download/?period={busy_quarter.key}&format=csv"
        )
    )
    for table in ("women", "services", "out_of_region", "discharges"):
        totals = [r["value"] for r in rows if r["table"] == table and r["row_key"] == "_total"]
        assert set(totals) <= {"0"}, table
    assert ServiceDelivery.objects.count() == 9  # the records are there; they are not reported


def _tables(d: figures.Dashboard) -> list[CountTable]:
    return [t for t in exports.export_tables(d) if t.key != "demand"]


def test_no_hidden_figure_of_an_export_can_be_worked_out(busy_quarter):
    """The linear-algebra attacker on every exported table, alone and with its linked tables."""
    d = figures.dashboard(selectors.reporting_basis(), figures.Filters(busy_quarter))
    hidden_somewhere = 0
    for t in _tables(d):
        if not t.rows or t.key == "occupancy":
            continue
        p = _published(t)
        r, c = len(t.rows), len(t.cols)
        absent = absent_cells(r, c, row_totals=t.row_totals, col_totals=t.col_totals)
        assert not (determined_by_algebra(p, r, c) - absent), t.key
        hidden_somewhere += len(p.hidden)
    assert hidden_somewhere > 5  # the quarter does have small cells
    # jointly: calls by day and calls by region publish the same total
    keys = ["calls_by_day", "calls_by_region"]
    tables = [d[k] for k in keys]
    joint = determined_jointly(
        [(_published(t), len(t.rows), len(t.cols)) for t in tables],
        [((0, tables[0].grand_cell()), (1, tables[1].grand_cell()))],
    )
    assert joint == [set(), set()]


def _published(t: CountTable):
    from refuge.insights.suppression import Published, augmented

    grid = augmented(t.cells)
    r, c = len(t.rows), len(t.cols)
    hidden = set()
    for i in range(r + 1):
        for j in range(c + 1):
            shown = (
                t.shown[i][j] if i < r and j < c
                else (t.shown_row_totals or [None] * r)[i] if i < r
                else (t.shown_col_totals or [None] * c)[j] if j < c
                else t.shown_total
            )  # fmt: skip
            if shown is None and grid[i][j] > 0:
                hidden.add((i, j))
    return Published(t.shown, t.shown_row_totals, t.shown_col_totals, t.shown_total,
                     frozenset(hidden))  # fmt: skip


def test_the_exports_page_explains_what_is_in_the_file(as_persona):
    r = as_persona("analyst_a").get("/insights/exports/")
    html = r.content.decode()
    assert r.status_code == 200 and 'name="period"' in html and 'name="format"' in html
    assert "Counts only: no row is about a person." in html


def test_a_manager_decides_whether_her_organisation_reports(personas, as_persona, busy_quarter):
    c = as_persona("manager_b")
    html = c.get("/insights/exports/").content.decode()
    assert "your figures go into network exports" in html
    r = c.post("/insights/exports/participation/", {"include": "0"})
    assert r.status_code == 302
    org = Organisation.objects.get(pk=personas["manager_b"].org.pk)
    assert org.in_network_exports is False
    e = AuditEvent.objects.filter(action="insights.exports_participation").order_by("seq").last()
    assert e.target_org_slug == org.slug and e.details == {"include": False}
    assert (
        "your figures are left out of network exports"
        in c.get("/insights/exports/").content.decode()
    )
    d = figures.dashboard(selectors.reporting_basis(), figures.Filters(busy_quarter))
    assert d["services"].raw_total() == 0  # org b's services are no longer published
    mine = figures.dashboard(selectors.basis_for(personas["manager_b"].principal),
                             figures.Filters(busy_quarter))  # fmt: skip
    assert mine["services"].raw_total() == 9  # her own dashboard still shows them
    c.post("/insights/exports/participation/", {"include": "1"})
    assert Organisation.objects.get(pk=org.pk).in_network_exports is True
