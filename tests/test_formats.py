"""Dates in Kyrgyz: year first, then the day and the month in lower-case nominative (issue 16)."""

from datetime import date, datetime

import pytest
from django.template import Context, Template
from django.utils import formats, translation

KYRGYZ_MONTHS = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
]


def test_a_kyrgyz_date_reads_year_first_with_the_month_in_lower_case():
    with translation.override("ky"):
        assert formats.date_format(date(2026, 12, 6)) == "2026-ж., 6-декабрь"
        shown = Template('{{ day|date:"DATE_FORMAT" }}').render(Context({"day": date(2026, 12, 6)}))
        assert shown == "2026-ж., 6-декабрь"


@pytest.mark.parametrize("month", range(1, 13))
def test_every_month_is_in_the_nominative_and_lower_case(month):
    with translation.override("ky"):
        assert formats.date_format(date(2026, month, 1)) == f"2026-ж., 1-{KYRGYZ_MONTHS[month - 1]}"


def test_kyrgyz_date_and_time_and_the_shorter_forms():
    with translation.override("ky"):
        assert (
            formats.date_format(datetime(2026, 12, 6, 9, 5), "DATETIME_FORMAT")
            == "2026-ж., 6-декабрь, 9:05"
        )
        assert formats.date_format(date(2026, 3, 8), "MONTH_DAY_FORMAT") == "8-март"
        assert formats.date_format(date(2026, 3, 8), "YEAR_MONTH_FORMAT") == "2026-ж., март"
        # Only the long forms change; the numeric one stays Django's.
        assert formats.date_format(date(2026, 3, 8), "SHORT_DATE_FORMAT") == "08.03.2026"


def test_other_languages_keep_djangos_forms():
    with translation.override("ru"):
        assert formats.date_format(date(2026, 12, 6)) == "6 декабря 2026 г."
    with translation.override("en"):
        assert formats.date_format(date(2026, 12, 6)) == "Dec. 6, 2026"
