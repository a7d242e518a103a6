"""The wall between perpetrator programmes and the victim side, both ways (SPEC.md C9, S6)."""

import io
from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.programmes import selectors, services
from refuge.programmes.models import Participant, PartnerSupport, RiskConcern
from tests.cases.matrix import CASES as CASE_MATRIX

PARTNER_SECRETS = ("Irina", "Orlova", "123 45 67", "from the clinic")


def test_the_facilitator_never_sees_the_partner_contact_or_her_organisation(
    participant, as_persona, orgs
):
    r = as_persona("facilitator_a").get(reverse("programmes:participant", args=[participant.code]))
    body = r.content.decode()
    assert r.status_code == 200 and "Sergei Orlov" in body
    for secret in PARTNER_SECRETS + (orgs["b"].name,):
        assert secret not in body
    assert "Support to be offered" in body or "support to be offered" in body


def test_the_partners_support_worker_sees_her_contact_and_not_his_intake(participant, as_persona):
    r = as_persona("caseworker_b").get(
        reverse("programmes:partner_support", args=[participant.partner_support.pk])
    )
    body = r.content.decode()
    assert r.status_code == 200 and "Irina Orlova" in body
    assert "Sergei Orlov" not in body  # the programme's record of him is not hers to read


def test_a_risk_concern_reaches_her_worker_at_once_and_comes_back_only_as_delivered(
    personas, participant, as_persona, django_capture_on_commit_callbacks
):
    from tests.notifications.conftest import opt_in, run_worker

    personas["caseworker_b"].user.email = "aizada@example.org"
    personas["caseworker_b"].user.save()
    opt_in(personas["caseworker_b"].user, email=True)
    text = "He said in group that he knows where she works now."
    c = as_persona("facilitator_a")
    with pytest.raises(ServiceError, match="Unknown kind"):
        services.risk_concern_raise(
            by=personas["facilitator_a"].principal, participant=participant, kind="x", text=text
        )
    with django_capture_on_commit_callbacks(execute=True):
        r = c.post(
            reverse("programmes:participant", args=[participant.code]),
            {"concern": "1", "kind": "threat", "text": text},
            follow=True,
        )
    assert r.status_code == 200
    concern = RiskConcern.objects.get()
    assert concern.delivered_at is not None
    # On the victim side, at once:
    worker = as_persona("caseworker_b").get(
        reverse("programmes:partner_support", args=[concern.support_id])
    )
    assert text in worker.content.decode()
    # Back on the programme side: only "delivered", never the text.
    page = c.get(reverse("programmes:participant", args=[participant.code])).content.decode()
    assert "delivered" in page and text not in page
    # The email says nothing about anyone.
    run_worker()
    run_worker()
    assert (
        len(mail.outbox) == 1
        and "works" not in mail.outbox[0].body
        and "Orlov" not in mail.outbox[0].body
    )
    event = AuditEvent.objects.get(action="partner_support.risk_concern")
    assert event.target_org_slug == "org-b" and text not in str(event.details)


def test_no_one_else_sees_the_concern(participant, personas, as_persona):
    services.risk_concern_raise(
        by=personas["facilitator_a"].principal,
        participant=participant,
        kind="breach",
        text="Broke the restraining order on Friday.",
    )
    support_id = participant.partner_support.pk
    for persona in (
        "caseworker_a",
        "manager_a",
        "coordinator_a",
        "partner_b",
        "analyst_b",
        "facilitator_b",
    ):
        r = as_persona(persona).get(reverse("programmes:partner_support", args=[support_id]))
        assert r.status_code in (403, 404), persona
        assert "restraining order" not in r.content.decode()


def test_the_programme_view_has_status_and_delivery_only(participant, personas):
    services.risk_concern_raise(
        by=personas["facilitator_a"].principal,
        participant=participant,
        kind="threat",
        text="secret words",
    )
    services.partner_support_update(
        by=personas["caseworker_b"].principal,
        support=participant.partner_support,
        status=PartnerSupport.Status.MADE,
    )
    view = selectors.partner_view_for_programme(participant)
    assert view.status == "made" and len(view.concerns) == 1 and "secret" not in repr(view)


def _victim_side_urls():
    """Every page and API route of the victim side, from the authorization matrix."""
    names = [c.name for c in CASE_MATRIX]

    def walk(patterns, ns=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, p.namespace or ns)
            elif isinstance(p, URLPattern) and ns in {
                "cases",
                "vacancies",
                "directory",
                "referrals",
                "hotline",
            }:
                yield f"{ns}:{p.name}"

    return sorted(set(names) | set(walk(get_resolver().url_patterns)))


