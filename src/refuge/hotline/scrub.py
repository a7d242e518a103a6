"""Phone numbers out of a PBX event that could not be read, before it is kept in quarantine.

Pure functions: the caller passes ``token(number)``, which turns a number into what a call
would have kept of it (its keyed hash and region, see services), and ``keep(number)``, true
for the organisations' own lines (public numbers, stored as lines anyway).

A readable event (a JSON object, Twilio's parameters) is walked value by value: identifiers,
times and counters are left alone (they are needed to replay it); any other value that is a
phone number, or a SIP/tel address whose user part is one, is replaced (a SIP login such as
"sip:operator02@vpbx400212345.mangosip.ru" is not a number and stays). Text that is not
JSON is scanned for anything shaped like a number of 7 or more digits, times included: such
an event cannot be replayed as it is anyway, and no number may be stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .adapters import phone_part

# Fields whose values are identifiers, times or counters, never phone numbers.
NOT_NUMBERS = frozenset(
    {
        # Mango
        "entry_id",
        "call_id",
        "taken_from_call_id",
        "seq",
        "timestamp",
        "create_time",
        "forward_time",
        "talk_time",
        "end_time",
        "call_direction",
        "entry_result",
        "disconnect_reason",
        "command_id",
        "task_id",
        "sip_call_id",
        "recording_id",
        "product_id",
        "user_id",
        "type",
        # Twilio
        "CallSid",
        "ParentCallSid",
        "AccountSid",
        "ApplicationSid",
        "SequenceNumber",
        "CallDuration",
        "Duration",
        "Timestamp",
        "ApiVersion",
        "SipResponseCode",
        "QueueTime",
    }
)

_NUMBERISH = re.compile(r"\+?\d[\d\s().\-]{5,}\d")


def is_number(value: Any) -> bool:
    """A phone number, or an address around one ("sip:79161234567@…", "tel:+7…")."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return False
    part = phone_part(str(value))
    digits = sum(ch.isdigit() for ch in part)
    return digits >= 7 and all(ch.isdigit() or ch in "+-() ." for ch in part)


def scrub_value(
    value: Any, token: Callable[[str], str], keep: Callable[[str], bool], key: str = ""
) -> Any:
    if isinstance(value, dict):
        return {k: scrub_value(v, token, keep, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v, token, keep, key) for v in value]
    if key in NOT_NUMBERS or not is_number(value):
        return value
    text = str(value)
    return text if keep(phone_part(text)) else token(phone_part(text))


def scrub_text(text: str, token: Callable[[str], str]) -> str:
    """Every run shaped like a number of 7 or more digits in free text, replaced."""

    def replace(match: re.Match) -> str:
        found = match.group(0)
        return token(found) if sum(ch.isdigit() for ch in found) >= 7 else found

    return _NUMBERISH.sub(replace, text)


def numbers_in(value: Any, key: str = "") -> list[str]:
    """The phone numbers `scrub_value` would consider (to look up the known lines at once)."""
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in numbers_in(v, str(k))]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v, key)]
    if key not in NOT_NUMBERS and is_number(value):
        return [phone_part(str(value))]
    return []
