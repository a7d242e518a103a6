"""Throughput without giving up exactly-once (docs/benchmarks.md, "Notifications"): an event's
outbox rows go out in one job over one SMTP connection; a provider that is down costs one
attempt per batch and one retry job; two workers on one event never send a row twice; a batch
that outlives part of its lease keeps its rows."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection, transaction
from django_tasks_db.models import DBTaskResult

from refuge.core.roles import OrgKind, Role
from refuge.core.services import organisation_create, staff_create
from refuge.notifications import services
from refuge.notifications.models import Delivery, Event
from tests.notifications.conftest import opt_in, run_worker

STAFF = 6


def _coordinators(n: int = STAFF) -> None:
    org = organisation_create(by=None, slug="hub-batch", name="Hub", kind=OrgKind.HUB)
    for i in range(n):
        user = staff_create(
            by=None,
            organisation=org,
            username=f"coord-batch-{i}",
            role=Role.COORDINATOR,
            email=f"coord{i}@example.org",
            password="x" * 20,
        ).user
        opt_in(user, email=True)


def _event(name: str = "b1") -> Event:
    with transaction.atomic():
        return services.notify(
            event="partner_request.created", about=("referrals.partnerrequest", name)
        )


def _jobs(task: str) -> int:
    return DBTaskResult.objects.filter(task_path=f"refuge.notifications.tasks.{task}").count()


def test_an_event_goes_out_in_one_job_over_one_smtp_connection(db, smtp):
    _coordinators()
    _event()
    run_worker()
    assert len(smtp.messages) == STAFF and len(set(smtp.ids())) == STAFF
    assert smtp.connections() == 1  # was one connection per message
    assert _jobs("deliver") == 0 and _jobs("deliver_event") == 1  # was one job per row
    assert set(Delivery.objects.exclude(channel="app").values_list("status", flat=True)) == {"sent"}


def test_a_server_down_costs_one_attempt_per_batch_and_one_retry_job(db, smtp, settings):
    settings.REFUGE_NOTIFY_RETRY_BASE_SECONDS = settings.REFUGE_NOTIFY_RETRY_CAP_SECONDS = 1
    _coordinators()
    event = _event()
    smtp.down = True
    run_worker()
    rows = Delivery.objects.filter(event=event, channel="email")
    assert {(d.status, d.last_error, d.attempts) for d in rows} == {
        ("failed", "smtp_unreachable", 1)
    }
    assert len(smtp.sessions) == 1  # the first message met the 421; the rest did not queue at it
    assert len({d.next_attempt_at for d in rows}) == 1
    assert (
        DBTaskResult.objects.filter(
            task_path="refuge.notifications.tasks.deliver_event", status="READY"
        ).count()
        == 1
    )
    smtp.down = False
    for _ in range(20):
        time.sleep(0.3)
        run_worker()
        if set(rows.values_list("status", flat=True)) == {"sent"}:
            break
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert len(smtp.messages) == STAFF == len(set(smtp.ids()))


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_event_never_send_a_row_twice(smtp, settings):
    """PostgreSQL: both claim at once (SKIP LOCKED); every row goes out once."""
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is one connection; the file race is in test_kill.py")
    settings.REFUGE_NOTIFY_LEASE_SECONDS = 600
    _coordinators(40)
    event = _event()
    services.event_dispatch(event_id=str(event.pk))
    barrier = threading.Barrier(2)
    results, errors = {}, []

    def worker(name):
        try:
            barrier.wait(timeout=30)
            results[name] = services.event_deliver(event_id=str(event.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    assert results["a"]["sent"] + results["b"]["sent"] == 40
    assert len(smtp.ids()) == len(set(smtp.ids())) == 40
    assert set(
        Delivery.objects.filter(event=event, channel="email").values_list("status", flat=True)
    ) == {"sent"}


def test_a_long_batch_renews_its_lease_so_no_other_worker_takes_its_rows(db, smtp, settings):
    """Each message takes longer than a third of the lease and the batch longer than the whole
    lease: another worker claiming during the batch finds nothing of it to take."""
    from refuge.notifications.channels import email as email_channel

    settings.REFUGE_NOTIFY_LEASE_SECONDS = 1.5
    _coordinators(4)
    event = _event()
    services.event_dispatch(event_id=str(event.pk))
    real_send, intruder = email_channel.send, []

    def slow_send(delivery, user, conn=None):
        time.sleep(0.6)
        taken, _stamp = services._claim(
            Delivery.objects.filter(event=event), services.timezone.now(), 100
        )
        intruder.extend(taken)
        return real_send(delivery, user, conn)

    email_channel.send = slow_send
    try:
        services.event_deliver(event_id=str(event.pk))
    finally:
        email_channel.send = real_send
    assert intruder == []
    assert len(smtp.ids()) == len(set(smtp.ids())) == 4


def test_a_row_whose_lease_went_to_another_worker_is_not_sent_by_this_one(db, smtp, settings):
    """While this batch sends its first message, another worker takes over its last row (as
    after a lease ran out): at its next renewal the batch leaves that row alone."""
    from datetime import timedelta

    from refuge.notifications.channels import email as email_channel

    settings.REFUGE_NOTIFY_LEASE_SECONDS = 1.5
    _coordinators(3)
    event = _event()
    services.event_dispatch(event_id=str(event.pk))
    real_send, sent_for = email_channel.send, []
    theirs = services.timezone.now() + timedelta(hours=1)

    def slow_send(delivery, user, conn=None):
        if not sent_for:  # only the first message is slow: the renewal comes before the second
            other = Delivery.objects.filter(event=event, channel="email").exclude(pk=delivery.pk)
            Delivery.objects.filter(pk=other.order_by("-created_at").values("pk")[:1]).update(
                attempt_started_at=theirs
            )
            time.sleep(0.6)
        sent_for.append(delivery.pk)
        return real_send(delivery, user, conn)

    email_channel.send = slow_send
    try:
        services.event_deliver(event_id=str(event.pk))
    finally:
        email_channel.send = real_send
    taken = Delivery.objects.get(event=event, channel="email", attempt_started_at=theirs)
    assert taken.pk not in sent_for and taken.status == "sending"
    assert len(sent_for) == 2 == len(smtp.ids())
