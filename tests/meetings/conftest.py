from datetime import date, timedelta

import pytest
from django.utils import timezone

from refuge.cases.services import assessment_save, client_create, consent_record
from refuge.meetings import services


@pytest.fixture
def area(personas, orgs):
    """Coordinated by org a's coordinator; org b (police: partner_b) takes part as an agency."""
    return services.area_create(
        by=None, name="Vologda oblast", coordinator_org=orgs["a"], members=[orgs["a"], orgs["b"]]
    )


@pytest.fixture
def meeting(personas, area):
    return services.meeting_schedule(
        by=personas["coordinator_a"].principal,
        area=area,
        on=timezone.localdate() + timedelta(days=7),
    )


@pytest.fixture
def high_risk_client(personas):
    p = personas["caseworker_a"].principal
    c = client_create(by=p, name="Lyudmila V.")
    assessment_save(
        by=p,
        client=c,
        instrument_id="dash-structure",
        version=1,
        answers={f"q{i}": "yes" if i <= 15 else "no" for i in range(1, 25)},
        finish=True,
    )
    return c


@pytest.fixture
def consented(personas, high_risk_client):
    consent_record(
        by=personas["caseworker_a"].principal, client=high_risk_client, scope="meeting", days=90
    )
    return high_risk_client


@pytest.fixture
def item(personas, meeting, consented):
    it = services.agenda_propose(
        by=personas["caseworker_a"].principal,
        meeting=meeting,
        client=consented,
        summary="Threats after separation; children at school 14.",
    )
    return services.agenda_decide(by=personas["coordinator_a"].principal, item=it, accept=True)


@pytest.fixture
def soon():
    return date.today() + timedelta(days=14)
