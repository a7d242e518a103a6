"""Rate limits per API key and per member of staff (issue 14, M5: hold flooding).

Same mechanism as sign-in protection (refuge.core.lockout): counted in the database, so every
web worker sees the same count, and every attempt is counted *before* it is judged, under the
counter row's lock, so a burst of parallel requests is counted exactly. Windows are fixed (a
window of 60 seconds starts at each whole minute): at a window's edge a client may get up to
twice the limit in a short time, which is enough to stop flooding and costs one row per
principal and window. A refused request counts too: hammering does not buy more.

The limits (settings; 0 switches one off):

- ``REFUGE_RATE_REFERRALS_PER_HOUR``: referrals one key or one person may send in an hour.
- ``REFUGE_RATE_SEARCHES_PER_MINUTE``: placement searches one key or one person may run in a
  minute (the search page and ``POST /api/v1/placements/search``).
- ``REFUGE_RATE_CASE_SEARCHES_PER_MINUTE``: case searches (code, phone, name) one person may
  run in a minute; low, so the name and phone blind indexes cannot be enumerated.

A refusal is ``RateLimited``: 429 with ``Retry-After`` in the API, a message on a page.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core.access import Principal
from refuge.core.models import RateCounter
from refuge.core.services import ServiceError

KEEP = timedelta(days=1)  # rows of older windows are deleted


class RateLimited(ServiceError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, "rate_limited")
        self.retry_after = retry_after


def _limits() -> dict[str, tuple[int, int]]:
    """action -> (limit, window in seconds)"""
    return {
        "referral_create": (settings.REFUGE_RATE_REFERRALS_PER_HOUR, 3600),
        "search": (settings.REFUGE_RATE_SEARCHES_PER_MINUTE, 60),
        "case_search": (settings.REFUGE_RATE_CASE_SEARCHES_PER_MINUTE, 60),
    }


def _who(p: Principal) -> str | None:
    if p.api_key is not None:
        return f"key:{p.api_key.pk}"
    if p.user is not None:
        return f"user:{p.user.pk}"
    return None


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = math.floor(now.timestamp() / seconds) * seconds
    return datetime.fromtimestamp(epoch, tz=now.tzinfo)


def _count(bucket: str, start: datetime) -> tuple[int, bool]:
    with transaction.atomic():
        # get_or_create survives a parallel create of the same row (it reads it instead).
        row, created = RateCounter.objects.get_or_create(bucket=bucket, window_start=start)
        RateCounter.objects.filter(pk=row.pk).update(hits=F("hits") + 1)
        hits = RateCounter.objects.filter(pk=row.pk).values_list("hits", flat=True).get()
    return hits, created


def check(p: Principal | None, action: str) -> None:
    """Count one ``action`` by ``p``; raise ``RateLimited`` if it goes over the limit."""
    limit, seconds = _limits()[action]
    who = _who(p) if p is not None else None
    if limit <= 0 or who is None:
        return
    now = timezone.now()
    start = _window_start(now, seconds)
    hits, created = _count(f"{action}:{who}", start)
    if created:
        RateCounter.objects.filter(window_start__lt=now - KEEP).delete()
    if hits > limit:
        retry_after = max(1, math.ceil((start + timedelta(seconds=seconds) - now).total_seconds()))
        if action in ("search", "case_search"):
            message = _(
                "Too many searches in a short time: at most %(n)s a minute. "
                "Try again in %(s)s seconds."
            ) % {"n": limit, "s": retry_after}
        else:
            message = _(
                "Too many referrals in a short time: at most %(n)s an hour. "
                "Try again in %(m)s minutes."
            ) % {"n": limit, "m": max(1, math.ceil(retry_after / 60))}
        raise RateLimited(message, retry_after)
