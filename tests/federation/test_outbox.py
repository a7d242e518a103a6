"""The outbox: a message to a peer that is down for an hour arrives once when it is back."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.federation import services
from refuge.federation.models import OutboxMessage
from tests.federation.conftest import run_worker


def _later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_peer_down_for_an_hour_gets_the_message_once(trusted, fake_peer):
    fake_peer.down = True
    row = services.outbox_put(peer=trusted, kind="hello")
    run_worker()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("queued", 1, "http_503_down")
    # An hour of retries with the peer down: each try fails, nothing is lost.
    for minutes in (5, 15, 30, 60):
        services.outbox_send(message_id=str(row.pk), now=_later(minutes))
    row.refresh_from_db()
    assert row.status == "queued" and row.attempts >= 3
    assert fake_peer.accepted == []
    fake_peer.down = False
    assert services.outbox_send(message_id=str(row.pk), now=_later(120)) == "delivered"
    # Every later job for it (queued retries, a sweeper) finds it delivered and sends nothing.
    posts = fake_peer.posts
    for minutes in (180, 240):
        assert services.outbox_send(message_id=str(row.pk), now=_later(minutes)) == "delivered"
    run_worker()
    assert fake_peer.posts == posts
    assert fake_peer.accepted == [str(row.pk)]
    assert AuditEvent.objects.filter(action="federation.message_delivered").count() == 1


def test_an_unreachable_peer_is_retried_with_back_off(trusted, fake_peer):
    fake_peer.stop()
    row = services.outbox_put(peer=trusted, kind="hello")
    services.outbox_send(message_id=str(row.pk))
    row.refresh_from_db()
    assert row.last_error == "unreachable"
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=10)
    # Not due yet: a second job does not send.
    assert services.outbox_send(message_id=str(row.pk)) == "queued"
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_lost_answer_is_sent_again_and_acted_on_once(trusted, fake_peer):
    fake_peer.lose_answers = 1
    row = services.outbox_put(peer=trusted, kind="hello")
    services.outbox_send(message_id=str(row.pk))
    row.refresh_from_db()
    assert row.status == "queued" and row.last_error == "unreachable"
    assert services.outbox_send(message_id=str(row.pk), now=_later(10)) == "delivered"
    assert fake_peer.accepted == [str(row.pk)]  # the second post was acknowledged as known
    assert fake_peer.posts == 2


def test_untrusting_cancels_what_waits(trusted, fake_peer):
    fake_peer.down = True
    row = services.outbox_put(peer=trusted, kind="hello")
    services.peer_untrust(by=None, peer=trusted)
    fake_peer.down = False
    assert services.outbox_send(message_id=str(row.pk), now=_later(60)) == "cancelled"
    assert fake_peer.posts == 0


def test_gives_up_after_the_last_attempt(trusted, fake_peer):
    fake_peer.down = True
    row = services.outbox_put(peer=trusted, kind="hello")
    with mock.patch.object(services, "MAX_ATTEMPTS", 2):
        services.outbox_send(message_id=str(row.pk))
        services.outbox_send(message_id=str(row.pk), now=_later(600))
    row.refresh_from_db()
    assert row.status == "failed"


def test_a_refusal_the_same_message_would_get_again_fails_at_once(trusted, fake_peer):
    """A peer that refuses the body itself (more than the minimum, a bad value, sealed for
    another key) would refuse it every time: failed at the first answer, not after hours."""
    fake_peer.fail_status, fake_peer.fail_code = 400, "extra_fields"
    row = services.outbox_put(peer=trusted, kind="hello")
    assert services.outbox_send(message_id=str(row.pk)) == "failed"
    row.refresh_from_db()
    assert (row.attempts, row.last_error) == (1, "http_400_extra_fields")
    assert AuditEvent.objects.filter(action="federation.message_failed").count() == 1


def test_a_refusal_that_may_pass_later_is_retried(trusted, fake_peer):
    """An unknown referral (a withdrawal overtaking its offer), a conflict, an unknown kind or a
    bad signature may pass later: retried with back-off, as a peer that is down."""
    for status, code in ((400, "unknown_referral"), (409, "not_accepted"), (403, "bad_signature")):
        fake_peer.fail_status, fake_peer.fail_code = status, code
        row = services.outbox_put(peer=trusted, kind="hello")
        assert services.outbox_send(message_id=str(row.pk)) == "queued", code
        row.refresh_from_db()
        assert row.last_error == f"http_{status}_{code}"


def test_rows_and_jobs_carry_ids_only(trusted, fake_peer):
    from django_tasks_db.models import DBTaskResult

    row = services.outbox_put(peer=trusted, kind="hello")
    job = DBTaskResult.objects.get(args_kwargs__args=[str(row.pk)])
    assert job.args_kwargs == {"args": [str(row.pk)], "kwargs": {}}
    fields = {f.name for f in OutboxMessage._meta.get_fields()}
    assert fields == {
        "id", "peer", "kind", "subject_id", "status", "attempts", "next_attempt_at",
        "last_error", "created_at", "delivered_at",
    }  # fmt: skip


def test_the_sweeper_requeues_what_is_due(trusted, fake_peer):
    row = services.outbox_put(peer=trusted, kind="hello")
    assert services.outbox_sweep() == 1
    run_worker()
    run_worker()
    row.refresh_from_db()
    assert row.status == "delivered"
    assert fake_peer.accepted == [str(row.pk)]


def test_without_a_key_messages_wait(trusted, fake_peer, settings):
    row = services.outbox_put(peer=trusted, kind="hello")
    settings.REFUGE_FEDERATION_KEY = ""
    assert services.outbox_send(message_id=str(row.pk)) == "queued"
    assert fake_peer.posts == 0
    row.refresh_from_db()
    assert row.attempts == 0
