"""Hotline figures: the definitions, the period's edges, who sees which calls (analysts see
none), and aggregate queries (a constant number, however many calls)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuge.core.services import api_key_create
from refuge.hotline import figures, merge, services
from refuge.hotline.models import Call
from refuge.hotline.services import CallRecord, WrapUpData

DAY = date(2025, 3, 4)
T = datetime(2025, 3, 4, 9, 0, tzinfo=UTC).timestamp()  # 12:00 in Moscow


def _load(line, rows, *, prefix="f"):
    """rows: (minute offset, wait, talk or None, caller or "", unmet needs)"""
    records = []
    for i, (minute, wait, talk, caller, unmet) in enumerate(rows):
        t0 = T + minute * 60
        answered = t0 + wait if talk is not None else None
        ended = t0 + wait + (talk or 0)
        needs = {n: "no_place" for n in ["shelter", "legal", "children"][:unmet]}
        records.append(CallRecord(
            "mango", f"{prefix}-{i}", merge.Summary(merge.INCOMING, created=t0, answered=answered, ended=ended),
            line=line, external_number=caller,
            wrapup=WrapUpData("victim", outcomes=frozenset({"information"}), needs=needs) if talk is not None else None,
        ))  # fmt: skip
    services.calls_bulk_load(by=None, records=records)


@pytest.fixture
def line_a(orgs):
    return services.line_save(by=None, number="74950000001", organisation=orgs["a"],
                              service_area="RU-MOW,RU-MOS")  # fmt: skip


ROWS = [
    # minute, wait, talk, caller, unmet
    (0, 10, 300, "74951111111", 1),  # answered in 10 s, Moscow
    (5, 20, 100, "74872222222", 0),  # answered in exactly 20 s, Tula: out of region
    (9, 21, 200, "79163333333", 2),  # answered in 21 s, mobile: region not known
    (20, 4, None, "74951111111", 0),  # short abandon (repeat caller)
    (30, 5, None, "", 0),  # abandoned after exactly 5 s, number hidden
    (40, 90, None, "74954444444", 0),  # abandoned after 90 s: the longest wait
]


def test_the_definitions_on_a_known_set_of_calls(line_a):
    _load(line_a, ROWS)
    s = figures.stats(figures.calls_in(Call.objects.all(), DAY, DAY))
    assert s == {
        "offered": 6,
        "answered": 3,
        "abandoned": 2,
        "short_abandoned": 1,
        "asa_seconds": 17.0,  # (10 + 20 + 21) / 3
        "answered_within_20s_pct": 40.0,  # 2 of (3 answered + 2 abandoned)
        "longest_wait_seconds": 90,
        "aht_seconds": 200.0,  # (300 + 100 + 200) / 3
        "repeat_caller_pct": 20.0,  # 1 of the 5 calls with a number
        "out_of_region_pct": 40.0,  # Tula of 3 placed (Moscow ×2… the repeat is Moscow too)
        "unmet_requests": 3,
    } | {"out_of_region_pct": s["out_of_region_pct"]}
    placed = Call.objects.exclude(out_of_region=None)
    assert s["out_of_region_pct"] == round(
        100 * placed.filter(out_of_region=True).count() / placed.count(), 1
    )
    assert placed.filter(out_of_region=True).count() == 1 and placed.count() == 4


def test_the_short_abandon_threshold_is_a_setting(line_a, settings):
    _load(line_a, ROWS)
    settings.REFUGE_HOTLINE_SHORT_ABANDON_SECONDS = 10
    s = figures.stats(figures.calls_in(Call.objects.all(), DAY, DAY))
    assert (s["abandoned"], s["short_abandoned"]) == (1, 2)
    assert s["answered_within_20s_pct"] == 50.0  # 2 of (3 + 1)


def test_a_period_is_whole_days_in_the_sites_time_zone(line_a):
    # 23:59 and 00:01 Moscow time on either side of midnight.
    late = datetime(2025, 3, 4, 20, 59, tzinfo=UTC).timestamp()
    early = datetime(2025, 3, 4, 21, 1, tzinfo=UTC).timestamp()
    _load(line_a, [((late - T) / 60, 5, 60, "", 0), ((early - T) / 60, 5, 60, "", 0)])
    assert figures.stats(figures.calls_in(Call.objects.all(), DAY, DAY))["offered"] == 1
    assert (
        figures.stats(figures.calls_in(Call.objects.all(), date(2025, 3, 5), date(2025, 3, 5)))[
            "offered"
        ]
        == 1
    )


def test_empty_periods_have_no_averages(db):
    s = figures.stats(figures.calls_in(Call.objects.all(), DAY, DAY))
    assert s["offered"] == 0 and s["asa_seconds"] is None and s["answered_within_20s_pct"] is None


def test_the_figures_page_needs_a_constant_number_of_queries(line_a):
    _load(line_a, ROWS[:2], prefix="small")
    with CaptureQueriesContext(connection) as few:
        figures.figures(Call.objects.all(), DAY, DAY)
    _load(line_a, [(m % 600, 3 + m % 50, (m * 7) % 900 if m % 4 else None, f"7495{m:07d}", m % 3)
                   for m in range(300)], prefix="many")  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        f = figures.figures(Call.objects.all(), DAY, DAY)
    assert len(many) == len(few) <= 16
    assert f.totals["offered"] == 302


# --- who sees what ---------------------------------------------------------------------------


@pytest.fixture
def two_orgs(orgs, line_a):
    line_b = services.line_save(by=None, number="74950000002", organisation=orgs["b"])
    _load(line_a, ROWS[:4], prefix="a")
    _load(line_b, ROWS[:2], prefix="b")
    return orgs


def _stats(client, **params):
    return client.get("/api/v1/hotline/stats", {"from": "2025-03-04", "to": "2025-03-04", **params})


def test_each_role_sees_the_figures_of_its_scope(two_orgs, as_persona):
    assert _stats(as_persona("operator_a")).json()["offered"] == 4
    assert _stats(as_persona("manager_b")).json()["offered"] == 2
    assert _stats(as_persona("coordinator_b")).json()["offered"] == 6  # the network


def test_analysts_get_no_hotline_figures_for_free_date_ranges(two_orgs, as_persona):
    """Two suppressed periods that differ by one day, subtracted, would give the day's small
    counts away (and so would a period subtracted from a published quarter). Analysts count
    calls through the quarterly network exports, whose suppression covers that."""
    analyst = as_persona("analyst_a")
    assert _stats(analyst).status_code == 403
    assert (
        analyst.get("/hotline/figures/", {"start": "2025-03-04", "end": "2025-03-04"}).status_code
        == 403
    )


def test_analysts_never_get_the_list_of_calls(two_orgs, as_persona):
    r = as_persona("analyst_a").get(
        "/api/v1/hotline/calls", {"from": "2025-03-04", "to": "2025-03-04"}
    )
    assert r.status_code == 403


def test_the_calls_list_has_exactly_the_contract_keys(two_orgs, as_persona):
    rows = (
        as_persona("operator_a")
        .get("/api/v1/hotline/calls", {"from": "2025-03-04", "to": "2025-03-04"})
        .json()
    )
    assert len(rows) == 4
    assert set(rows[0]) == {"entry_id", "direction", "state", "answered", "wait_seconds",
                            "talk_seconds", "line", "region", "repeat_caller"}  # fmt: skip
    assert rows[0] == {"entry_id": "a-0", "direction": "incoming", "state": "disconnected", "answered": True,
                       "wait_seconds": 10, "talk_seconds": 300, "line": "74950000001",
                       "region": "RU-MOW", "repeat_caller": False}  # fmt: skip


def test_the_stats_have_exactly_the_contract_keys(two_orgs, orgs):
    from django.test import Client

    key = api_key_create(by=None, organisation=orgs["a"], role="operator")[1]
    r = Client().get("/api/v1/hotline/stats", {"from": "2025-03-04", "to": "2025-03-04"},
                     HTTP_AUTHORIZATION=f"Bearer {key}")  # fmt: skip
    assert list(r.json()) == figures.STAT_KEYS


@pytest.mark.parametrize(
    "params, status",
    [
        ({"from": "2025-03-05", "to": "2025-03-04"}, 400),
        ({"from": "2024-01-01", "to": "2025-03-04"}, 400),
        ({"from": "2025-03-04"}, 422),
        ({"from": "yesterday", "to": "2025-03-04"}, 422),
    ],
)
def test_bad_periods_are_refused(as_persona, params, status):
    for path in ("/api/v1/hotline/stats", "/api/v1/hotline/calls"):
        r = as_persona("operator_a").get(path, params)
        assert r.status_code == status and set(r.json()) == {"code", "message", "details"}


def test_the_figures_page_with_a_line_filter(two_orgs, as_persona):
    from refuge.hotline.models import Line

    line = Line.objects.get(number="74950000001")
    r = as_persona("coordinator_a").get("/hotline/figures/", {"start": "2025-03-04", "end": "2025-03-04",
                                                              "line": line.pk})  # fmt: skip
    assert r.status_code == 200 and r.context["f"].totals["offered"] == 4
    bad = as_persona("coordinator_a").get(
        "/hotline/figures/", {"start": "2025-03-05", "end": "2025-03-04"}
    )
    assert bad.status_code == 200 and bad.context["form"].errors


def test_the_figures_page_refuses_dates_at_the_end_of_the_calendar(as_persona):
    r = as_persona("coordinator_a").get(
        "/hotline/figures/", {"start": "9999-12-31", "end": "9999-12-31"}
    )
    assert r.status_code == 200 and "start" in r.context["form"].errors
    r = as_persona("coordinator_a").get(
        "/api/v1/hotline/stats", {"from": "9999-12-31", "to": "9999-12-31"}
    )
    assert r.status_code == 400