def test_facilitators_get_403_or_404_on_every_victim_side_page(personas, as_persona):
    from types import SimpleNamespace

    from tests.test_authorization_matrix import CASES

    ctx = SimpleNamespace(
        personas=personas,
        orgs={"a": personas["caseworker_a"].org, "b": personas["caseworker_b"].org},
    )
    c = as_persona("facilitator_a")
    checked = 0
    for name in _victim_side_urls():
        case = CASES.get(name)
        if case is None or name.startswith(("directory:",)):
            continue  # the public/professional directory is reachable by design; addresses are filtered
        kwargs = case.setup(ctx) if case.setup else {}
        r = getattr(c, case.method)(reverse(name, kwargs=kwargs), data=case.data)
        assert r.status_code in (403, 404), f"{name}: {r.status_code}"
        checked += 1
    assert checked >= 20


def test_missed_sessions_put_him_under_review(personas, group, participant):
    f = personas["facilitator_a"].principal
    for n in (1, 2, 3):
        s = services.session_record(by=f, group=group, number=n, held_on=date(2026, 9, n))
        services.attendance_mark(by=f, session=s, participant=participant, mark="absent")
    participant.refresh_from_db()
    assert participant.status == Participant.Status.REVIEW
    assert AuditEvent.objects.filter(action="programme.review").exists()


def test_excused_absences_do_not_count(personas, group, participant):
    f = personas["facilitator_a"].principal
    for n in (1, 2, 3):
        s = services.session_record(by=f, group=group, number=n, held_on=date(2026, 9, n))
        services.attendance_mark(by=f, session=s, participant=participant, mark="excused")
    participant.refresh_from_db()
    assert participant.status == Participant.Status.ACTIVE


def test_the_register_takes_one_tap_per_participant(personas, group, participant, as_persona):
    f = personas["facilitator_a"].principal
    services.session_record(by=f, group=group, number=1, held_on=date(2026, 9, 1))
    r = as_persona("facilitator_a").post(
        reverse("programmes:register", args=[group.pk, 1]),
        {"participant": participant.code, "mark": "present"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and 'aria-pressed="true"' in r.content.decode()
    assert participant.attendance.get().mark == "present"


def test_another_programme_organisation_sees_nothing(participant, as_persona):
    assert (
        as_persona("facilitator_b")
        .get(reverse("programmes:participant", args=[participant.code]))
        .status_code
        == 404
    )


def test_leaving_needs_a_reason(personas, participant):
    with pytest.raises(ServiceError):
        services.participant_end(
            by=personas["facilitator_a"].principal, participant=participant, completed=False
        )


def test_outcomes_report_before_after_with_small_cells_hidden(personas, group, programme):
    f, w = personas["facilitator_a"].principal, personas["caseworker_b"].principal
    men = [
        services.participant_enrol(
            by=f, group=group, name=f"M{i}", referral_source="court", partner_name="P"
        )
        for i in range(6)
    ]
    for i, man in enumerate(men):
        services.outcome_record(
            by=w,
            participant=man,
            respondent="partner",
            phase="before",
            answers={
                "injured_3m": "yes",
                "feels_very_safe": "no",
                "afraid_often": "yes",
                "children_exposed": "yes",
            },
        )
        if i < 5:
            services.outcome_record(
                by=w,
                participant=man,
                respondent="partner",
                phase="after",
                answers={
                    "injured_3m": "no" if i else "yes",
                    "feels_very_safe": "yes",
                    "afraid_often": "no",
                    "children_exposed": "no",
                },
            )
    lines = {line.label: line for line in selectors.outcome_report(programme, "partner")}
    injured = lines["Physically injured by him in the last three months"]
    assert (injured.before_pct, injured.before_n, injured.after_pct, injured.after_n) == (
        100,
        6,
        20,
        5,
    )
    assert lines["Feels very safe"].after_pct == 100
    participant_lines = selectors.outcome_report(programme, "participant")
    assert all(line.before_pct is None for line in participant_lines)  # no answers: nothing shown
    with pytest.raises(
        (ServiceError, PermissionDenied)
    ):  # partner measures belong to the victim side
        services.outcome_record(
            by=f,
            participant=men[0],
            respondent="partner",
            phase="before",
            answers={"injured_3m": "no"},
        )


def test_a_dump_holds_no_name_of_him_or_her(participant):
    out = io.StringIO()
    call_command("dumpdata", "programmes", stdout=out)
    for secret in PARTNER_SECRETS + ("Sergei", "Orlov"):
        assert secret not in out.getvalue()
