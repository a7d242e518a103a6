"""Reporting periods: a free date range for coordinators and managers, whole calendar quarters
for analysts and exports.

Why quarters only, and only completed ones: published tables that overlap can be subtracted
from each other. With figures for 1–31 March and for 1–30 March anyone gets 31 March alone,
small cells and all, whatever each table hid. Periods that never overlap (calendar quarters)
and never grow (completed ones) close that door; a quarter and a year together would open it
again (the year minus three quarters is the fourth), so there is one granularity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from . import conf

QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """From the start of ``start`` to the end of ``end``, in the site's time zone."""
        tz = timezone.get_default_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    @property
    def key(self) -> str:
        q = quarter_of(self.start)
        if self == q:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    @property
    def label(self) -> str:
        q = quarter_of(self.start)
        if self == q:
            return _("Q%(quarter)s %(year)s") % {
                "quarter": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        return f"{self.start:%d.%m.%Y} – {self.end:%d.%m.%Y}"


def quarter_of(day: date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    nxt = date(day.year + (first_month == 10), 1 if first_month == 10 else first_month + 3, 1)
    return Period(start, nxt - timedelta(days=1))


def completed_quarters(today: date | None = None, count: int | None = None) -> list[Period]:
    """The last ``count`` calendar quarters that have ended, newest first."""
    today = today or timezone.localdate()
    count = count or conf.analyst_quarters()
    out = []
    current = quarter_of(today)
    q = quarter_of(current.start - timedelta(days=1))
    for _i in range(count):
        out.append(q)
        q = quarter_of(q.start - timedelta(days=1))
    return out


def parse_quarter(key: str, today: date | None = None) -> Period | None:
    """The completed quarter named ``2026-Q3``, or None if it is not one analysts may choose."""
    m = QUARTER_KEY.match(key or "")
    if not m:
        return None
    year, q = int(m.group(1)), int(m.group(2))
    wanted = quarter_of(date(year, 3 * q - 2, 1))
    return wanted if wanted in completed_quarters(today) else None
