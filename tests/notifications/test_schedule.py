"""Scheduled checks and escalation; the scheduler is safe with two workers; security notices."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.core.notices import SecurityNotice, announce
from refuge.notifications import checks, scheduler, services
from refuge.notifications.models import Delivery, Event, ScheduleRun
from refuge.referrals import services as referrals
from refuge.referrals.models import Referral, ReferralTarget
from tests.notifications.conftest import refer, run_worker

_refer = refer


def _recipients(kind):
    run_worker()
    return {d.user.username for d in Delivery.objects.filter(event__kind=kind, channel="app")}


def test_an_unopened_referral_goes_to_the_manager_then_to_the_coordinators(
    personas, network, client_a
):
    referral = _refer(personas, network, client_a)
    now = timezone.now()
    assert checks.referral_escalations(now + timedelta(minutes=9)) == 0
    assert checks.referral_escalations(now + timedelta(minutes=11)) == 1
    assert checks.referral_escalations(now + timedelta(minutes=12)) == 0  # once per step
    assert _recipients("referral.unopened") == {"manager-b"}
    assert checks.referral_escalations(now + timedelta(minutes=21)) == 1
    assert _recipients("referral.unopened") == {"manager-b", "coordinator-a", "coordinator-b"}
    steps = AuditEvent.objects.filter(action="notification.escalate")
    assert [e.details["step"] for e in steps] == [1, 2]
    assert all(set(e.details) == {"event", "step"} for e in steps)  # no content
    assert referral.pk


def test_opening_the_referral_stops_the_escalation(personas, network, client_a, as_persona):
    referral = _refer(personas, network, client_a)
    as_persona("caseworker_b").get(reverse("referrals:detail", args=[referral.pk]))
    assert ReferralTarget.objects.get().seen_at is not None
    assert checks.referral_escalations(timezone.now() + timedelta(minutes=30)) == 0


def test_the_network_sets_the_escalation_time(personas, network, client_a):
    services.policy_set(by=personas["coordinator_a"].principal, escalate_after_minutes=30)
    _refer(personas, network, client_a)
    assert checks.referral_escalations(timezone.now() + timedelta(minutes=20)) == 0
    assert checks.referral_escalations(timezone.now() + timedelta(minutes=31)) == 1
    with pytest.raises(services.ServiceError):
        services.policy_set(by=personas["manager_a"].principal, escalate_after_minutes=5)


def test_a_hold_about_to_expire_warns_the_sender_and_the_facilitys_manager(
    personas, network, client_a
):
    _refer(personas, network, client_a)
    expires = ReferralTarget.objects.get().hold_expires_at
    assert checks.hold_expiry_warnings(expires - timedelta(minutes=20)) == 0
    assert checks.hold_expiry_warnings(expires - timedelta(minutes=14)) == 1
    assert checks.hold_expiry_warnings(expires - timedelta(minutes=10)) == 0
    assert _recipients("referral.hold_expiring") == {"operator-a", "manager-b"}


def test_answers_reach_the_sender(personas, network, client_a):
    referral = _refer(personas, network, client_a)
    referrals.referral_accept(
        by=personas["caseworker_b"].principal, referral=referral, facility=network["vla"]
    )
    assert _recipients("referral.accepted") == {"operator-a"}
    assert Referral.objects.get().status == "accepted"


def test_a_partner_request_reaches_the_coordinators(personas):
    referrals.partner_request_create(
        by=personas["partner_b"].principal,
        region="RU-VLA",
        household={"woman_age": 30},
        contact="duty officer",
    )
    assert _recipients("partner_request.created") == {"coordinator-a", "coordinator-b"}


def test_availability_about_to_decay_warns_the_facilitys_staff(personas, orgs):
    from refuge.vacancies.models import Room
    from refuge.vacancies.services import availability_report, availability_settings_update
    from tests.directory.factories import make_facility

    f = make_facility(orgs["b"], "Hand-reported", region="RU-VLA", rooms=[("dorm", 2)])
    availability_settings_update(by=None, facility=f, source="reported", ttl_hours=4)
    room = Room.objects.get(facility=f)
    availability_report(by=None, facility=f, free_beds={room.pk: 1})
    now = timezone.now()
    assert checks.decay_warnings(now) == 0
    assert checks.decay_warnings(now + timedelta(hours=2, minutes=30)) == 1
    assert checks.decay_warnings(now + timedelta(hours=3)) == 0
    assert _recipients("availability.decaying") == {"caseworker-b", "manager-b"}


def test_every_security_notice_reaches_the_owner_and_her_managers(personas):
    announce(
        SecurityNotice(
            kind="password_changed",
            user_id=personas["caseworker_b"].user.pk,
            organisation_id=personas["caseworker_b"].org.pk,
        )
    )
    assert _recipients("security.password_changed") == {"caseworker-b", "manager-b"}


def test_a_scheduled_period_is_claimed_once(db):
    now = timezone.now()
    first = scheduler.tick(worker_id="one", now=now)
    assert set(first) == set(scheduler.JOBS)
    assert scheduler.tick(worker_id="two", now=now) == []
    assert ScheduleRun.objects.count() == len(scheduler.JOBS)
    later = scheduler.tick(worker_id="two", now=now + timedelta(seconds=61))
    assert "outbox-sweep" in later and "purge" not in later
    run_worker()  # every job runs without error
    assert scheduler.healthy(now)


@pytest.mark.django_db(transaction=True)
def test_two_workers_ticking_at_once_claim_each_period_once():
    now = timezone.now()
    results, errors = {}, []
    barrier = threading.Barrier(2)

    def worker(name):
        try:
            barrier.wait()
            results[name] = scheduler.tick(worker_id=name, now=now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite is one connection; the file race is in test_kill.py")
    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results["a"] + results["b"]) == sorted(scheduler.JOBS)
    assert ScheduleRun.objects.count() == len(scheduler.JOBS)


def test_task_arguments_are_ids_only(personas, network, client_a):
    from django_tasks_db.models import DBTaskResult

    _refer(personas, network, client_a)
    run_worker()
    for job in DBTaskResult.objects.all():
        for arg in job.args_kwargs["args"]:
            assert isinstance(arg, str) and len(arg) <= 36
    assert Event.objects.get().context == {
        "facility_ids": [str(network["vla"].pk)],
        "by_user_id": personas["operator_a"].user.pk,
    }
