import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from refuge.cases import instruments, retention, services
from refuge.cases.models import CaseNote, Client, Consent, RiskAssessment
from refuge.cases.risk import engine
from refuge.core.fields import Erased
from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError

DASH_ALL_NO = {f"q{i}": "no" for i in range(1, 25)}


@pytest.fixture
def p(personas):
    return personas["caseworker_a"].principal


@pytest.fixture
def client(p):
    return services.client_create(by=p, name="Nadia", phone="+7 916 000-11-22")


def dash(n_yes):
    return {f"q{i}": "yes" if i <= n_yes else "no" for i in range(1, 25)}


# --- consent ---------------------------------------------------------------------------------


def test_sharing_after_consent_expires_is_refused_with_the_date(p, client, orgs):
    c = services.consent_record(by=p, client=client, scope="referral", days=30, recipient=orgs["b"])
    assert services.require_consent(client, "referral", orgs["b"]) == c
    Consent.objects.filter(pk=c.pk).update(
        given_at=timezone.now() - timedelta(days=40), expires_at=timezone.now() - timedelta(days=10)
    )
    with pytest.raises(ServiceError, match="ran out on") as exc:
        services.require_consent(client, "referral", orgs["b"])
    assert exc.value.code == "consent_expired"


def test_withdrawn_or_missing_consent_blocks_sharing(p, client):
    c = services.consent_record(by=p, client=client, scope="meeting", days=30)
    services.consent_withdraw(by=p, consent=c)
    with pytest.raises(ServiceError) as exc:
        services.require_consent(client, "meeting")
    assert exc.value.code == "consent_missing"


def test_consent_for_another_organisation_does_not_cover_this_one(p, client, orgs):
    services.consent_record(by=p, client=client, scope="referral", days=30, recipient=orgs["a"])
    with pytest.raises(ServiceError):
        services.require_consent(client, "referral", orgs["b"])


def test_reporting_consent_marks_the_client_as_countable(p, client):
    c = services.consent_record(by=p, client=client, scope="reporting", days=365)
    assert Client.objects.get(pk=client.pk).reporting_consent
    services.consent_withdraw(by=p, consent=c)
    assert not Client.objects.get(pk=client.pk).reporting_consent


# --- risk ------------------------------------------------------------------------------------


def test_an_incomplete_assessment_stays_a_draft_even_when_finished(p, client):
    answers = dash(14)
    del answers["q3"]
    a, result = services.assessment_save(
        by=p, client=client, instrument_id="dash-structure", version=1, answers=answers, finish=True
    )
    assert a.status == RiskAssessment.Status.DRAFT and a.band == "" and a.score is None
    assert result.missing == ("q3",)
    a, _ = services.assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers=dash(14),
        finish=True,
        assessment=a,
    )
    assert (
        a.status == "complete"
        and a.score == 14
        and a.band == "high"
        and "refer_to_meeting" in a.flags
    )


def test_answers_are_kept_encrypted_and_never_rescored(p, client, monkeypatch):
    a, _ = services.assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers=dash(12),
        finish=True,
    )
    assert a.band == "medium"
    stored = RiskAssessment.objects.filter(pk=a.pk).values_list("answers", flat=True)[0]
    assert "yes" not in stored.token
    # A new instrument version with other thresholds does not touch the stored result.
    inst = instruments.get("dash-structure", 1)
    stricter = engine.Instrument(
        inst.id,
        2,
        inst.title,
        inst.items,
        inst.scoring,
        ({"name": "standard", "min": 0}, {"name": "medium", "min": 5}, {"name": "high", "min": 10}),
        inst.rules,
    )
    monkeypatch.setattr(instruments, "registry", lambda: {inst.key: inst, stricter.key: stricter})
    again = RiskAssessment.objects.get(pk=a.pk)
    assert (
        again.band == "medium"
        and again.instrument_version == 1
        and json.loads(again.answers) == dash(12)
    )
    with pytest.raises(ServiceError, match="never changed"):
        services.assessment_save(
            by=p,
            client=client,
            instrument_id="dash-structure",
            version=1,
            answers=dash(20),
            finish=True,
            assessment=again,
        )


def test_judgement_raises_with_a_reason_and_never_lowers(p, client):
    a, _ = services.assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers=dash(11),
        finish=True,
    )
    with pytest.raises(ServiceError) as exc:
        services.assessment_judge(by=p, assessment=a, band="high", reason="  ")
    assert exc.value.code == "reason_required"
    with pytest.raises(ServiceError) as exc:
        services.assessment_judge(by=p, assessment=a, band="standard", reason="she seems calm")
    assert exc.value.code == "cannot_lower"
    services.assessment_judge(by=p, assessment=a, band="high", reason="He bought a gun last week.")
    a.refresh_from_db()
    assert a.band == "high" and a.computed_band == "medium" and "refer_to_meeting" in a.flags
    assert AuditEvent.objects.filter(
        action="assessment.judgement", target_id=str(client.pk)
    ).exists()


