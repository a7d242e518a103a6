"""Reads of federation that decide what a page says: which peers have stopped answering.

Derived from the outbox as it is (STYLE habit 6): nothing is stored about a peer's silence, so
it appears while our messages to it keep failing and goes away with the first one it takes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from .models import OutboxMessage

# A peer is said to be silent when a message to it has failed this many times, or has been
# failing for this long (with the outbox's back-off, three tries take under two minutes).
SILENT_AFTER_ATTEMPTS = 3
SILENT_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Silence:
    """A trusted peer that has not answered our messages since ``since``."""

    peer_id: uuid.UUID
    peer_name: str
    since: datetime  # when the oldest message it has not taken since its last answer was made
    waiting: int  # still being retried: they go when it comes back
    gave_up: int  # no longer retried (the outbox's last attempt passed)
    peer_title: str = ""  # its name as staff read it, when it has one

    @property
    def peer_label(self) -> str:
        return self.peer_title or self.peer_name


def _no_answer() -> Q:
    """An error that means the peer did not answer (unreachable, timed out, a server error),
    not that it answered "no" (a 4xx is a refusal, which retrying does not change)."""
    return Q(last_error="unreachable") | Q(last_error__startswith="http_5")


def _failing(now: datetime):
    answered_since = OutboxMessage.objects.filter(
        peer=OuterRef("peer"),
        status=OutboxMessage.Status.DELIVERED,
        delivered_at__gt=OuterRef("created_at"),
    )
    return (
        OutboxMessage.objects.filter(
            peer__trusted=True,
            status__in=[OutboxMessage.Status.QUEUED, OutboxMessage.Status.FAILED],
            attempts__gt=0,
        )
        .filter(_no_answer())
        .filter(Q(attempts__gte=SILENT_AFTER_ATTEMPTS) | Q(created_at__lte=now - SILENT_AFTER))
        # It has taken a message since this one was made: it is back (this one failed for
        # another reason, or is about to go).
        .exclude(Exists(answered_since))
    )


def silent_peers(*, now: datetime | None = None) -> dict[uuid.UUID, Silence]:
    """Trusted peers that have not answered our messages lately, by peer id (one query)."""
    now = now or timezone.now()
    rows = (
        _failing(now)
        .values("peer_id", "peer__name", "peer__title")
        .annotate(
            since=Min("created_at"),
            waiting=Count("pk", filter=Q(status=OutboxMessage.Status.QUEUED)),
            gave_up=Count("pk", filter=Q(status=OutboxMessage.Status.FAILED)),
        )
        .order_by("peer__name")
    )
    return {
        row["peer_id"]: Silence(
            peer_id=row["peer_id"],
            peer_name=row["peer__name"],
            peer_title=row["peer__title"],
            since=row["since"],
            waiting=row["waiting"],
            gave_up=row["gave_up"],
        )
        for row in rows
    }


def undelivered(*, kind: str, subject_ids: list[str]) -> dict[str, str]:
    """The status (queued or failed) of each message of ``kind`` about these ids that its peer
    has not taken when it was tried (one query); delivered, cancelled and not yet tried ones
    are left out."""
    if not subject_ids:
        return {}
    rows = (
        OutboxMessage.objects.filter(kind=kind, subject_id__in=subject_ids)
        .filter(
            Q(status=OutboxMessage.Status.FAILED)
            # Tried and not taken: a message just queued is on its way, not "undelivered".
            | Q(status=OutboxMessage.Status.QUEUED, attempts__gt=0) & ~Q(last_error="")
        )
        .values_list("subject_id", "status")
    )
    return dict(rows)
