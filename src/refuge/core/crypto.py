"""Envelope encryption of personal fields, blind indexes, and crypto-shredding.

- Each person has a data key (256-bit, random), stored only wrapped by a master key
  (AES-256-GCM, the master key id kept beside it so master keys can rotate).
- A field value is encrypted with AES-256-GCM under the person's data key. The associated
  data binds the ciphertext to its model, field and row, so a value copied into another row
  or column does not decrypt.
- Destroying the wrapped data key ("shredding") makes every field of that person unreadable.
- Exact look-ups on encrypted values use a keyed HMAC ("blind index"), never the value.

REFUGE_MASTER_KEY holds one or more comma-separated ``kid:base64key`` entries; the first is
used to wrap new keys, the others only to unwrap (for rotation; see `rotate-master-key`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "rfe1."  # noqa: S105 - a format marker, not a secret
_NONCE = 12


class CryptoError(Exception):
    """A value cannot be decrypted: wrong key, unknown master key id, or tampered data."""


class DataKeyDestroyed(CryptoError):
    """The person's data key was shredded: the data is gone for good, by design."""


@dataclass(frozen=True)
class MasterKeys:
    active_id: str
    keys: dict[str, bytes]


def _decode_key(text: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{name} is not valid base64.") from exc
    if len(raw) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes (256 bits), not {len(raw)}.")
    return raw


def parse_master_keys(value: str | None) -> MasterKeys:
    if not value:
        raise ImproperlyConfigured("REFUGE_MASTER_KEY is not set.")
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        kid, sep, b64 = entry.partition(":")
        if not sep:  # a bare key gets the id "k1"
            kid, b64 = "k1", entry
        if not kid or len(kid) > 32 or kid in keys:
            raise ImproperlyConfigured(
                f"REFUGE_MASTER_KEY has a missing, long or repeated key id {kid!r}."
            )
        keys[kid] = _decode_key(b64, f"REFUGE_MASTER_KEY ({kid})")
        order.append(kid)
    if not order:
        raise ImproperlyConfigured("REFUGE_MASTER_KEY is empty.")
    return MasterKeys(active_id=order[0], keys=keys)


@lru_cache(maxsize=1)
def master_keys() -> MasterKeys:
    return parse_master_keys(settings.REFUGE_MASTER_KEY)


@lru_cache(maxsize=1)
def _blind_key() -> bytes:
    value = settings.REFUGE_BLIND_INDEX_KEY
    if not value:
        raise ImproperlyConfigured("REFUGE_BLIND_INDEX_KEY is not set.")
    return _decode_key(value, "REFUGE_BLIND_INDEX_KEY")


def derived_key(purpose: str) -> bytes:
    """A stable key for one purpose (e.g. the audit chain), derived from the blind-index key.

    The blind-index key can never rotate without re-indexing, so keys derived from it are
    stable for the life of the installation.
    """
    return hmac.new(_blind_key(), b"refuge-derive:" + purpose.encode(), hashlib.sha256).digest()


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC-SHA256 of a normalised value; ``purpose`` separates domains (phone, ...)."""
    msg = purpose.encode() + b"\x00" + value.strip().casefold().encode()
    return hmac.new(_blind_key(), msg, hashlib.sha256).hexdigest()


# --- data keys -------------------------------------------------------------------------------


def wrap_data_key(raw: bytes, keys: MasterKeys | None = None) -> tuple[str, bytes]:
    keys = keys or master_keys()
    nonce = os.urandom(_NONCE)
    kid = keys.active_id
    return kid, nonce + AESGCM(keys.keys[kid]).encrypt(
        nonce, raw, b"refuge-data-key:" + kid.encode()
    )


def unwrap_data_key(kid: str, blob: bytes, keys: MasterKeys | None = None) -> bytes:
    keys = keys or master_keys()
    if kid not in keys.keys:
        raise CryptoError(
            f"The data key is wrapped by master key {kid!r}, which is not in REFUGE_MASTER_KEY. "
            "Add the old key after the current one (see docs/deployment.md, key rotation)."
        )
    blob = bytes(blob)
    try:
        return AESGCM(keys.keys[kid]).decrypt(
            blob[:_NONCE], blob[_NONCE:], b"refuge-data-key:" + kid.encode()
        )
    except InvalidTag as exc:
        raise CryptoError(
            f"Master key {kid!r} does not open this data key: wrong key or tampered row."
        ) from exc


class _KeyCache:
    """Unwrapped data keys kept in memory for a short time, so lists do not unwrap per row.

    A shredded key is dropped here at once; other processes drop theirs within the TTL.
    """

    def __init__(self, size: int = 4096, ttl: float = 300.0) -> None:
        self.size, self.ttl = size, ttl
        self._data: OrderedDict[uuid.UUID, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key_id: uuid.UUID) -> bytes | None:
        with self._lock:
            hit = self._data.get(key_id)
            if hit is None or hit[0] < time.monotonic():
                self._data.pop(key_id, None)
                return None
            self._data.move_to_end(key_id)
            return hit[1]

    def put(self, key_id: uuid.UUID, raw: bytes) -> None:
        with self._lock:
            self._data[key_id] = (time.monotonic() + self.ttl, raw)
            self._data.move_to_end(key_id)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def drop(self, key_id: uuid.UUID) -> None:
        with self._lock:
            self._data.pop(key_id, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


key_cache = _KeyCache()


def _unwrap_row(row) -> bytes:
    if row.wrapped is None or row.destroyed_at is not None:
        raise DataKeyDestroyed(f"Data key {row.id} was destroyed; this person's data is erased.")
    raw = unwrap_data_key(row.master_key_id, row.wrapped)
    key_cache.put(row.id, raw)
    return raw


def data_key_bytes(key_id: uuid.UUID) -> bytes:
    from refuge.core.models import DataKey

    raw = key_cache.get(key_id)
    if raw is not None:
        return raw
    try:
        row = DataKey.objects.get(pk=key_id)
    except DataKey.DoesNotExist as exc:
        raise DataKeyDestroyed(
            f"Data key {key_id} does not exist; this person's data is erased."
        ) from exc
    return _unwrap_row(row)


def prefetch_data_keys(key_ids: Iterable[uuid.UUID]) -> None:
    """Unwrap many data keys with one query (lists of people call this first)."""
    from refuge.core.models import DataKey

    wanted = {k for k in key_ids if k is not None and key_cache.get(k) is None}
    if not wanted:
        return
    for row in DataKey.objects.filter(
        pk__in=wanted, destroyed_at__isnull=True, wrapped__isnull=False
    ):
        _unwrap_row(row)


# --- values ----------------------------------------------------------------------------------


def encrypt_value(key_id: uuid.UUID, plaintext: str, aad: bytes) -> str:
    return encrypt_with_key(key_id, data_key_bytes(key_id), plaintext, aad)


def encrypt_with_key(key_id: uuid.UUID, raw: bytes, plaintext: str, aad: bytes) -> str:
    """Encrypt with an already unwrapped data key (data migrations unwrap with their own
    historical models, so they never depend on today's DataKey model)."""
    nonce = os.urandom(_NONCE)
    body = key_id.bytes + nonce + AESGCM(raw).encrypt(nonce, plaintext.encode("utf-8"), aad)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(body).decode("ascii")


def token_key_id(token: str) -> uuid.UUID:
    if not token.startswith(TOKEN_PREFIX):
        raise CryptoError("This value is not an encrypted Refuge token.")
    try:
        body = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :])
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("The encrypted value is damaged (not base64).") from exc
    return uuid.UUID(bytes=body[:16])


