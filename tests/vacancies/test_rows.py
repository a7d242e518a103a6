"""The board's rows written in Python are the HTML the row template wrote (the oracle,
tests/vacancies/row.html, the board's `_row.html` until the rows were written in Python), up to
the amount of whitespace, in English and in Russian."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

from django.template import Context, Template
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.directory.models import FacilityKind, Faith
from refuge.placement.fit import Capacity
from refuge.vacancies.availability import (
    CONFIRMED,
    NEVER_REPORTED,
    NO_ROOMS,
    NOT_DERIVED,
    REPORTED,
    STALE,
    UNKNOWN,
    Availability,
)
from refuge.vacancies.board import BoardRow
from refuge.vacancies.rows import RowWriter, reasons_html

ORACLE = Template((Path(__file__).parent / "row.html").read_text(encoding="utf-8"))
REASONS = Template('{% include "vacancies/_reasons.html" %}')
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _norm(html) -> str:
    return re.sub(r"\s+", " ", str(html)).strip()


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
words = st.one_of(text, st.sampled_from(["<b>x</b>", "A & B", '"q"', "it's", "Дом у реки"]))
count = st.integers(min_value=0, max_value=12)


@st.composite
def availabilities(draw):
    status = draw(st.sampled_from([CONFIRMED, REPORTED, UNKNOWN]))
    source = "system" if status == CONFIRMED else draw(st.sampled_from(["reported", "system"]))
    beds = draw(st.integers(min_value=0, max_value=1500))
    free = None if status == UNKNOWN else draw(st.integers(min_value=0, max_value=1200))
    as_of = draw(
        st.one_of(st.none(), st.integers(0, 24 * 90).map(lambda h: AT - timedelta(hours=h)))
    )
    reported_at = draw(
        st.one_of(st.none(), st.just(AT - timedelta(hours=3)), st.just(AT - timedelta(days=3)))
    )
    since = draw(
        st.lists(st.tuples(st.sampled_from(["stays", "holds", "other"]), count, count), max_size=2)
    )
    why = (
        ""
        if status != UNKNOWN
        else draw(st.sampled_from([NO_ROOMS, NEVER_REPORTED, STALE, NOT_DERIVED]))
    )
    return Availability(
        facility_id=uuid.uuid4(),
        status=status,
        source=source,
        capacity=Capacity((), 0),
        beds_total=beds,
        free_beds=free,
        as_of=as_of,
        expires_at=None,
        rooms=draw(st.integers(0, 3)),
        unknown_reason=why,
        reported_free=draw(count) if status == REPORTED else None,
        since=tuple(since),
        capped=draw(count),
        reported_at=reported_at,
    )


@st.composite
def rows(draw):
    availability = draw(availabilities())
    facts = SimpleNamespace(
        id=uuid.uuid4(),
        name=draw(words),
        organisation_name=draw(words),
        kind=draw(st.sampled_from(FacilityKind.values)),
        faith=draw(st.sampled_from(Faith.values)),
        region_name=draw(st.one_of(st.just(""), words)),
        locality=draw(st.one_of(st.just(""), words)),
        availability=availability,
    )
    return BoardRow(
        facts=facts,
        result=SimpleNamespace(largest_household_now=draw(st.one_of(st.none(), count))),
        light=draw(st.sampled_from(["green", "amber", "red"])),
        reasons=draw(st.lists(words, max_size=5)),
        questions=draw(st.lists(words, max_size=3)),
        requirements=draw(st.lists(words, max_size=3)),
        distance_km=draw(st.one_of(st.none(), st.integers(0, 9000))),
        can_manage=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(
    row=rows(),
    language=st.sampled_from(["en", "ru"]),
    querystring=st.sampled_from(["", "region=RU-MOW&boys=15%2C+9&pets=on", "q=<x>"]),
    error=st.sampled_from(["", "Nothing to confirm: <no report>"]),
    token=st.sampled_from(["", "tok123"]),
)
def test_a_row_written_in_python_is_the_template_s(row, language, querystring, error, token):
    with translation.override(language):
        context = {"row": row, "board": {"at": AT}, "querystring": querystring}
        context["row_error"] = error
        if token:
            context["csrf_token"] = token
        oracle = ORACLE.render(Context(context))
        ours = RowWriter(at=AT, querystring=querystring, csrf_token=token).row(row, error=error)
    assert _norm(ours) == _norm(oracle)


@settings(max_examples=100, deadline=None)
@given(reasons=st.lists(words, max_size=6), language=st.sampled_from(["en", "ru"]))
def test_reasons_written_in_python_are_the_template_s(reasons, language):
    with translation.override(language):
        oracle = REASONS.render(Context({"reasons": reasons}))
        ours = reasons_html(reasons)
    assert _norm(ours) == _norm(oracle)


@settings(max_examples=20, deadline=None)
@given(row=rows())
def test_names_are_escaped(row):
    row.facts.name = "<script>x</script>"
    html = RowWriter(at=AT, querystring="").row(row)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
