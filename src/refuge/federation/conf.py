"""This instance's federation identity, from settings (REFUGE_FEDERATION_*)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import sealing, signing


class FederationDisabled(Exception):
    """Federation is off here: no REFUGE_FEDERATION_KEY."""


@dataclass(frozen=True)
class Identity:
    name: str
    base_url: str
    key: Ed25519PrivateKey
    public_key: str
    # X25519, for case records sealed to us (REFUGE_FEDERATION_SEALING_KEY). Without it this
    # instance takes offers and answers but cannot receive a record: peers are told so.
    sealing_key: X25519PrivateKey | None = None
    sealing_public_key: str = ""


def enabled() -> bool:
    return bool(getattr(settings, "REFUGE_FEDERATION_KEY", None))


def identity() -> Identity:
    seed = getattr(settings, "REFUGE_FEDERATION_KEY", None)
    if not seed:
        raise FederationDisabled(
            "Federation is off: this instance has no REFUGE_FEDERATION_KEY (docs/deployment.md)."
        )
    return _identity(
        seed,
        settings.REFUGE_FEDERATION_NAME,
        settings.REFUGE_BASE_URL,
        getattr(settings, "REFUGE_FEDERATION_SEALING_KEY", None) or "",
    )


@lru_cache(maxsize=4)
def _identity(seed: str, name: str, base_url: str, sealing_seed: str = "") -> Identity:
    try:
        key = signing.private_key(seed)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "REFUGE_FEDERATION_KEY must be base64 of 32 random bytes (an Ed25519 seed)."
        ) from exc
    sealing_key = None
    if sealing_seed:
        try:
            sealing_key = sealing.private_key(sealing_seed)
        except ValueError as exc:
            raise ImproperlyConfigured(
                "REFUGE_FEDERATION_SEALING_KEY must be base64 of 32 random bytes (X25519)."
            ) from exc
    return Identity(
        name=name,
        base_url=base_url,
        key=key,
        public_key=signing.public_key_text(key),
        sealing_key=sealing_key,
        sealing_public_key=sealing.public_key_text(sealing_key) if sealing_key else "",
    )


def max_body_bytes() -> int:
    return settings.REFUGE_FEDERATION_MAX_BODY_BYTES


def skew_seconds() -> int:
    return settings.REFUGE_FEDERATION_CLOCK_SKEW_SECONDS
