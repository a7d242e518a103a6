"""PBX formats in, provider-neutral events out. Pure parsing: no database, no signatures.

Each parser returns an `Inbound`: the merge event or summary (see merge.py) plus what the
service needs once per call (the line, the caller's number to hash and drop, a region the
PBX may give). A parser never logs and never puts a phone number in an error message.
These dataclasses are the service's input types: the API's schemas convert to them.

Mango Office VPBX (API v1.9, "MangoOffice_VPBX_API_v1.9.pdf": /events/call and
/events/summary, pp. 328-342), form fields ``vpbx_api_key``, ``sign``, ``json``:
- ``/events/call``: ``entry_id`` (the call), ``call_id`` (the leg), ``timestamp``, ``seq``
  (per leg), ``call_state`` (Appeared, Connected, OnHold, Disconnected), ``location`` (ivr,
  queue, abonent; DTMF events use "ivr.2"), ``from`` {extension, number,
  taken_from_call_id, was_transferred, hold_initiator}, ``to`` {extension, number,
  line_number, acd_group, …}, ``dct``, ``disconnect_reason``, ``transfer``, ``command_id``,
  ``task_id``, ``callback_initiator``, ``sip_call_id``. Numbers, extensions and times come as
  JSON numbers or strings; ``number`` may be a SIP URI ("sip:aaa@mangosip.ru", up to 255
  characters); clients written in C# and Go send ``null`` (or ``"from": null``) for what is
  absent. Fields we do not use are ignored.
- ``/events/summary``: ``entry_id``, ``call_direction`` (0 internal, 1 incoming, 2 outgoing),
  ``from``, ``to``, ``line_number``, ``create_time``, ``forward_time``, ``talk_time``,
  ``end_time`` (POSIX times; ``talk_time`` is when talk started, 0 if nobody talked),
  ``entry_result``, ``disconnect_reason``. It is the PBX's word that the call is over.

Twilio voice status callbacks: ``CallSid``, ``ParentCallSid`` (a ``<Dial>`` leg of the
caller's call), ``CallStatus``, ``Direction`` (inbound, outbound-api, outbound-dial),
``From``, ``To``, ``Timestamp`` (RFC 2822), ``SequenceNumber``, ``CallDuration``,
``CallbackSource``, and many more we ignore (``Called``, ``CallerCity``, …).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from . import merge
from .regions import is_region_code

MANGO, TWILIO, JSON, MANUAL = "mango", "twilio", "json", "manual"

MAX_ID = 128
MAX_TEXT = 100
MAX_NUMBER = 255  # a SIP URI (RFC 3261 leaves it open; providers and our columns stop here)
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
    caller_token: str = ""  # a replayed quarantined event: the number's hash and region

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


def _seconds(data: dict, field: str, *, required: bool = False) -> float:
    """A POSIX time as a JSON number or string, whole or with a fraction (0 if absent)."""
    value = data.get(field)
    if value is None or value == "":
        if required:
            raise _missing(field)
        return 0.0
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        raise EventError(
            "invalid_field", f"The field {field!r} must be a time in seconds.", {"field": field}
        ) from None
    if not math.isfinite(number) or number < 0:
        raise EventError("invalid_field", f"The field {field!r} is out of range.", {"field": field})
    return float(math.floor(number))


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


def phone_part(raw: str) -> str:
    """The phone number inside a PBX address: "sip:79161234567@host;user=phone" and
    "tel:+79161234567" give the digits; a SIP login ("sip:hotline.operator02@…") or a Twilio
    client ("client:olga") gives "" (not a number); a plain number is returned as it is."""
    text = (raw or "").strip()
    scheme, sep, rest = text.partition(":")
    if not sep or scheme.casefold() not in ("sip", "sips", "tel"):
        return text if ":" not in text and "@" not in text else ""
    user = rest.split("@", 1)[0].split(";", 1)[0]
    digits = user.replace("-", "").replace(" ", "").replace("(", "").replace(")", "")
    return user if digits.lstrip("+").isdigit() else ""


def _looks_like_number(text: str) -> bool:
    """A phone number (not a SIP login or a client's name): never kept as an operator's name."""
    return sum(ch.isdigit() for ch in phone_part(text)) >= 7


# A number replaced by its keyed hash in quarantine: "hmac:<key>:<region>:<source>".
TOKEN = "hmac:"  # noqa: S105 - a prefix, not a secret


def _external(raw: str, tokens: bool) -> tuple[str, str]:
    """(number, token): a quarantined event's numbers are tokens, read only when replaying."""
    if tokens and raw.startswith(TOKEN):
        return "", raw
    return phone_part(raw), ""


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


def _mango_location(data: dict) -> str:
    raw = _text(data, "location")
    # Mango's documented examples spell it "locaton" in places (API v1.9, p. 339).
    raw = raw or _text(data, "locaton")
    if not raw:
        return ""
    system = raw.split(".", 1)[0].casefold()  # "ivr.2": menu item 2 of the IVR
    if system not in _MANGO_LOCATIONS:
        raise EventError(
            "unknown_location",
            "Unknown location; expected ivr, queue or abonent.",
            {"field": "location", "value": raw[:20]},
        )
    return _MANGO_LOCATIONS[system]


def parse_mango_call(text: str, *, now: float | None = None, tokens: bool = False) -> Inbound:
    data = load_json_object(text)
    entry_id = _text(data, "entry_id", required=True, limit=MAX_ID)
    leg_id = _text(data, "call_id", required=True, limit=MAX_ID)
    seq = _int(data, "seq", required=True)
    at = check_time(_seconds(data, "timestamp", required=True), "timestamp", now)
    raw_state = _text(data, "call_state", required=True)
    state = _MANGO_STATES.get(raw_state.casefold())
    if state is None:
        raise EventError(
            "unknown_state",
            "Unknown call_state; expected Appeared, Connected, OnHold or Disconnected.",
            {"field": "call_state", "value": raw_state[:20]},
        )
    location = _mango_location(data)
    src, dst = _mango_parties(data)
    src_ext, src_num = _text(src, "extension"), _text(src, "number", limit=MAX_NUMBER)
    dst_ext, dst_num = _text(dst, "extension"), _text(dst, "number", limit=MAX_NUMBER)
    line = _text(dst, "line_number", limit=MAX_NUMBER) or _text(
        src, "line_number", limit=MAX_NUMBER
    )
    parent = _text(src, "taken_from_call_id", limit=MAX_ID)
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
        parent=parent,
        awaits_end=True,  # the summary closes the call
    )
    number, token = _external(external, tokens)
    return Inbound(
        MANGO, entry_id, event=event, line=line, external_number=number, caller_token=token
    )


