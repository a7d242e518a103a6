"""Scheduled jobs without cron: every worker ticks, and one row per job and period decides who
runs it (the unique constraint on ScheduleRun lets exactly one insert win, however many workers
tick at once, on SQLite and PostgreSQL). The winner enqueues the job in the same transaction as
its claim, so a claimed period always has its job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.management import call_command, get_commands
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import checks, queue, services
from .models import ScheduleRun

log = logging.getLogger("refuge.notifications")


def _command(name: str, *args: str) -> Callable[[], object]:
    def run() -> object:
        if name not in get_commands():
            return None  # e.g. the audit checkpoint, where that command is not installed
        return call_command(name, *args, verbosity=0)

    return run


def _prune() -> int:
    """Forget old schedule claims and finished job rows (they say nothing about anyone)."""
    cutoff = timezone.now() - timedelta(days=7)
    n = ScheduleRun.objects.filter(claimed_at__lt=cutoff).delete()[0]
    from django_tasks_db.models import DBTaskResult

    if queue.transactional():
        n += DBTaskResult.objects.filter(
            status__in=["SUCCESSFUL", "FAILED"], finished_at__lt=cutoff
        ).delete()[0]
    return n


@dataclass(frozen=True)
class Job:
    name: str
    every: int  # seconds
    run: Callable[[], object]


JOBS = {
    j.name: j
    for j in [
        Job("outbox-sweep", 60, services.outbox_sweep),
        Job("inactive-channels", 60, services.channels_of_inactive_drop),
        Job("referral-escalations", 60, checks.referral_escalations),
        Job("concern-escalations", 60, checks.concern_escalations),
        Job("hold-expiry", 60, checks.hold_expiry_warnings),
        Job("availability-decay", 300, checks.decay_warnings),
        Job("callbacks-due", 300, checks.callbacks_due),
        Job("meeting-actions", 3600, checks.meeting_actions_due),
        Job("purge", 86400, _command("purge")),
        Job("hotline-forget-callers", 86400, _command("hotline_forget_callers")),
        Job("audit-checkpoint", 3600, _command("audit_checkpoint")),
        Job("prune", 86400, _prune),
        # Federation (SPEC C12): messages to peers that lost their job; peers' free places.
        Job("federation-outbox-sweep", 60, _command("federation_outbox_sweep")),
        Job("federation-pull", 900, _command("federation_pull", "--scheduled")),
    ]
}


def period_of(job: Job, now: datetime) -> int:
    ts = int(now.timestamp())
    return ts - ts % job.every


def tick(*, worker_id: str, now: datetime | None = None) -> list[str]:
    """Claim every job whose current period nobody has claimed yet, and enqueue it. Returns the
    names this worker claimed."""
    from .tasks import run_scheduled

    now = now or timezone.now()
    claimed = []
    for job in JOBS.values():
        try:
            with transaction.atomic():
                ScheduleRun.objects.create(
                    job=job.name, period=period_of(job, now), claimed_by=worker_id[:64]
                )
                queue.enqueue(run_scheduled, job.name)
        except IntegrityError:
            continue  # another worker has this period
        claimed.append(job.name)
    return claimed


def run_job(name: str) -> object:
    job = JOBS.get(name)
    if job is None:
        return None
    result = job.run()
    log.info("scheduled job %s done", name)
    return result if isinstance(result, int | str | None) else None


def healthy(now: datetime | None = None) -> bool:
    """A worker is ticking: the minute jobs were claimed within the last three minutes."""
    now = now or timezone.now()
    return ScheduleRun.objects.filter(
        job="outbox-sweep", claimed_at__gte=now - timedelta(minutes=3)
    ).exists()
