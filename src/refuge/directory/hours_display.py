"""Opening hours in words, in the active language (the staff profile and the public pages).

The words themselves come from the caller: staff pages use the directory's catalogue (English
and Russian, weekday names from Django's own), the public help pages their own catalogue in
five languages (refuge.help.labels). Times follow the active language's TIME_FORMAT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import time

from django.utils import dateformat, formats
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _

from . import hours
from .hours import DAY, Window


@dataclass(frozen=True)
class HoursWords:
    days: Sequence[str]  # short names, Monday first
    every_day: str  # "Every day"
    all_day: str  # "24 hours"
    always: str  # "Open 24 hours, every day"


def staff_words() -> HoursWords:
    return HoursWords(
        days=[str(WEEKDAYS_ABBR[d]) for d in hours.WEEK],
        every_day=_("Every day"),
        all_day=_("24 hours"),
        always=_("Open 24 hours, every day"),
    )


def day_name(day: int) -> str:
    return str(WEEKDAYS[day])


def time_text(minutes: int) -> str:
    """A time of day as the active language writes it; closing at midnight is "24:00" in
    the 24-hour languages and "midnight" in English."""
    fmt = formats.get_format("TIME_FORMAT")
    if minutes >= DAY:
        if any(c in fmt for c in "aAPfgh"):
            return dateformat.time_format(time(0, 0), fmt)
        return "24:00"
    return dateformat.time_format(time(minutes // 60, minutes % 60), fmt)


def lines(windows: Iterable[Window], words: HoursWords | None = None) -> list[str]:
    """The week in lines: ["Mon–Fri 9:00–18:00", "Sat 10:00–14:00"]; [] when no hours."""
    windows = list(windows)
    if not windows:
        return []
    words = words or staff_words()
    if hours.always_open(windows):
        return [words.always]
    out = []
    for run in hours.runs(windows):
        if run.every_day:
            days = words.every_day
        elif run.first == run.last:
            days = words.days[run.first]
        else:
            days = f"{words.days[run.first]}–{words.days[run.last]}"
        if run.all_day:
            spans = words.all_day
        else:
            spans = ", ".join(f"{time_text(a)}–{time_text(b)}" for a, b in run.spans)
        out.append(f"{days} {spans}")
    return out


def stored_lines(data: list | None, words: HoursWords | None = None) -> list[str]:
    """Lines for a facility's stored ``opening_hours`` (a damaged value shows as no hours)."""
    try:
        return lines(hours.loads(data), words)
    except ValueError:
        return []
