"""The background jobs. Each takes ids only and is safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task


@task(queue_name=settings.REFUGE_TASKS_QUEUE)
def dispatch_event(event_id: str) -> None:
    from .services import event_dispatch

    event_dispatch(event_id=event_id)


@task(queue_name=settings.REFUGE_TASKS_QUEUE)
def deliver(delivery_id: str) -> None:
    """One row (a manager's retry; jobs enqueued before deliveries went by event)."""
    from .services import delivery_send

    delivery_send(delivery_id=delivery_id)


@task(queue_name=settings.REFUGE_TASKS_QUEUE)
def run_scheduled(job: str) -> None:
    from .scheduler import run_job

    run_job(job)


@task(queue_name=settings.REFUGE_TASKS_QUEUE)
def deliver_event(event_id: str) -> None:
    from .services import event_deliver

    event_deliver(event_id=event_id)
