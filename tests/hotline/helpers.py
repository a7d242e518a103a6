"""Clients for the PBX webhooks, signing like the real PBXs do (Twilio: with its own library)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.test import Client as HttpClient
from twilio.request_validator import RequestValidator

MANGO_KEY, MANGO_SALT = "test-mango-key", "test-mango-salt"
TWILIO_TOKEN = "test-twilio-token"
MANGO_CALL = "/api/v1/telephony/mango/events/call"
MANGO_SUMMARY = "/api/v1/telephony/mango/events/summary"
TWILIO_STATUS = "/api/v1/telephony/twilio/status"
JSON_EVENTS = "/api/v1/telephony/events"
T0 = int(datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp())


def mango_form(payload: dict[str, Any] | str, *, key=MANGO_KEY, salt=MANGO_SALT, sign=None) -> dict:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    signature = (
        sign if sign is not None else hashlib.sha256((key + text + salt).encode()).hexdigest()
    )
    return {"vpbx_api_key": key, "sign": signature, "json": text}


def post_mango(client: HttpClient, path: str, payload, **kw):
    return client.post(path, mango_form(payload, **kw))


def mango_event(
    entry: str,
    leg: str,
    seq: int,
    state: str,
    at: int,
    *,
    caller="79161234567",
    line="74951112233",
    location="abonent",
    extension="101",
    reason=None,
) -> dict:
    ev = {
        "entry_id": entry,
        "call_id": leg,
        "timestamp": at,
        "seq": seq,
        "call_state": state,
        "location": location,
        "from": {"number": caller},
        "to": {"line_number": line, "extension": extension if location == "abonent" else None},
    }
    if reason is not None:
        ev["disconnect_reason"] = reason
    return ev


def mango_summary(
    entry: str,
    *,
    created: int,
    talk: int = 0,
    ended: int,
    caller="79161234567",
    line="74951112233",
    direction=1,
    result=None,
) -> dict:
    return {
        "entry_id": entry,
        "call_direction": direction,
        "from": {"number": caller},
        "to": {"extension": "101"},
        "line_number": line,
        "create_time": created,
        "forward_time": created + 3,
        "talk_time": talk,
        "end_time": ended,
        "entry_result": result if result is not None else (1 if talk else 0),
        "disconnect_reason": 1110,
    }


def twilio_post(
    client: HttpClient,
    params: dict[str, str],
    *,
    query: str = "",
    token=TWILIO_TOKEN,
    host="testserver",
    **extra,
):
    path = TWILIO_STATUS + (f"?{query}" if query else "")
    url = f"http://{host}{path}"
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(
        path,
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
        HTTP_HOST=host,
        **extra,
    )


def json_post(client: HttpClient, key_text: str, event: dict | str):
    body = event if isinstance(event, str) else json.dumps(event)
    return client.post(
        JSON_EVENTS, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key_text}"
    )


def race_events(calls: int = 6):
    """The events of a few two-leg calls, for the concurrency tests (threads and processes)."""
    from refuge.hotline import adapters, merge

    out = []
    for c in range(calls):
        for leg in ("a", "b"):
            for seq, state in enumerate(
                ["appeared", "connected", "on_hold", "connected", "disconnected"]
            ):
                event = merge.Event(leg, seq, state, float(T0 + c * 100 + seq), location="operator")
                out.append(adapters.Inbound("json", f"race-{c}", event=event, line="74950000001",
                                            external_number="+74951234567"))  # fmt: skip
    return out
