"""Hotline figures, computed by the database (aggregate queries, one per table).

Definitions (shown on the figures page too):
- offered: incoming calls that came in during the period (by the PBX's time of arrival);
- answered: offered calls in which the caller talked to a person (talk time > 0);
- abandoned: offered calls that ended unanswered after waiting at least the short-abandon
  threshold (default 5 s); short abandons (hung up sooner) are counted apart;
- average speed of answer: mean wait of answered calls, from arrival to answer;
- answered within 20 s: answered within 20 s ÷ (answered + abandoned), short abandons left
  out, as a percentage; calls entered by hand have no measured wait and are left out of both;
- longest wait: the longest any caller waited, answered or not;
- average handling time: mean talk time (including hold) of answered calls;
- repeat callers: calls from a number that had called within the repeat window before, as a
  share of calls whose number was shown;
- out of region: calls from outside the line's service area, as a share of calls whose region
  could be told;
- unmet requests: needs recorded at wrap-up as not met, in calls of the period (all
  directions, so callbacks count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from . import conf, merge
from .models import Call, CallState, WrapUp, WrapUpNeed

COUNT_KEYS = ["offered", "answered", "abandoned", "short_abandoned"]
STAT_KEYS = [
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "asa_seconds",
    "answered_within_20s_pct",
    "longest_wait_seconds",
    "aht_seconds",
    "repeat_caller_pct",
    "out_of_region_pct",
    "unmet_requests",
]


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """The period from the start of ``start`` to the end of ``end`` in the site's time zone."""
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def calls_in(qs: QuerySet[Call], start: date, end: date) -> QuerySet[Call]:
    lo, hi = period(start, end)
    return qs.filter(created_at__gte=lo, created_at__lt=hi)


def _aggregates() -> dict[str, Any]:
    short = conf.short_abandon_seconds()
    unanswered = Q(answered=False, state=CallState.DISCONNECTED, wait_seconds__isnull=False)
    timed = Q(answered=True, wait_seconds__isnull=False)
    return {
        "_offered": Count("pk"),
        "_answered": Count("pk", filter=Q(answered=True)),
        "_abandoned": Count("pk", filter=unanswered & Q(wait_seconds__gte=short)),
        "_short": Count("pk", filter=unanswered & Q(wait_seconds__lt=short)),
        "_answered_timed": Count("pk", filter=timed),
        "_within": Count("pk", filter=timed & Q(wait_seconds__lte=conf.SERVICE_LEVEL_SECONDS)),
        "_asa": Avg("wait_seconds", filter=timed),
        "_longest": Max("wait_seconds"),
        "_aht": Avg("talk_seconds", filter=Q(answered=True, talk_seconds__isnull=False)),
        "_known": Count("pk", filter=Q(caller_known=True)),
        "_repeat": Count("pk", filter=Q(caller_known=True, repeat_caller=True)),
        "_placed": Count("pk", filter=Q(out_of_region__isnull=False)),
        "_out": Count("pk", filter=Q(out_of_region=True)),
    }


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _finish(raw: dict[str, Any], unmet: int) -> dict[str, Any]:
    """The contract's figures from the raw aggregates."""
    return {
        "offered": raw["_offered"],
        "answered": raw["_answered"],
        "abandoned": raw["_abandoned"],
        "short_abandoned": raw["_short"],
        "asa_seconds": round(raw["_asa"], 1) if raw["_asa"] is not None else None,
        "answered_within_20s_pct": _pct(raw["_within"], raw["_answered_timed"] + raw["_abandoned"]),
        "longest_wait_seconds": raw["_longest"],
        "aht_seconds": round(raw["_aht"], 1) if raw["_aht"] is not None else None,
        "repeat_caller_pct": _pct(raw["_repeat"], raw["_known"]),
        "out_of_region_pct": _pct(raw["_out"], raw["_placed"]),
        "unmet_requests": unmet,
    }


def stats(qs: QuerySet[Call]) -> dict[str, Any]:
    """The period's figures for the calls in ``qs`` (already limited to the period)."""
    raw = qs.filter(direction=merge.INCOMING).aggregate(**_aggregates())
    unmet = WrapUpNeed.objects.filter(met=False, wrapup__call__in=qs).count()
    return _finish(raw, unmet)


