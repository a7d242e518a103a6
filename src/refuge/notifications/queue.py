"""Enqueueing jobs so that a job exists if and only if the change that causes it committed.

With the database backend the job is a row written in the caller's transaction: a rolled-back
change leaves no job, a committed one always has its job. A broker (RQ) cannot join the
transaction, so the job is handed over after commit; if that hand-over is lost (the process dies,
Redis is down), the outbox rows written in the transaction are still there and the sweeper
(`outbox-sweep`, every minute) enqueues them again (docs/decisions.md).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django_tasks_db import DatabaseBackend

log = logging.getLogger("refuge.notifications")


def transactional() -> bool:
    from django_tasks import task_backends

    return isinstance(task_backends["default"], DatabaseBackend)


def enqueue(task, *args: str, run_after: datetime | None = None) -> None:
    """Arguments are ids only (SPEC S7): strings, never a model or a personal field."""
    assert all(isinstance(a, str) for a in args), "task arguments are ids only"
    t = task.using(queue_name=settings.REFUGE_TASKS_QUEUE, run_after=run_after)
    if transactional():
        t.enqueue(*args)
        return

    def hand_over() -> None:
        try:
            t.enqueue(*args)
        except Exception:  # the sweeper enqueues it again from the outbox
            log.warning("could not hand a job to the broker; the sweeper will retry it")

    transaction.on_commit(hand_over)
