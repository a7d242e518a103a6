"""The risk engine against hand-computed examples at every band boundary, and properties."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import refuge.cases
from refuge.cases.risk.engine import (
    AnswerError,
    History,
    InstrumentError,
    apply_history,
    apply_text_pack,
    load_instrument,
    parse_instrument,
    raise_level,
    score,
)

INSTRUMENTS = Path(refuge.cases.__file__).parent / "instruments"
BANDS = [{"name": "standard", "min": 0}, {"name": "medium", "min": 10}, {"name": "high", "min": 14}]


def yes_no(n, kind="yes_no_dk"):
    return [{"id": f"q{i}", "type": kind} for i in range(1, n + 1)]


def answers(n_yes, total=24, rest="no"):
    return {f"q{i}": "yes" if i <= n_yes else rest for i in range(1, total + 1)}


@pytest.fixture
def dash():
    return load_instrument(INSTRUMENTS / "dash-structure@1.json")


@pytest.mark.parametrize(
    "n_yes, band, flagged",
    [
        (0, "standard", False),
        (9, "standard", False),
        (10, "medium", False),
        (13, "medium", False),
        (14, "high", True),
        (24, "high", True),
    ],
)
def test_count_yes_bands_at_every_boundary(dash, n_yes, band, flagged):
    r = score(dash, answers(n_yes))
    assert r.complete and r.score == n_yes and r.band == band
    assert ("refer_to_meeting" in r.flags) is flagged


def test_dont_know_is_not_yes(dash):
    r = score(dash, answers(13, rest="dk"))
    assert r.score == 13 and r.band == "medium"


def test_an_incomplete_assessment_is_a_draft_never_scored(dash):
    a = answers(20)
    del a["q7"]
    r = score(dash, a)
    assert not r.complete and r.score is None and r.band is None and r.missing == ("q7",)


WEIGHTED = {
    "id": "w",
    "version": 1,
    "scoring": {"strategy": "weighted_sum"},
    "items": [
        {"id": "a", "type": "yes_no", "weight": 3},
        {"id": "b", "type": "yes_no", "weight": 2},
        {"id": "s", "type": "severity", "weight": 1.5},
        {"id": "c", "type": "yes_no", "weight": 4, "show_if": {"item": "a", "equals": "yes"}},
    ],
    "bands": [{"name": "low", "min": 0}, {"name": "medium", "min": 6}, {"name": "high", "min": 10}],
    "rules": [{"type": "flag_score_at_least", "min": 10, "flag": "urgent"}],
}


@pytest.mark.parametrize(
    "given_answers, total, band",
    [
        ({"a": "no", "b": "no", "s": 1}, 1.5, "low"),
        ({"a": "no", "b": "yes", "s": 2}, 5.0, "low"),  # 2 + 3 = 5, just under medium
        ({"a": "no", "b": "yes", "s": 3}, 6.5, "medium"),  # 2 + 4.5
        ({"a": "yes", "b": "no", "s": 2, "c": "no"}, 6.0, "medium"),  # exactly on the boundary
        ({"a": "yes", "b": "no", "s": 1, "c": "yes"}, 8.5, "medium"),
        ({"a": "yes", "b": "no", "s": 2, "c": "yes"}, 10.0, "high"),  # exactly on the boundary
        ({"a": "yes", "b": "yes", "s": 5, "c": "yes"}, 16.5, "high"),
    ],
)
def test_weighted_sum_by_hand(given_answers, total, band):
    r = score(parse_instrument(WEIGHTED), given_answers)
    assert r.complete and r.score == pytest.approx(total) and r.band == band
    assert ("urgent" in r.flags) is (total >= 10)


def test_a_hidden_conditional_item_is_neither_required_nor_scored():
    inst = parse_instrument(WEIGHTED)
    assert score(inst, {"a": "no", "b": "yes", "s": 1}).complete
    r = score(inst, {"a": "yes", "b": "yes", "s": 1})
    assert not r.complete and r.missing == ("c",)


TRIGGERS = {
    "id": "t",
    "version": 1,
    "items": yes_no(6, "yes_no"),
    "scoring": {
        "strategy": "trigger_rules",
        "default": "standard",
        "triggers": [
            {"name": "any serious", "any_of": ["q1", "q2"], "band": "high"},
            {"name": "two of four", "k_of": 2, "items": ["q3", "q4", "q5", "q6"], "band": "medium"},
        ],
    },
    "bands": [{"name": "standard"}, {"name": "medium"}, {"name": "high"}],
    "rules": [{"type": "flag_at_least", "band": "high", "flag": "refer_to_meeting"}],
}


@pytest.mark.parametrize(
    "yes, band",
    [
        ([], "standard"),
        (["q3"], "standard"),
        (["q3", "q6"], "medium"),
        (["q4", "q5", "q6"], "medium"),
        (["q2"], "high"),
        (["q1", "q3", "q4"], "high"),
    ],
)
def test_trigger_rules_take_the_highest_band_that_fires(yes, band):
    a = {f"q{i}": "yes" if f"q{i}" in yes else "no" for i in range(1, 7)}
    r = score(parse_instrument(TRIGGERS), a)
    assert r.band == band and ("refer_to_meeting" in r.flags) is (band == "high")


LOOKUP = {
    "id": "l",
    "version": 1,
    "items": yes_no(2, "yes_no"),
    "scoring": {
        "strategy": "lookup_table",
        "items": ["q1", "q2"],
        "default": "standard",
        "table": {"yes,yes": "high", "yes,no": "medium"},
    },
    "bands": [{"name": "standard"}, {"name": "medium"}, {"name": "high"}],
}


@pytest.mark.parametrize(
    "q1, q2, band",
    [
        ("yes", "yes", "high"),
        ("yes", "no", "medium"),
        ("no", "yes", "standard"),
        ("no", "no", "standard"),
    ],
)
def test_lookup_table(q1, q2, band):
    assert score(parse_instrument(LOOKUP), {"q1": q1, "q2": q2}).band == band


def test_judgement_only_raises(dash):
    assert raise_level(dash, "medium", "high") == "high"
    assert raise_level(dash, "medium", None) == "medium"
    with pytest.raises(AnswerError):
        raise_level(dash, "high", "medium")


@pytest.mark.parametrize(
    "incidents, months, band, flags",
    [
        (2, None, "medium", ()),
        (3, None, "high", ("escalation",)),
        (0, 11.9, "medium", ("repeat_referral",)),
        (0, 12.5, "medium", ()),
    ],
)
def test_escalation_after_three_incidents_and_repeat_referrals(
    dash, incidents, months, band, flags
):
    assert apply_history(dash, "medium", History(incidents, months)) == (band, flags)


def test_answers_outside_the_item_are_refused(dash):
    with pytest.raises(AnswerError):
        score(dash, {"q1": "maybe"})
    with pytest.raises(AnswerError):
        score(dash, {"q99": "yes"})


@pytest.mark.parametrize(
    "broken, message",
    [
        ({**TRIGGERS, "scoring": {"strategy": "magic"}}, "unknown scoring strategy"),
        ({**WEIGHTED, "bands": [{"name": "a", "min": 5}, {"name": "b", "min": 1}]}, "ascending"),
        (
            {**TRIGGERS, "items": [{"id": "q1", "type": "yes_no"}, {"id": "q1", "type": "yes_no"}]},
            "repeat",
        ),
        ({**LOOKUP, "scoring": {**LOOKUP["scoring"], "default": "nope"}}, "unknown band"),
        ({"id": "x"}, "incomplete"),
    ],
)
def test_broken_instruments_are_refused_when_loaded(broken, message):
    with pytest.raises(InstrumentError, match=message):
        parse_instrument(broken)


def test_a_licensed_text_pack_supplies_the_labels(dash):
    pack = {
        "instrument": "dash-structure",
        "version": 1,
        "lang": "en",
        "labels": {"q1": "Licensed text one"},
    }
    loaded = apply_text_pack(dash, pack)
    assert loaded.items[0].label["en"] == "Licensed text one" and not loaded.licensed_text
    with pytest.raises(InstrumentError):
        apply_text_pack(dash, {**pack, "version": 2})


def test_every_shipped_instrument_loads():
    for path in INSTRUMENTS.glob("*.json"):
        inst = load_instrument(path)
        assert path.name == f"{inst.id}@{inst.version}.json"


@given(st.lists(st.sampled_from(["yes", "no", "dk"]), min_size=24, max_size=24))
def test_count_yes_matches_a_brute_force_count(values):
    dash = load_instrument(INSTRUMENTS / "dash-structure@1.json")
    a = {f"q{i + 1}": v for i, v in enumerate(values)}
    r = score(dash, a)
    n = values.count("yes")
    assert r.score == n
    assert r.band == ("high" if n >= 14 else "medium" if n >= 10 else "standard")


@given(
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["yes", "no"]), min_size=2),
    st.integers(1, 5),
    st.sampled_from(["yes", "no"]),
)
def test_weighted_sum_matches_a_brute_force_sum(ab, s, c):
    a = {**ab, "s": s}
    if ab["a"] == "yes":
        a["c"] = c
    expected = (
        3 * (ab["a"] == "yes")
        + 2 * (ab["b"] == "yes")
        + 1.5 * s
        + (4 * (c == "yes") if ab["a"] == "yes" else 0)
    )
    assert score(parse_instrument(WEIGHTED), a).score == pytest.approx(expected)
