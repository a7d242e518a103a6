"""A meeting in the browser: agenda → discussion → actions → follow-up by the agency."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.cases.services import assessment_save, client_create, consent_record
from refuge.core.access import Principal
from refuge.core.roles import OrgKind
from refuge.meetings import services
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user

pytestmark = pytest.mark.browser


def test_a_meeting_from_agenda_to_follow_up(live_server, browser, transactional_db):
    hub, shelter, police = (
        make_org("hub", OrgKind.HUB),
        make_org("kitezh"),
        make_org("police", OrgKind.PARTNER),
    )
    coord, worker, officer = (
        make_user(hub, "coordinator", "nadezhda"),
        make_user(shelter, "caseworker", "marina"),
        make_user(police, "partner", "pavel"),
    )
    for u in (coord, worker, officer):
        TOTPDevice.objects.create(user=u, name="p", confirmed=True)
    p = Principal.for_user(worker)
    client = client_create(by=p, name="Lyudmila V.")
    assessment_save(
        by=p,
        client=client,
        instrument_id="dash-structure",
        version=1,
        answers={f"q{i}": "yes" if i <= 16 else "no" for i in range(1, 25)},
        finish=True,
    )
    consent_record(by=p, client=client, scope="meeting", days=90)
    area = services.area_create(
        by=None, name="Vologda oblast", coordinator_org=hub, members=[hub, shelter, police]
    )
    meeting = services.meeting_schedule(
        by=None, area=area, on=timezone.localdate() + timedelta(days=5)
    )
    base = live_server.url

    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, worker)
    page.goto(f"{base}/meetings/{meeting.pk}/propose/?case={client.case_code}")
    page.fill("#id_summary", "High risk after separation; he waits near her workplace.")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/meetings/{meeting.pk}/")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, coord)
    page.goto(f"{base}/meetings/{meeting.pk}/")
    submit(page, "text=Put on the agenda")
    page.select_option("#id_organisation", label="Police")
    page.fill("#id_description", "Patrol near her workplace at 18:00 for two weeks.")
    page.fill("#id_due_on", (timezone.localdate() + timedelta(days=14)).isoformat())
    submit(page, "text=Assign")
    submit(page, "text=Stays on the list")
    shot(page, "30-meeting-agenda-coordinator")
    ctx.close()

    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    sign_in(page, base, officer)
    page.goto(f"{base}/meetings/{meeting.pk}/")
    content = page.content()
    assert "he waits near her workplace" in content and "Lyudmila" not in content
    page.fill("input[name=note]", "Patrols done, nothing seen.")
    submit(page, "button:has-text('Done')")
    assert "Patrols done, nothing seen." in page.content()
    shot(page, "31-meeting-agency-phone")
    ctx.close()
