from __future__ import annotations

import pytest

from refuge.federation import conf, services
from refuge.federation.models import Peer
from tests.federation.peers import FakePeer
from tests.notifications.conftest import run_worker  # noqa: F401 (used by tests)


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
