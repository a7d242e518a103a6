"""The webhooks over HTTP: good events are recorded once; bad ones get a clear 4xx JSON error,
are logged without the caller's number, and save nothing."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client as HttpClient

from refuge.core.services import api_key_create
from refuge.hotline import services
from refuge.hotline.models import Call, CallEvent, Line, QuarantinedEvent
from tests.hotline.helpers import (
    JSON_EVENTS,
    MANGO_CALL,
    MANGO_SUMMARY,
    T0,
    json_post,
    mango_event,
    mango_form,
    mango_summary,
    post_mango,
    twilio_post,
)

CALLER = "79161234567"


def _error(r, status, code):
    assert r.status_code == status, r.content
    body = r.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    assert body["message"]
    return body


@pytest.fixture
def client(db):
    return HttpClient()


def test_a_mango_call_is_recorded_once_and_reported(client):
    ev = mango_event("e1", "c1", 1, "Appeared", T0, location="ivr")
    r = post_mango(client, MANGO_CALL, ev)
    assert r.json() == {"status": "recorded", "entry_id": "e1", "state": "appeared"}
    assert post_mango(client, MANGO_CALL, ev).json()["status"] == "duplicate"
    assert Call.objects.count() == 1 and CallEvent.objects.count() == 1


def test_mango_numbers_and_times_may_come_as_strings(client):
    ev = mango_event("e1", "c1", 1, "Appeared", T0)
    ev["seq"], ev["timestamp"] = "1", str(T0)
    assert post_mango(client, MANGO_CALL, ev).status_code == 200
    assert Call.objects.get().created_at.timestamp() == T0


def test_a_mango_summary_makes_the_call_final(client):
    post_mango(client, MANGO_CALL, mango_event("e1", "c1", 1, "Appeared", T0))
    r = post_mango(
        client, MANGO_SUMMARY, mango_summary("e1", created=T0, talk=T0 + 15, ended=T0 + 315)
    )
    assert r.json()["state"] == "disconnected"
    call = Call.objects.get()
    assert (call.answered, call.wait_seconds, call.talk_seconds) == (True, 15, 300)


@pytest.mark.parametrize(
    "form, code",
    [
        ({"vpbx_api_key": "test-mango-key", "json": "{}"}, "signature_invalid"),  # no sign
        ({"sign": "x", "json": "{}"}, "signature_invalid"),
        (mango_form({"entry_id": "e1"}, key="another-key"), "signature_invalid"),
        (mango_form({"entry_id": "e1"}, salt="another-salt"), "signature_invalid"),
        # A captured signature replayed with another body.
        (
            {**mango_form({"entry_id": "e1"}), "json": json.dumps({"entry_id": "e2"})},
            "signature_invalid",
        ),
    ],
)
def test_wrong_mango_signatures_get_403_and_save_nothing(client, form, code):
    _error(client.post(MANGO_CALL, form), 403, code)
    _error(client.post(MANGO_SUMMARY, form), 403, code)
    assert not Call.objects.exists() and not Line.objects.exists()


def test_a_replayed_signed_request_changes_nothing(client):
    form = mango_form(mango_event("e1", "c1", 2, "Connected", T0 + 9))
    client.post(MANGO_CALL, form)
    before = list(Call.objects.values())
    for _ in range(3):
        assert client.post(MANGO_CALL, form).json()["status"] == "duplicate"
    assert list(Call.objects.values()) == before and CallEvent.objects.count() == 1


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ("{not json", 400, "bad_json"),
        ("[1, 2]", 400, "bad_json"),
        ("", 400, "bad_json"),
        (
            {"call_id": "c", "seq": 1, "timestamp": T0, "call_state": "Appeared"},
            422,
            "missing_field",
        ),
        (
            {"entry_id": "e", "seq": 1, "timestamp": T0, "call_state": "Appeared"},
            422,
            "missing_field",
        ),
        (
            {"entry_id": "e", "call_id": "c", "timestamp": T0, "call_state": "Appeared"},
            422,
            "missing_field",
        ),
        (
            {"entry_id": "e", "call_id": "c", "seq": 1, "timestamp": T0, "call_state": "Ringing"},
            422,
            "unknown_state",
        ),
        (
            {
                "entry_id": "e",
                "call_id": "c",
                "seq": "x",
                "timestamp": T0,
                "call_state": "Appeared",
            },
            422,
            "invalid_field",
        ),
        (
            {"entry_id": "e", "call_id": "c", "seq": -1, "timestamp": T0, "call_state": "Appeared"},
            422,
            "invalid_field",
        ),
        (
            {
                "entry_id": "e",
                "call_id": "c",
                "seq": 1,
                "timestamp": 4102444800,
                "call_state": "Appeared",
            },
            422,
            "invalid_time",
        ),
        (
            {"entry_id": "e", "call_id": "c", "seq": 1, "timestamp": 12, "call_state": "Appeared"},
            422,
            "invalid_time",
        ),
        (
            {
                "entry_id": "e",
                "call_id": "c",
                "seq": 1,
                "timestamp": T0,
                "call_state": "Appeared",
                "location": "moon",
            },
            422,
            "unknown_location",
        ),
        (
            {
                "entry_id": ["e"],
                "call_id": "c",
                "seq": 1,
                "timestamp": T0,
                "call_state": "Appeared",
            },
            422,
            "invalid_field",
        ),
        (
            {
                "entry_id": "e" * 200,
                "call_id": "c",
                "seq": 1,
                "timestamp": T0,
                "call_state": "Appeared",
            },
            422,
            "invalid_field",
        ),
        (
            {
                "entry_id": "e",
                "call_id": "c",
                "seq": 1,
                "timestamp": T0,
                "call_state": "Appeared",
                "from": "x",
            },
            422,
            "invalid_field",
        ),
    ],
)
def test_unreadable_signed_mango_events_are_quarantined_not_refused(client, payload, status, code):
    """Signed by the PBX but unreadable: answered 200 (a PBX retries anything else) and kept
    in quarantine, never recorded as a call. ``status`` is what a sender would have got."""
    r = post_mango(client, MANGO_CALL, payload)
    assert r.status_code == 200 and r.json()["status"] == "quarantined"
    assert r.json()["code"] == code
    assert (
        not Call.objects.exists() and not CallEvent.objects.exists() and not Line.objects.exists()
    )
    kept = QuarantinedEvent.objects.get()
    assert (kept.provider, kept.kind, kept.error_code) == ("mango", "call", code)


@pytest.mark.parametrize(
    "change, code",
    [
        ({"call_direction": 7}, "invalid_field"),
        ({"end_time": T0 - 10}, "invalid_time"),
        ({"talk_time": T0 + 9999}, "invalid_time"),
        ({"create_time": None}, "missing_field"),
    ],
)
def test_unreadable_mango_summaries_are_quarantined(client, change, code):
    payload = {**mango_summary("e1", created=T0, talk=T0 + 5, ended=T0 + 60), **change}
    r = post_mango(client, MANGO_SUMMARY, payload)
    assert r.status_code == 200 and r.json() == {
        "status": "quarantined", "entry_id": None, "state": None, "code": code
    }  # fmt: skip
    assert not Call.objects.exists()
    assert QuarantinedEvent.objects.get().kind == "summary"


def test_oversized_bodies_are_refused_before_they_are_read(client, settings):
    settings.REFUGE_HOTLINE_MAX_EVENT_BYTES = 2048
    ev = mango_event("e1", "c1", 1, "Appeared", T0)
    ev["padding"] = "x" * 4000
    _error(post_mango(client, MANGO_CALL, ev), 413, "too_large")
    big = json.dumps({"entry_id": "e", "pad": "x" * 4000})
    key, text = api_key_create(by=None, organisation=_org(), role="operator")
    _error(json_post(client, text, big), 413, "too_large")
    assert not Call.objects.exists()


def test_bodies_over_djangos_own_limit_are_413_not_500(client, settings):
    settings.REFUGE_HOTLINE_MAX_EVENT_BYTES = 10 * 1024 * 1024
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    ev = mango_event("e1", "c1", 1, "Appeared", T0)
    ev["padding"] = "x" * 4000
    _error(post_mango(client, MANGO_CALL, ev), 413, "too_large")


def test_refusals_are_logged_without_the_callers_number(client, caplog):
    caplog.set_level(logging.DEBUG)
    bad = mango_event("e1", "c1", 1, "Ringing", T0, caller=CALLER)
    post_mango(client, MANGO_CALL, bad)
    post_mango(client, MANGO_CALL, bad, sign="0" * 64)
    post_mango(client, MANGO_CALL, json.dumps(bad)[:-3])
    twilio_post(
        client,
        {"CallSid": "CA1", "CallStatus": "bogus", "From": "+" + CALLER, "To": "+74950000001"},
    )
    key, text = api_key_create(by=None, organisation=_org(), role="operator")
    json_post(
        client,
        text,
        {
            "entry_id": "e",
            "seq": 1,
            "state": "nope",
            "at": "2025-03-03T09:00:00Z",
            "caller": "+" + CALLER,
        },
    )
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "refused" in messages and "quarantine" in messages
    assert CALLER not in messages and CALLER[1:] not in messages


def _org():
    from refuge.core.models import Organisation
    from tests.conftest import make_org

    return Organisation.objects.filter(slug="pbx-org").first() or make_org("pbx-org")


# --- Twilio ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query, answered", [("", False), ("location=operator", True)])
def test_a_twilio_callers_own_leg_is_the_platform_unless_its_url_says_operator(
    client, query, answered
):
    """Twilio's inbound leg goes in-progress when Twilio answers to run the TwiML: not a
    person. A deployment whose callback URL says ?location=operator is telling us it is."""
    base = {"CallSid": "CA1", "From": "+74951234567", "To": "+74950000001", "Direction": "inbound"}
    stamps = ["Mon, 03 Mar 2025 09:00:00 +0000", "Mon, 03 Mar 2025 09:00:20 +0000",
              "Mon, 03 Mar 2025 09:05:20 +0000"]  # fmt: skip
    for seq, (status, stamp) in enumerate(
        zip(["ringing", "in-progress", "completed"], stamps, strict=True)
    ):
        r = twilio_post(client, {**base, "CallStatus": status, "Timestamp": stamp, "SequenceNumber": str(seq),
                                 "CallDuration": "300" if status == "completed" else ""},
                        query=query)  # fmt: skip
        assert r.status_code == 200
    call = Call.objects.get(provider="twilio")
    if answered:  # answered at +20 s, talked until +320 s
        assert (call.state, call.answered, call.wait_seconds, call.talk_seconds) == (
            "disconnected", True, 20, 300
        )  # fmt: skip
    else:  # she waited 320 s and nobody but the platform picked up
        assert (call.state, call.answered, call.wait_seconds, call.talk_seconds) == (
            "disconnected", False, 320, None
        )  # fmt: skip
    assert call.caller_region == "RU-MOW"


def test_twilio_dialled_legs_belong_to_the_callers_call_and_name_the_operator(client):
    parent = {
        "CallSid": "CAp",
        "From": "+74951234567",
        "To": "+74950000001",
        "Direction": "inbound",
    }
    twilio_post(client, {**parent, "CallStatus": "ringing", "SequenceNumber": "0",
                         "Timestamp": "Mon, 03 Mar 2025 09:00:00 +0000"}, query="location=ivr")  # fmt: skip
    twilio_post(client, {**parent, "CallStatus": "in-progress", "SequenceNumber": "1",
                         "Timestamp": "Mon, 03 Mar 2025 09:00:01 +0000"}, query="location=ivr")  # fmt: skip
    call = Call.objects.get()
    assert call.entry_id == "CAp" and not call.answered  # the IVR picking up is not an answer
    child = {"CallSid": "CAc", "ParentCallSid": "CAp", "From": "+74950000001", "To": "client:olga",
             "Direction": "outbound-dial"}  # fmt: skip
    twilio_post(client, {**child, "CallStatus": "in-progress", "SequenceNumber": "1",
                         "Timestamp": "Mon, 03 Mar 2025 09:00:30 +0000"})  # fmt: skip
    call.refresh_from_db()
    assert call.answered and call.wait_seconds == 30 and call.operator_extension == "client:olga"
    assert Call.objects.count() == 1 and call.direction == "incoming"


def test_a_twilio_completed_callback_alone_ends_the_call_but_is_no_answer(client):
    """The number's own status callback (only "completed" for an incoming call): the call
    began CallDuration before; without a <Dial> leg nobody is known to have answered."""
    twilio_post(client, {"CallSid": "CA9", "CallStatus": "completed", "CallDuration": "120",
                         "From": "+74951234567", "To": "+74950000001", "Direction": "inbound",
                         "Timestamp": "Mon, 03 Mar 2025 09:10:00 +0000"})  # fmt: skip
    call = Call.objects.get()
    assert (call.state, call.answered, call.wait_seconds) == ("disconnected", False, 120)
    assert call.created_at.isoformat() == "2025-03-03T09:08:00+00:00"


@pytest.mark.parametrize(
    "params, query, code",
    [
        ({"CallStatus": "ringing"}, "", "missing_field"),
        ({"CallSid": "CA1", "CallStatus": "bogus"}, "", "unknown_state"),
        ({"CallSid": "CA1", "CallStatus": "ringing", "Timestamp": "yesterday"}, "", "invalid_time"),
        ({"CallSid": "CA1", "CallStatus": "ringing"}, "location=moon", "unknown_location"),
    ],
)
def test_unreadable_twilio_callbacks_are_quarantined(client, params, query, code):
    r = twilio_post(client, params, query=query)
    assert r.status_code == 200 and r.json()["code"] == code
    assert not Call.objects.exists()
    assert QuarantinedEvent.objects.get().provider == "twilio"


# --- plain JSON ------------------------------------------------------------------------------


@pytest.fixture
def pbx_key(orgs):
    services.line_save(
        by=None, number="+7 495 000-00-01", organisation=orgs["a"], service_area="RU-MOW"
    )
    return api_key_create(by=None, organisation=orgs["a"], role="operator", name="pbx")[1]


def _json_event(**over):
    event = {"entry_id": "j1", "seq": 1, "state": "appeared", "at": "2025-03-03T12:00:00+03:00",
             "line": "+7 495 000-00-01", "caller": "+7 487 212-34-56", "direction": "incoming"}  # fmt: skip
    event.update(over)
    return event


def test_a_json_event_is_recorded_for_the_keys_organisation(client, pbx_key, orgs):
    r = json_post(client, pbx_key, _json_event())
    assert r.status_code == 200 and r.json()["status"] == "recorded"
    call = Call.objects.get()
    assert call.organisation == orgs["a"] and call.line.number == "74950000001"
    assert call.caller_region == "RU-TUL" and call.out_of_region is True
    assert call.created_at.isoformat() == "2025-03-03T09:00:00+00:00"
    assert json_post(client, pbx_key, _json_event()).json()["status"] == "duplicate"


def test_a_json_event_may_carry_the_region_the_pbx_knows(client, pbx_key):
    json_post(client, pbx_key, _json_event(caller=None, caller_region="RU-MOW"))
    call = Call.objects.get()
    assert (call.caller_region, call.region_source, call.caller_known) == ("RU-MOW", "pbx", False)


@pytest.mark.parametrize(
    "event, status, code",
    [
        ("{nope", 400, "bad_json"),
        (_json_event(state="ringing"), 422, "validation_error"),
        (_json_event(at="2025-03-03T12:00:00"), 422, "validation_error"),  # no offset
        (_json_event(seq=-1), 422, "validation_error"),
        (_json_event(colour="blue"), 422, "validation_error"),  # unknown fields are refused
        (_json_event(caller_region="Moscow"), 422, "invalid_field"),
        (_json_event(at="2099-01-01T00:00:00Z"), 422, "invalid_time"),
        ({"seq": 1, "state": "appeared", "at": "2025-03-03T12:00:00Z"}, 422, "validation_error"),
    ],
)
def test_bad_json_events_get_a_clear_error_and_save_nothing(client, pbx_key, event, status, code):
    body = _error(json_post(client, pbx_key, event), status, code)
    if code == "validation_error":
        assert body["details"] and {"loc", "msg", "type"} <= set(body["details"][0])
    assert not Call.objects.exists()


def test_the_json_webhook_needs_a_key_of_a_role_that_takes_calls(client, orgs, pbx_key):
    assert (
        client.post(
            JSON_EVENTS, json.dumps(_json_event()), content_type="application/json"
        ).status_code
        == 401
    )
    partner = api_key_create(by=None, organisation=orgs["a"], role="partner")[1]
    _error(json_post(client, partner, _json_event()), 403, "forbidden")
    assert not Call.objects.exists()


def test_a_key_cannot_touch_another_organisations_line_or_call(client, orgs, pbx_key):
    other = api_key_create(by=None, organisation=orgs["b"], role="operator")[1]
    _error(json_post(client, other, _json_event()), 403, "forbidden")  # org a's line
    assert not Call.objects.exists()
    json_post(client, pbx_key, _json_event(line=None))
    _error(
        json_post(client, other, _json_event(line=None, seq=2, state="connected")), 403, "forbidden"
    )
    assert Call.objects.get().event_count == 1


def test_an_unknown_line_is_registered_for_the_keys_organisation(client, orgs):
    key = api_key_create(by=None, organisation=orgs["b"], role="operator")[1]
    json_post(client, key, _json_event(line="asterisk-queue-7"))
    line = Line.objects.get(number="asterisk-queue-7")
    assert line.organisation == orgs["b"] and Call.objects.get().organisation == orgs["b"]


def test_a_mango_call_on_an_unowned_line_waits_for_an_owner(client, orgs):
    post_mango(client, MANGO_CALL, mango_event("e1", "c1", 1, "Appeared", T0, line="74959999999"))
    call = Call.objects.get()
    assert call.organisation is None and call.line.organisation is None
    services.line_save(by=None, number="74959999999", organisation=orgs["a"], name="New line")
    call.refresh_from_db()
    assert call.organisation == orgs["a"]


def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_read(client, settings):
    settings.REFUGE_HOTLINE_MAX_EVENT_BYTES = 100
    r = client.post(MANGO_CALL, "json=%7B%7D&sign=x", content_type="application/x-www-form-urlencoded",
                    CONTENT_LENGTH="500")  # fmt: skip
    _error(r, 413, "too_large")
