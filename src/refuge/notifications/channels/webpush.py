"""Web Push (RFC 8030, VAPID RFC 8292, payload encrypted per RFC 8291) through pywebpush.

Idempotency: each push carries a `Topic` derived from the delivery id (a push service replaces a
message still waiting with the same topic) and the notification's `tag` is the delivery id (the
device replaces a shown notification with the same tag), so a repeat shows once.
"""

from __future__ import annotations

import json

from django.conf import settings
from pywebpush import WebPushException, webpush

from .. import words
from ..models import PushSubscription
from . import ChannelError

TIMEOUT = 10
TTL = 24 * 3600


def configured() -> bool:
    return bool(settings.REFUGE_VAPID_PRIVATE_KEY and settings.REFUGE_VAPID_PUBLIC_KEY)


def payload(delivery, language: str) -> str:
    return json.dumps(
        {"title": "Refuge", "body": words.text(language), "tag": str(delivery.pk), "url": "/"}
    )


def send(delivery, user, session=None) -> str:
    if not configured():
        raise ChannelError("push_not_configured", retry=False)
    subs = list(PushSubscription.objects.filter(user=user))
    if not subs:
        raise ChannelError("push_no_device", retry=False)
    data = payload(delivery, user.preferred_language)
    delivered, retry = 0, False
    for sub in subs:
        try:
            webpush(
                subscription_info={
                    "endpoint": sub.endpoint,
                    "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
                },
                data=data,
                vapid_private_key=settings.REFUGE_VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.REFUGE_VAPID_SUBJECT},
                ttl=TTL,
                timeout=TIMEOUT,
                headers={"Topic": delivery.pk.hex, "Urgency": "high"},
            )
            delivered += 1
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):
                sub.delete()  # the browser dropped this subscription for good
            else:
                retry = True
        except OSError:
            retry = True
    if delivered:
        return str(delivered)
    if retry:
        raise ChannelError("push_unreachable", retry=True)
    raise ChannelError("push_no_device", retry=False)
