"""The outbox: one row per event, recipient and channel; sent once; retried; failures shown."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from refuge.notifications import services
from refuge.notifications.models import Delivery, Event
from refuge.referrals import services as referrals
from tests.notifications.conftest import opt_in, refer, run_worker
from tests.referrals.conftest import FAMILY


def _email(persona, address):
    persona.user.email = address
    persona.user.save()
    opt_in(persona.user, email=True)


def test_a_referral_reaches_the_receiving_staff_once_by_email(personas, network, client_a, smtp):
    _email(personas["caseworker_b"], "vera@example.org")
    _email(personas["manager_b"], "alena@example.org")
    referral = referrals.referral_create(
        by=personas["operator_a"].principal,
        client=client_a,
        household=FAMILY,
        facility_ids=[network["vla"].pk, network["yar"].pk],
    )
    run_worker()
    run_worker()
    assert sorted(m["To"] for m in smtp.messages) == ["alena@example.org", "vera@example.org"]
    assert len(set(smtp.ids())) == 2
    body = smtp.messages[0].get_payload()
    assert "1 new item is waiting for you" in body
    for secret in ("Olga", "Vladimir", "Yaroslavl", "RU-", client_a.case_code):
        assert secret not in body and secret not in smtp.messages[0]["Subject"]
    # Raising the same event again notifies nobody again.
    assert services.notify(event="referral.sent", about=referral) is None
    run_worker()
    assert len(smtp.messages) == 2
    # Every receiving member of staff also has the in-app item.
    app = Delivery.objects.filter(channel="app", event__kind="referral.sent")
    assert {d.user_id for d in app} == {personas[k].user.pk for k in ("caseworker_b", "manager_b")}


def test_a_rolled_back_change_leaves_no_event_and_no_job(personas, network, client_a):
    before = DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        refer(personas, network, client_a)
        raise RuntimeError("the request failed after the referral")
    assert Event.objects.count() == 0 and DBTaskResult.objects.count() == before


def test_a_committed_change_always_has_its_job(personas, network, client_a):
    refer(personas, network, client_a)
    event = Event.objects.get(kind="referral.sent")
    job = DBTaskResult.objects.get()
    assert job.args_kwargs == {"args": [str(event.pk)], "kwargs": {}}


def test_an_smtp_server_down_is_retried_and_the_manager_sees_it(
    personas, network, client_a, smtp, fast_retries, as_persona
):
    _email(personas["caseworker_b"], "vera@example.org")
    smtp.down = True
    refer(personas, network, client_a)
    run_worker()
    d = Delivery.objects.get(channel="email")
    assert d.status == "failed" and d.last_error == "smtp_unreachable" and d.next_attempt_at
    failed = list(services_failed(personas["manager_b"]))
    assert [f.pk for f in failed] == [d.pk]
    assert list(services_failed(personas["manager_a"])) == []
    for _ in range(3):
        time.sleep(0.06)
        run_worker()
    assert Delivery.objects.get(pk=d.pk).attempts >= 3
    smtp.down = False
    for _ in range(10):
        time.sleep(0.06)
        run_worker()
        if Delivery.objects.get(pk=d.pk).status == "sent":
            break
    assert Delivery.objects.get(pk=d.pk).status == "sent"
    assert len(smtp.messages) == 1


def services_failed(persona):
    from refuge.notifications.selectors import failed_deliveries_for

    return failed_deliveries_for(persona.principal)


def test_retries_stop_at_the_cap_and_a_manager_can_send_again(
    personas, network, client_a, smtp, fast_retries, settings
):
    settings.REFUGE_NOTIFY_MAX_ATTEMPTS = 3
    _email(personas["caseworker_b"], "vera@example.org")
    smtp.down = True
    refer(personas, network, client_a)
    for _ in range(6):
        time.sleep(0.06)
        run_worker()
    d = Delivery.objects.get(channel="email")
    assert d.status == "failed" and d.attempts == 3 and d.next_attempt_at is None
    smtp.down = False
    with pytest.raises(services.ServiceError):
        services.delivery_retry(by=personas["manager_a"].principal, delivery=d)
    services.delivery_retry(by=personas["manager_b"].principal, delivery=d)
    run_worker()
    assert Delivery.objects.get(pk=d.pk).status == "sent" and len(smtp.messages) == 1


def test_a_sending_row_whose_worker_died_is_sent_again_with_the_same_message_id(
    personas, network, client_a, smtp, settings
):
    """At least once: the attempt was recorded, the worker died; after the lease the sweeper
    sends it again, with the same Message-ID so the mailbox shows one message."""
    from datetime import timedelta

    from django.utils import timezone

    _email(personas["caseworker_b"], "vera@example.org")
    refer(personas, network, client_a)
    run_worker()
    d = Delivery.objects.get(channel="email")
    # Pretend the worker sent it and died before recording: back to "sending", long ago.
    Delivery.objects.filter(pk=d.pk).update(
        status="sending", attempt_started_at=timezone.now() - timedelta(hours=1)
    )
    services.outbox_sweep()
    run_worker()
    assert Delivery.objects.get(pk=d.pk).status == "sent"
    assert len(smtp.ids()) == 2 and len(set(smtp.ids())) == 1


def test_quiet_hours_hold_back_email_but_not_the_in_app_item_nor_the_on_call(
    personas, network, client_a, smtp
):
    from datetime import time as t

    from django.utils import timezone

    from refuge.notifications.models import OnCall

    _email(personas["caseworker_b"], "vera@example.org")
    _email(personas["manager_b"], "alena@example.org")
    for key in ("caseworker_b", "manager_b"):
        prefs = opt_in(personas[key].user, email=True)
        prefs.quiet_from, prefs.quiet_until, prefs.timezone = t(0, 0), t(23, 59), "UTC"
        prefs.save()
    OnCall.objects.create(
        facility=network["vla"],
        week=services.monday(timezone.localdate()),
        user=personas["manager_b"].user,
        set_by="manager-b",
    )
    refer(personas, network, client_a)
    run_worker()
    run_worker()
    assert [m["To"] for m in smtp.messages] == ["alena@example.org"]
    held = Delivery.objects.get(channel="email", user=personas["caseworker_b"].user)
    assert held.status == "queued" and held.next_attempt_at > timezone.now()
    assert Delivery.objects.filter(channel="app", user=personas["caseworker_b"].user).exists()
