"""Email by SMTP (REFUGE_EMAIL_URL). SMTP has no idempotency key, so the Message-ID is the
delivery's id: a repeat after a crash carries the same id, and mail systems and clients that
see the same Message-ID twice show one message (docs/decisions.md).

A worker sends a batch of messages over one SMTP connection (`session()`): a connection per
message cost more than the message itself (docs/benchmarks.md, "Notifications")."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .. import words
from . import ChannelError

# One server takes every message: when it is unreachable, the rest of a batch waits for the
# same retry instead of each message meeting the same timeout.
ONE_PROVIDER = True


def message_id(delivery_id) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "refuge.invalid"
    return f"<{delivery_id}@{domain}>"


@contextmanager
def session() -> Iterator[object]:
    """One connection for a batch; opened at the first message, reopened after an error."""
    connection = get_connection(fail_silently=False)
    try:
        yield connection
    finally:
        _close(connection)


def _close(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        pass  # the server went away first; nothing to tidy


def send(delivery, user, connection=None) -> str:
    if not user.email:
        raise ChannelError("no_email_address", retry=False)
    lang = user.preferred_language
    msg = EmailMessage(
        subject=words.subject(lang),
        body=words.email_body(lang),
        to=[user.email],
        headers={"Message-ID": message_id(delivery.pk), "Auto-Submitted": "auto-generated"},
        connection=connection,
    )
    try:
        if connection is not None and getattr(connection, "connection", False) is None:
            connection.open()  # kept open for the next message of the batch
        msg.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError("smtp_recipient_refused", retry=False) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        if connection is not None:
            _close(connection)  # the next message starts on a fresh connection
        raise ChannelError("smtp_unreachable", retry=True) from exc
    return ""
