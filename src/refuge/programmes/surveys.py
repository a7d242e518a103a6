"""Before/after outcome surveys, in the same instrument format as risk assessments."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

from refuge.cases.risk.engine import AnswerError, Instrument, check_answers, load_instrument
from refuge.cases.risk.refusals import answer_refusal
from refuge.core.services import ServiceError

HERE = Path(__file__).resolve().parent / "instruments"
BY_RESPONDENT = {"partner": "partner-outcomes@1", "participant": "participant-outcomes@1"}


@cache
def get(key: str) -> Instrument:
    return load_instrument(HERE / f"{key}.json")


def for_respondent(respondent: str) -> Instrument:
    return get(BY_RESPONDENT[respondent])


def clean(survey: Instrument, answers: Mapping[str, str]) -> dict[str, str]:
    given = {k: v for k, v in answers.items() if v not in (None, "")}
    try:
        check_answers(survey, given)
    except AnswerError as exc:
        raise ServiceError(answer_refusal(exc), "invalid_answer") from exc
    missing = [i.id for i in survey.items if i.id not in given]
    if missing:
        raise ServiceError(_("Answer every question of the measure."), "incomplete")
    return given
