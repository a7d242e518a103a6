"""PBX formats in, provider-neutral events out. Pure parsing: no database, no signatures.

Each parser returns an `Inbound`: the merge event or summary (see merge.py) plus what the
service needs once per call (the line, the caller's number to hash and drop, a region the
PBX may give). A parser never logs and never puts a phone number in an error message.

Mango Office VPBX (API v1.9), form fields ``vpbx_api_key``, ``sign``, ``json``:
- ``/events/call``: ``entry_id``, ``call_id`` (the leg), ``timestamp``, ``seq``,
  ``call_state`` (Appeared, Connected, OnHold, Disconnected), ``location`` (ivr, queue,
  abonent), ``from`` {extension, number}, ``to`` {extension, number, line_number, acd_group},
  ``disconnect_reason``. Numbers and timestamps may come as JSON numbers or strings.
- ``/events/summary``: ``entry_id``, ``call_direction`` (0 internal, 1 incoming, 2 outgoing),
  ``from``, ``to``, ``line_number``, ``create_time``, ``forward_time``, ``talk_time``,
  ``end_time`` (POSIX times; ``talk_time`` is when talk started, 0 if nobody talked),
  ``entry_result``, ``disconnect_reason``.

Twilio voice status callbacks: ``CallSid``, ``ParentCallSid`` (a leg dialled from a call),
``CallStatus``, ``Direction``, ``From``, ``To``, ``Timestamp`` (RFC 2822),
``SequenceNumber``, ``CallDuration``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from . import merge
from .regions import is_region_code

MANGO, TWILIO, JSON, MANUAL = "mango", "twilio", "json", "manual"

MAX_ID = 128
MAX_TEXT = 100
# Events stamped more than this far ahead of our clock are refused (a broken PBX clock would
# otherwise put calls into tomorrow's figures). Old events are fine: retries and replays.
FUTURE_SKEW_SECONDS = 3600
EARLIEST = 946684800.0  # 2000-01-01


class EventError(Exception):
    """A refused event: ``code`` for machines, ``message`` for people, ``details`` (no numbers)."""

    def __init__(self, code: str, message: str, details: Any = None, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.details, self.status = code, message, details, status


@dataclass(frozen=True)
class Inbound:
    provider: str
    entry_id: str
    event: merge.Event | None = None
    summary: merge.Summary | None = None
    line: str = ""  # the line's number or name as the PBX gives it
    external_number: str = ""  # the caller (or the person called): hashed, then dropped
    caller_region: str = ""  # only the plain JSON webhook may say

    @property
    def key(self) -> tuple[str, str, int]:
        if self.summary is not None:
            return ("summary", "", 0)
        assert self.event is not None
        return ("call", self.event.leg_id, self.event.seq)


def _missing(field: str) -> EventError:
    return EventError("missing_field", f"The field {field!r} is required.", {"field": field})


def _text(data: dict, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise _missing(field)
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise EventError("invalid_field", f"The field {field!r} must be text.", {"field": field})
    text = str(value).strip()
    if len(text) > limit:
        raise EventError(
            "invalid_field", f"The field {field!r} is too long.", {"field": field, "max": limit}
        )
    return text


def _int(data: dict, field: str, *, required: bool = False, default: int = 0) -> int:
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise _missing(field)
        return default
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError
            number = int(value)
        else:
            number = int(str(value).strip())
    except (TypeError, ValueError, OverflowError):
        raise EventError(
            "invalid_field", f"The field {field!r} must be a whole number.", {"field": field}
        ) from None
    if number < 0 or number > 2**53:
        raise EventError("invalid_field", f"The field {field!r} is out of range.", {"field": field})
    return number


def check_time(at: float, field: str, now: float | None = None) -> float:
    now = time.time() if now is None else now
    if not math.isfinite(at) or at < EARLIEST or at > now + FUTURE_SKEW_SECONDS:
        raise EventError(
            "invalid_time",
            f"The time in {field!r} is not plausible (before 2000 or in the future).",
            {"field": field},
        )
    return at


def _object(data: dict, field: str) -> dict:
    value = data.get(field)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise EventError(
            "invalid_field", f"The field {field!r} must be an object.", {"field": field}
        )
    return value


def load_json_object(text: str) -> dict:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise EventError("bad_json", "The body is not valid JSON.", status=400) from None
    if not isinstance(data, dict):
        raise EventError("bad_json", "The JSON must be an object.", status=400)
    return data


# --- Mango Office ----------------------------------------------------------------------------

_MANGO_STATES = {
    "appeared": merge.APPEARED,
    "connected": merge.CONNECTED,
    "onhold": merge.ON_HOLD,
    "disconnected": merge.DISCONNECTED,
}
_MANGO_LOCATIONS = {"ivr": merge.IVR, "queue": merge.QUEUE, "abonent": merge.OPERATOR}
_MANGO_DIRECTIONS = {0: merge.INTERNAL, 1: merge.INCOMING, 2: merge.OUTGOING}


def _mango_parties(data: dict) -> tuple[dict, dict]:
    return _object(data, "from"), _object(data, "to")


def parse_mango_call(text: str, *, now: float | None = None) -> Inbound:
    data = load_json_object(text)
    entry_id = _text(data, "entry_id", required=True, limit=MAX_ID)
    leg_id = _text(data, "call_id", required=True, limit=MAX_ID)
    seq = _int(data, "seq", required=True)
    at = check_time(float(_int(data, "timestamp", required=True)), "timestamp", now)
    raw_state = _text(data, "call_state", required=True)
    state = _MANGO_STATES.get(raw_state.casefold())
    if state is None:
        raise EventError(
            "unknown_state",
            "Unknown call_state; expected Appeared, Connected, OnHold or Disconnected.",
            {"field": "call_state", "value": raw_state[:20]},
        )
    raw_location = _text(data, "location")
    location = _MANGO_LOCATIONS.get(raw_location.casefold(), "") if raw_location else ""
    if raw_location and raw_location.casefold() not in _MANGO_LOCATIONS:
        raise EventError(
            "unknown_location",
            "Unknown location; expected ivr, queue or abonent.",
            {"field": "location", "value": raw_location[:20]},
        )
    src, dst = _mango_parties(data)
    src_ext, src_num = _text(src, "extension"), _text(src, "number", limit=40)
    dst_ext, dst_num = _text(dst, "extension"), _text(dst, "number", limit=40)
    line = _text(dst, "line_number", limit=40)
    # Mango's call events carry no direction: read it from who is on which side.
    if src_ext and dst_ext:
        direction, external, operator = merge.INTERNAL, "", dst_ext
    elif src_ext and not dst_ext:
        direction, external, operator = merge.OUTGOING, dst_num, src_ext
        line = line or src_num
    else:
        direction, external, operator = (merge.INCOMING if src_num else ""), src_num, dst_ext
    event = merge.Event(
        leg_id=leg_id,
        seq=seq,
        state=state,
        at=at,
        location=location,
        direction=direction,
        operator=operator,
        operator_group=_text(dst, "acd_group"),
        disconnect_reason=_text(data, "disconnect_reason", limit=20),
    )
    return Inbound(MANGO, entry_id, event=event, line=line, external_number=external)


def parse_mango_summary(text: str, *, now: float | None = None) -> Inbound:
    data = load_json_object(text)
    entry_id = _text(data, "entry_id", required=True, limit=MAX_ID)
    raw_direction = _int(data, "call_direction", required=True)
    direction = _MANGO_DIRECTIONS.get(raw_direction)
    if direction is None:
        raise EventError(
            "invalid_field",
            "call_direction must be 0 (internal), 1 (incoming) or 2 (outgoing).",
            {"field": "call_direction"},
        )
    created = check_time(float(_int(data, "create_time", required=True)), "create_time", now)
    ended = check_time(float(_int(data, "end_time", required=True)), "end_time", now)
    talk = _int(data, "talk_time")
    forward = _int(data, "forward_time")
    answered = check_time(float(talk), "talk_time", now) if talk > 0 else None
    forwarded = check_time(float(forward), "forward_time", now) if forward > 0 else None
    if ended < created or (answered is not None and not created <= answered <= ended):
        raise EventError(
            "invalid_time",
            "The summary's times are out of order (create ≤ talk ≤ end).",
            {"field": "end_time"},
        )
    src, dst = _mango_parties(data)
    if direction == merge.OUTGOING:
        external, operator = _text(dst, "number", limit=40), _text(src, "extension")
    elif direction == merge.INCOMING:
        external, operator = _text(src, "number", limit=40), _text(dst, "extension")
    else:
        external, operator = "", _text(dst, "extension")
    summary = merge.Summary(
        direction=direction,
        created=created,
        ended=ended,
        answered=answered,
        forwarded=forwarded,
        result=_text(data, "entry_result", limit=20),
        disconnect_reason=_text(data, "disconnect_reason", limit=20),
        operator=operator,
    )
    return Inbound(
        MANGO,
        entry_id,
        summary=summary,
        line=_text(data, "line_number", limit=40),
        external_number=external,
    )


# --- Twilio ----------------------------------------------------------------------------------

_TWILIO_STATES = {
    "queued": (merge.APPEARED, 0),
    "initiated": (merge.APPEARED, 1),
    "ringing": (merge.APPEARED, 2),
    "in-progress": (merge.CONNECTED, 3),
    "completed": (merge.DISCONNECTED, 4),
    "busy": (merge.DISCONNECTED, 4),
    "failed": (merge.DISCONNECTED, 4),
    "no-answer": (merge.DISCONNECTED, 4),
    "canceled": (merge.DISCONNECTED, 4),
}
TWILIO_LOCATIONS = {"ivr": merge.IVR, "queue": merge.QUEUE, "operator": merge.OPERATOR}


def parse_twilio_status(
    params: dict[str, str], *, location: str = "", now: float | None = None
) -> Inbound:
    """``location`` comes from the callback URL (``?location=ivr``): which part of the call
    flow this callback reports. Without it a dialled leg (with ParentCallSid) is an operator
    and the caller's own leg is of unknown location, which counts as talk."""
    leg_id = _text(params, "CallSid", required=True, limit=MAX_ID)
    parent = _text(params, "ParentCallSid", limit=MAX_ID)
    raw_status = _text(params, "CallStatus", required=True).casefold()
    if raw_status not in _TWILIO_STATES:
        raise EventError(
            "unknown_state",
            "Unknown CallStatus.",
            {"field": "CallStatus", "value": raw_status[:20]},
        )
    state, rank = _TWILIO_STATES[raw_status]
    seq = _int(params, "SequenceNumber", default=-1)
    # Without SequenceNumber (a callback for "completed" only), the status's rank orders it.
    seq = seq if seq >= 0 else rank
    now = time.time() if now is None else now
    stamp = _text(params, "Timestamp")
    if stamp:
        try:
            at = parsedate_to_datetime(stamp).timestamp()
        except (TypeError, ValueError, IndexError):
            raise EventError(
                "invalid_time", "Timestamp is not an RFC 2822 date.", {"field": "Timestamp"}
            ) from None
        check_time(at, "Timestamp", now)
    else:
        at = now
    raw_direction = _text(params, "Direction").casefold()
    if location and location not in TWILIO_LOCATIONS:
        raise EventError(
            "unknown_location",
            "The callback URL's location must be ivr, queue or operator.",
            {"field": "location"},
        )
    if parent:
        # A leg dialled from the caller's call: its "To" is the operator, not a caller.
        direction, external, line = "", "", ""
        operator = _text(params, "To")
        loc = TWILIO_LOCATIONS.get(location, merge.OPERATOR)
    elif raw_direction.startswith("outbound"):
        direction, operator = merge.OUTGOING, ""
        external, line = _text(params, "To", limit=40), _text(params, "From", limit=40)
        loc = TWILIO_LOCATIONS.get(location, "")
    else:
        direction, operator = merge.INCOMING, ""
        external, line = _text(params, "From", limit=40), _text(params, "To", limit=40)
        loc = TWILIO_LOCATIONS.get(location, "")
    duration = _int(params, "CallDuration", default=0)
    event = merge.Event(
        leg_id=leg_id,
        seq=seq,
        state=state,
        at=at,
        location=loc,
        direction=direction,
        operator=operator,
        disconnect_reason=raw_status if state == merge.DISCONNECTED else "",
        talk_seconds=duration if raw_status == "completed" and duration > 0 else None,
    )
    return Inbound(TWILIO, parent or leg_id, event=event, line=line, external_number=external)


# --- plain JSON (any other PBX) --------------------------------------------------------------

_JSON_LOCATIONS = {"ivr": merge.IVR, "queue": merge.QUEUE, "operator": merge.OPERATOR, None: ""}


def from_plain_json(payload: Any) -> Inbound:
    """From the validated `TelephonyEventIn` schema (see api.py)."""
    at: datetime = payload.at
    check_time(at.timestamp(), "at")
    region = (payload.caller_region or "").strip()
    if region and not is_region_code(region):
        raise EventError(
            "invalid_field",
            "caller_region must be an ISO 3166-2 code such as RU-MOW or KG-GB.",
            {"field": "caller_region"},
        )
    event = merge.Event(
        leg_id=payload.leg_id or payload.entry_id,
        seq=payload.seq,
        state=payload.state,
        at=at.timestamp(),
        location=_JSON_LOCATIONS[payload.location],
        direction=payload.direction or "",
        operator=payload.operator or "",
        operator_group=payload.operator_group or "",
        disconnect_reason=payload.disconnect_reason or "",
        talk_seconds=payload.talk_seconds,
    )
    return Inbound(
        JSON,
        payload.entry_id,
        event=event,
        line=payload.line or "",
        external_number=payload.caller or "",
        caller_region=region,
    )
