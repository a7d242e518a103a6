"""Canonical signing: any change to a signed message is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.federation import signing

KEY = signing.private_key(signing.new_seed())
OTHER = signing.private_key(signing.new_seed())
RECIPIENT = signing.public_key_text(OTHER)
NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


def _open(message, *, now=NOW, recipient=RECIPIENT, key=None):
    return signing.open_sealed(
        message,
        public_key=key or signing.public_key_text(KEY),
        recipient_key=recipient,
        now=now,
        skew_seconds=300,
    )


def _message(body=None, at=NOW):
    return signing.seal(
        KEY, sender="moscow", recipient_key=RECIPIENT, kind="hello", body=body or {}, at=at
    )


def test_canonical_form_sorts_keys_and_has_no_whitespace():
    assert signing.canonical({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()


def test_canonical_form_refuses_nan():
    with pytest.raises(signing.BadMessage):
        signing.canonical({"a": float("nan")})


def test_a_sealed_message_opens_with_its_fields():
    env = _open(_message({"x": "ё"}))
    assert (env.sender, env.kind, env.body) == ("moscow", "hello", {"x": "ё"})


def test_key_order_on_the_wire_does_not_matter():
    message = _message({"b": 2, "a": 1})
    shuffled = json.loads(json.dumps(message, sort_keys=False))
    shuffled["envelope"] = dict(reversed(list(shuffled["envelope"].items())))
    assert _open(shuffled).body == {"a": 1, "b": 2}


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_any_altered_byte_is_refused(data):
    message = _message({"free_beds": 3, "region": "KG-GB"})
    raw = bytearray(signing.canonical(message))
    i = data.draw(st.integers(0, len(raw) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[i]))
    raw[i] = new
    try:
        altered = json.loads(bytes(raw))
    except (ValueError, UnicodeDecodeError):
        return  # no longer JSON: refused before any signature is looked at
    if altered == message:
        return  # an escape spelled differently: the same message, e.g. \u0041 for A
    with pytest.raises(signing.BadMessage):
        _open(altered)


def test_another_key_signature_is_refused():
    message = _message()
    message["signature"] = signing.b64(OTHER.sign(signing.canonical(message["envelope"])))
    with pytest.raises(signing.BadMessage) as exc:
        _open(message)
    assert exc.value.code == "bad_signature"


def test_a_message_for_another_instance_is_refused():
    with pytest.raises(signing.BadMessage) as exc:
        _open(_message(), recipient=signing.public_key_text(KEY))
    assert exc.value.code == "wrong_recipient"


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_message_outside_five_minutes_is_stale(minutes):
    with pytest.raises(signing.BadMessage) as exc:
        _open(_message(at=NOW + timedelta(minutes=minutes)))
    assert exc.value.code == "stale"


def test_within_five_minutes_is_accepted():
    assert _open(_message(at=NOW - timedelta(minutes=4, seconds=50))).kind == "hello"


def test_extra_fields_are_refused():
    message = _message()
    message["envelope"]["extra"] = 1
    with pytest.raises(signing.BadMessage):
        _open(message)


def test_public_keys_are_checked():
    with pytest.raises(ValueError):
        signing.parse_public_key("not a key")
    with pytest.raises(ValueError):
        signing.parse_public_key(signing.b64(b"x" * 31))
