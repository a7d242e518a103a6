"""The unlock e-mail is tried again when the mail server refuses it (issue 14 leftover), against
a real SMTP server on loopback (aiosmtpd) that answers 421 for its first messages."""

from django.core.mail import EmailMessage, get_connection

from refuge.core import mailer
from tests.notifications.peers import SMTPPeer


def _message(peer) -> EmailMessage:
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=peer.port
    )
    return EmailMessage(
        "Unlock", "link", "refuge@example.org", ["her@example.org"], connection=connection
    )


def test_a_refused_message_is_sent_on_a_later_attempt(monkeypatch):
    peer = SMTPPeer().start()
    try:
        peer.down = True
        sleeps = []

        def sleep(seconds):
            sleeps.append(seconds)
            if len(sleeps) == 2:
                peer.down = False  # the relay is back before the third attempt

        monkeypatch.setattr(mailer.time, "sleep", sleep)
        assert mailer._send(_message(peer)) is True
        assert sleeps == list(mailer.RETRY_DELAYS[:2])
        assert len(peer.sessions) == 3 and len(peer.ids()) == 1
    finally:
        peer.stop()


def test_it_gives_up_after_the_last_attempt(monkeypatch):
    peer = SMTPPeer().start()
    try:
        peer.down = True
        monkeypatch.setattr(mailer.time, "sleep", lambda seconds: None)
        assert mailer._send(_message(peer), delays=(0.0, 0.0)) is False
        assert len(peer.sessions) == 3 and peer.ids() == []
    finally:
        peer.stop()
