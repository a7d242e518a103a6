"""Issue 15 as people see it, in Chromium, in English and Russian, on a desk and on a phone.

A shelter that reports by hand said "4 free" this morning; Refuge has since admitted a
household there. The board and the facility page show the figure in its parts ("reported 4
free at …; 1 admitted since"). Another shelter's report is three days old: a referral to it
holds no place, the sender is told why, and the receiving caseworker, on her phone, puts the
figures right on the referral's own page and accepts in one step. Each page is checked by
axe-core and saved as a screenshot (``free-places-<lang>-*.png``).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.cases.services import client_create, household_member_add, stay_admit
from refuge.referrals import services as referrals
from refuge.vacancies.models import FacilityAvailability, Room
from tests.browser.conftest import shot, sign_in, submit
from tests.browser.test_worklist import _axe
from tests.directory.factories import make_facility

pytestmark = pytest.mark.browser
WORDS = {
    "en": {"parts": "reported 4 free at", "since": "1 admitted since",
           "why": "its free places are not known (no recent report)",
           "done": "The figures are saved and the referral is accepted."},
    "ru": {"parts": "сообщили: свободны 4, в", "since": "с тех пор заселена 1",
           "why": "его свободные места неизвестны (нет свежих сведений)",
           "done": "Данные сохранены, направление принято."},
}  # fmt: skip


@pytest.fixture
def world(transactional_db, orgs, personas):
    for key in ("operator_a", "caseworker_b"):
        TOTPDevice.objects.create(user=personas[key].user, name="phone", confirmed=True)
    cw, op = personas["caseworker_b"].principal, personas["operator_a"].principal
    sezim = make_facility(orgs["b"], "Sezim", rooms=[("family", 4)], free=[4])
    (family,) = Room.objects.filter(facility=sezim)
    resident = client_create(by=cw, name="Resident", age_band="25-34")
    household_member_add(by=cw, client=resident, relation="child", age=4, sex="female")
    stay_admit(by=cw, client=resident, room_id=family.pk)
    stale = make_facility(orgs["b"], "Stale", rooms=[("dorm", 2), ("family", 3)], free=[2, 3])
    FacilityAvailability.objects.filter(facility=stale).update(
        reported_at=timezone.now() - timedelta(days=3)
    )
    referral = referrals.referral_create(
        by=op, client=client_create(by=op, age_band="25-34"), household={"woman_age": 30},
        facility_ids=[stale.pk],
    )  # fmt: skip
    return personas, sezim, stale, referral


def _words_of(page, lang: str, key: str) -> None:
    text = page.locator("main").inner_text()
    assert WORDS[lang][key] in text, (key, text[:1500])


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_free_places_in_their_parts_and_put_right_on_the_referral(
    live_server, browser, world, lang
):
    personas, sezim, stale, referral = world
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        op, cw = desk.new_page(), phone.new_page()
        sign_in(op, base, personas["operator_a"].user, lang=lang)
        op.goto(f"{base}/vacancies/")
        _words_of(op, lang, "parts")
        _words_of(op, lang, "since")
        assert _axe(op) == []
        shot(op, f"free-places-{lang}-01-board")
        op.goto(f"{base}/referrals/{referral.pk}/")
        _words_of(op, lang, "why")
        assert _axe(op) == []
        shot(op, f"free-places-{lang}-02-referral-sender")

        sign_in(cw, base, personas["caseworker_b"].user, lang=lang)
        cw.goto(f"{base}/vacancies/facility/{sezim.pk}/")
        _words_of(cw, lang, "since")
        assert "system" not in cw.locator("main").inner_text()  # words, not an internal name
        assert _axe(cw) == []
        assert cw.evaluate("document.documentElement.scrollWidth") <= 390
        shot(cw, f"free-places-{lang}-03-facility-phone")
        cw.goto(f"{base}/referrals/{referral.pk}/")
        assert _axe(cw) == []
        assert cw.evaluate("document.documentElement.scrollWidth") <= 390
        shot(cw, f"free-places-{lang}-04-put-right-phone")
        family = cw.locator("form.report-form fieldset").inner_text()
        assert {"en": "Free", "ru": "Свободна"}[lang] in family  # a free room, not free of charge
        dorm = Room.objects.get(facility=stale, kind="dorm")
        cw.fill(f"input[name=room_{dorm.pk}]", "1")
        submit(cw, "form.report-form button[type=submit]")
        assert WORDS[lang]["done"] in cw.locator(".messages").inner_text()
        shot(cw, f"free-places-{lang}-05-accepted-phone")
        referral.refresh_from_db()
        assert referral.status == "accepted"
        assert referral.targets.get().hold_room_id == dorm.pk
    finally:
        desk.close()
        phone.close()
