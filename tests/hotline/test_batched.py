"""Batched ingest (REFUGE_HOTLINE_INGEST=batched): the webhook keeps the parsed event and
answers "accepted"; `pending_merge` folds pending events into calls in batches. Every event
merged exactly once, in any order and any batching, with the same figures as the direct path;
no number in clear while pending; a failed batch is taken again call by call, and a call that
cannot be merged stays pending without holding up the others; the quarantine as before;
the live queue reads what the PBX said up to now."""

from __future__ import annotations

import itertools
import json
import random
from io import StringIO

import pytest
from django.core import serializers
from django.core.management import call_command
from django.test import Client as HttpClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuge.hotline import merge, services
from refuge.hotline.models import Call, CallEvent, PendingEvent, QuarantinedEvent
from tests.hotline import fixtures
from tests.hotline.helpers import MANGO_CALL, T0, mango_event, post_mango, twilio_post

_ids = itertools.count()


@pytest.fixture(autouse=True)
def batched(settings):
    settings.REFUGE_HOTLINE_INGEST = "batched"


@pytest.fixture
def client(db):
    return HttpClient()


def _send(client, step: fixtures.Step):
    if step.path == "twilio":
        r = twilio_post(client, step.body, query=step.query)
    else:
        r = post_mango(client, step.path, step.body)
    assert r.status_code == 200, r.content
    return r.json()


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


@pytest.mark.parametrize("make", fixtures.ALL, ids=lambda f: f.__name__)
def test_the_webhook_accepts_and_the_merge_makes_the_documented_call(client, make):
    s = make()
    for step in s.steps:
        assert _send(client, step) == {"status": "accepted", "entry_id": s.entry, "state": None}
    assert not Call.objects.exists() and PendingEvent.objects.count() == len(s.steps)
    stored = serializers.serialize("json", PendingEvent.objects.all())
    for number in s.numbers:
        assert number not in stored, number
    assert services.pending_merge() == len(s.steps)
    call = Call.objects.get(entry_id=s.entry)
    assert _figures(call) == s.expect
    assert call.events.count() == len(s.steps) and not PendingEvent.objects.exists()
    assert services.pending_merge() == 0


@pytest.mark.parametrize("make", fixtures.ALL, ids=lambda f: f.__name__)
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_order_repeats_and_batching_give_the_same_call_never_going_back(client, make, data):
    s = make(f"-b{next(_ids)}")
    steps = s.steps + data.draw(st.lists(st.sampled_from(s.steps), max_size=len(s.steps)))
    phases = []
    for step in data.draw(st.permutations(steps)):
        assert _send(client, step)["status"] == "accepted"
        if data.draw(st.booleans()):
            services.pending_merge(limit=data.draw(st.integers(1, 4)))
            call = Call.objects.filter(entry_id=s.entry).first()
            if call is not None:
                phases.append(merge.PHASE[call.state])
    while services.pending_merge(limit=3):
        pass
    call = Call.objects.get(entry_id=s.entry)
    phases.append(merge.PHASE[call.state])
    assert phases == sorted(phases), "the call's state went back"
    assert _figures(call) == s.expect
    assert call.events.count() == _distinct(s)


