"""Background jobs of federation; ids only (SPEC S7), each safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task


@task(queue_name=settings.REFUGE_TASKS_QUEUE)
def deliver(message_id: str) -> None:
    from .services import outbox_send

    outbox_send(message_id=message_id)


@task(queue_name=settings.REFUGE_TASKS_QUEUE)
def pull_snapshot(peer_id: str) -> None:
    from refuge.core.services import ServiceError

    from .models import Peer
    from .services import snapshot_pull

    peer = Peer.objects.filter(pk=peer_id, trusted=True).first()
    if peer is not None:
        try:
            snapshot_pull(peer=peer)
        except ServiceError:
            pass  # the old snapshot ages into "unknown"; the next scheduled pull tries again
