"""The dashboard pages: each role's view, filters, tables as CSV, and a constant query count."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.hotline import merge
from refuge.hotline import services as hotline
from refuge.hotline.models import Line
from refuge.hotline.services import CallRecord, WrapUpData
from tests.insights.conftest import call, in_quarter, stay, woman


def test_a_coordinator_sees_every_section_with_charts_tables_and_csv(personas, network, as_persona):
    call(personas["operator_a"], timezone.now() - timedelta(hours=2), "RU-VLA")
    r = as_persona("coordinator_a").get("/insights/")
    assert r.status_code == 200
    html = r.content.decode()
    for section in ("calls", "calls-region", "demand", "placements", "turnaways", "occupancy",
                    "out-of-region", "stays", "services", "women"):  # fmt: skip
        assert f'id="{section}"' in html
    assert html.count('<figure class="ins-chart">') == 12
    # the charts with figures to draw: calls by day, by region, demand and capacity, occupancy
    assert html.count("<svg") == 4 and html.count("Nothing to show for this selection.") == 8
    assert html.count("<table") >= 13
    assert html.count("/insights/tables/") >= 13
    assert "style=" not in html  # the CSP allows no inline style
    assert "<script" not in html.split("</head>")[1]


def test_an_analyst_sees_a_quarter_with_small_counts_hidden(personas, as_persona, quarter):
    for n in range(7):
        call(personas["operator_a"], in_quarter(quarter, day=n % 2), "RU-MOW")
    call(personas["operator_a"], in_quarter(quarter, day=5), "RU-TUL")
    r = as_persona("analyst_a").get("/insights/")
    assert r.status_code == 200
    html = r.content.decode()
    assert quarter.label in html and 'name="period"' in html and 'name="start"' not in html
    assert "ins-x" in html  # hidden figures are marked
    d = r.context["d"]
    by_region = d["calls_by_region"]
    assert by_region.row_total("RU-TUL") is None  # one call: hidden
    assert by_region.row_total("RU-MOW") is None  # and its complement, or 8 − 7 gives it away
    assert by_region.total == 8
    for t in d.tables.values():
        for row in t.shown:
            assert not any(v is not None and 0 < v < 5 for v in row), t.key


def test_bad_filters_get_a_clear_message_and_no_figures(as_persona):
    coordinator = as_persona("coordinator_a")
    for query, message in (
        ("start=2026-13-01&end=2026-01-01", "Enter a date as YYYY-MM-DD."),
        ("start=2026-02-01&end=2026-01-01", "The end is before the start."),
        ("start=2019-01-01&end=2025-01-01", "Choose at most three years."),
        ("region=XX-NOPE", "is not a region we know"),
    ):
        r = coordinator.get(f"/insights/?{query}")
        assert r.status_code == 400, query
        html = r.content.decode()
        assert message in html.replace("&quot;", '"').replace("&#x27;", "'"), query
        assert "No figures are shown" in html and "<svg" not in html
    analyst = as_persona("analyst_a")
    r = analyst.get("/insights/?start=2026-01-01&end=2026-01-31")
    assert r.status_code == 400 and "whole calendar quarters" in r.content.decode()
    r = analyst.get("/insights/?period=1999-Q1")
    assert r.status_code == 400 and "completed calendar quarters only" in r.content.decode()
    assert analyst.get("/insights/tables/calls_by_day.csv?period=2999-Q1").status_code == 400
    assert coordinator.get("/insights/tables/not-a-table.csv").status_code == 404


def test_a_region_and_a_country_narrow_the_dashboard(personas, as_persona):
    when = timezone.now() - timedelta(hours=2)
    call(personas["operator_a"], when, "RU-VLA")
    call(personas["operator_a"], when, "RU-TUL")
    c = as_persona("coordinator_a")
    today = timezone.localdate(when).isoformat()  # the calls' day, even just after midnight
    r = c.get(f"/insights/?start={today}&end={today}&region=RU-TUL")
    assert r.context["d"]["calls_by_day"].total == 1
    assert "Tula" in r.content.decode()
    r = c.get(f"/insights/?start={today}&end={today}&region=RU")
    assert r.context["d"]["calls_by_day"].total == 2


def test_each_table_downloads_as_csv_and_the_download_is_audited(personas, as_persona, quarter):
    for n in range(6):
        call(personas["operator_a"], in_quarter(quarter, day=1), "RU-MOW" if n else "RU-TUL")
    before = AuditEvent.objects.filter(action="insights.export").count()
    r = as_persona("analyst_a").get(f"/insights/tables/calls_by_region.csv?period={quarter.key}")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[0][0] == "Caller's region" and rows[-1][0] == "Total"
    cells = [v for row in rows[1:] for v in row[1:]]
    assert "x" in cells and not any(v.isdigit() and 0 < int(v) < 5 for v in cells)
    event = AuditEvent.objects.filter(action="insights.export").order_by("-seq").first()
    assert AuditEvent.objects.filter(action="insights.export").count() == before + 1
    assert event.actor == personas["analyst_a"].user.username
    assert event.target_id == "table:calls_by_region" and event.details["suppressed"] is True


def test_a_managers_csv_is_her_own_table_unsuppressed(personas, as_persona):
    when = timezone.now() - timedelta(hours=1)
    call(personas["operator_b"], when, "RU-TUL")
    today = timezone.localdate(when).isoformat()  # the call's day, even just after midnight
    r = as_persona("manager_b").get(
        f"/insights/tables/calls_by_region.csv?start={today}&end={today}"
    )
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert rows[1][0] == "Tula Oblast" and rows[1][-1] == "1"


def _bulk_calls(n: int, offset: int) -> None:
    """``n`` finished calls over the last days, through the hotline's bulk loader."""
    line = Line.objects.get_or_create(number="insights-bench")[0]
    now = timezone.now().timestamp()
    records = []
    for i in range(n):
        end = now - 3600 * (i % 200)
        records.append(
            CallRecord(
                provider="json",
                entry_id=f"ins-{offset + i}",
                summary=merge.Summary(
                    direction="incoming",
                    created=end - 60,
                    answered=None if i % 4 == 0 else end - 50,
                    ended=end,
                ),
                line=line,
                external_number=f"7916{offset + i:07d}",
                wrapup=WrapUpData("victim", outcomes=frozenset({"information"})) if i % 4 else None,
            )
        )
    hotline.calls_bulk_load(by=None, records=records)


