"""Intake → search → fan-out referral to two shelters → one accepts, the other is withdrawn →
journey → arrival → stay, in a real browser (SPEC C6)."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.referrals.models import ReferralTarget
from refuge.vacancies.services import availability_settings_update
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user
from tests.directory.factories import make_facility

pytestmark = pytest.mark.browser


def test_from_intake_to_a_stay(live_server, browser, transactional_db):
    hotline, vla_org, yar_org = (
        make_org("hotline"),
        make_org("vladimir-refuge"),
        make_org("yaroslavl-refuge"),
    )
    operator = make_user(hotline, "operator", "olga")
    vla_worker, yar_worker = (
        make_user(vla_org, "caseworker", "vera"),
        make_user(yar_org, "caseworker", "yana"),
    )
    for u in (operator, vla_worker, yar_worker):
        TOTPDevice.objects.create(user=u, name="p", confirmed=True)
    for org, name, region in (
        (vla_org, "Vladimir refuge", "RU-VLA"),
        (yar_org, "Yaroslavl refuge", "RU-YAR"),
    ):
        f = make_facility(
            org, name, region=region, rooms=[("family", 4), ("dorm", 2)], address="ul. Sadovaya 1"
        )
        availability_settings_update(by=None, facility=f, source="system", ttl_hours=24)
    base = live_server.url

    # One browser per person, kept open (a TOTP code cannot be used twice: signing in again
    # within the same 30 s window is refused, as it should be).
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    sign_in(page, base, operator)
    op_page = page
    page.goto(f"{base}/cases/new/")
    page.fill("#id_name", "Irina")
    page.select_option("#id_age_band", "25-34")  # an intake needs at least her age band
    page.click("main button[type=submit]")
    page.wait_for_url("**/cases/RF-*/intake/household/")  # the guided intake goes on
    code = page.url.rstrip("/").split("/")[-3]
    page.goto(f"{base}/referrals/search/?case={code}")
    page.fill("#id_woman_age", "34")
    page.fill("#id_children", "m15, f9")
    page.select_option("#id_home_region", "RU-MOW")
    page.select_option("#id_avoid_regions", ["RU-MOW"])
    submit(page, "form.search-form button[type=submit]")
    shot(page, "40-search-results")
    boxes = page.locator("input[name=facility]")
    assert boxes.count() == 2
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("text=Send the referral and hold the places")
    page.wait_for_url("**/referrals/*/")
    referral_url = page.url
    assert page.content().count("place held, waiting for an answer") == 2
    shot(page, "41-referral-sent")

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    sign_in(page, base, yar_worker)
    yar_page = page
    page.goto(f"{base}/referrals/inbox/")
    submit(page, "table a >> nth=0")
    submit(page, "button:has-text('Accept')")
    shot(page, "42-accepted-phone")
    assert ReferralTarget.objects.get(facility__name="Vladimir refuge").status == "withdrawn"

    page = op_page
    page.goto(referral_url)
    assert "withdrawn" in page.content() and "ul. Sadovaya 1" not in page.content()
    page.select_option("#id_mode", "train")
    page.fill("#id_escort", "Volunteer from the hotline")
    page.check(f"input[name=carriers][value='{operator.pk}']")
    submit(page, "text=Save the travel plan")
    # Named as carrier, she now sees the confidential destination (and the display is logged).
    assert "ul. Sadovaya 1" in page.content()
    shot(page, "43-journey")
    ctx.close()

    page = yar_page
    page.goto(referral_url)
    page.click("text=She has arrived")
    page.wait_for_url(f"**/cases/{code}/stays/")
    assert "Yaroslavl refuge" in page.content()
    shot(page, "44-stay")
    phone.close()