def test_thousands_interleaved_in_batches_each_merged_once(client):
    rng = random.Random(5)
    scenarios = [make(f"-bb{i}") for i in range(12) for make in fixtures.ALL]
    steps = [step for s in scenarios for step in s.steps]
    steps += [rng.choice(steps) for _ in range(len(steps) // 5)]
    rng.shuffle(steps)
    for i, step in enumerate(steps):
        _send(client, step)
        if i % 97 == 0:
            services.pending_merge(limit=60)
    out = StringIO()
    call_command("hotline_merge", "--once", "--batch", "100", stdout=out)
    assert "events merged" in out.getvalue() and not PendingEvent.objects.exists()
    by_entry = {c.entry_id: c for c in Call.objects.all()}
    assert len(by_entry) == len(scenarios)
    for s in scenarios:
        assert _figures(by_entry[s.entry]) == s.expect, s.name
    assert CallEvent.objects.count() == sum(_distinct(s) for s in scenarios)


def test_a_batch_that_fails_is_rolled_back_and_taken_again_call_by_call(client, monkeypatch):
    a, b = fixtures.ALL[0]("-fail-a"), fixtures.ALL[1]("-fail-b")
    for step in a.steps + b.steps:
        _send(client, step)
    real, seen = services._ingest_group, []

    def fails_once(inbounds, organisation):
        seen.append(inbounds[0].entry_id)
        if len(seen) == 2:
            raise RuntimeError("a passing fault")
        return real(inbounds, organisation)

    monkeypatch.setattr(services, "_ingest_group", fails_once)
    assert services.pending_merge() == len(a.steps) + len(b.steps)
    assert not PendingEvent.objects.exists()
    assert _figures(Call.objects.get(entry_id=a.entry)) == a.expect
    assert _figures(Call.objects.get(entry_id=b.entry)) == b.expect
    assert CallEvent.objects.count() == len(a.steps) + len(b.steps)


def test_a_call_that_cannot_be_merged_stays_pending_and_holds_up_no_other(client, monkeypatch):
    a, b = fixtures.ALL[0]("-stuck-a"), fixtures.ALL[1]("-stuck-b")
    for step in a.steps + b.steps:
        _send(client, step)
    real = services._ingest_group

    def b_fails(inbounds, organisation):
        if inbounds[0].entry_id == b.entry:
            raise RuntimeError("a bug for this call only")
        return real(inbounds, organisation)

    monkeypatch.setattr(services, "_ingest_group", b_fails)
    assert services.pending_merge() == len(a.steps)
    assert _figures(Call.objects.get(entry_id=a.entry)) == a.expect
    assert not Call.objects.filter(entry_id=b.entry).exists()
    assert PendingEvent.objects.count() == len(b.steps)
    monkeypatch.setattr(services, "_ingest_group", real)
    assert services.pending_merge() == len(b.steps)
    assert _figures(Call.objects.get(entry_id=b.entry)) == b.expect
    assert CallEvent.objects.count() == len(a.steps) + len(b.steps)


def test_a_call_that_never_merges_is_set_aside_after_five_tries_and_can_be_retried(
    client, monkeypatch, as_persona
):
    from refuge.hotline import store

    a, b = fixtures.ALL[0]("-aside-a"), fixtures.ALL[1]("-aside-b")
    for step in b.steps:
        _send(client, step)
    real, tries = services._ingest_group, []

    def b_fails(inbounds, organisation):
        if inbounds[0].entry_id == b.entry:
            tries.append(1)
            raise RuntimeError("a bug for this call only")
        return real(inbounds, organisation)

    monkeypatch.setattr(services, "_ingest_group", b_fails)
    for attempt in range(1, store.MAX_MERGE_ATTEMPTS + 1):
        assert services.pending_merge() == 0
        stuck = services.pending_stuck_count()
        assert stuck == (len(b.steps) if attempt == store.MAX_MERGE_ATTEMPTS else 0)
    # Set aside: kept, no longer taken (so no batch pays for it again), nothing else held up.
    assert PendingEvent.objects.count() == len(b.steps) and store.pending_count() == 0
    n = len(tries)
    for step in a.steps:
        _send(client, step)
    assert services.pending_merge() == len(a.steps) and len(tries) == n
    assert _figures(Call.objects.get(entry_id=a.entry)) == a.expect
    # Managers see how many, in words, on the quarantine page.
    page = as_persona("manager_a").get("/hotline/set-up/unreadable-events/").content.decode()
    assert 'id="hl-stuck-count"' in page and "--retry-stuck" in page
    # Fixed: put back, merged once, with the call's documented figures.
    monkeypatch.setattr(services, "_ingest_group", real)
    call_command("hotline_merge", "--retry-stuck", stdout=StringIO())
    assert services.pending_stuck_count() == 0
    assert services.pending_merge() == len(b.steps)
    assert _figures(Call.objects.get(entry_id=b.entry)) == b.expect
    assert not PendingEvent.objects.exists()


def test_an_unreadable_signed_event_is_still_quarantined_not_pending(client):
    ev = mango_event("bq1", "leg-1", 1, "Appeared", T0, caller="74951234567", location="voicemail")
    ev["from"]["number"] = "sip:74951234567@mangosip.ru"
    r = post_mango(client, MANGO_CALL, ev)
    assert r.status_code == 200 and r.json()["status"] == "quarantined"
    assert QuarantinedEvent.objects.count() == 1 and not PendingEvent.objects.exists()


@pytest.fixture
def line(orgs):
    return services.line_save(by=None, number="74950000001", organisation=orgs["a"])


def test_the_live_queue_merges_what_is_pending_before_it_reads(client, line, as_persona):
    s = fixtures.ALL[0]("-live")
    first = s.steps[0]
    _send(client, first)
    page = as_persona("operator_a").get("/hotline/live/")
    assert not PendingEvent.objects.exists()
    assert Call.objects.filter(entry_id=s.entry).exists()
    assert page.status_code == 200