def test_the_dashboard_query_count_does_not_grow_with_the_rows(personas, network, as_persona):
    c = as_persona("coordinator_a")
    cw = personas["caseworker_b"]
    now = timezone.now()

    def grow(k: int) -> None:
        _bulk_calls(40, 1000 * k)
        for i in range(2):
            w = woman(cw, region="RU-MOW", phone=f"+7916555{k}{i:03d}")
            stay(cw, w, network["vla"], admitted=now - timedelta(days=10 + i),
                 discharged=now - timedelta(days=2 + i))  # fmt: skip

    grow(1)
    with CaptureQueriesContext(connection) as small:
        assert c.get("/insights/").status_code == 200
    grow(2)
    grow(3)
    with CaptureQueriesContext(connection) as large:
        r = c.get("/insights/")
    assert r.context["d"]["calls_by_day"].total >= 120
    assert len(large.captured_queries) == len(small.captured_queries)
    # and it is a modest number: sign-in checks plus about two queries per table
    assert len(large.captured_queries) <= 30, [q["sql"][:80] for q in large.captured_queries]


def test_every_hidden_figure_is_hidden_everywhere_it_appears(personas, as_persona, quarter):
    """Calls by day and calls by region publish the same total; with one call in the quarter,
    neither may show it."""
    call(personas["operator_a"], in_quarter(quarter), "RU-MOW")
    d = as_persona("analyst_a").get("/insights/").context["d"]
    assert d["calls_by_day"].total is None and d["calls_by_region"].total is None
    html = as_persona("analyst_a").get("/insights/").content.decode()
    tiles = re.findall(r'<span class="ins-num">(.*?)</span>', html, re.S)
    assert not any(t.strip() == "1" for t in tiles)