def parse_mango_summary(text: str, *, now: float | None = None, tokens: bool = False) -> Inbound:
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
    created = check_time(_seconds(data, "create_time", required=True), "create_time", now)
    ended = check_time(_seconds(data, "end_time", required=True), "end_time", now)
    talk = _seconds(data, "talk_time")
    forward = _seconds(data, "forward_time")
    answered = check_time(talk, "talk_time", now) if talk > 0 else None
    forwarded = check_time(forward, "forward_time", now) if forward > 0 else None
    if ended < created or (answered is not None and not created <= answered <= ended):
        raise EventError(
            "invalid_time",
            "The summary's times are out of order (create ≤ talk ≤ end).",
            {"field": "end_time"},
        )
    src, dst = _mango_parties(data)
    if direction == merge.OUTGOING:
        external, operator = _text(dst, "number", limit=MAX_NUMBER), _text(src, "extension")
    elif direction == merge.INCOMING:
        external, operator = _text(src, "number", limit=MAX_NUMBER), _text(dst, "extension")
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
    number, token = _external(external, tokens)
    return Inbound(
        MANGO,
        entry_id,
        summary=summary,
        line=_text(data, "line_number", limit=MAX_NUMBER),
        external_number=number,
        caller_token=token,
    )


# --- Twilio ----------------------------------------------------------------------------------

