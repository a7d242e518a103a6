"""A trusted peer and its stored snapshot, without a peer instance running: for pages that show
peers' facilities (the vacancy board's other networks)."""

from __future__ import annotations

import uuid

from django.utils import timezone

from refuge.federation import directory, services, signing
from refuge.federation.models import Peer


def _key() -> str:
    return signing.public_key_text(signing.private_key(signing.new_seed()))


def peer_item(
    name: str,
    *,
    region: str,
    country: str,
    rules: dict | None = None,
    family: tuple[int, ...] = (4,),
    free_family: tuple[int, ...] = (4,),
    dorm: int = 0,
    free_dorm: int = 0,
    status: str = "reported",
    as_of=None,
    kind: str = "crisis_centre_shelter",
) -> dict:
    """One facility of a peer's snapshot, as a peer sends it (refuge.federation.directory)."""
    known = status != "unknown"
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "kind": kind,
        "region": region,
        "country": country,
        "rules": {"children_accepted": True, **(rules or {})},
        "services": [],
        "capacity": {
            "family_rooms": list(family),
            "dorm_beds": dorm,
            "free_family_rooms": list(free_family) if known else None,
            "free_dorm_beds": free_dorm if known else None,
        },
        "availability": status,
        "as_of": as_of.isoformat() if as_of and known else None,
    }


def trusted_peer(name: str, items: list[dict], *, at=None) -> Peer:
    """A peer trusted from the console, with this snapshot stored as fetched ``at``."""
    at = at or timezone.now()
    peer = services.peer_trust(
        by=None, name=name, base_url=f"https://{name}.example.org", public_key=_key()
    )
    directory.store_snapshot(
        peer=peer, body={"generated_at": at.isoformat(), "facilities": items}, at=at
    )
    return peer
