"""Email by SMTP (REFUGE_EMAIL_URL). SMTP has no idempotency key, so the Message-ID is the
delivery's id: a repeat after a crash carries the same id, and mail systems and clients that
see the same Message-ID twice show one message (docs/decisions.md)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage

from .. import words
from . import ChannelError


def message_id(delivery_id) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "refuge.invalid"
    return f"<{delivery_id}@{domain}>"


def send(delivery, user) -> str:
    if not user.email:
        raise ChannelError("no_email_address", retry=False)
    lang = user.preferred_language
    msg = EmailMessage(
        subject=words.subject(lang),
        body=words.email_body(lang),
        to=[user.email],
        headers={"Message-ID": message_id(delivery.pk), "Auto-Submitted": "auto-generated"},
    )
    try:
        msg.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ChannelError("smtp_recipient_refused", retry=False) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise ChannelError("smtp_unreachable", retry=True) from exc
    return ""
