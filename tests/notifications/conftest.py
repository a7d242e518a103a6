from __future__ import annotations

import pytest
from django.core.management import call_command

from refuge.notifications.models import ChannelSettings
from tests.notifications.peers import PushPeer, SMTPPeer, TelegramPeer
from tests.referrals.conftest import client_a, network  # noqa: F401 (fixtures)


def run_worker() -> None:
    """Run every job that is due, in this process, as `refuge worker --batch` does.

    The worker loop closes "old" connections between jobs; inside a test's transaction every
    connection looks old (autocommit is off), and on PostgreSQL closing it ends the test."""
    from unittest import mock

    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("worker", "--batch", "--no-scheduler", verbosity=0)


def refer(personas, facilities, case, *keys: str):
    """The operator of org a refers her to org b's facilities (Vladimir by default)."""
    from refuge.referrals import services as referrals
    from tests.referrals.conftest import FAMILY

    return referrals.referral_create(
        by=personas["operator_a"].principal,
        client=case,
        household=FAMILY,
        facility_ids=[facilities[k].pk for k in (keys or ("vla",))],
    )


def opt_in(user, **channels) -> ChannelSettings:
    prefs, _ = ChannelSettings.objects.get_or_create(user=user)
    for name, on in channels.items():
        setattr(prefs, name, on)
    prefs.save()
    return prefs


@pytest.fixture
def smtp(settings):
    peer = SMTPPeer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", peer.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield peer
    peer.stop()


@pytest.fixture
def telegram(settings):
    peer = TelegramPeer().start()
    settings.REFUGE_TELEGRAM_API_URL = peer.url
    settings.REFUGE_TELEGRAM_BOT_TOKEN = "123:test-token"
    settings.REFUGE_TELEGRAM_BOT_USERNAME = "refuge_test_bot"
    yield peer
    peer.stop()


@pytest.fixture
def push(settings):
    peer = PushPeer().start()
    peer.status = 201
    yield peer
    peer.stop()


@pytest.fixture
def fast_retries(settings):
    settings.REFUGE_NOTIFY_RETRY_BASE_SECONDS = 0.01
    settings.REFUGE_NOTIFY_RETRY_CAP_SECONDS = 0.05
