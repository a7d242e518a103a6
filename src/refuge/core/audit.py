"""The audit log: append-only, each event chained to the previous one by an HMAC.

The MAC key is derived from the blind-index key, so someone holding only a copy of the
database cannot rewrite the chain and recompute it. Appends lock the single AuditHead row, so
concurrent writers queue rather than fork the chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from refuge.core import crypto
from refuge.core.models import AuditEvent, AuditHead

if TYPE_CHECKING:
    from refuge.core.access import Principal

GENESIS = "0" * 64

# What a principal under break-glass may cause to be written: reads, signing out, and the
# break-glass session's own events. Every state change writes an audit event in its own
# transaction (docs/architecture.md), so refusing the event refuses the change.
BREAK_GLASS_ACTIONS = frozenset({"read", "read_list", "facility.address_read", "auth.sign_out"})


class BreakGlassReadOnly(PermissionDenied):
    """A change attempted under break-glass, which only reads."""


def _mac_key() -> bytes:
    return crypto.derived_key("audit-chain-v1")


def _canonical(event: AuditEvent | dict[str, Any]) -> bytes:
    get = event.get if isinstance(event, dict) else lambda k: getattr(event, k)
    at: datetime = get("at")
    body = {
        "seq": get("seq"),
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": get("actor"),
        "actor_role": get("actor_role"),
        "organisation_slug": get("organisation_slug"),
        "action": get("action"),
        "target_type": get("target_type"),
        "target_id": get("target_id"),
        "target_org_slug": get("target_org_slug"),
        "details": get("details"),
        "ip": get("ip"),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_mac(prev_mac: str, event: AuditEvent | dict[str, Any]) -> str:
    return hmac.new(
        _mac_key(), prev_mac.encode() + b"|" + _canonical(event), hashlib.sha256
    ).hexdigest()


def record(
    *,
    actor: Principal | None,
    action: str,
    target_type: str = "",
    target_id: Any = "",
    target_org_slug: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records.

    An actor under break-glass is written as herself (her own role and organisation), with the
    break-glass id in ``details``; she may only read (`BREAK_GLASS_ACTIONS`).
    """
    scope = actor.break_glass if actor is not None else None
    if scope is not None:
        if action not in BREAK_GLASS_ACTIONS and not action.startswith("break_glass."):
            raise BreakGlassReadOnly(action)
        details = {**(details or {}), "break_glass": str(scope.id)}
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:  # a fresh or flushed database; a missing head with events fails on seq
            AuditHead.objects.get_or_create(pk=1)
            head = AuditHead.objects.select_for_update().get(pk=1)
        now = timezone.now()
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            # Truncated to milliseconds: identical on SQLite and PostgreSQL after a round trip.
            "at": now.replace(microsecond=now.microsecond // 1000 * 1000),
            "actor": actor.name if actor else "system",
            "actor_role": (scope.own_role if scope else actor.role or "") if actor else "",
            "organisation_slug": (
                (scope.own_org_slug if scope else actor.org_slug or "") if actor else ""
            ),
            "action": action,
            "target_type": target_type,
            "target_id": str(target_id) if target_id != "" else "",
            "target_org_slug": target_org_slug or "",
            "details": details or {},
            "ip": (actor.ip or "") if actor else "",
        }
        fields["prev_mac"] = head.mac
        fields["mac"] = compute_mac(head.mac, fields)
        event = AuditEvent.objects.create(**fields)
        AuditHead.objects.filter(pk=1).update(seq=fields["seq"], mac=fields["mac"])
        return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(batch: int = 5000) -> VerifyResult:
    """Walk the whole chain; report the first event whose link or MAC does not match."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        events = list(AuditEvent.objects.filter(seq__gt=last_seq).order_by("seq")[:batch])
        if not events:
            break
        for ev in events:
            if ev.seq != expected_seq:
                return VerifyResult(
                    False, checked, expected_seq, f"event {expected_seq} is missing"
                )
            if ev.prev_mac != prev:
                return VerifyResult(
                    False, checked, ev.seq, "the link to the previous event is broken"
                )
            if not hmac.compare_digest(compute_mac(prev, ev), ev.mac):
                return VerifyResult(False, checked, ev.seq, "the event's content was changed")
            prev, expected_seq, last_seq = ev.mac, expected_seq + 1, ev.seq
            checked += 1
    head = AuditHead.objects.filter(pk=1).first() or AuditHead(seq=0, mac=GENESIS)
    if head.seq != last_seq or head.mac != prev:
        return VerifyResult(False, checked, last_seq + 1, "events after the last one were removed")
    return VerifyResult(True, checked)
