"""Repeat callers are counted on incoming calls only: a callback to a number that called
before is not a repeat call, and does not make her next call one (Mango and Twilio)."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from refuge.hotline.models import Call
from refuge.hotline.selectors import with_repeat_counts
from tests.hotline.helpers import MANGO_CALL, MANGO_SUMMARY, T0, post_mango, twilio_post

NUMBER = "79161234567"
HOUR = 3600


@pytest.fixture
def client(db):
    return HttpClient()


def _incoming(client, entry, at):
    """Mango's "Маршрутизация вызова" shape (API v1.9, p. 331), reduced to one leg."""
    body = {"entry_id": entry, "call_id": f"{entry}-1", "timestamp": at, "seq": 1,
            "call_state": "Appeared", "location": "abonent", "from": {"number": NUMBER},
            "to": {"extension": "101", "line_number": "74955404444"}}  # fmt: skip
    assert post_mango(client, MANGO_CALL, body).json()["status"] == "recorded"


def _callback(client, entry, at, with_summary=False):
    """Mango's "Уведомление о вызове" (API v1.9, pp. 328-329): extension 1234 calls out from
    line 74955404444; the number called is hers."""
    body = {"entry_id": entry, "call_id": f"{entry}-1", "timestamp": at, "seq": 1,
            "location": "abonent", "call_state": "Appeared", "from": {"extension": "1234"},
            "to": {"number": NUMBER}}  # fmt: skip
    assert post_mango(client, MANGO_CALL, body).json()["status"] == "recorded"
    if with_summary:
        summary = {"entry_id": entry, "call_direction": 2, "from": {"extension": "1234"},
                   "to": {"number": NUMBER}, "line_number": "74955404444", "create_time": at,
                   "forward_time": at, "talk_time": at + 12, "end_time": at + 32,
                   "entry_result": 1, "disconnect_reason": 1120}  # fmt: skip
        post_mango(client, MANGO_SUMMARY, summary)


def _flags():
    return dict(Call.objects.values_list("entry_id", "repeat_caller"))


def test_a_callback_is_never_a_repeat_call(client):
    _incoming(client, "in-1", T0)
    _callback(client, "out-1", T0 + HOUR, with_summary=True)
    _incoming(client, "in-2", T0 + 2 * HOUR)
    assert Call.objects.get(entry_id="out-1").direction == "outgoing"
    assert _flags() == {"in-1": False, "out-1": False, "in-2": True}


def test_a_callback_does_not_make_her_next_call_a_repeat(client):
    _callback(client, "out-1", T0)
    _incoming(client, "in-1", T0 + HOUR)
    assert _flags() == {"out-1": False, "in-1": False}


@pytest.mark.parametrize("order", [("in-1", "out-1", "in-2"), ("in-2", "out-1", "in-1"),
                                   ("out-1", "in-2", "in-1")])  # fmt: skip
def test_in_any_order_of_arrival(client, order):
    send = {
        "in-1": lambda: _incoming(client, "in-1", T0),
        "out-1": lambda: _callback(client, "out-1", T0 + HOUR),
        "in-2": lambda: _incoming(client, "in-2", T0 + 2 * HOUR),
    }
    for entry in order:
        send[entry]()
    assert _flags() == {"in-1": False, "out-1": False, "in-2": True}


def test_the_call_card_counts_only_her_earlier_incoming_calls(client):
    _incoming(client, "in-1", T0)
    _callback(client, "out-1", T0 + HOUR)
    _incoming(client, "in-2", T0 + 2 * HOUR)
    counts = dict(with_repeat_counts(Call.objects.all()).values_list("entry_id", "previous_calls"))
    assert counts == {"in-1": None, "out-1": 1, "in-2": 1}


def test_a_twilio_outbound_api_callback_is_never_a_repeat(client):
    def status(sid, direction, frm, to, at):
        from datetime import UTC, datetime
        from email.utils import format_datetime

        stamp = format_datetime(datetime.fromtimestamp(at, UTC))
        params = {"CallSid": sid, "CallStatus": "ringing", "Direction": direction, "From": frm,
                  "To": to, "Timestamp": stamp, "SequenceNumber": "0",
                  "CallbackSource": "call-progress-events"}  # fmt: skip
        assert twilio_post(client, params).json()["status"] == "recorded"

    status("CAin1", "inbound", "+" + NUMBER, "+74950000002", T0)
    status("CAout", "outbound-api", "+74950000002", "+" + NUMBER, T0 + HOUR)
    status("CAin2", "inbound", "+" + NUMBER, "+74950000002", T0 + 2 * HOUR)
    assert _flags() == {"CAin1": False, "CAout": False, "CAin2": True}
