from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refuge.cases.models import Consent
from refuge.cases.services import client_create
from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.meetings import services
from refuge.meetings.models import AgendaItem

SUMMARY = "Threats after separation; children at school 14."


def test_proposing_without_consent_or_legal_basis_is_refused_clearly(
    personas, meeting, high_risk_client
):
    with pytest.raises(ServiceError, match="legal basis") as exc:
        services.agenda_propose(
            by=personas["caseworker_a"].principal,
            meeting=meeting,
            client=high_risk_client,
            summary=SUMMARY,
        )
    assert exc.value.code == "no_basis"
    assert not AgendaItem.objects.exists()


def test_an_expired_consent_names_the_date(personas, meeting, consented):
    Consent.objects.filter(client=consented).update(
        given_at=timezone.now() - timedelta(days=100), expires_at=timezone.now() - timedelta(days=5)
    )
    with pytest.raises(ServiceError, match="ran out on"):
        services.agenda_propose(
            by=personas["caseworker_a"].principal,
            meeting=meeting,
            client=consented,
            summary=SUMMARY,
        )


def test_a_recorded_legal_basis_is_enough(personas, meeting, high_risk_client):
    item = services.agenda_propose(
        by=personas["caseworker_a"].principal,
        meeting=meeting,
        client=high_risk_client,
        summary=SUMMARY,
        legal_basis="Art. 26 of the local DV prevention law",
    )
    assert item.legal_basis and item.consent is None and item.risk_level == "high"


def test_another_organisation_cannot_propose_her_case(personas, meeting, consented):
    with pytest.raises(ServiceError):
        services.agenda_propose(
            by=personas["caseworker_b"].principal,
            meeting=meeting,
            client=consented,
            summary=SUMMARY,
        )


def test_the_agency_sees_the_minimum_only_for_accepted_items(
    personas, meeting, item, as_persona, orgs, soon
):
    coord = personas["coordinator_a"].principal
    services.action_assign(
        by=coord,
        item=item,
        organisation=orgs["b"],
        description="Patrol past the school",
        due_on=soon,
    )
    services.action_assign(
        by=coord, item=item, organisation=orgs["a"], description="Safety plan review", due_on=soon
    )
    other = client_create(by=personas["caseworker_a"].principal, name="Not on agenda")
    services.agenda_propose(
        by=personas["caseworker_a"].principal,
        meeting=meeting,
        client=other,
        summary="still only proposed",
        legal_basis="basis",
    )
    body = (
        as_persona("partner_b").get(reverse("meetings:detail", args=[meeting.pk])).content.decode()
    )
    assert item.client.case_code in body and SUMMARY in body and "Patrol past the school" in body
    assert "Safety plan review" not in body  # another agency's action
    assert "still only proposed" not in body and other.case_code not in body
    assert "Lyudmila" not in body  # never her name
    assert "she consented" not in body  # nor the basis of sharing


def test_an_agency_opening_a_case_not_on_its_agenda_gets_404(personas, meeting, item, as_persona):
    other = client_create(by=personas["caseworker_a"].principal, name="X")
    c = as_persona("partner_b")
    assert c.get(reverse("meetings:case", args=[meeting.pk, other.case_code])).status_code == 404
    assert (
        c.get(reverse("meetings:case", args=[meeting.pk, item.client.case_code])).status_code == 200
    )
    # and the case file itself stays closed to agencies
    assert c.get(reverse("cases:detail", args=[item.client.case_code])).status_code == 403


def test_an_agency_outside_the_area_sees_nothing(personas, meeting, item, as_persona, orgs):
    meeting.area.members.remove(orgs["b"])
    assert (
        as_persona("partner_b").get(reverse("meetings:detail", args=[meeting.pk])).status_code
        == 404
    )


def test_everything_shown_to_an_agency_is_audited(personas, meeting, item, as_persona):
    before = AuditEvent.objects.filter(
        action="read", target_id=str(item.client_id), actor="partner-b"
    ).count()
    as_persona("partner_b").get(reverse("meetings:detail", args=[meeting.pk]))
    as_persona("partner_b").get(reverse("meetings:minutes", args=[meeting.pk]))
    events = AuditEvent.objects.filter(
        action="read", target_id=str(item.client_id), actor="partner-b"
    )
    assert events.count() == before + 2 and events.first().details["what"] == "meeting_item"


def test_actions_are_closed_only_by_their_agency_and_followed_up(
    personas, meeting, item, orgs, as_persona, soon
):
    action = services.action_assign(
        by=personas["coordinator_a"].principal,
        item=item,
        organisation=orgs["b"],
        description="Visit",
        due_on=soon,
    )
    assert (
        as_persona("partner_a").post(reverse("meetings:action_done", args=[action.pk])).status_code
        == 404
    )
    r = as_persona("partner_b").post(
        reverse("meetings:action_done", args=[action.pk]), {"note": "Visited on Monday"}
    )
    assert r.status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.done_note == "Visited on Monday"


def test_a_case_leaves_the_list_only_with_a_reason(personas, item):
    coord = personas["coordinator_a"].principal
    with pytest.raises(ServiceError):
        services.item_conclude(by=coord, item=item, stays=False)
    services.item_conclude(
        by=coord, item=item, stays=False, reason="Moved to a shelter in another region"
    )
    item.refresh_from_db()
    assert item.next_step == "leaves" and item.status == "discussed"


def test_a_repeat_within_twelve_months_is_flagged(personas, area, item, consented):
    later = services.meeting_schedule(
        by=personas["coordinator_a"].principal,
        area=area,
        on=timezone.localdate() + timedelta(days=40),
    )
    again = services.agenda_propose(
        by=personas["caseworker_a"].principal, meeting=later, client=consented, summary="Back again"
    )
    assert again.repeat


def test_high_risk_cases_are_listed_for_proposal(personas, as_persona, high_risk_client):
    body = as_persona("caseworker_a").get(reverse("meetings:list")).content.decode()
    assert high_risk_client.case_code in body


def test_the_agenda_summary_is_encrypted_at_rest(item):
    raw = AgendaItem.objects.filter(pk=item.pk).values_list("summary", flat=True)[0]
    assert "Threats" not in raw.token
