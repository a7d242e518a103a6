"""A peer that disappears mid-referral: the sender's page and the peers page say so, from the
outbox as it is (nothing stored), and the warning goes when the peer takes a message again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from refuge.cases.services import client_create
from refuge.federation import referrals, selectors, services
from refuge.federation.models import OutboxMessage, PeerFacility
from tests.federation.test_referrals import HOUSEHOLD

REFERRALS = "/federation/referrals/"
PEERS = "/federation/"


@pytest.fixture
def peer_facility(trusted):
    import uuid

    return PeerFacility.objects.create(
        peer=trusted,
        remote_id=str(uuid.uuid4()),
        name="Bishkek house",
        region="KG-C",
        country="KG",
        rules={},
        capacity={},
        availability="unknown",
    )


@pytest.fixture
def sent(personas, peer_facility):
    olga = client_create(by=personas["operator_a"].principal, name="Olga Secretname")
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    return row


def _offer(row) -> OutboxMessage:
    return OutboxMessage.objects.get(kind="referral.offer", subject_id=str(row.pk))


def _try(message: OutboxMessage, times: int = 1) -> str:
    status = ""
    for i in range(times):
        later = timezone.now() + timedelta(hours=1 + i)
        status = services.outbox_send(message_id=str(message.pk), now=later)
    return status


def _warning(html: str, peer: str = "kyrgyz-centres") -> str:
    start = html.find(f'id="silent-{peer}"')
    return html[start : html.index("</div>", start)] if start >= 0 else ""


def test_a_peer_that_answers_500_is_shown_as_silent_to_the_sender(fake_peer, sent, as_persona):
    fake_peer.fail_status = 500
    message = _offer(sent)
    assert _try(message) == "queued"
    # One failure is a hiccup, not a silence.
    assert selectors.silent_peers() == {}
    assert _try(message, 2) == "queued"
    message.refresh_from_db()
    assert message.last_error.startswith("http_500") and message.attempts == 3
    html = as_persona("operator_a").get(REFERRALS).content.decode()
    warning = _warning(html)
    assert "kyrgyz-centres has not answered since" in warning
    assert "1 referral to it is not lost: it will be delivered when it comes back." in warning
    assert "look for a place in this network" in warning
    assert 'href="/referrals/search/"' in warning
    assert "not delivered yet" in html
    assert f"/referrals/search/?case={sent.client.case_code}&amp;go=1" in html
    # The peer comes back: the message goes, and the warning with it.
    fake_peer.fail_status = 0
    assert _try(message) == "delivered"
    html = as_persona("operator_a").get(REFERRALS).content.decode()
    assert not _warning(html) and "not delivered yet" not in html
    assert fake_peer.accepted == [str(message.pk)]


def test_a_peer_that_times_out_is_shown_as_silent_after_ten_minutes(
    fake_peer, sent, as_persona, monkeypatch
):
    monkeypatch.setattr(services, "TIMEOUT_SECONDS", 0.2)
    fake_peer.hang_seconds = 1.0
    message = _offer(sent)
    assert _try(message) == "queued"
    message.refresh_from_db()
    assert message.last_error == "unreachable" and message.attempts == 1
    assert selectors.silent_peers() == {}
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - selectors.SILENT_AFTER - timedelta(minutes=1)
    )
    silence = selectors.silent_peers()[sent.peer_id]
    assert (silence.peer_name, silence.waiting, silence.gave_up) == ("kyrgyz-centres", 1, 0)
    assert "kyrgyz-centres has not answered since" in _warning(
        as_persona("operator_a").get(REFERRALS).content.decode()
    )


def test_the_peers_page_warns_the_administrator(fake_peer, sent, as_persona):
    fake_peer.down = True  # 503
    _try(_offer(sent), 3)
    warning = _warning(as_persona("admin_a").get(PEERS).content.decode())
    assert "kyrgyz-centres has not answered since" in warning
    assert "1 message to it is not lost" in warning


def test_a_message_given_up_says_so(fake_peer, sent, as_persona):
    fake_peer.fail_status = 500
    message = _offer(sent)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    assert _try(message) == "failed"
    html = as_persona("operator_a").get(REFERRALS).content.decode()
    warning = _warning(html)
    assert "1 referral could not be delivered after hours of trying" in warning
    assert "not lost" not in warning
    assert "not delivered</span>" in html
    admin = _warning(as_persona("admin_a").get(PEERS).content.decode())
    assert "1 message was given up after hours of trying." in admin


def test_a_peer_that_refuses_is_not_silent(fake_peer, sent):
    # A 4xx is an answer (the peer refused the message): retrying it is another matter.
    fake_peer.sender_key = fake_peer.public_key  # it no longer trusts us: 403
    _try(_offer(sent), 3)
    assert _offer(sent).last_error.startswith("http_4")
    assert selectors.silent_peers() == {}


def test_an_untrusted_peer_is_not_called_silent(fake_peer, sent, trusted):
    fake_peer.fail_status = 500
    _try(_offer(sent), 3)
    assert selectors.silent_peers()
    services.peer_untrust(by=None, peer=trusted)
    assert selectors.silent_peers() == {}


@pytest.mark.parametrize("key", ["operator_b", "caseworker_b", "coordinator_b"])
def test_another_organisation_does_not_see_our_referrals_warning(fake_peer, sent, as_persona, key):
    fake_peer.fail_status = 500
    _try(_offer(sent), 3)
    html = as_persona(key).get(REFERRALS).content.decode()
    assert not _warning(html) and sent.client.case_code not in html


@pytest.mark.parametrize("key", ["analyst_a", "partner_a", "facilitator_a"])
def test_the_pages_refuse_other_roles(fake_peer, sent, as_persona, key):
    client = as_persona(key)
    assert client.get(REFERRALS).status_code in (403, 404)
    assert client.get(PEERS).status_code in (403, 404)


def test_the_warning_in_russian(fake_peer, sent, as_persona):
    fake_peer.fail_status = 500
    _try(_offer(sent), 3)
    client = as_persona("operator_a")
    html = client.get(REFERRALS, headers={"Accept-Language": "ru"}).content.decode()
    warning = _warning(html)
    assert "kyrgyz-centres не отвечает с" in warning
    assert "не потеряно" in warning
    assert "has not answered" not in warning
