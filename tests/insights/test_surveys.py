"""Survivors' outcome surveys: recorded on her case by its own organisation, reported as
before/after shares of the same women, small groups hidden."""

from __future__ import annotations

import pytest

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.insights import figures, selectors, services, surveys
from refuge.insights.models import SurvivorOutcome
from refuge.insights.periods import Period
from tests.insights.conftest import woman

ALL_NO = {i.id: "no" for i in surveys.get().items}


def _answers(**given):
    return {**ALL_NO, **given}


def test_a_caseworker_records_her_answers_before_and_after(personas, as_persona):
    cw = personas["caseworker_a"]
    w = woman(cw)
    c = as_persona("caseworker_a")
    url = f"/insights/outcomes/case/{w.case_code}/"
    r = c.get(url)
    assert r.status_code == 200
    html = r.content.decode()
    assert "Physically injured in the last three months" in html and 'value="dk"' in html
    data = {"phase": "before", **_answers(injured_3m="yes", feels_very_safe="dk")}
    r = c.post(url, data)
    assert r.status_code == 302
    row = SurvivorOutcome.objects.get(client=w, phase="before")
    assert row.answers["injured_3m"] == "yes" and row.answers["feels_very_safe"] == "dk"
    assert row.organisation == cw.org and row.survey == "survivor-outcomes@1"
    assert AuditEvent.objects.filter(action="insights.outcome_record", target_id=str(w.pk)).exists()
    # the read of her case was audited too
    assert AuditEvent.objects.filter(action="read", target_id=str(w.pk),
                                     details__what="outcome_survey").exists()  # fmt: skip
    # an incomplete survey is refused, with what is missing
    r = c.post(url, {"phase": "after", "injured_3m": "no"})
    assert r.status_code == 200 and "Choose an answer" in r.content.decode()
    assert not SurvivorOutcome.objects.filter(client=w, phase="after").exists()


def test_the_case_file_has_an_outcomes_tab(personas, as_persona):
    w = woman(personas["caseworker_a"])
    url = f"/insights/outcomes/case/{w.case_code}/"
    profile = as_persona("caseworker_a").get(f"/cases/{w.case_code}/").content.decode()
    assert f'href="{url}"' in profile
    survey = as_persona("caseworker_a").get(url).content.decode()
    assert f'href="{url}" aria-current="page"' in survey


def test_another_organisations_case_does_not_exist_for_her(personas, as_persona):
    w = woman(personas["caseworker_b"])
    assert (
        as_persona("caseworker_a").get(f"/insights/outcomes/case/{w.case_code}/").status_code == 404
    )
    with pytest.raises(ServiceError):
        services.survivor_outcome_record(
            by=personas["caseworker_a"].principal, client=w, phase="before", answers=ALL_NO
        )


def test_the_case_code_form_opens_her_survey(personas, as_persona):
    w = woman(personas["caseworker_a"])
    r = as_persona("caseworker_a").get("/insights/outcomes/record/", {"code": w.case_code.lower()})
    assert r.status_code == 302 and r["Location"].endswith(f"/outcomes/case/{w.case_code}/")


def _record(p, w, before, after):
    services.survivor_outcome_record(by=p, client=w, phase="before", answers=before)
    if after is not None:
        services.survivor_outcome_record(by=p, client=w, phase="after", answers=after)


def _report(basis):
    from django.utils import timezone

    today = timezone.localdate()
    f = figures.Filters(Period(today.replace(day=1), today))
    return {line.item: line for line in surveys.survivor_report(basis, f, "en", "t").lines}


def test_the_report_compares_the_same_women_before_and_after(personas):
    cw = personas["caseworker_a"]
    p = cw.principal
    for n in range(8):
        _record(p, woman(cw), _answers(injured_3m="yes", feels_very_safe="no"),
                _answers(injured_3m="yes" if n < 2 else "no",
                         feels_very_safe="yes" if n < 6 else "dk"))  # fmt: skip
    _record(p, woman(cw), _answers(injured_3m="yes"), None)  # no "after" yet: not compared
    lines = _report(selectors.basis_for(personas["manager_a"].principal))
    injured = lines["injured_3m"]
    assert (injured.n, injured.before_pct, injured.after_pct) == (8, 100, 25)
    assert injured.improved is True
    safe = lines["feels_very_safe"]
    assert (safe.n, safe.before_pct, safe.after_pct) == (6, 0, 100)  # "dk" leaves two out
    # published figures also hide a share that rests on a small count of yes or of no
    published = _report(selectors.reporting_basis())
    assert published["injured_3m"].after_pct is None  # 2 of 8 said yes
    assert published["feels_very_safe"].after_pct == 100


def test_a_question_answered_by_few_women_is_hidden(personas, as_persona):
    cw = personas["caseworker_a"]
    for _n in range(3):
        _record(cw.principal, woman(cw), _answers(injured_3m="yes"), _answers())
    lines = _report(selectors.basis_for(personas["manager_a"].principal))
    assert lines["injured_3m"].n == 3 and lines["injured_3m"].before_pct is None
    assert lines["injured_3m"].shown_n is None
    html = as_persona("manager_a").get("/insights/outcomes/").content.decode()
    assert "Physically injured in the last three months" in html and "ins-x" in html
    assert "100%" not in html


def test_surveys_of_women_who_did_not_agree_stay_out_of_network_figures(personas):
    cw = personas["caseworker_a"]
    for _n in range(5):
        _record(cw.principal, woman(cw, consent=False), _answers(injured_3m="yes"), _answers())
    assert _report(selectors.basis_for(personas["manager_a"].principal))["injured_3m"].n == 5
    assert _report(selectors.basis_for(personas["coordinator_a"].principal))["injured_3m"].n == 0
