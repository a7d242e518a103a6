"""Sending one e-mail after the request has answered.

An unlock link is requested by typing a user name; the answer must take as long whether or not
that account exists, so the e-mail is not sent inside the request. It is not put in an outbox
row either: the link is a secret, and nothing secret should rest in the database.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

from django.core.mail import EmailMessage

log = logging.getLogger("refuge.mail")
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refuge-mail")


def _send(message: EmailMessage) -> bool:
    try:
        message.send()
    except Exception:  # noqa: BLE001 - a mail server down must not surface anywhere else
        log.warning("An e-mail could not be sent (%s recipient(s)).", len(message.to))
        return False
    return True


def send_soon(message: EmailMessage) -> Future[bool]:
    """Send ``message`` from a worker thread; returns the future (tests wait on it)."""
    return _executor.submit(_send, message)
