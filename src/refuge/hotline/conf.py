"""The hotline's tunable figures, read from settings at call time (tests override them).

Each has a default that matches common hotline practice; settings.py may set them from the
environment (see the report of issue 4 for the names).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

# Fixed by the API contract (`answered_within_20s_pct`).
SERVICE_LEVEL_SECONDS = 20


def repeat_window() -> timedelta:
    """A call is a repeat call if the same number called within this time before it."""
    return timedelta(days=int(getattr(settings, "REFUGE_HOTLINE_REPEAT_WINDOW_DAYS", 30)))


def caller_key_retention() -> timedelta:
    """Caller keys are forgotten after this; twice the window leaves room for late events."""
    return 2 * repeat_window()


def short_abandon_seconds() -> int:
    """Unanswered calls that hung up sooner than this are short abandons, counted apart."""
    return int(getattr(settings, "REFUGE_HOTLINE_SHORT_ABANDON_SECONDS", 5))


def max_event_bytes() -> int:
    """A PBX event is a few hundred bytes; anything larger than this is refused (413)."""
    return int(getattr(settings, "REFUGE_HOTLINE_MAX_EVENT_BYTES", 64 * 1024))


def batched_ingest() -> bool:
    """Mango and Twilio events are kept as received and merged into calls in batches by
    `refuge hotline-merge` (docs/decisions.md), instead of each in its own request. Off
    unless ``REFUGE_HOTLINE_INGEST=batched`` (settings.py reads it from the environment): it
    needs the merger running."""
    return getattr(settings, "REFUGE_HOTLINE_INGEST", "direct") == "batched"