_TWILIO_STATES = {
    "queued": (merge.APPEARED, 0),
    "initiated": (merge.APPEARED, 1),
    "ringing": (merge.APPEARED, 2),
    "in-progress": (merge.CONNECTED, 3),
    "answered": (merge.CONNECTED, 3),  # the StatusCallbackEvent's name, sent by some clients
    "completed": (merge.DISCONNECTED, 4),
    "busy": (merge.DISCONNECTED, 4),
    "failed": (merge.DISCONNECTED, 4),
    "no-answer": (merge.DISCONNECTED, 4),
    "canceled": (merge.DISCONNECTED, 4),
}
TWILIO_LOCATIONS = {"ivr": merge.IVR, "queue": merge.QUEUE, "operator": merge.OPERATOR}


def _twilio_time(stamp: str) -> float:
    """Twilio's RFC 2822 Timestamp. A zone the parser does not know ("Etc/UTC", sent by
    Twilio-compatible services) is UTC, never the server's local time."""
    try:
        moment = parsedate_to_datetime(stamp)
    except (TypeError, ValueError, IndexError):
        raise EventError(
            "invalid_time", "Timestamp is not an RFC 2822 date.", {"field": "Timestamp"}
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def parse_twilio_status(
    params: dict[str, str], *, location: str = "", now: float | None = None, tokens: bool = False
) -> Inbound:
    """``location`` comes from the callback URL (``?location=ivr``): which part of the call
    flow this callback reports. Without it the caller's own (parent) leg of an incoming call
    is Twilio running the TwiML (its ``in-progress`` is the platform picking up, never an
    answer), a ``<Dial>`` child is a person, and an ``outbound-api`` call is answered when the
    person called picks up."""
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
    at = check_time(_twilio_time(stamp), "Timestamp", now) if stamp else now
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
        to = _text(params, "To", limit=MAX_NUMBER)
        # An operator's mobile (a call forwarded to her phone) is a number: not kept.
        operator = "" if _looks_like_number(to) else to
        loc = TWILIO_LOCATIONS.get(location, merge.OPERATOR)
    elif raw_direction.startswith("outbound"):
        direction, operator = merge.OUTGOING, ""
        external = _text(params, "To", limit=MAX_NUMBER)
        line = _text(params, "From", limit=MAX_NUMBER)
        loc = TWILIO_LOCATIONS.get(location, merge.OPERATOR)
    else:
        direction, operator = merge.INCOMING, ""
        external = _text(params, "From", limit=MAX_NUMBER)
        line = _text(params, "To", limit=MAX_NUMBER)
        loc = TWILIO_LOCATIONS.get(location, merge.IVR)
    duration = _int(params, "CallDuration", default=0)
    event = merge.Event(
        leg_id=leg_id,
        seq=seq,
        state=state,
        at=at,
        location=loc,
        direction=direction,
        operator=operator[:MAX_NUMBER],
        disconnect_reason=raw_status if state == merge.DISCONNECTED else "",
        talk_seconds=duration if state == merge.DISCONNECTED and duration > 0 else None,
        parent=parent,
        root=not parent,
        awaits_end=True,  # the caller's own leg ends the call
    )
    number, token = _external(external, tokens)
    return Inbound(
        TWILIO,
        parent or leg_id,
        event=event,
        line=line,
        external_number=number,
        caller_token=token,
    )


# --- plain JSON (any other PBX) --------------------------------------------------------------

_JSON_LOCATIONS = {"ivr": merge.IVR, "queue": merge.QUEUE, "operator": merge.OPERATOR, None: ""}


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class PlainEvent:
    """One state change of a call, from any PBX (``POST /api/v1/telephony/events``).

    Send one event per request, as it happens; repeats and any order are fine. A call is its
    ``entry_id``; a call with several legs (transfers, parallel ringing) sends each leg's
    events with its own ``leg_id`` and a ``seq`` that grows within the leg. The caller's own
    leg has no ``leg_id`` (or the ``entry_id``): when it ends, the call has ended; without
    one, the call ends when all its legs have.
    """

    entry_id: Annotated[
        str, Field(min_length=1, max_length=MAX_ID, description="The call's id at the PBX.")
    ]
    seq: Annotated[int, Field(ge=0, le=2**53, description="Order of this event in its leg.")]
    state: Literal["appeared", "connected", "on_hold", "disconnected"]
    at: Annotated[AwareDatetime, Field(description="When it happened, ISO 8601 with an offset.")]
    leg_id: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_ID,
            description="The leg's id; the caller's own if omitted.",
        ),
    ] = None
    direction: Literal["incoming", "outgoing", "internal"] | None = None
    line: Annotated[
        str | None, Field(max_length=64, description="The number or name of the line.")
    ] = None
    caller: Annotated[
        str | None,
        Field(
            max_length=MAX_NUMBER,
            description="The outside party's number (the caller, or who was called). Never "
            "stored: it is turned into a keyed hash and a region, then dropped.",
        ),
    ] = None
    caller_region: Annotated[
        str | None,
        Field(max_length=10, description="ISO 3166-2 region if the PBX knows it (IVR choice)."),
    ] = None
    location: Annotated[
        Literal["ivr", "queue", "operator"] | None,
        Field(
            description="Where the call is. 'connected' counts as answered only at an "
            "operator (or when not given)."
        ),
    ] = None
    operator: Annotated[
        str | None, Field(max_length=MAX_NUMBER, description="Extension or login.")
    ] = None
    operator_group: Annotated[str | None, Field(max_length=MAX_TEXT)] = None
    disconnect_reason: Annotated[str | None, Field(max_length=20)] = None
    talk_seconds: Annotated[
        int | None,
        Field(ge=0, le=86400, description="On 'disconnected': the talk time, if the PBX says."),
    ] = None


