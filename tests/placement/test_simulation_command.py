"""`refuge simulate`: the SPEC contract on the command line, what-if, and clear errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import refuge
from refuge.cli import main as refuge_main
from refuge.placement.sim_scenario import parse_scenario

CENTRAL = Path(refuge.__file__).parent / "insights" / "scenarios" / "central_region.json"

SMALL = {
    "years": 1,
    "warmup_days": 30,
    "replications": 3,
    "seed": 4,
    "facilities": [
        {"id": "a", "region": "RU-MOW", "beds": 6, "family_rooms": [{"beds": 3, "count": 1}]},
        {"id": "b", "region": "RU-MOS", "beds": 4, "rules": {"children_accepted": False}},
    ],
    "arrivals": [
        {"region": "RU-MOW", "per_day": 0.5, "household_size": {"1": 0.7, "2": 0.3}},
        {"region": "RU-TUL", "per_day": 0.1, "household_size": {"1": 1.0}},
    ],
    "stay_days": {"distribution": "lognormal", "mean": 20, "cv": 1.2},
    "policies": ["isolated", "first_fit", "network"],
    "first_fit_calls": 2,
}


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("simulate", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(SMALL), encoding="utf-8")
    return path


def test_json_output_follows_the_spec_contract(small):
    out = json.loads(run(str(small), "--json"))
    assert set(out) == {"policies", "erlang_b"}
    assert out["erlang_b"] is None
    assert list(out["policies"]) == ["isolated", "first_fit", "network"]
    for r in out["policies"].values():
        assert set(r) == {
            "turn_away_rate",
            "ci95",
            "by_household_size",
            "unnecessary_turn_away_rate",
            "occupancy",
        }
        assert set(r["by_household_size"]) == {"1", "2"}
        assert r["ci95"][0] <= r["turn_away_rate"] <= r["ci95"][1]
    # Tula has no facility: alone, its women are always turned away, needlessly.
    assert out["policies"]["isolated"]["unnecessary_turn_away_rate"] > 0
    assert out["policies"]["network"]["unnecessary_turn_away_rate"] == 0


def test_erlang_b_appears_for_a_plain_loss_network(tmp_path):
    plain = {
        **SMALL,
        "facilities": [
            {"id": "a", "region": "X", "beds": 6},
            {"id": "b", "region": "Y", "beds": 4},
        ],
        "arrivals": [{"region": "X", "per_day": 0.4, "household_size": {"1": 1.0}}],
        "stay_days": {"distribution": "exponential", "mean": 20},
    }
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(plain), encoding="utf-8")
    out = json.loads(run(str(path), "--json"))
    # 10 pooled beds offered 0.4 × 20 = 8 Erlangs.
    assert out["erlang_b"] == pytest.approx(0.12166, abs=1e-5)


def test_the_table_is_for_people(small):
    out = run(str(small))
    assert "not measured data" in out
    for name in ("isolated", "first_fit", "network"):
        assert name in out
    assert "95% CI" in out and "size 2" in out


def test_what_if_ranks_regions_and_facilities(small):
    out = json.loads(run(str(small), "--json", "--what-if", "4"))["what_if"]
    assert out["places"] == 4 and out["by"] == "region" and out["policy"] == "network"
    assert {o["region"] for o in out["options"]} == {"RU-MOW", "RU-MOS", "RU-TUL"}
    reductions = [o["reduction"] for o in out["options"]]
    assert reductions == sorted(reductions, reverse=True)
    iso = json.loads(run(str(small), "--json", "--what-if", "4", "--policy", "isolated"))
    # Alone, Tula's women have nowhere to call: a shelter there helps most.
    assert iso["what_if"]["options"][0]["region"] == "RU-TUL"
    fac = json.loads(run(str(small), "--json", "--what-if", "2", "--by", "facility"))
    assert {o["facility"] for o in fac["what_if"]["options"]} == {"a", "b"}
    table = run(str(small), "--what-if", "2", "--what-if-rules", '{"children_accepted": false}')
    assert "households/yr" in table


def test_a_bad_scenario_is_refused_with_the_field_path(tmp_path):
    bad = json.loads(json.dumps(SMALL))
    bad["facilities"].append({"id": "c", "region": "X", "beds": -3})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run(str(path), "--json")
    assert "facilities[2].beds: must be ≥ 0" in str(exc.value)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json", (), "is not valid JSON: line 1"),
        (None, (), "Cannot read"),
        ("{}", ("--what-if", "0"), "The scenario is not valid"),
        (json.dumps(SMALL), ("--what-if", "0"), "--what-if N needs N ≥ 1"),
        (
            json.dumps(SMALL),
            ("--what-if", "2", "--what-if-rules", '{"pets_accepted": true}'),
            "--what-if-rules.pets_accepted: not modelled",
        ),
        (json.dumps(SMALL), ("--save", "x.json"), "--save goes with --live"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path, content, args, message):
    path = tmp_path / "s.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as exc:
        run(str(path), *args)
    assert message in str(exc.value)


def test_the_refuge_console_command_maps_simulate(small, capsys):
    refuge_main(["refuge", "simulate", str(small), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert "network" in out["policies"]


def test_the_shipped_central_region_scenario_is_valid_and_illustrative():
    data = json.loads(CENTRAL.read_text(encoding="utf-8"))
    sc = parse_scenario(data)
    assert "ILLUSTRATIVE" in data["description"]
    assert {"RU-MOW", "RU-MOS"} <= set(sc.regions)
    assert sc.policies == ("isolated", "first_fit", "network", "network_reserve")
    assert any(f.family_rooms for f in sc.facilities)
    assert all(f.total_beds <= 80 for f in sc.facilities)  # small shelters, as in the seeds
