"""Sending one e-mail after the request has answered.

An unlock link is requested by typing a user name; the answer must take as long whether or not
that account exists, so the e-mail is not sent inside the request. It is not put in an outbox
row either: the link is a secret, and nothing secret should rest in the database.

A mail server that refuses or drops the connection is tried again, a few times over about a
minute (``RETRY_DELAYS``), from the same thread: the link is valid for longer than that, and a
restart of the mail relay should not cost her the way back in. If every attempt fails the link
is lost (never written down), and she can ask again or a manager can unlock her.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from django.core.mail import EmailMessage

log = logging.getLogger("refuge.mail")
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refuge-mail")
RETRY_DELAYS = (2.0, 10.0, 45.0)  # seconds before the second, third and fourth attempts


def _send(message: EmailMessage, delays: tuple[float, ...] | None = None) -> bool:
    delays = RETRY_DELAYS if delays is None else delays
    for attempt in range(len(delays) + 1):
        try:
            message.send()
        except Exception:  # noqa: BLE001 - a mail server down must not surface anywhere else
            log.warning(
                "An e-mail could not be sent (%s recipient(s)), attempt %s of %s.",
                len(message.to),
                attempt + 1,
                len(delays) + 1,
            )
            if attempt < len(delays):
                time.sleep(delays[attempt])
            continue
        return True
    return False


def send_soon(message: EmailMessage) -> Future[bool]:
    """Send ``message`` from a worker thread; returns the future (tests wait on it)."""
    return _executor.submit(_send, message)
