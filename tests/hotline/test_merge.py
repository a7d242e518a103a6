"""The fold of PBX events into a call (pure Python): order and repetition never matter, and
a call's state never goes back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.hotline import merge
from refuge.hotline.merge import (
    APPEARED,
    CONNECTED,
    DISCONNECTED,
    IVR,
    ON_HOLD,
    OPERATOR,
    QUEUE,
    Event,
    Summary,
)

T = 1_741_000_000.0


def _record(agg):
    d = merge.derive(agg)
    return (d.state, d.direction, d.created, d.answered, d.ended, d.operator, d.operator_group,
            d.disconnect_reason, d.talk_seconds, d.wait_seconds, tuple(map(str, d.legs)))  # fmt: skip


@st.composite
def calls(draw):
    """A realistic finished call: IVR, then ringing operators (parallel legs), maybe hold,
    maybe transfer; every leg ends; maybe the PBX's summary."""
    events = []
    t = T + draw(st.integers(0, 1000))
    ivr = [Event("ivr", 1, APPEARED, t, IVR, merge.INCOMING),
           Event("ivr", 2, CONNECTED, t + 1, IVR, merge.INCOMING)]  # fmt: skip
    events += ivr
    t += draw(st.integers(2, 30))
    events.append(Event("ivr", 3, APPEARED, t, QUEUE, merge.INCOMING, operator_group="g1"))
    answered_by = None
    n_ops = draw(st.integers(0, 3))
    answer_at = None
    for i in range(n_ops):
        leg = f"op{i}"
        events.append(Event(leg, 1, APPEARED, t + i, OPERATOR, operator=f"10{i}"))
        if answered_by is None and draw(st.booleans()):
            answered_by = leg
            answer_at = t + i + draw(st.integers(1, 25))
            events.append(Event(leg, 2, CONNECTED, answer_at, OPERATOR, operator=f"10{i}"))
            if draw(st.booleans()):
                events.append(Event(leg, 3, ON_HOLD, answer_at + 5, OPERATOR, operator=f"10{i}"))
                events.append(Event(leg, 4, CONNECTED, answer_at + 9, OPERATOR, operator=f"10{i}"))
    end = (answer_at or t) + draw(st.integers(1, 900))
    for i in range(n_ops):
        events.append(Event(f"op{i}", 9, DISCONNECTED, end if f"op{i}" == answered_by else t + 30,
                            OPERATOR, disconnect_reason="1110"))  # fmt: skip
    events.append(Event("ivr", 9, DISCONNECTED, end, QUEUE, disconnect_reason="1110"))
    summary = None
    if draw(st.booleans()):
        summary = Summary(merge.INCOMING, created=T, ended=end, answered=answer_at,
                          forwarded=T + 3, result="1" if answer_at else "0",
                          disconnect_reason="1110")  # fmt: skip
    return events, summary


def _fold(items):
    agg = merge.new_aggregate()
    phases = []
    for item in items:
        if isinstance(item, Summary):
            merge.apply_summary(agg, item)
        else:
            merge.apply_event(agg, item)
        phases.append(merge.PHASE[agg["hw"]])
    return agg, phases


@settings(max_examples=300, deadline=None)
@given(call=calls(), data=st.data())
def test_any_order_and_any_repetition_give_the_same_record(call, data):
    events, summary = call
    items = list(events) + ([summary] if summary else [])
    reference, _ = _fold(items)
    repeated = items + data.draw(st.lists(st.sampled_from(items), max_size=len(items) * 2))
    shuffled = data.draw(st.permutations(repeated))
    agg, phases = _fold(shuffled)
    assert _record(agg) == _record(reference)
    assert agg["hw"] == DISCONNECTED
    assert phases == sorted(phases), "the call's state went back"


@st.composite
def one_leg(draw):
    seqs = draw(st.lists(st.sampled_from([APPEARED, CONNECTED, ON_HOLD, CONNECTED, DISCONNECTED]),
                         min_size=1, max_size=5))  # fmt: skip
    return [Event("leg", i, s, T + i * 7, OPERATOR, operator="101") for i, s in enumerate(seqs)]