PLAIN_EVENT = TypeAdapter(PlainEvent)


def plain_event_errors(exc: ValidationError) -> list[dict[str, Any]]:
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    return [{"loc": [str(x) for x in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]


def load_plain_event(data: bytes | str | dict) -> PlainEvent:
    """A `PlainEvent` from the webhook's body (or a replayed record), or an EventError."""
    try:
        if isinstance(data, dict):
            return PLAIN_EVENT.validate_python(data)
        return PLAIN_EVENT.validate_json(data)
    except ValidationError as exc:
        details = plain_event_errors(exc)
        if any(e["type"] == "json_invalid" for e in details):
            raise EventError("bad_json", "The body is not valid JSON.", status=400) from None
        raise EventError(
            "validation_error", "The event does not match the schema.", details
        ) from None


def from_plain_json(payload: PlainEvent) -> Inbound:
    at: datetime = payload.at
    check_time(at.timestamp(), "at")
    region = (payload.caller_region or "").strip()
    if region and not is_region_code(region):
        raise EventError(
            "invalid_field",
            "caller_region must be an ISO 3166-2 code such as RU-MOW or KG-GB.",
            {"field": "caller_region"},
        )
    leg_id = payload.leg_id or payload.entry_id
    event = merge.Event(
        leg_id=leg_id,
        seq=payload.seq,
        state=payload.state,
        at=at.timestamp(),
        location=_JSON_LOCATIONS[payload.location],
        direction=payload.direction or "",
        operator=payload.operator or "",
        operator_group=payload.operator_group or "",
        disconnect_reason=payload.disconnect_reason or "",
        talk_seconds=payload.talk_seconds,
        root=leg_id == payload.entry_id,
    )
    return Inbound(
        JSON,
        payload.entry_id,
        event=event,
        line=payload.line or "",
        external_number=phone_part(payload.caller or ""),
        caller_region=region,
    )
