"""The shred ledger: every destroyed data key, written outside the database (issue 14, L4).

A backup taken before a shred still holds the person's wrapped data key, so restoring it would
bring her back readable. Each shred appends one line here (0600, REFUGE_SHRED_LEDGER_FILE):
the data key's id, what it belonged to (a type and a random UUID), the time, and a MAC, and no
personal data. `refuge restore` re-applies the whole ledger to the restored database.

The line is written inside the shred's transaction, before the commit: if the commit then
fails, the ledger names a key that was meant to go, and the next re-application destroys it,
which errs on her side. Lines without a valid MAC are reported and skipped, so someone who can
write the file but does not hold the key cannot use it to destroy other people's records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from refuge.core import crypto, private_files

log = logging.getLogger("refuge.audit")

# Apps clear what else a destroyed key leaves behind (a blind index, say): fn(key_ids) -> rows.
_after_reapply: list[Callable[[set[uuid.UUID]], int]] = []


def register_after_reapply(fn: Callable[[set[uuid.UUID]], int]) -> None:
    if fn not in _after_reapply:
        _after_reapply.append(fn)


def _sig(body: bytes) -> str:
    return hmac.new(crypto.derived_key("shred-ledger-v1"), body, hashlib.sha256).hexdigest()


def _body(key_id: str, target: str, at: str) -> bytes:
    return json.dumps(
        {"data_key": key_id, "target": target, "at": at}, sort_keys=True, separators=(",", ":")
    ).encode()


def append(*, key_id: uuid.UUID, target_type: str = "", target_id: object = "") -> None:
    target = f"{target_type}:{target_id}" if target_type else ""
    at = timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = _body(str(key_id), target, at)
    line = json.dumps({**json.loads(body), "sig": _sig(body)}, sort_keys=True)
    private_files.append_line(settings.REFUGE_SHRED_LEDGER_FILE, line)
    # A second copy where the logs go (ids only): a lost ledger file can be rebuilt from it.
    log.info("shred ledger %s", line)


@dataclass(frozen=True)
class Entry:
    key_id: uuid.UUID
    target: str
    at: datetime


def read() -> tuple[list[Entry], list[str]]:
    """The well-signed entries, and a problem for each line that is not."""
    entries: list[Entry] = []
    problems: list[str] = []
    for n, raw in enumerate(private_files.read_lines(settings.REFUGE_SHRED_LEDGER_FILE), 1):
        try:
            d = json.loads(raw)
            body = _body(str(d["data_key"]), str(d["target"]), str(d["at"]))
            entry = Entry(
                uuid.UUID(str(d["data_key"])),
                str(d["target"]),
                datetime.strptime(str(d["at"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            )
            sig = str(d["sig"])
        except (ValueError, KeyError, TypeError):
            problems.append(f"shred ledger line {n} is damaged")
            continue
        if not hmac.compare_digest(sig, _sig(body)):
            problems.append(f"shred ledger line {n} was not signed with the key")
            continue
        entries.append(entry)
    return entries, problems


@dataclass(frozen=True)
class Reapplied:
    destroyed: int  # keys the restored database still held, now destroyed
    entries: int  # well-signed lines in the ledger
    problems: tuple[str, ...]


def reapply(entries: Iterable[Entry] | None = None) -> Reapplied:
    """Destroy again every key the ledger names (after a restore). Idempotent; audited."""
    from refuge.core import audit
    from refuge.core.models import DataKey

    problems: list[str] = []
    if entries is None:
        entries, problems = read()
    entries = list(entries)
    ids = sorted({e.key_id for e in entries})
    destroyed, live = 0, []
    with transaction.atomic():
        for i in range(0, len(ids), 500):  # under every database's limit of bound parameters
            chunk = ids[i : i + 500]
            found = DataKey.objects.filter(pk__in=chunk, wrapped__isnull=False)
            live += list(found.values_list("pk", flat=True))
            destroyed += found.update(
                wrapped=None,
                destroyed_at=timezone.now(),
                destroyed_reason="re-applied from the shred ledger after a restore",
            )
            for fn in _after_reapply:
                fn(set(chunk))
        audit.record(
            actor=None,
            action="shred_ledger.reapply",
            details={"entries": len(entries), "destroyed": destroyed, "problems": len(problems)},
        )
    for key_id in live:
        crypto.key_cache.drop(key_id)
    return Reapplied(destroyed, len(entries), tuple(problems))