@settings(max_examples=300, deadline=None)
@given(events=one_leg(), data=st.data())
def test_for_one_leg_any_subset_in_any_order_gives_the_same_record(events, data):
    subset = data.draw(st.lists(st.sampled_from(events), min_size=1, unique_by=lambda e: e.seq))
    reference, _ = _fold(sorted(subset, key=lambda e: e.seq))
    agg, phases = _fold(data.draw(st.permutations(subset + subset)))
    assert _record(agg) == _record(reference)
    assert phases == sorted(phases)


def test_a_duplicate_event_is_reported_and_changes_nothing():
    agg = merge.new_aggregate()
    ev = Event("a", 1, APPEARED, T)
    assert merge.apply_event(agg, ev) is True
    before = repr(agg)
    assert merge.apply_event(agg, ev) is False
    assert repr(agg) == before
    s = Summary(merge.INCOMING, created=T, ended=T + 9)
    assert merge.apply_summary(agg, s) is True
    assert merge.apply_summary(agg, Summary(merge.OUTGOING, created=T, ended=T + 99)) is False
    assert merge.derive(agg).ended == T + 9


def test_a_late_appeared_never_reopens_an_ended_call():
    agg = merge.merged([Event("a", 3, DISCONNECTED, T + 60), Event("a", 1, APPEARED, T)])
    assert merge.derive(agg).state == DISCONNECTED
    assert merge.derive(agg).created == T


def test_hold_then_resume_follows_the_sequence_number():
    agg = merge.merged([Event("a", 2, CONNECTED, T + 5), Event("a", 3, ON_HOLD, T + 9)])
    assert merge.derive(agg).state == ON_HOLD
    merge.apply_event(agg, Event("a", 4, CONNECTED, T + 20))
    assert merge.derive(agg).state == CONNECTED
    merge.apply_event(agg, Event("a", 1, APPEARED, T))  # late, lower: no effect on the state
    assert merge.derive(agg).state == CONNECTED


def test_the_ivr_picking_up_is_not_an_answer():
    agg = merge.merged(
        [
            Event("a", 1, APPEARED, T, IVR),
            Event("a", 2, CONNECTED, T + 1, IVR),
            Event("a", 3, DISCONNECTED, T + 40, IVR),
        ]  # fmt: skip
    )
    d = merge.derive(agg)
    assert not d.is_answered and d.talk_seconds is None and d.wait_seconds == 40


def test_an_operator_answer_and_its_times():
    agg = merge.merged(
        [
            Event("a", 1, APPEARED, T, QUEUE, merge.INCOMING),
            Event("b", 1, APPEARED, T + 2, OPERATOR, operator="101"),
            Event("b", 2, CONNECTED, T + 12, OPERATOR, operator="101"),
            Event("b", 3, DISCONNECTED, T + 312, OPERATOR),
            Event("a", 2, DISCONNECTED, T + 312, QUEUE),
        ]  # fmt: skip
    )
    d = merge.derive(agg)
    assert (d.is_answered, d.wait_seconds, d.talk_seconds, d.operator) == (True, 12, 300, "101")


def test_the_summary_is_what_counts_answered_means_talk_time_above_zero():
    events = [Event("a", 1, APPEARED, T), Event("a", 2, CONNECTED, T + 5)]  # no operator said
    unanswered = Summary(merge.INCOMING, created=T, ended=T + 30, answered=None, result="1")
    d = merge.derive(merge.merged(events, unanswered))
    assert not d.is_answered and d.wait_seconds == 30  # entry_result alone is not trusted
    answered = Summary(merge.INCOMING, created=T, ended=T + 30, answered=T + 10, result="0")
    d = merge.derive(merge.merged([], answered))
    assert d.is_answered and d.wait_seconds == 10 and d.talk_seconds == 20


def test_a_reported_duration_counts_as_talk_when_no_connected_event_came():
    agg = merge.merged([Event("a", 4, DISCONNECTED, T + 100, talk_seconds=60)])
    d = merge.derive(agg)
    assert d.is_answered and d.talk_seconds == 60 and d.answered == T + 40


def test_unknown_state_is_refused():
    import pytest

    with pytest.raises(ValueError):
        merge.apply_event(merge.new_aggregate(), Event("a", 1, "ringing", T))
