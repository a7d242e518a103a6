"""refuge.insights.simulation: a scenario from the network recorded in the database."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from refuge.cases import services as cases
from refuge.directory.services import facility_set_compromised, facility_update
from refuge.insights.simulation import (
    demand_from_stays,
    live_facilities,
    scenario_from_network,
)
from refuge.placement.sim_scenario import parse_scenario
from refuge.placement.simulation import simulate
from refuge.vacancies.models import Room
from tests.directory.factories import make_facility

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(orgs):
    a = make_facility(
        orgs["a"],
        "Family refuge",
        region="RU-MOW",
        rules={
            "children_accepted": True,
            "max_children": 3,
            "boys_max_age": 14,
            "pets_accepted": True,
        },
        rooms=[("family", 4), ("family", 4), ("family", 3), ("dorm", 6)],
    )
    b = make_facility(
        orgs["a"],
        "Women's safe house",
        kind="trafficking_safe_house",
        region="RU-TVE",
        rules={"children_accepted": False, "max_stay_days": 30},
        rooms=[("dorm", 5)],
    )
    c = make_facility(
        orgs["b"],
        "Parish shelter",
        kind="faith_based_shelter",
        faith="orthodox",
        region="RU-VLA",
        rules={},
        stated_capacity=12,
    )
    # Left out: a centre without beds, an inactive one, a compromised one, one with no region.
    make_facility(orgs["b"], "Counselling centre", kind="crisis_centre", region="RU-MOW", rooms=[])
    closed = make_facility(orgs["b"], "Closed", region="RU-MOW", rooms=[("dorm", 9)])
    facility_update(by=None, facility=closed, is_active=False)
    known = make_facility(orgs["b"], "Known to him", region="RU-MOW", rooms=[("dorm", 9)])
    facility_set_compromised(by=None, facility=known, compromised=True)
    make_facility(orgs["b"], "Nowhere", region=None, rooms=[("dorm", 9)])
    # A room out of service does not count.
    out = Room.objects.create(
        facility=a, name="Under repair", kind="family", beds=5, in_service=False
    )
    assert out.pk
    return {"a": a, "b": b, "c": c}


def test_facilities_rooms_and_modelled_rules_come_from_the_directory(network):
    got = {f["name"]: f for f in live_facilities()}
    assert set(got) == {"Family refuge", "Women's safe house", "Parish shelter"}
    a = got["Family refuge"]
    assert a["id"] == str(network["a"].pk) and a["region"] == "RU-MOW"
    assert a["beds"] == 0 and a["dorm_beds"] == 6
    assert a["family_rooms"] == [{"beds": 3, "count": 1}, {"beds": 4, "count": 2}]
    # Only the rules the model acts on; pets are not modelled.
    assert a["rules"] == {"children_accepted": True, "max_children": 3, "boys_max_age": 14}
    assert got["Women's safe house"]["rules"] == {"children_accepted": False, "max_stay_days": 30}
    # No rooms recorded: the published capacity, as a shared pool.
    c = got["Parish shelter"]
    assert c["beds"] == 12 and c["dorm_beds"] == 0 and c["family_rooms"] == []


def admit(persona, facility, *, kind, children=0, days_ago, region="", discharge=False):
    p = persona.principal
    client = cases.client_create(by=p, name="x")
    if region:
        cases.client_update(by=p, client=client, residence_region=region)
    for i in range(children):
        cases.household_member_add(by=p, client=client, age=2 + i, sex="female")
    room = Room.objects.filter(facility=facility, kind=kind, in_service=True).first()
    stay = cases.stay_admit(
        by=p, client=client, room_id=room.pk, at=timezone.now() - timedelta(days=days_ago)
    )
    if discharge:
        cases.stay_discharge(by=p, stay=stay, outcome="relatives")
    return stay


def test_demand_is_estimated_from_admissions_and_stays(network, personas):
    caseworker = personas["caseworker_a"]
    # Four admissions in the last year: three from Moscow (one with two children), one from
    # Tula (no facility there, she came to Moscow); one ended after 20 days, one after 40.
    admit(caseworker, network["a"], kind="dorm", days_ago=20, region="RU-MOW", discharge=True)
    admit(caseworker, network["a"], kind="dorm", days_ago=40, region="RU-MOW", discharge=True)
    admit(caseworker, network["a"], kind="family", children=2, days_ago=100, region="RU-MOW")
    admit(caseworker, network["a"], kind="dorm", days_ago=200, region="RU-TUL")
    # Older than the window: not counted.
    admit(caseworker, network["b"], kind="dorm", days_ago=500)
    now = timezone.now()
    demand = demand_from_stays(since=now - timedelta(days=365), until=now)
    arrivals = {a["region"]: a for a in demand["arrivals"]}
    assert set(arrivals) == {"RU-MOW", "RU-TUL"}
    assert arrivals["RU-MOW"]["per_day"] == pytest.approx(3 / 365, abs=1e-6)
    assert arrivals["RU-TUL"]["per_day"] == pytest.approx(1 / 365, abs=1e-6)
    # Few admissions: each region borrows the network's household sizes (3 alone, 1 of 3).
    assert arrivals["RU-MOW"]["household_size"] == {"1": 0.75, "3": 0.25}
    assert demand["stay_days"]["mean"] == pytest.approx(30, abs=0.01)
    assert demand["stay_days"]["distribution"] == "exponential"  # too few stays for a spread

    scenario = scenario_from_network(
        since=now - timedelta(days=365), until=now, years=40, replications=2
    )
    sc = parse_scenario(scenario)
    assert {f.id for f in sc.facilities} == {str(network[k].pk) for k in "abc"}
    result = simulate(sc)
    assert result.policies["network"].unnecessary_turn_away_rate == 0
    # Tula has no facility: alone, every Tula woman (a quarter of them) is turned away.
    assert result.policies["isolated"].turn_away_rate == pytest.approx(0.25, abs=0.1)
    assert result.policies["network"].turn_away_rate < 0.05


def test_without_admissions_it_asks_for_the_demand(network):
    with pytest.raises(ValueError, match="no admissions are recorded"):
        scenario_from_network()
    given = scenario_from_network(
        arrivals=[{"region": "RU-MOW", "per_day": 0.5, "household_size": {"1": 1.0}}],
        stay_days={"distribution": "exponential", "mean": 30},
        years=1,
        replications=2,
    )
    assert given["arrivals"][0]["region"] == "RU-MOW"
    assert len(given["facilities"]) == 3


def test_the_command_runs_the_live_network_and_saves_its_scenario(network, personas, tmp_path):
    admit(personas["caseworker_a"], network["a"], kind="dorm", days_ago=30, discharge=True)
    saved = tmp_path / "live.json"
    out = io.StringIO()
    call_command("simulate", "--live", "--json", "--save", str(saved), stdout=out)
    assert set(json.loads(out.getvalue())) == {"policies", "erlang_b"}
    assert parse_scenario(json.loads(saved.read_text(encoding="utf-8")))
    with pytest.raises(CommandError, match="either a scenario file or --live"):
        call_command("simulate", str(saved), "--live")


def test_the_command_explains_an_empty_network(db):
    with pytest.raises(CommandError, match="Cannot build a scenario from the live network"):
        call_command("simulate", "--live")