def decrypt_value(token: str, aad: bytes) -> str:
    key_id = token_key_id(token)
    body = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :])
    raw = data_key_bytes(key_id)
    nonce, ct = body[16 : 16 + _NONCE], body[16 + _NONCE :]
    try:
        return AESGCM(raw).decrypt(nonce, ct, aad).decode("utf-8")
    except InvalidTag as exc:
        raise CryptoError(
            "An encrypted value does not match its key or place: it was altered or moved."
        ) from exc


# --- network-level sealing (confidential facilities' locations) ------------------------------

NETWORK_PREFIX = "rfn1."


def _network_key(kid: str, purpose: str, keys: MasterKeys | None = None) -> bytes:
    keys = keys or master_keys()
    if kid not in keys.keys:
        raise CryptoError(
            f"A sealed value names master key {kid!r}, which is not in REFUGE_MASTER_KEY."
        )
    return hmac.new(keys.keys[kid], b"refuge-network:" + purpose.encode(), hashlib.sha256).digest()


def seal_network(plaintext: str, *, purpose: str, aad: bytes) -> str:
    """Encrypt with a network-level key derived from the active master key (no per-person key:
    a confidential shelter's address belongs to the network, not to one person). The master
    key id travels in the token, so rotation keeps old tokens readable."""
    kid = master_keys().active_id
    nonce = os.urandom(_NONCE)
    body = nonce + AESGCM(_network_key(kid, purpose)).encrypt(nonce, plaintext.encode(), aad)
    return f"{NETWORK_PREFIX}{kid}.{base64.urlsafe_b64encode(body).decode('ascii')}"


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(NETWORK_PREFIX)


def unseal_network(token: str, *, purpose: str, aad: bytes) -> str:
    kid, sep, b64 = token[len(NETWORK_PREFIX) :].partition(".")
    if not sep:
        raise CryptoError("A sealed value is damaged (no key id).")
    try:
        body = base64.urlsafe_b64decode(b64)
        return (
            AESGCM(_network_key(kid, purpose))
            .decrypt(body[:_NONCE], body[_NONCE:], aad)
            .decode("utf-8")
        )
    except (binascii.Error, ValueError, InvalidTag) as exc:
        raise CryptoError("A sealed value does not match its key or column: altered.") from exc
