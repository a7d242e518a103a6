"""Calls with legs, as Mango and Twilio really report them (tests/hotline/fixtures.py): through
the webhooks in the documented order, then in every order with repeats, and a day late;
each call once, its state never going back, its figures the ones worked out by hand."""

from __future__ import annotations

import itertools
import json

import pytest
from django.core import serializers
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuge.hotline import adapters, merge
from refuge.hotline.models import Call, CallEvent, Line, QuarantinedEvent
from tests.hotline import fixtures
from tests.hotline.helpers import post_mango, twilio_post

_ids = itertools.count()


def _send(client, step: fixtures.Step):
    if step.path == "twilio":
        return twilio_post(client, step.body, query=step.query)
    return post_mango(client, step.path, step.body)


def _call(s: fixtures.Scenario) -> Call:
    return Call.objects.get(entry_id=s.entry)


def _figures(call: Call) -> dict:
    return {
        "state": call.state,
        "direction": call.direction,
        "answered": call.answered,
        "wait": call.wait_seconds,
        "talk": call.talk_seconds,
        "operator": call.operator_extension,
        "region": call.caller_region,
    }


def _distinct(s: fixtures.Scenario) -> int:
    return len({json.dumps([st.path, st.body, st.query], sort_keys=True) for st in s.steps})


@pytest.fixture
def client(db):
    return HttpClient()


@pytest.mark.parametrize("make", fixtures.ALL, ids=lambda f: f.__name__)
def test_in_the_documented_order_each_step_leaves_the_documented_state(client, make):
    s = make()
    for i, step in enumerate(s.steps):
        r = _send(client, step)
        assert r.status_code == 200 and r.json()["status"] == "recorded", (i, r.content)
        assert _call(s).state == step.state, (i, step.body)
    assert _figures(_call(s)) == s.expect
    assert Call.objects.count() == 1 and CallEvent.objects.count() == len(s.steps)
    assert not QuarantinedEvent.objects.exists()
    dump = serializers.serialize(
        "json", [*Call.objects.all(), *CallEvent.objects.all(), *Line.objects.all()]
    )
    for number in s.numbers:
        assert number not in dump, number


@pytest.mark.parametrize("make", fixtures.ALL, ids=lambda f: f.__name__)
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_with_repeats_gives_the_same_call_and_never_goes_back(client, make, data):
    s = make(f"-{next(_ids)}")
    steps = s.steps + data.draw(st.lists(st.sampled_from(s.steps), max_size=len(s.steps)))
    phases = []
    for step in data.draw(st.permutations(steps)):
        r = _send(client, step)
        assert r.status_code == 200 and r.json()["status"] in ("recorded", "duplicate")
        phases.append(merge.PHASE[_call(s).state])
    assert phases == sorted(phases), "the call's state went back"
    call = _call(s)
    assert _figures(call) == s.expect
    assert call.events.count() == _distinct(s)


@pytest.mark.parametrize("make", fixtures.ALL, ids=lambda f: f.__name__)
def test_replayed_a_day_later_nothing_changes(client, make, monkeypatch):
    s = make()
    for step in s.steps:
        _send(client, step)
    before = list(Call.objects.values())
    real = adapters.time.time
    monkeypatch.setattr(adapters.time, "time", lambda: real() + 86400)
    for step in reversed(s.steps):
        assert _send(client, step).json()["status"] == "duplicate"
    assert list(Call.objects.values()) == before


def _inbound(step: fixtures.Step) -> adapters.Inbound:
    if step.path == "twilio":
        return adapters.parse_twilio_status(
            step.body, location=step.query.removeprefix("location=")
        )
    text = json.dumps(step.body)
    if step.path.endswith("summary"):
        return adapters.parse_mango_summary(text)
    return adapters.parse_mango_call(text)