def test_the_engines_refusals_reach_staff_in_their_language(p, client):
    a, _ = services.assessment_save(
        by=p, client=client, instrument_id="dash-structure", version=1, answers={}, finish=False
    )
    with translation.override("ru"), pytest.raises(ServiceError) as exc:
        services.assessment_save(
            by=p,
            client=client,
            instrument_id="dash-structure",
            version=1,
            answers={**dash(11), "q1": "perhaps"},
            finish=True,
            assessment=a,
        )
    assert exc.value.code == "invalid_answer"
    assert exc.value.message == "q1: ответ 'perhaps' не допускается."
    a, _ = services.assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers=dash(11),
        assessment=a,
        finish=True,
    )
    with translation.override("ru"), pytest.raises(ServiceError) as exc:
        services.assessment_judge(by=p, assessment=a, band="standard", reason="спокойна")
    assert exc.value.message.startswith("Профессиональная оценка может только повысить")


def test_three_incidents_in_a_year_escalate_the_next_assessment(p, client):
    for days in (10, 100, 300):
        services.incident_record(
            by=p,
            client=client,
            occurred_on=timezone.localdate() - timedelta(days=days),
            forms=["physical"],
        )
    a, _ = services.assessment_save(
        by=p, client=client, instrument_id="dash-structure", version=1, answers=dash(2), finish=True
    )
    assert a.computed_band == "standard" and a.band == "high" and "escalation" in a.flags


def test_a_second_referral_within_a_year_is_flagged(p, client):
    services.assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers=dash(15),
        finish=True,
    )
    a, _ = services.assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers=dash(15),
        finish=True,
    )
    assert "repeat_referral" in a.flags


def test_the_risk_form_scores_live_and_finishes(personas, as_persona, client):
    c = as_persona("caseworker_a")
    url = reverse("cases:risk_form", args=[client.case_code, "refuge-screen", 1])
    data = {
        "item-hurt_recently": "yes",
        "item-threat_to_kill": "yes",
        "item-neck_pressure": "yes",
        "item-weapon": "yes",
        "item-has_children": "yes",
    }
    live = c.post(reverse("cases:risk_score", args=[client.case_code, "refuge-screen", 1]), data)
    assert live.status_code == 200 and "still to answer" in live.content.decode()
    assert "children_harmed" in live.content.decode()  # the conditional item is now shown
    inst = instruments.get("refuge-screen", 1)
    full = {f"item-{i.id}": "no" for i in inst.items if i.type != "text"}
    full.update(data)
    full["item-children_harmed"] = "yes"
    r = c.post(url, {**full, "finish": "1"})
    assert r.status_code == 302
    a = RiskAssessment.objects.get(client=client)
    # 2 + 3 + 3 + 2 + 0 + 2 = 12: exactly the high threshold of our screening questionnaire
    assert a.status == "complete" and a.score == 12 and a.band == "high"


# --- notes, safety plan, survivor copy --------------------------------------------------------


def test_notes_and_safety_plans_are_encrypted_at_rest(p, client):
    services.note_add(by=p, client=client, body="Sister lives in Tver, do not call her.")
    services.safety_plan_save(
        by=p, client=client, sections={"safe_places": "the pharmacy on Lenina"}
    )
    out = io.StringIO()
    call_command("dumpdata", "cases", stdout=out)
    assert "Tver" not in out.getvalue() and "pharmacy" not in out.getvalue()


def test_her_copy_withholds_other_people(p, client, as_persona):
    services.other_party_add(
        by=p, client=client, relation="husband", name="Viktor Petrov", details="black Lada"
    )
    services.note_add(
        by=p, client=client, body="Roommate Olga said she saw him.", about_others=True
    )
    services.note_add(by=p, client=client, body="Found a lawyer for the custody case.")
    r = as_persona("caseworker_a").get(reverse("cases:survivor_copy", args=[client.case_code]))
    body = r.content.decode()
    assert r.status_code == 200 and "Nadia" in body and "custody case" in body
    for hidden in ("Viktor", "Petrov", "Lada", "Roommate", "Olga"):
        assert hidden not in body
    assert "withheld" in body
    assert AuditEvent.objects.filter(
        action="read", target_id=str(client.pk), details__what="survivor_copy"
    ).exists()


