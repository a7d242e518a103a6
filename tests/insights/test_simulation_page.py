"""The simulation page: the live network, demand from what was recorded (or entered), a short
run of refuge.placement.simulation, and "what if we add N places in region X"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuge.insights import conf, selectors, simfront
from tests.insights.conftest import call, stay, woman

ENTERED = {
    "run": "1",
    "demand": "entered",
    "arrivals_RU-VLA": "120",
    "arrivals_RU-YAR": "40",
    "sizes": "1: 50, 2: 30, 3: 20",
    "stay_mean": "20",
    "places": "5",
    "region": "RU-YAR",
    "policy": "network",
}


def test_the_page_shows_the_network_and_the_demand_before_running(network, as_persona):
    r = as_persona("coordinator_a").get("/insights/simulation/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "These are model results, not measurements." in html
    assert "Vladimir Oblast" in html and "16 beds in 2 regions" in html
    assert "Results (model)" not in html


def test_a_run_with_entered_demand_compares_the_policies_and_answers_what_if(network, as_persona):
    r = as_persona("coordinator_a").get("/insights/simulation/", ENTERED)
    assert r.status_code == 200, r.content.decode()[-2000:]
    html = r.content.decode()
    assert "Results (model)" in html and "These are model results" in html
    result = r.context["result"]
    assert set(result.policies) == {"isolated", "first_fit", "network", "network_reserve"}
    assert result.scenario.replications == 5 and result.scenario.years == 1
    assert abs(result.scenario.arrivals_per_day * 365 - 160) < 0.01
    assert result.policies["network"].unnecessary_turn_away_rate == 0
    w = r.context["what_if"]
    assert w.places == 5 and w.policy == "network"
    assert {o.target for o in w.options} == {"RU-VLA", "RU-YAR"}
    assert r.context["chosen"].target == "RU-YAR"
    assert "What if 5 more places in Yaroslavl Oblast?" in html
    assert "ins-chosen" in html and "style=" not in html


def test_an_analyst_may_run_it_too(network, as_persona):
    assert as_persona("analyst_a").get("/insights/simulation/", ENTERED).status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"demand": "recorded"}, "There is no demand to simulate"),
        ({"stay_mean": ""}, "enter the mean length of stay"),
        ({"sizes": ""}, "enter them"),
        ({"sizes": "one: forty"}, "Write sizes and percents"),
        ({"region": ""}, "Choose the region for the new places."),
        ({"places": "0"}, "greater than or equal to 1"),
        ({"arrivals_RU-VLA": "", "arrivals_RU-YAR": ""}, "at least one region"),
        ({"demand": "telepathy"}, "Select a valid choice"),
    ],
)
def test_bad_input_says_what_to_fix(network, as_persona, change, message):
    r = as_persona("coordinator_a").get("/insights/simulation/", {**ENTERED, **change})
    assert r.status_code == 400
    html = r.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert message in html and "The model did not run" in html


def test_a_run_too_big_for_a_web_page_is_sent_to_the_command_line(network, as_persona, monkeypatch):
    monkeypatch.setattr(conf, "SIM_MAX_ARRIVALS", 100)
    r = as_persona("coordinator_a").get("/insights/simulation/", ENTERED)
    assert r.status_code == 400 and "refuge simulate --live" in r.content.decode()


def test_recorded_admissions_and_turn_aways_make_the_demand(personas, network, as_persona):
    cw = personas["caseworker_b"]
    now = timezone.now()
    for n in range(6):
        w = woman(cw, region="RU-VLA" if n < 4 else "RU-MOW", children=n % 2)
        stay(cw, w, network["yar"], admitted=now - timedelta(days=100 - 10 * n),
             discharged=now - timedelta(days=95 - 10 * n))  # fmt: skip
    demand = simfront.recorded_demand(selectors.basis_for(personas["coordinator_a"].principal))
    assert demand.counts == {"RU-VLA": 4.0, "RU-MOW": 2.0}
    stays = simfront.recorded_stays(selectors.basis_for(personas["coordinator_a"].principal))
    assert stays is not None and stays.n == 6 and abs(stays.mean - 5) < 0.01
    r = as_persona("coordinator_a").get(
        "/insights/simulation/",
        {"run": "1", "demand": "recorded", "sizes": "1: 60, 2: 40", "policy": "network"},
    )
    assert r.status_code == 200, r.content.decode()[-1500:]
    plan = r.context["plan"]
    assert plan.stay is not None and plan.sizes_from == "entered"  # 6 admissions are too few
    assert {a["region"] for a in plan.scenario["arrivals"]} == {"RU-VLA", "RU-MOW"}


def test_hotline_requests_share_country_only_calls_among_its_regions(personas):
    op = personas["operator_a"]
    when = timezone.now() - timedelta(days=3)
    for region, n in (("RU-MOW", 3), ("RU-TUL", 1), ("RU", 4), ("", 2)):
        for _i in range(n):
            call(op, when, region, needs={"shelter": "no_place"})
    call(op, when, "RU-MOW", "causing_harm", needs={"shelter": None})  # not a request for her
    call(op, when, "RU-MOW", needs={"legal": None})  # no shelter asked
    d = simfront.hotline_demand(selectors.basis_for(personas["coordinator_a"].principal))
    assert d.counts == {"RU-MOW": 6.0, "RU-TUL": 2.0}
    assert d.shared_out == 4 and d.left_out == 2


def test_what_if_works_for_regions_with_demand_and_no_shelter(personas, network, as_persona):
    """Hotline demand from Moscow and Tula, where the network has no shelter: the new places
    are tried there too (and the results do not change for it)."""
    op = personas["operator_a"]
    when = timezone.now() - timedelta(days=3)
    for region in ("RU-MOW", "RU-MOW", "RU-TUL", "RU-VLA", "RU-TVE"):
        call(op, when, region, needs={"shelter": "no_place"})
    query = {**ENTERED, "demand": "hotline", "region": "RU-TUL"}
    r = as_persona("coordinator_a").get("/insights/simulation/", query)
    assert r.status_code == 200, r.content.decode()[-1500:]
    targets = {o.target for o in r.context["what_if"].options}
    assert targets == {"RU-VLA", "RU-YAR", "RU-MOW", "RU-TUL", "RU-TVE"}
    assert r.context["chosen"].target == "RU-TUL"
    # a shelter with no beds changes nothing: the same turn-aways with and without it
    plan = r.context["plan"]
    from refuge.placement.simulation import simulate

    bare = dict(plan.scenario)
    bare["facilities"] = [f for f in plan.scenario["facilities"] if f["beds"] or f["family_rooms"]
                          or f["dorm_beds"]]  # fmt: skip
    with_none = simulate(plan.scenario)
    without = simulate(bare)
    for name in with_none.policies:
        assert (
            with_none.policies[name].replication_rates == without.policies[name].replication_rates
        )
