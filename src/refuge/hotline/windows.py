"""Safe times for calling her back: pure functions over a list of weekly windows.

A window is days of the week (0 = Monday) and a start and end time of day in her own time
zone; a window never crosses midnight (22:00–02:00 is two windows).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]
    start: time
    end: time

    def to_json(self) -> dict:
        return {
            "days": list(self.days),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }

    @classmethod
    def from_json(cls, data: dict) -> Window:
        return cls(
            days=tuple(sorted({int(d) for d in data["days"]})),
            start=time.fromisoformat(data["start"]),
            end=time.fromisoformat(data["end"]),
        )

    def is_valid(self) -> bool:
        return bool(self.days) and all(0 <= d <= 6 for d in self.days) and self.start < self.end


def dumps(windows: list[Window]) -> str:
    return json.dumps([w.to_json() for w in windows], separators=(",", ":"))


def loads(text: str) -> list[Window]:
    try:
        return [Window.from_json(item) for item in json.loads(text or "[]")]
    except (ValueError, KeyError, TypeError):
        return []  # an erased (shredded) value reads as text that is not JSON


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    return name in _zones()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_open(windows: list[Window], tz: str, now: datetime) -> bool:
    local = now.astimezone(zone(tz))
    t = local.time().replace(tzinfo=None)
    return any(local.weekday() in w.days and w.start <= t < w.end for w in windows)


def next_open(windows: list[Window], tz: str, now: datetime) -> datetime | None:
    """When the next window opens (now, if one is open), as an aware datetime; None if none."""
    if is_open(windows, tz, now):
        return now
    z = zone(tz)
    local = now.astimezone(z)
    best: datetime | None = None
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for w in windows:
            if day.weekday() not in w.days:
                continue
            start = datetime.combine(day, w.start, tzinfo=z)
            if start > local and (best is None or start < best):
                best = start
    return best.astimezone(UTC) if best else None
