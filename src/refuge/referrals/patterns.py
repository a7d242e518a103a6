"""Unusual search patterns (SPEC C13, docs/security.md "Safety distances from real points").

"Too close" is judged from each facility's real point, so a yes/no answer to "is it closer
than X km to region R?" says something about a confidential shelter's location, even though
the distance itself is never shown. The threshold is rounded up to 10 km (placement.geo), and
one person running many searches with varying thresholds is written to the audit log as
``search.pattern``, with counts only: no household, no region, no threshold, no facility.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from refuge.core import audit
from refuge.core.access import Principal
from refuge.core.models import AuditEvent
from refuge.placement.fit import Household

from .models import SearchProbe

WINDOW = timedelta(hours=1)
# More than this many searches with a threshold in the window...
PATTERN_SEARCHES = 10
# ...with at least this many different thresholds: a bisection needs about six per point.
PATTERN_THRESHOLDS = 3


def search_pattern_note(
    *, by: Principal, household: Household, at: datetime | None = None
) -> AuditEvent | None:
    """Note one search; write ``search.pattern`` (once per window and person) when her searches
    of the last hour look like someone bisecting a distance. Returns the event when written."""
    if household.min_distance_km <= 0 or not household.avoid_points:
        return None  # no distance asked about: the answer says nothing beyond the region
    now = at or timezone.now()
    since = now - WINDOW
    actor = by.name
    with transaction.atomic():
        SearchProbe.objects.filter(at__lt=since).delete()
        SearchProbe.objects.create(
            actor=actor, at=now, threshold_km=round(household.min_distance_km)
        )
        recent = SearchProbe.objects.filter(actor=actor, at__gte=since)
        searches = recent.count()
        if searches <= PATTERN_SEARCHES:
            return None
        thresholds = recent.values("threshold_km").distinct().count()
        if thresholds < PATTERN_THRESHOLDS:
            return None
        if AuditEvent.objects.filter(action="search.pattern", actor=actor, at__gte=since).exists():
            return None
        return audit.record(
            actor=by,
            action="search.pattern",
            details={
                "searches": searches,
                "thresholds": thresholds,
                "window_minutes": int(WINDOW.total_seconds() // 60),
            },
        )
