"""Intake → risk assessment (live score, conditional question) → safety plan, in a real browser."""

import pytest
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: F401  (documents how sign-in is faked below)
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.cases.models import RiskAssessment, SafetyPlan
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def caseworker(transactional_db):
    user = make_user(make_org("kitezh"), "caseworker", "marina")
    return user, TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_intake_risk_screen_and_safety_plan(live_server, page, caseworker, lang):
    user, device = caseworker
    base = live_server.url
    sign_in(page, base, user)
    if lang == "ru":
        page.select_option("#lang-select", "ru")
        submit(page, ".lang button")
    page.goto(f"{base}/cases/new/")
    page.fill("#id_name", "Nadia K.")
    page.fill("#id_phone", "+7 916 000 11 22")
    page.select_option("#id_age_band", "25-34")  # an intake needs at least her age band
    page.click("main button[type=submit]")
    page.wait_for_url("**/cases/RF-*/intake/household/")  # the guided intake goes on
    code = page.url.rstrip("/").split("/")[-3]
    page.goto(f"{base}/cases/{code}/")
    shot(page, f"10-case-profile-{lang}")

    page.goto(f"{base}/cases/{code}/risk/new/refuge-screen@1/")
    assert page.locator("fieldset[data-item=children_harmed]").is_hidden()
    for item in ("hurt_recently", "threat_to_kill", "neck_pressure", "weapon"):
        page.check(f"input[name=item-{item}][value=yes]")
    page.check("input[name=item-has_children][value=yes]")
    # The conditional question appears once she says children live with her (htmx + refuge.js).
    page.locator("fieldset[data-item=children_harmed]").wait_for(state="visible")
    for fs in page.locator("fieldset[data-item]").all():
        item = fs.get_attribute("data-item")
        if item != "notes" and not fs.locator("input:checked").count():
            fs.locator("input[value=no]").check()
    page.check("input[name=item-children_harmed][value=yes]")
    page.locator("#live-score .badge").wait_for()
    page.wait_for_function("() => document.querySelector('#live-score').textContent.includes('12')")
    shot(page, f"11-risk-live-score-{lang}")
    page.click("button[name=finish]")
    page.wait_for_url(f"**/cases/{code}/risk/*/")
    a = RiskAssessment.objects.get()
    assert a.status == "complete" and a.band == "high" and "refer_to_meeting" in a.flags
    shot(page, f"12-risk-result-{lang}")

    page.goto(f"{base}/cases/{code}/safety-plan/")
    page.fill("#id_safe_places", "Pharmacy on the corner; neighbour in flat 12")
    page.fill("#id_people_to_call", "112; sister")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/cases/{code}/safety-plan/")
    assert SafetyPlan.objects.get().sections
    page.goto(f"{base}/cases/{code}/safety-plan/print/")
    assert "Pharmacy on the corner" in page.content()
    shot(page, f"13-safety-plan-print-{lang}")
