"""BoardForm.grid writes the board filter's fields as the template loop wrote them (the
oracle: tests/vacancies/filter_grid.html, the loop board.html had), up to the amount of
whitespace: unbound, bound with good values, and bound with errors, in English and Russian."""

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refuge.vacancies.forms import BoardForm

ORACLE = Template((Path(__file__).with_name("filter_grid.html")).read_text(encoding="utf-8"))


def _norm(html: str) -> str:
    html = re.sub(r"\{#.*?#\}", "", str(html))
    html = re.sub(r">\s+<", "><", html.strip())
    return re.sub(r"\s+", " ", html)


def _same(form: BoardForm) -> None:
    ours = f'<div class="filter-grid">{form.grid()}</div>'
    assert _norm(ours) == _norm(ORACLE.render(Context({"form": form})))


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize(
    "data",
    [
        None,
        {"region": "RU-MOW", "woman_age": "34", "boys": "15", "girls": "9, 4", "pets": "on",
         "needs": ["wheelchair"], "stay_days": "30", "from_region": "RU-SPE", "min_km": "100"},
        {"woman_age": "3", "boys": "fifteen", "girls": "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16",
         "other_adults": "-1", "needs": ["<script>"], "stay_days": "x", "min_km": "-5",
         "region": "nowhere"},
    ],
)  # fmt: skip
def test_the_grid_is_the_template_s_loop(db, language, data):
    with translation.override(language):
        form = BoardForm(data)
        if data is not None:
            form.is_valid()
        _same(form)


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            name: text
            for name in (
                "region",
                "woman_age",
                "boys",
                "girls",
                "other_adults",
                "stay_days",
                "from_region",
                "min_km",
                "pets",
            )
        },
    )  # fmt: skip
)
def test_the_grid_is_the_template_s_loop_whatever_is_typed(db, data):
    form = BoardForm(data)
    form.is_valid()
    _same(form)


@pytest.mark.parametrize("typed", ["²", "1²", "⑤", "½"])
def test_ages_that_are_digits_but_not_numbers_are_a_clear_error(typed):
    """Found by the grid's hypothesis test in CI: "²".isdigit() is true, int("²") fails (500)."""
    from django import forms

    from refuge.vacancies.forms import parse_ages

    with pytest.raises(forms.ValidationError):
        parse_ages(typed)
    assert parse_ages("15, 9") == [15, 9]