@pytest.mark.parametrize(
    "tab",
    [
        "cases:detail",
        "cases:household",
        "cases:risk",
        "cases:safety_plan",
        "cases:notes",
        "cases:consent",
        "cases:aftercare",
        "cases:survivor_copy",
        "cases:safety_plan_print",
    ],
)
def test_another_organisation_gets_404_and_a_facilitator_403_on_every_tab(client, as_persona, tab):
    url = reverse(tab, args=[client.case_code])
    assert as_persona("caseworker_b").get(url).status_code == 404
    assert as_persona("manager_b").get(url).status_code == 404
    assert as_persona("facilitator_a").get(url).status_code == 403


def test_every_tab_read_is_audited(client, as_persona):
    c = as_persona("caseworker_a")
    before = AuditEvent.objects.filter(action="read", target_id=str(client.pk)).count()
    for tab in ("cases:household", "cases:risk", "cases:notes"):
        c.get(reverse(tab, args=[client.case_code]))
    assert AuditEvent.objects.filter(action="read", target_id=str(client.pk)).count() == before + 3


def test_the_household_of_a_client_is_recorded(p, client, as_persona):
    r = as_persona("caseworker_a").post(
        reverse("cases:household", args=[client.case_code]),
        {"add_member": "1", "relation": "child", "age": 15, "sex": "male"},
    )
    assert r.status_code == 302 and client.household.get().age == 15
    with pytest.raises(ServiceError):
        services.household_member_add(by=p, client=client, age=-1, sex="male")


# --- retention --------------------------------------------------------------------------------


def _closed(p, client, days_ago):
    services.client_close(by=p, client=client, reason="moved away")
    Client.objects.filter(pk=client.pk).update(closed_at=timezone.now() - timedelta(days=days_ago))


def test_the_dry_run_lists_and_changes_nothing(p, client):
    services.note_add(by=p, client=client, body="note")
    _closed(p, client, 400)
    items = retention.purge(by=None, dry_run=True)
    assert [(i.case_code, i.rule) for i in items] == [(client.case_code, "notes")]
    assert CaseNote.objects.get(client=client).body == "note"
    out = io.StringIO()
    call_command("purge", "--dry-run", stdout=out)
    assert "would purge" in out.getvalue() and client.case_code in out.getvalue()


def test_purge_clears_notes_then_shreds_the_identity(p, client):
    services.note_add(by=p, client=client, body="note")
    _closed(p, client, 400)
    call_command("purge", stdout=io.StringIO())
    assert CaseNote.objects.get(client=client).body == ""
    assert retention.plan() == []
    Client.objects.filter(pk=client.pk).update(closed_at=timezone.now() - timedelta(days=2200))
    retention.purge(by=None)
    assert isinstance(Client.objects.get(pk=client.pk).name, Erased)


def test_a_record_on_legal_hold_is_never_purged(personas, p, client):
    services.note_add(by=p, client=client, body="note")
    services.legal_hold_set(
        by=personas["manager_a"].principal, client=client, on=True, reason="criminal case"
    )
    _closed(p, client, 3000)
    assert retention.plan() == []
    with pytest.raises(ServiceError) as exc:
        retention.client_purge_rule(
            by=None, client=Client.objects.get(pk=client.pk), rule=retention.RULES[0]
        )
    assert exc.value.code == "legal_hold"


def test_aftercare_tasks_show_in_the_due_list(p, client, as_persona):
    services.aftercare_add(
        by=p, client=client, kind="housing", due_on=date.today() - timedelta(days=1)
    )
    r = as_persona("caseworker_a").get(reverse("cases:tasks"))
    assert client.case_code in r.content.decode() and "overdue" in r.content.decode()
    assert (
        client.case_code
        not in as_persona("caseworker_b").get(reverse("cases:tasks")).content.decode()
    )


def test_date_inputs_keep_their_value_in_russian(p, client, as_persona):
    services.client_update(by=p, client=client, birth_date=date(1990, 3, 7))
    c = as_persona("caseworker_a")
    c.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    body = c.get(reverse("cases:detail", args=[client.case_code])).content.decode()
    assert 'value="1990-03-07"' in body  # an <input type=date> takes only ISO dates


def test_an_unknown_instrument_is_refused_in_the_readers_language(p, client):
    with translation.override("ru"), pytest.raises(ServiceError) as exc:
        services.assessment_save(
            by=p, client=client, instrument_id="nope", version=9, answers={}, finish=False
        )
    assert exc.value.message == "Формы оценки риска nope версии 9 нет."
