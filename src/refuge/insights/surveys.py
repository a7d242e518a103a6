"""Outcome surveys before and after, for survivors (this app) and for the partners of DVPP
participants (refuge.programmes), in the risk engine's instrument format.

The report compares the *same women*: those whose "after" survey falls in the period, each with
her own "before" answers. For each question it gives the share answering "yes" before and
after among the women who answered yes or no both times ("don't know or prefers not to say"
leaves her out of that question). Small groups are hidden: a question answered by fewer than
the threshold is not shown; on the reporting basis (analysts, exports) neither is a share that
rests on a small count of yes or of no answers, since the count and the share give it away.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _

from refuge.cases.risk.engine import AnswerError, Instrument, check_answers, load_instrument
from refuge.cases.risk.refusals import answer_refusal
from refuge.core.services import ServiceError

from .figures import Filters
from .selectors import Basis

HERE = Path(__file__).resolve().parent / "instruments"
SURVIVOR = "survivor-outcomes@1"


@cache
def get(key: str = SURVIVOR) -> Instrument:
    return load_instrument(HERE / f"{key}.json")


@cache
def better_answers(key: str = SURVIVOR) -> dict[str, str]:
    """Which answer is the good one for each question ("yes" for feeling safe, "no" for being
    injured): the instrument file says so in ``better``."""
    data = json.loads((HERE / f"{key}.json").read_text(encoding="utf-8"))
    return {i["id"]: i.get("better", "yes") for i in data["items"]}


def description(lang: str, key: str = SURVIVOR) -> str:
    data = json.loads((HERE / f"{key}.json").read_text(encoding="utf-8"))
    texts = data.get("description", {})
    return texts.get(lang) or texts.get("en", "")


def clean(survey: Instrument, answers: Mapping[str, str]) -> dict[str, str]:
    """Answers as stored: every question answered with one of its codes."""
    given = {k: v for k, v in answers.items() if v not in (None, "")}
    try:
        check_answers(survey, given)
    except AnswerError as exc:
        raise ServiceError(answer_refusal(exc), "invalid_answer") from exc
    missing = [i.id for i in survey.items if i.id not in given]
    if missing:
        raise ServiceError(_("Answer every question (or mark it as not known)."), "incomplete")
    return given


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    item: str
    label: str
    n: int  # women who answered yes or no both times
    before_yes: int
    after_yes: int
    better: str
    threshold: int
    strict: bool  # reporting basis: small yes/no counts hide the share too

    def _hidden(self, yes: int) -> bool:
        if self.n < self.threshold:
            return True
        return self.strict and (0 < yes < self.threshold or 0 < self.n - yes < self.threshold)

    @property
    def shown_n(self) -> int | None:
        return None if 0 < self.n < self.threshold else self.n

    @property
    def before_pct(self) -> float | None:
        return None if self._hidden(self.before_yes) else round(100 * self.before_yes / self.n)

    @property
    def after_pct(self) -> float | None:
        return None if self._hidden(self.after_yes) else round(100 * self.after_yes / self.n)

    @property
    def improved(self) -> bool | None:
        """Whether the share moved the good way (None when hidden or unchanged)."""
        b, a = self.before_pct, self.after_pct
        if b is None or a is None or a == b:
            return None
        return (a > b) == (self.better == "yes")


@dataclass(frozen=True)
class Report:
    title: str
    pairs: int  # women with both surveys in scope
    pairs_shown: int | None
    lines: list[Line]


def _paired(after: QuerySet, before: QuerySet, items: list[str]) -> dict[str, int]:
    """One aggregate query over the "after" rows (each with a "before"): per question, the
    pairs answered yes or no both times, and the yeses before and after."""
    ann: dict[str, Any] = {}
    for item in items:
        ann[f"b_{item}"] = Subquery(before.values(v=KT(f"answers__{item}"))[:1])
        ann[f"a_{item}"] = KT(f"answers__{item}")
    qs = after.annotate(**ann)
    agg: dict[str, Any] = {"pairs": Count("pk")}
    for item in items:
        both = Q(**{f"b_{item}__in": ["yes", "no"], f"a_{item}__in": ["yes", "no"]})
        agg[f"n_{item}"] = Count("pk", filter=both)
        agg[f"by_{item}"] = Count("pk", filter=both & Q(**{f"b_{item}": "yes"}))
        agg[f"ay_{item}"] = Count("pk", filter=both & Q(**{f"a_{item}": "yes"}))
    return qs.aggregate(**agg)


def _report(
    title: str, survey: Instrument, better: dict[str, str], raw: dict[str, int], basis: Basis,
    lang: str,
) -> Report:  # fmt: skip
    t = basis.threshold
    lines = [
        Line(
            item=i.id,
            label=i.label.get(lang) or i.label["en"],
            n=raw[f"n_{i.id}"],
            before_yes=raw[f"by_{i.id}"],
            after_yes=raw[f"ay_{i.id}"],
            better=better.get(i.id, "yes"),
            threshold=t,
            strict=basis.suppress,
        )
        for i in survey.items
        if i.type != "text"
    ]
    pairs = raw["pairs"]
    return Report(title, pairs, None if 0 < pairs < t else pairs, lines)


def survivor_report(basis: Basis, f: Filters, lang: str, title: str) -> Report:
    from django.db.models import Exists

    from .models import SurvivorOutcome

    before = SurvivorOutcome.objects.filter(client=OuterRef("client"), phase="before")
    after = (
        SurvivorOutcome.objects.filter(
            basis.org_q("organisation"),
            basis.consent_q("client"),
            f.between("recorded_at"),
            f.region_q("client__residence_region"),
            phase="after",
        )
        .annotate(has_before=Exists(before))
        .filter(has_before=True)
    )
    survey = get()
    raw = _paired(after, before, [i.id for i in survey.items])
    return _report(title, survey, better_answers(), raw, basis, lang)


def partner_report(basis: Basis, f: Filters, lang: str, title: str) -> Report:
    """The partners of DVPP participants (measured by the victim side, refuge.programmes)."""
    from django.db.models import Exists

    from refuge.programmes import surveys as programme_surveys
    from refuge.programmes.models import OutcomeResponse

    before = OutcomeResponse.objects.filter(
        participant=OuterRef("participant"), respondent="partner", phase="before"
    )
    after = (
        OutcomeResponse.objects.filter(
            basis.org_q("participant__partner_support__support_org"),
            basis.consent_q("participant__partner_support__client"),
            f.between("recorded_at"),
            f.region_q("participant__partner_support__client__residence_region"),
            respondent="partner",
            phase="after",
        )
        .annotate(has_before=Exists(before))
        .filter(has_before=True)
    )
    survey = programme_surveys.for_respondent("partner")
    raw = _paired(after, before, [i.id for i in survey.items])
    better = {"injured_3m": "no", "afraid_often": "no", "children_exposed": "no"}
    return _report(title, survey, better, raw, basis, lang)
