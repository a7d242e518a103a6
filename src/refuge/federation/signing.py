"""Signed messages between instances (SPEC C12): pure functions, no database.

A message is an *envelope* (a JSON object) and an Ed25519 signature over its canonical form:
keys sorted, no whitespace, UTF-8, no NaN or infinity. The envelope names the sender's and the
recipient's public keys (so a message cannot be replayed to another instance), a message id
(the receiver keeps each id once: a retry after a lost answer is not acted on twice), the time
it was signed, a random nonce (each envelope is accepted once), the kind and the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
ENVELOPE_FIELDS = frozenset(
    {"v", "id", "sender", "sender_key", "recipient_key", "sent_at", "nonce", "kind", "body"}
)


class BadMessage(Exception):
    """Why a message is refused: ``code`` for machines, ``message`` for the log and the peer."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def canonical(value: Any) -> bytes:
    """The one byte form a signature covers."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise BadMessage("bad_message", "The message is not plain JSON.") from exc
    return text.encode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, length: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("not base64") from exc
    if length is not None and len(raw) != length:
        raise ValueError(f"expected {length} bytes")
    return raw


def private_key(seed_b64: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(unb64(seed_b64, length=32))


def public_key_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


def parse_public_key(text: str) -> str:
    """The public key as we keep it (base64 of its 32 raw bytes), or ValueError."""
    raw = unb64(text.strip(), length=32)
    Ed25519PublicKey.from_public_bytes(raw)
    return b64(raw)


def new_seed() -> str:
    return b64(secrets.token_bytes(32))


@dataclass(frozen=True)
class Envelope:
    id: str
    sender: str
    sender_key: str
    recipient_key: str
    sent_at: datetime
    nonce: str
    kind: str
    body: dict[str, Any]


def seal(
    key: Ed25519PrivateKey,
    *,
    sender: str,
    recipient_key: str,
    kind: str,
    body: dict[str, Any],
    message_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """A signed message, ready to send as JSON: ``{"envelope": {...}, "signature": "..."}``."""
    envelope = {
        "v": VERSION,
        "id": message_id or str(uuid.uuid4()),
        "sender": sender,
        "sender_key": public_key_text(key),
        "recipient_key": recipient_key,
        "sent_at": int((at or datetime.now(UTC)).timestamp()),
        "nonce": b64(secrets.token_bytes(16)),
        "kind": kind,
        "body": body,
    }
    return {"envelope": envelope, "signature": b64(key.sign(canonical(envelope)))}


def open_sealed(
    message: Any, *, public_key: str, recipient_key: str, now: datetime, skew_seconds: int
) -> Envelope:
    """Check one message against the sender's key (found by its ``sender_key`` by the caller):
    shape, signature, recipient, time. Replay (nonce, id) is the caller's, it needs storage."""
    if not isinstance(message, dict) or set(message) != {"envelope", "signature"}:
        raise BadMessage("bad_message", "A message is an envelope and a signature.")
    envelope, signature = message["envelope"], message["signature"]
    if not isinstance(envelope, dict) or set(envelope) != ENVELOPE_FIELDS:
        raise BadMessage("bad_message", "The envelope does not have the expected fields.")
    try:
        sig = unb64(signature, length=64)
        raw_key = unb64(public_key, length=32)
    except (ValueError, TypeError) as exc:
        raise BadMessage("bad_signature", "The signature is not valid.", 403) from exc
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(sig, canonical(envelope))
    except InvalidSignature as exc:
        raise BadMessage("bad_signature", "The signature is not valid.", 403) from exc
    if envelope["v"] != VERSION:
        raise BadMessage("bad_message", "Unknown message version.")
    if envelope["sender_key"] != public_key:
        raise BadMessage("bad_signature", "The envelope names another sender key.", 403)
    if envelope["recipient_key"] != recipient_key:
        raise BadMessage("wrong_recipient", "The message is for another instance.", 403)
    sent = envelope["sent_at"]
    if not isinstance(sent, int) or isinstance(sent, bool):
        raise BadMessage("bad_message", "sent_at is seconds since the epoch.")
    if abs(now.timestamp() - sent) > skew_seconds:
        raise BadMessage("stale", "The message is too old or from the future.", 401)
    for name in ("id", "sender", "nonce", "kind"):
        if not isinstance(envelope[name], str) or not 0 < len(envelope[name]) <= 100:
            raise BadMessage("bad_message", f"{name} must be a short text.")
    if not isinstance(envelope["body"], dict):
        raise BadMessage("bad_message", "The body is a JSON object.")
    try:
        message_id = str(uuid.UUID(envelope["id"]))
    except ValueError as exc:
        raise BadMessage("bad_message", "The id is a UUID.") from exc
    return Envelope(
        id=message_id,
        sender=envelope["sender"],
        sender_key=envelope["sender_key"],
        recipient_key=envelope["recipient_key"],
        sent_at=datetime.fromtimestamp(sent, UTC),
        nonce=envelope["nonce"],
        kind=envelope["kind"],
        body=envelope["body"],
    )
