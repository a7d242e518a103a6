"""Sealing a case record for one peer (issue 20, item 4): pure functions, no database.

Each instance has an X25519 key pair beside its Ed25519 signing key. A record is encrypted
with a fresh random data key (AES-256-GCM), and that data key is wrapped for the peer's X25519
public key (ECIES: an ephemeral X25519 key, HKDF-SHA256 over the shared secret, AES-256-GCM).
Only the holder of the peer's private sealing key can open it; the sender cannot read it back.

The associated data binds both layers to the referral's id and to the recipient's public key,
so a sealed record cannot be moved to another referral or presented to another instance. The
sealed form carries no authentication of the sender on its own (anyone can seal to a public
key): it travels inside an Ed25519-signed envelope, and the receiver trusts it for that.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .signing import b64, unb64

ALGORITHM = "X25519-HKDF-SHA256-A256GCM"
SEALED_FIELDS = frozenset({"alg", "epk", "wrapped_key", "ciphertext"})
_NONCE = 12
_INFO = b"refuge-federation-record-key-v1"


class SealError(Exception):
    """A sealed record that cannot be opened: not for this key, altered, or malformed."""


def private_key(text: str) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(unb64(text, length=32))


def public_key_text(key: X25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


def parse_public_key(text: str) -> str:
    """The sealing public key as we keep it (base64 of 32 raw bytes), or ValueError."""
    raw = unb64(text.strip(), length=32)
    X25519PublicKey.from_public_bytes(raw)
    if raw == bytes(32):
        raise ValueError("an all-zero key")
    return b64(raw)


def _kek(shared: bytes, epk: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + recipient, info=_INFO).derive(
        shared
    )


def seal(plaintext: bytes, *, recipient_key: str, aad: bytes) -> dict[str, str]:
    """Encrypt ``plaintext`` so that only the holder of ``recipient_key``'s private half opens it."""
    recipient = unb64(recipient_key, length=32)
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)
    ephemeral = X25519PrivateKey.generate()
    epk = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    wrap_nonce = os.urandom(_NONCE)
    wrapped = wrap_nonce + AESGCM(_kek(shared, epk, recipient)).encrypt(
        wrap_nonce, data_key, b"refuge-record-key:" + aad
    )
    return {
        "alg": ALGORITHM,
        "epk": b64(epk),
        "wrapped_key": b64(wrapped),
        "ciphertext": b64(ciphertext),
    }


def open_sealed(sealed: Any, *, key: X25519PrivateKey, aad: bytes) -> bytes:
    """The plaintext of a record sealed for ``key``; SealError for anything else."""
    if not isinstance(sealed, dict) or set(sealed) != SEALED_FIELDS:
        raise SealError("A sealed record has the fields alg, epk, wrapped_key and ciphertext.")
    if sealed["alg"] != ALGORITHM:
        raise SealError("Unknown sealing algorithm.")
    try:
        epk = unb64(sealed["epk"], length=32)
        wrapped = unb64(sealed["wrapped_key"])
        ciphertext = unb64(sealed["ciphertext"])
    except (ValueError, TypeError) as exc:
        raise SealError("A sealed record is not base64.") from exc
    if len(wrapped) != _NONCE + 32 + 16 or len(ciphertext) < _NONCE + 16:
        raise SealError("A sealed record is truncated.")
    recipient = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    try:
        shared = key.exchange(X25519PublicKey.from_public_bytes(epk))
        data_key = AESGCM(_kek(shared, epk, recipient)).decrypt(
            wrapped[:_NONCE], wrapped[_NONCE:], b"refuge-record-key:" + aad
        )
        return AESGCM(data_key).decrypt(ciphertext[:_NONCE], ciphertext[_NONCE:], aad)
    except (InvalidTag, ValueError) as exc:
        raise SealError("The record is not for this key, or it was altered.") from exc