def _grouped(qs: QuerySet[Call], key: str, expr: Any | None = None) -> dict[Any, dict[str, Any]]:
    incoming = qs.filter(direction=merge.INCOMING)
    if expr is not None:
        incoming = incoming.annotate(**{key: expr})
    rows = incoming.values(key).annotate(**_aggregates()).order_by(key)
    needs = WrapUpNeed.objects.filter(met=False, wrapup__call__in=qs)
    if expr is not None:
        needs = needs.annotate(**{key: _via_wrapup(expr, key)})
        need_rows = needs.values(key).annotate(n=Count("pk")).order_by(key)
    else:
        need_rows = needs.values(**{key: _path(key)}).annotate(n=Count("pk")).order_by(key)
    unmet = {r[key]: r["n"] for r in need_rows}
    out = {r[key]: _finish(r, unmet.pop(r[key], 0)) for r in rows}
    for k, n in unmet.items():  # unmet needs in a group with no incoming call (callbacks)
        out[k] = _finish(_empty_raw(), n)
    return out


def _path(key: str) -> Any:
    from django.db.models import F

    return F(f"wrapup__call__{key}")


def _via_wrapup(expr: Any, key: str) -> Any:
    tz = timezone.get_default_timezone()
    if key == "day":
        return TruncDate("wrapup__call__created_at", tzinfo=tz)
    if key == "hour":
        return ExtractHour("wrapup__call__created_at", tzinfo=tz)
    raise ValueError(key)


def _empty_raw() -> dict[str, Any]:
    return {
        "_offered": 0,
        "_answered": 0,
        "_abandoned": 0,
        "_short": 0,
        "_answered_timed": 0,
        "_within": 0,
        "_asa": None,
        "_longest": None,
        "_aht": None,
        "_known": 0,
        "_repeat": 0,
        "_placed": 0,
        "_out": 0,
    }


@dataclass
class Figures:
    start: date
    end: date
    totals: dict[str, Any]
    by_day: list[dict[str, Any]]
    by_line: list[dict[str, Any]]
    by_region: list[dict[str, Any]]
    by_hour: list[dict[str, Any]]
    contact_types: list[dict[str, Any]]
    abuse: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    unmet_reasons: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


def figures(qs: QuerySet[Call], start: date, end: date) -> Figures:
    """Every table of the figures page (aggregate queries only)."""
    from .models import Line
    from .regions import region_name

    tz = timezone.get_default_timezone()
    qs = calls_in(qs, start, end)
    totals = stats(qs)

    days = _grouped(qs, "day", TruncDate("created_at", tzinfo=tz))
    by_day = []
    d = start
    while d <= end:  # every day of the period, also those without calls
        by_day.append(
            {
                "key": d,
                "label": d.strftime("%d.%m.%Y"),
                "tick": d.strftime("%d.%m"),
                **days.get(d, _finish(_empty_raw(), 0)),
            }
        )
        d += timedelta(days=1)

    lines = _grouped(qs, "line_id")
    names = {line.pk: str(line) for line in Line.objects.filter(pk__in=[k for k in lines if k])}
    by_line = [
        {"key": k, "label": names.get(k, "—") if k else "—", **v}
        for k, v in sorted(lines.items(), key=lambda kv: -kv[1]["offered"])
    ]

    regions_ = _grouped(qs, "caller_region")
    by_region = [
        {"key": k, "label": region_name(k), **v}
        for k, v in sorted(regions_.items(), key=lambda kv: (-kv[1]["offered"], kv[0]))
    ]

    hours = _grouped(qs, "hour", ExtractHour("created_at", tzinfo=tz))
    by_hour = [
        {"key": h, "label": f"{h:02d}", **hours.get(h, _finish(_empty_raw(), 0))} for h in range(24)
    ]

    wrapups = WrapUp.objects.filter(call__in=qs)
    contact_types = list(
        wrapups.values("contact_type").annotate(n=Count("pk")).order_by("-n", "contact_type")
    )
    abuse_counts = wrapups.aggregate(
        **{a: Count("pk", filter=Q(**{f"abuse_{a}": True})) for a in WrapUp.ABUSE}
    )
    abuse = [{"key": a, "n": abuse_counts[a]} for a in WrapUp.ABUSE]
    needs_qs = WrapUpNeed.objects.filter(wrapup__call__in=qs)
    needs = list(
        needs_qs.values("need")
        .annotate(n=Count("pk"), unmet=Count("pk", filter=Q(met=False)))
        .order_by("-n", "need")
    )
    unmet_reasons = list(
        needs_qs.filter(met=False)
        .values("unmet_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "unmet_reason")
    )
    result = Figures(
        start,
        end,
        totals,
        by_day,
        by_line,
        by_region,
        by_hour,
        contact_types,
        abuse,
        needs,
        unmet_reasons,
    )
    return result
