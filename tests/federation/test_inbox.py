"""POST /api/v1/federation/inbox: only trusted, signed, fresh, new, small messages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.federation import services, signing
from refuge.federation.models import InboxMessage, SeenNonce
from tests.federation.conftest import me

URL = "/api/v1/federation/inbox"


def _send(fake_peer, *, kind="hello", body=None, at=None, message_id=None, key=None):
    message = signing.seal(
        key or fake_peer.key,
        sender="fake",
        recipient_key=me().public_key,
        kind=kind,
        body=body or {},
        at=at,
        message_id=message_id,
    )
    return message, _post(message)


def _post(message):
    return Client().post(URL, data=json.dumps(message), content_type="application/json")


def _refusals(code):
    return AuditEvent.objects.filter(action="federation.message_refused", details__code=code)


def test_a_trusted_peers_message_is_accepted_once_and_audited(trusted, fake_peer):
    message, response = _send(fake_peer)
    assert response.status_code == 200, response.content
    assert response.json() == {"id": message["envelope"]["id"], "duplicate": False}
    assert InboxMessage.objects.filter(peer=trusted).count() == 1
    assert AuditEvent.objects.filter(action="federation.message_received").count() == 1


def test_an_unknown_sender_is_refused(db, fake_peer):
    _message, response = _send(fake_peer)
    assert response.status_code == 403
    assert response.json()["code"] == "untrusted"
    assert set(response.json()) == {"code", "message", "details"}
    assert _refusals("untrusted").count() == 1


def test_an_untrusted_peer_is_refused_at_once(trusted, fake_peer):
    services.peer_untrust(by=None, peer=trusted)
    _message, response = _send(fake_peer)
    assert response.status_code == 403
    assert response.json()["code"] == "untrusted"


def test_a_forged_signature_is_refused(trusted, fake_peer):
    message, _r = _send(fake_peer)
    message = signing.seal(
        fake_peer.key, sender="fake", recipient_key=me().public_key, kind="hello", body={}
    )
    message["envelope"]["body"] = {"altered": True}
    response = _post(message)
    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert _refusals("bad_signature").count() == 1


def test_a_stale_message_is_refused(trusted, fake_peer):
    _m, response = _send(fake_peer, at=timezone.now() - timedelta(minutes=6))
    assert response.status_code == 401
    assert response.json()["code"] == "stale"


def test_a_replayed_envelope_is_refused(trusted, fake_peer):
    message, first = _send(fake_peer)
    assert first.status_code == 200
    again = _post(message)
    assert again.status_code == 409
    assert again.json()["code"] == "replayed"
    assert _refusals("replayed").count() == 1


def test_the_same_message_id_resent_is_acknowledged_not_redone(trusted, fake_peer):
    message, first = _send(fake_peer)
    _m, second = _send(fake_peer, message_id=message["envelope"]["id"])
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert InboxMessage.objects.count() == 1


def test_an_oversized_message_is_refused(trusted, fake_peer, settings):
    settings.REFUGE_FEDERATION_MAX_BODY_BYTES = 2000
    _m, response = _send(fake_peer, body={"x": "a" * 3000})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert _refusals("too_large").exists()


def test_an_unknown_kind_is_refused(trusted, fake_peer):
    _m, response = _send(fake_peer, kind="referral.new")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_kind"


@pytest.mark.parametrize("body", [b"", b"[]", b"{}", b"not json", b'{"envelope": 1}'])
def test_garbage_is_a_clean_4xx(db, body):
    response = Client().post(URL, data=body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert set(response.json()) == {"code", "message", "details"}


def test_old_nonces_are_forgotten(trusted, fake_peer):
    SeenNonce.objects.create(peer=trusted, nonce="old", expires_at=timezone.now() - timedelta(1))
    _send(fake_peer)
    assert not SeenNonce.objects.filter(nonce="old").exists()


def test_disabled_federation_answers_503(db, settings):
    settings.REFUGE_FEDERATION_KEY = ""
    response = Client().get("/api/v1/federation/identity")
    assert response.status_code == 503
    assert response.json()["code"] == "federation_disabled"


def test_identity_is_public(db):
    body = Client().get("/api/v1/federation/identity").json()
    assert body["public_key"] == me().public_key
    assert body["name"] == "refuge-test"


def test_a_rotated_key_is_trusted_and_the_old_one_refused_at_once(trusted, fake_peer):
    old_key = fake_peer.key
    fake_peer.key = signing.private_key(signing.new_seed())
    new_public = signing.public_key_text(fake_peer.key)
    with pytest.raises(services.ServiceError):
        services.peer_trust(
            by=None, name=trusted.name, base_url=fake_peer.url, public_key=new_public
        )
    services.peer_trust(
        by=None, name=trusted.name, base_url=fake_peer.url, public_key=new_public, rotate=True
    )
    _m, new = _send(fake_peer)
    assert new.status_code == 200
    _m, old = _send(fake_peer, key=old_key)
    assert old.status_code == 403 and old.json()["code"] == "untrusted"
    event = AuditEvent.objects.filter(action="federation.peer_trust").last()
    assert event.details["old_key"] == trusted.public_key


def test_old_message_ids_are_forgotten_after_a_week(trusted, fake_peer):
    _send(fake_peer)
    services.inbox_prune(now=timezone.now() + timedelta(days=6))
    assert InboxMessage.objects.exists() and not SeenNonce.objects.exists()
    services.inbox_prune(now=timezone.now() + timedelta(days=8))
    assert not InboxMessage.objects.exists()
