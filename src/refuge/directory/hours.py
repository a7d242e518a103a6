"""Opening hours: pure functions over a list of weekly windows (no Django here).

A window is days of the week (0 = Monday) and an opening and a closing time of day, local to
the facility, kept in minutes since midnight. A window never crosses midnight (a night shelter
open 19:00–08:00 is two windows) and may close at 24:00, so "24 hours, every day" is one
window: every day, 00:00–24:00. Stored as JSON, ``{"days": [0, 1], "opens": "09:00",
"closes": "18:00"}``; the idea comes from refuge.hotline.windows (callback times), which
cannot say 24:00.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DAY = 24 * 60
WEEK = tuple(range(7))
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?")


@dataclass(frozen=True)
class Window:
    days: tuple[int, ...]
    opens: int
    closes: int

    def to_json(self) -> dict:
        return {"days": list(self.days), "opens": hhmm(self.opens), "closes": hhmm(self.closes)}

    @classmethod
    def from_json(cls, data: dict) -> Window:
        """A window from its JSON form; ValueError when it is not one (bounds are checked by
        ``problems``, so that a person is told which line is wrong)."""
        try:
            days = tuple(sorted({int(d) for d in data["days"]}))
            return cls(
                days=days, opens=parse_hhmm(data["opens"]), closes=parse_hhmm(data["closes"])
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an opening-hours window: {data!r}") from exc


ALWAYS = (Window(days=WEEK, opens=0, closes=DAY),)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    """Minutes since midnight from "9:00", "09:00", "09:00:00" or "24:00". A time zone suffix
    (HSDS allows "09:00Z" or "09:00+03:00") is ignored: hours are local to the facility."""
    match = _HHMM.match(str(text).strip())
    if match is None:
        raise ValueError(f"not a time of day: {text!r}")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"not a time of day: {text!r}")
    return hours * 60 + minutes


def loads(data: Iterable[dict] | None) -> list[Window]:
    return [Window.from_json(item) for item in data or []]


def dumps(windows: Iterable[Window]) -> list[dict]:
    return [w.to_json() for w in normalise(windows)]


def normalise(windows: Iterable[Window]) -> list[Window]:
    return sorted(windows, key=lambda w: (w.days, w.opens, w.closes))


@dataclass(frozen=True)
class Problem:
    """What is wrong with the window at ``line`` (1-based); ``other`` and ``day`` for an
    overlap."""

    code: str  # no_days | bad_day | bad_time | closes_before_opens | overlap
    line: int
    other: int = 0
    day: int = 0


def problems(windows: list[Window]) -> list[Problem]:
    found = []
    for line, w in enumerate(windows, start=1):
        if not w.days:
            found.append(Problem("no_days", line))
        elif any(d not in WEEK for d in w.days):
            found.append(Problem("bad_day", line))
        if not (0 <= w.opens <= DAY and 0 <= w.closes <= DAY):
            found.append(Problem("bad_time", line))
        elif w.opens >= w.closes:
            found.append(Problem("closes_before_opens", line))
    if found:
        return found
    for i, a in enumerate(windows):
        for j in range(i + 1, len(windows)):
            b = windows[j]
            shared = sorted(set(a.days) & set(b.days))
            if shared and a.opens < b.closes and b.opens < a.closes:
                found.append(Problem("overlap", i + 1, other=j + 1, day=shared[0]))
    return found


def by_day(windows: Iterable[Window]) -> dict[int, tuple[tuple[int, int], ...]]:
    """Each day's opening spans in order, touching spans joined (12:00–24:00 and 00:00–12:00
    of the same day are one span); days without hours are left out."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for w in windows:
        for d in w.days:
            spans.setdefault(d, []).append((w.opens, w.closes))
    out = {}
    for d in sorted(spans):
        joined: list[tuple[int, int]] = []
        for opens, closes in sorted(spans[d]):
            if joined and opens <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(closes, joined[-1][1]))
            else:
                joined.append((opens, closes))
        out[d] = tuple(joined)
    return out


def always_open(windows: Iterable[Window]) -> bool:
    days = by_day(windows)
    return all(days.get(d) == ((0, DAY),) for d in WEEK)


@dataclass(frozen=True)
class DayRun:
    """Consecutive days (first..last, Monday first) with the same spans."""

    first: int
    last: int
    spans: tuple[tuple[int, int], ...]

    @property
    def every_day(self) -> bool:
        return (self.first, self.last) == (0, 6)

    @property
    def all_day(self) -> bool:
        return self.spans == ((0, DAY),)


def runs(windows: Iterable[Window]) -> list[DayRun]:
    """The week as people write it: "Mon–Fri 09:00–18:00, Sat 10:00–14:00"."""
    out: list[DayRun] = []
    for d, spans in by_day(windows).items():
        if out and out[-1].last == d - 1 and out[-1].spans == spans:
            out[-1] = DayRun(out[-1].first, d, spans)
        else:
            out.append(DayRun(d, d, spans))
    return out