def _fold(inbounds):
    agg = merge.new_aggregate()
    phases = []
    for i in inbounds:
        if i.summary is not None:
            merge.apply_summary(agg, i.summary)
        else:
            merge.apply_event(agg, i.event)
        phases.append(merge.PHASE[merge.state_of(agg)])
    return merge.derive(agg), phases


@pytest.mark.parametrize("make", fixtures.ALL, ids=lambda f: f.__name__)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_fold_of_any_order_and_repetition_is_the_documented_call(make, data):
    """The same property without the database, over many more orders."""
    s = make()
    inbounds = [_inbound(step) for step in s.steps]
    repeated = inbounds + data.draw(st.lists(st.sampled_from(inbounds), max_size=12))
    d, phases = _fold(data.draw(st.permutations(repeated)))
    assert phases == sorted(phases)
    got = (d.state, d.is_answered, d.wait_seconds, d.talk_seconds)
    assert got == (s.expect["state"], s.expect["answered"], s.expect["wait"], s.expect["talk"])


def test_the_old_bug_a_routed_call_is_talking_after_the_ivr_leg_ended(client):
    """Mango's own example: before, the IVR leg's end made the call "disconnected" and the
    operator's Appeared and Connected left it so while she was talking."""
    s = fixtures.mango_routed_from_ivr()
    for step in s.steps[:4]:
        _send(client, step)
    call = _call(s)
    assert (call.state, call.answered, call.operator_extension) == ("connected", True, "123")


def test_legs_whose_parent_never_arrives_still_make_one_call(client):
    """Twilio's <Dial> legs without any callback of the caller's own leg: one call, answered;
    it began when the first child was dialled (the parent's ringing never came)."""
    s = fixtures.twilio_dial_to_operator()
    children = [step for step in s.steps if "ParentCallSid" in step.body]
    for step in children:
        _send(client, step)
    call = _call(s)
    assert (call.state, call.answered, call.wait_seconds, call.talk_seconds) == (
        "disconnected", True, 28, 240
    )  # fmt: skip


def test_a_summary_before_any_call_event_makes_the_call_and_stays_authoritative(client):
    s = fixtures.mango_routed_from_ivr()
    summary, events = s.steps[-1], s.steps[:-1]
    _send(client, summary)
    call = _call(s)
    assert (call.state, call.answered, call.wait_seconds, call.talk_seconds) == (
        "disconnected", True, 12, 20
    )  # fmt: skip
    for step in events:
        _send(client, step)
    assert _figures(_call(s)) == s.expect


def test_an_unanswered_mango_call_waits_for_the_summary(client):
    """Every leg of a missed call has ended, but Mango has not said the call is over: it stays
    in the queue (as ringing), then the summary ends it as abandoned."""
    s = fixtures.mango_missed_in_queue()
    for step in s.steps[:-1]:
        _send(client, step)
    call = _call(s)
    assert (call.state, call.answered) == ("appeared", False)
    _send(client, s.steps[-1])
    call = _call(s)
    assert (call.state, call.answered, call.wait_seconds) == ("disconnected", False, 75)


def test_thousands_of_calls_interleaved_each_recorded_once(client):
    """Forty copies of the ten scenarios (400 calls, 2,300 events and repeats) shuffled
    together: each call once, each with its own figures."""
    import random

    rng = random.Random(17)
    scenarios = [make(f"-bulk{i}") for i in range(40) for make in fixtures.ALL]
    steps = [(s, step) for s in scenarios for step in s.steps]
    steps += [rng.choice(steps) for _ in range(len(steps) // 5)]
    rng.shuffle(steps)
    for _s, step in steps:
        assert _send(client, step).status_code == 200
    assert Call.objects.count() == len(scenarios)
    by_entry = {c.entry_id: c for c in Call.objects.all()}
    for s in scenarios:
        assert _figures(by_entry[s.entry]) == s.expect, s.name
    assert CallEvent.objects.count() == sum(_distinct(s) for s in scenarios)
