"""Telegram by plain HTTPS calls to the Bot API (REFUGE_TELEGRAM_API_URL, ..._BOT_TOKEN).

The Bot API has no idempotency key: a repeat after a worker died between Telegram's answer
and our record sends the neutral words twice (at-least-once; docs/decisions.md).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from .. import words
from . import ChannelError

TIMEOUT = 10
# One Bot API takes every message: when it is down, the rest of a batch waits for the same retry.
ONE_PROVIDER = True


def configured() -> bool:
    return bool(settings.REFUGE_TELEGRAM_BOT_TOKEN)


def call(method: str, payload: dict) -> dict:
    """POST one Bot API method; the token is in the path, so the URL is never logged."""
    url = f"{settings.REFUGE_TELEGRAM_API_URL}/bot{settings.REFUGE_TELEGRAM_BOT_TOKEN}/{method}"
    req = urllib.request.Request(  # noqa: S310 (the operator sets the scheme; https by default)
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310
            return json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 403):
            # 403: she blocked the bot; 400: the chat no longer exists. Neither will change.
            raise ChannelError(f"telegram_refused_{exc.code}", retry=False) from exc
        raise ChannelError(f"telegram_http_{exc.code}", retry=True) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChannelError("telegram_unreachable", retry=True) from exc


def send_text(chat_id: int, text: str) -> str:
    answer = call("sendMessage", {"chat_id": chat_id, "text": text})
    if not answer.get("ok"):
        raise ChannelError("telegram_not_ok", retry=True)
    return str((answer.get("result") or {}).get("message_id", ""))


def send(delivery, user, session=None) -> str:
    if not configured():
        raise ChannelError("telegram_not_configured", retry=False)
    link = getattr(user, "telegram_link", None)
    if link is None:
        raise ChannelError("telegram_not_linked", retry=False)
    try:
        return send_text(link.chat_id, words.text(user.preferred_language))
    except ChannelError as exc:
        if not exc.retry:
            link.delete()  # blocked or gone: she links again if she wants it back
        raise
