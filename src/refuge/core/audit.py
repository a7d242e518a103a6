"""The audit log: append-only, each event chained to the previous one by an HMAC.

The MAC key is derived from the blind-index key, so someone holding only a copy of the
database cannot rewrite the chain and recompute it. Appends lock the single AuditHead row, so
concurrent writers queue rather than fork the chain.

The tail is guarded three ways (issue 14, M2): the head carries its own MAC (``seal``), so it
cannot be moved back to an earlier event without the key; triggers refuse TRUNCATE and a head
that goes back (migration 0004); and signed checkpoints written outside the database
(`checkpoint_write`, a file under REFUGE_HOME and the log) let `verify` notice when events that
a checkpoint vouched for are gone, even if someone with the key rewrote the head.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from refuge.core import crypto, private_files
from refuge.core.models import AuditEvent, AuditHead

if TYPE_CHECKING:
    from refuge.core.access import Principal

GENESIS = "0" * 64
log = logging.getLogger("refuge.audit")

# What a principal under break-glass may cause to be written: reads, signing out, and the
# break-glass session's own events. Every state change writes an audit event in its own
# transaction (docs/architecture.md), so refusing the event refuses the change.
BREAK_GLASS_ACTIONS = frozenset({"read", "read_list", "facility.address_read", "auth.sign_out"})


class BreakGlassReadOnly(PermissionDenied):
    """A change attempted under break-glass, which only reads."""


def _mac_key() -> bytes:
    return crypto.derived_key("audit-chain-v1")


def head_seal(seq: int, mac: str) -> str:
    """The head's own MAC: moving the head back to an earlier event (after deleting the newest
    ones) needs the key, not just the earlier event's MAC, which anyone can read in the table."""
    msg = f"{int(seq)}|{mac}".encode()
    return hmac.new(crypto.derived_key("audit-head-v1"), msg, hashlib.sha256).hexdigest()


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
        AuditHead.objects.filter(pk=1).update(
            seq=fields["seq"], mac=fields["mac"], seal=head_seal(fields["seq"], fields["mac"])
        )
        return event


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""
    notes: tuple[str, ...] = field(default=())


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
    head = AuditHead.objects.filter(pk=1).first()
    if head is None:  # a fresh (or flushed) database; the checkpoints catch a deleted head
        head = AuditHead(seq=0, mac=GENESIS, seal=head_seal(0, GENESIS))
    if head.seq != last_seq or head.mac != prev:
        return VerifyResult(False, checked, last_seq + 1, "events after the last one were removed")
    if not hmac.compare_digest(head.seal or "", head_seal(head.seq, head.mac)):
        return VerifyResult(
            False,
            checked,
            last_seq + 1,
            "the head was moved or rewritten without the key (events after the last one were "
            "probably removed)",
        )
    return VerifyResult(True, checked)


# --- checkpoints outside the database -----------------------------------------------------------


class CheckpointError(Exception):
    """The log does not match what a checkpoint vouched for; nothing was written."""


@dataclass(frozen=True)
class Checkpoint:
    """One line of the checkpoint file: the head at a moment, signed with a derived key.

    ``kind`` is "scheduled", "manual", "backup", or "restore": a restore starts a new epoch,
    since the restored log legitimately ends before the checkpoints written after the backup.
    """

    kind: str
    seq: int
    mac: str
    at: str
    line: int = 0


def _checkpoint_body(kind: str, seq: int, mac: str, at: str) -> bytes:
    body = {"kind": kind, "seq": seq, "mac": mac, "at": at}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _checkpoint_sig(body: bytes) -> str:
    return hmac.new(crypto.derived_key("audit-checkpoint-v1"), body, hashlib.sha256).hexdigest()


