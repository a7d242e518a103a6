from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from refuge.federation import conf, services, signing
from refuge.federation.models import Peer
from tests.directory.factories import make_facility
from tests.federation.peers import FakePeer
from tests.notifications.conftest import run_worker  # noqa: F401 (used by tests)
from tests.referrals.conftest import system


def me():
    return conf.identity()


@pytest.fixture
def fake_peer(db):
    peer = FakePeer(recipient_key="", sender_key=me().public_key).start()
    peer.recipient_key = peer.public_key
    yield peer
    peer.stop()


@pytest.fixture
def trusted(fake_peer) -> Peer:
    return services.peer_trust(
        by=None,
        name="kyrgyz-centres",
        base_url=fake_peer.url,
        public_key=fake_peer.public_key,
        sealing_key=fake_peer.sealing_public_key,
    )


INBOX = "/api/v1/federation/inbox"


def post_signed(fake_peer, *, kind, body, message_id=None, key=None):
    """A message from the fake peer (or signed with ``key``), posted to our inbox."""
    message = signing.seal(
        key or fake_peer.key,
        sender="fake",
        recipient_key=me().public_key,
        kind=kind,
        body=body,
        message_id=message_id,
    )
    return HttpClient().post(INBOX, data=json.dumps(message), content_type="application/json")


@pytest.fixture
def shelter(orgs, trusted):
    """Org b shares its shelter (system availability: a shared room of four, a family room of
    three) with trusted peers."""
    services.sharing_set(by=None, organisation=orgs["b"], share=True)
    return system(
        make_facility(
            orgs["b"], "Vladimir refuge", region="RU-VLA", rooms=[("dorm", 4), ("family", 3)]
        )
    )