def read_checkpoints() -> tuple[list[Checkpoint], list[str]]:
    """Every well-signed checkpoint in file order, and a problem for each line that is not."""
    found: list[Checkpoint] = []
    problems: list[str] = []
    for n, raw in enumerate(private_files.read_lines(settings.REFUGE_AUDIT_CHECKPOINT_FILE), 1):
        try:
            d = json.loads(raw)
            cp = Checkpoint(str(d["kind"]), int(d["seq"]), str(d["mac"]), str(d["at"]), n)
            sig = str(d["sig"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"checkpoint line {n} is damaged")
            continue
        if not hmac.compare_digest(
            sig, _checkpoint_sig(_checkpoint_body(cp.kind, cp.seq, cp.mac, cp.at))
        ):
            problems.append(f"checkpoint line {n} was not signed with the key")
            continue
        found.append(cp)
    return found, problems


def current_epoch(checkpoints: list[Checkpoint]) -> list[Checkpoint]:
    """The checkpoints since the last restore (the restore's own marker first)."""
    start = max((i for i, c in enumerate(checkpoints) if c.kind == "restore"), default=0)
    return checkpoints[start:]


def _head() -> AuditHead:
    return AuditHead.objects.filter(pk=1).first() or AuditHead(
        seq=0, mac=GENESIS, seal=head_seal(0, GENESIS)
    )


def _macs(seqs: set[int]) -> dict[int, str]:
    out = {0: GENESIS} if 0 in seqs else {}
    wanted = sorted(s for s in seqs if s > 0)
    for i in range(0, len(wanted), 500):
        out.update(AuditEvent.objects.filter(seq__in=wanted[i : i + 500]).values_list("seq", "mac"))
    return out


def compare_with_checkpoints(
    checkpoints: list[Checkpoint], head_seq: int
) -> tuple[str | None, int | None]:
    """The first way the log fails what the checkpoints vouched for: (problem, seq) or
    (None, None). Every checkpoint must still match its event, and the log must reach the
    newest one."""
    if not checkpoints:
        return None, None
    newest = checkpoints[-1]
    if newest.seq > head_seq:
        return (
            f"the checkpoint of {newest.at} vouches for event {newest.seq}, but the log ends at "
            f"event {head_seq}: the newest events were removed",
            head_seq + 1,
        )
    macs = _macs({c.seq for c in checkpoints})
    for cp in checkpoints:
        if macs.get(cp.seq) != cp.mac:
            return (
                f"event {cp.seq} is not the one the checkpoint of {cp.at} vouched for: "
                "the log was rewritten",
                cp.seq,
            )
    return None, None


def verify(batch: int = 5000) -> VerifyResult:
    """The chain in the database (`verify_chain`), then the checkpoints outside it."""
    result = verify_chain(batch)
    if not result.ok:
        return result
    checkpoints, problems = read_checkpoints()
    if problems:
        return VerifyResult(False, result.checked, None, "; ".join(problems[:3]))
    epoch = current_epoch(checkpoints)
    problem, seq = compare_with_checkpoints(epoch, _head().seq)
    if problem:
        return VerifyResult(False, result.checked, seq, problem)
    if not epoch:
        note = f"no checkpoint in {settings.REFUGE_AUDIT_CHECKPOINT_FILE} yet"
    else:
        note = (
            f"{len(epoch)} checkpoints agree, the newest at event {epoch[-1].seq} ({epoch[-1].at})"
        )
    return VerifyResult(True, result.checked, notes=(note,))


def checkpoint_write(*, kind: str = "scheduled") -> Checkpoint:
    """Append the current head, signed, to the checkpoint file (0600) and to the log.

    Refuses (CheckpointError) to vouch for a head that is not sealed with the key, not the
    newest event's MAC, or behind an earlier checkpoint: a rolled-back log is reported, never
    blessed. Only a restore may go back; it starts a new epoch.
    """
    if kind not in {"scheduled", "manual", "backup", "restore"}:
        raise ValueError(kind)
    head = _head()
    if not hmac.compare_digest(head.seal or "", head_seal(head.seq, head.mac)):
        raise CheckpointError("the audit head is not sealed with the key")
    if _macs({head.seq}).get(head.seq) != head.mac:
        raise CheckpointError(f"the audit head does not match event {head.seq}")
    if kind != "restore":
        checkpoints, problems = read_checkpoints()
        if problems:
            raise CheckpointError("; ".join(problems[:3]))
        problem, _seq = compare_with_checkpoints(current_epoch(checkpoints), head.seq)
        if problem:
            raise CheckpointError(problem)
    now = timezone.now()
    at = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = _checkpoint_body(kind, head.seq, head.mac, at)
    sig = _checkpoint_sig(body)
    line = json.dumps({**json.loads(body), "sig": sig}, sort_keys=True, separators=(",", ":"))
    private_files.append_line(settings.REFUGE_AUDIT_CHECKPOINT_FILE, line)
    # The same line in the log: a second copy outside the database, shipped with the logs.
    log.info("audit checkpoint %s", line)
    return Checkpoint(kind, head.seq, head.mac, at)
