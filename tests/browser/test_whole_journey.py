"""The whole journey of one woman through the network, in a real browser, in English and Russian.

A call reaches the hotline through the Mango Office webhooks (real signed HTTP requests to the
live server) → the operator wraps it up and opens her case → risk screening → placement search
→ a referral fanned out to two shelters, holding a place at each → one accepts, the other is
withdrawn at once → the travel plan between regions (the confidential address shown only to
the carrier) → she arrives → her stay → discharge → aftercare.

Three people, each in their own browser: the hotline operator (desktop), and the caseworkers of
the two shelters (phones). Every step saves a screenshot, ``journey-<lang>-NN-<step>.png``.
Buttons are found by the form they submit, not by their words, so one script runs in both
languages; the words on each page are checked against the language.
"""

from __future__ import annotations

import time
import urllib.request
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.cases.models import AftercareTask, Client, RiskAssessment, Stay
from refuge.core.roles import OrgKind
from refuge.hotline import services as hotline
from refuge.hotline.models import Call, WrapUp
from refuge.referrals.models import Referral, ReferralTarget
from refuge.vacancies.services import availability_settings_update
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user
from tests.directory.factories import make_facility
from tests.hotline.helpers import MANGO_CALL, MANGO_SUMMARY, mango_event, mango_form, mango_summary

pytestmark = pytest.mark.browser
LINE = "74950000001"
CALLER = "74872123456"  # a Tula landline
ADDRESS = "ul. Sadovaya 1"  # both shelters' addresses are confidential

WORDS = {
    "en": {"yours": "Your call", "saved": "Wrap-up saved", "new_case": "New client",
           "high": "high", "withdrawn": "withdrawn", "held": "place held, waiting for an answer",
           "stays": "Current stay", "discharged": "Discharged. Plan the follow-ups"},
    "ru": {"yours": "Ваш звонок", "saved": "Итоги звонка сохранены", "new_case": "Новая клиентка",
           "high": "высокий", "withdrawn": "отозвано", "held": "место удерживается, ждёт ответа",
           "stays": "Текущее проживание", "discharged": "Выписана. Запланируйте сопровождение"},
}  # fmt: skip


def _pbx(base: str, path: str, payload: dict) -> None:
    body = urlencode(mango_form(payload)).encode()
    request = urllib.request.Request(f"{base}{path}", data=body, method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our live server
        assert response.status == 200


@pytest.fixture
def network(transactional_db):
    hotline_org = make_org("coalition-hotline", OrgKind.HOTLINE)
    vla_org, yar_org = make_org("vladimir-refuge"), make_org("yaroslavl-refuge")
    people = {
        "olga": make_user(hotline_org, "operator", "olga"),
        "vera": make_user(vla_org, "caseworker", "vera"),
        "yana": make_user(yar_org, "caseworker", "yana"),
    }
    for user in people.values():
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    hotline.line_save(by=None, number=LINE, name="Coalition hotline", organisation=hotline_org,
                      region="RU-MOW", service_area="RU-MOW,RU-MOS,RU-TUL")  # fmt: skip
    hotline.extension_assign(by=None, user=people["olga"], identity="101")
    for org, name, region in ((vla_org, "Vladimir refuge", "RU-VLA"),
                              (yar_org, "Yaroslavl refuge", "RU-YAR")):  # fmt: skip
        f = make_facility(org, name, region=region, rooms=[("family", 4), ("dorm", 2)],
                          address=ADDRESS)  # fmt: skip
        availability_settings_update(by=None, facility=f, source="system", ttl_hours=24)
    return people


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_one_womans_journey_from_a_call_to_aftercare(live_server, browser, network, lang):
    base, w = live_server.url, WORDS[lang]
    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    phone_yar = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    phone_vla = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        _journey(base, w, lang, network, desk.new_page(), phone_yar.new_page(),
                 phone_vla.new_page())  # fmt: skip
    finally:
        for ctx in (desk, phone_yar, phone_vla):
            ctx.close()


def _journey(base, w, lang, people, op, yar, vla):
    def snap(page, n: int, step: str) -> None:
        shot(page, f"journey-{lang}-{n:02d}-{step}")

    # 1. A call: the PBX rings the queue; her extension answers.
    sign_in(op, base, people["olga"], lang=lang)
    submit(op, "nav a[href='/hotline/']")  # her worklist home, then the menu
    now, entry = int(time.time()), f"journey-{lang}"
    _pbx(base, MANGO_CALL, mango_event(entry, "c1", 1, "Appeared", now - 30, caller=CALLER,
                                       line=LINE, location="queue"))  # fmt: skip
    _pbx(base, MANGO_CALL, mango_event(entry, "c1", 2, "Connected", now - 20, caller=CALLER,
                                       line=LINE, extension="101"))  # fmt: skip
    op.locator("#hl-h-mine").wait_for(timeout=10_000)  # the queue polls every 3 seconds
    assert w["yours"] in op.locator("#hl-h-mine").inner_text()
    assert CALLER not in op.content()  # the number is never shown, nor stored
    snap(op, 1, "call-in-progress")

    # 2. The call ends; the queue sends her to the wrap-up, which opens the intake.
    _pbx(base, MANGO_CALL, mango_event(entry, "c1", 3, "Disconnected", now, caller=CALLER,
                                       line=LINE, reason=1110))  # fmt: skip
    _pbx(base, MANGO_SUMMARY, mango_summary(entry, created=now - 30, talk=now - 20, ended=now,
                                            caller=CALLER, line=LINE))  # fmt: skip
    call = Call.objects.get(entry_id=entry)
    op.wait_for_url(f"{base}/hotline/calls/{call.pk}/wrap-up/", timeout=10_000)
    op.check("input[name=contact_type][value=victim]")
    op.select_option("#id_need_shelter", "met")
    op.check("input[name=abuse][value=physical]")
    op.check("input[name=outcomes][value=placement]")
    snap(op, 2, "wrap-up")
    submit(op, "main form button[type=submit]")
    assert op.url == f"{base}/cases/new/?call={call.pk}"
    assert w["saved"] in op.locator(".messages").inner_text()
    assert WrapUp.objects.get(call=call).outcome_placement

    # 3. Intake: her case, under a pseudonymous code.
    assert w["new_case"] in op.locator("h1").inner_text()
    op.fill("#id_name", "Irina S." if lang == "en" else "Ирина С.")
    op.fill("#id_phone", "+7 916 000 11 22")
    op.select_option("#id_age_band", "25-34")  # an intake needs at least her age band
    snap(op, 3, "intake")
    submit(op, "main button[type=submit]")
    client = Client.objects.get()
    code = client.case_code
    # The guided intake goes on to her household (tests/browser/test_guided_intake.py walks
    # it); this journey goes through her case file's tabs instead.
    assert op.url == f"{base}/cases/{code}/intake/household/"
    op.goto(f"{base}/cases/{code}/")

    # 4. Risk screening: the live score rises as she answers; high risk.
    submit(op, f"nav.tabs a[href='/cases/{code}/risk/']")
    submit(op, "a[href$='/risk/new/refuge-screen@1/']")
    for item in ("hurt_recently", "threat_to_kill", "neck_pressure", "weapon", "has_children"):
        op.check(f"input[name=item-{item}][value=yes]")
    op.locator("fieldset[data-item=children_harmed]").wait_for(state="visible")
    for fs in op.locator("fieldset[data-item]").all():
        if fs.get_attribute("data-item") != "notes" and not fs.locator("input:checked").count():
            fs.locator("input[value=no]").check()
    op.check("input[name=item-children_harmed][value=yes]")
    op.wait_for_function("() => document.querySelector('#live-score').textContent.includes('12')")
    snap(op, 4, "risk-screen")
    submit(op, "button[name=finish]")
    assessment = RiskAssessment.objects.get(client=client)
    assert assessment.status == "complete" and assessment.band == "high"
    assert w["high"] in op.locator("main").inner_text().lower()
    snap(op, 5, "risk-result")

    # 5. The search, from her case: two boys' age limits and a region she must avoid.
    submit(op, f"nav.tabs a[href='/cases/{code}/']")
    submit(op, f"a[href='/referrals/search/?case={code}']")
    op.fill("#id_woman_age", "34")
    op.fill("#id_children", "m15, f9")
    op.select_option("#id_home_region", "RU-MOW")
    op.select_option("#id_avoid_regions", ["RU-MOW"])
    submit(op, "form.search-form button[type=submit]")
    boxes = op.locator("input[name=facility]")
    assert boxes.count() == 2
    snap(op, 6, "search-results")

    # 6. Fan-out: one referral, a place held at each shelter.
    boxes.nth(0).check()
    boxes.nth(1).check()
    submit(op, "form[action='/referrals/send/'] button[type=submit]")
    referral = Referral.objects.get(client=client)
    assert op.url == f"{base}/referrals/{referral.pk}/"
    assert op.content().count(w["held"]) == 2
    assert ADDRESS not in op.content()
    snap(op, 7, "referral-sent")

    # 7. Yaroslavl accepts on her phone; Vladimir's hold is withdrawn in the same moment.
    # Her worklist shows the referral waiting, with its hold; she opens it from there.
    sign_in(yar, base, people["yana"], lang=lang)
    held = ReferralTarget.objects.get(referral=referral, facility__name="Yaroslavl refuge")
    submit(yar, f"#wl-referral-{held.pk} a[href='/referrals/{referral.pk}/']")
    snap(yar, 8, "inbox-referral-phone")
    submit(yar, "form[action$='/accept/'] button")
    targets = {t.facility.name: t.status for t in ReferralTarget.objects.filter(referral=referral)}
    assert targets == {"Yaroslavl refuge": "accepted", "Vladimir refuge": "withdrawn"}
    snap(yar, 9, "accepted-phone")
    sign_in(vla, base, people["vera"], lang=lang)
    assert vla.locator(".wl-kind-referral").count() == 0  # nothing waits for her any more
    submit(vla, "nav a[href='/referrals/inbox/']")
    submit(vla, f"main a[href='/referrals/{referral.pk}/']")
    assert vla.locator("form[action$='/accept/']").count() == 0  # nothing left to accept
    assert ADDRESS not in vla.content()

    # 8. Relocation: the operator plans the journey and names herself as the carrier; only
    # now does she see the confidential address (the display is audited).
    submit(op, "nav a[href='/']")  # her worklist: the referral she sent, accepted
    submit(op, op.locator(f"#wl-sent-{referral.pk} a[href='/referrals/{referral.pk}/']").first)
    assert w["withdrawn"] in op.locator("table").inner_text().lower()
    assert ADDRESS not in op.content()
    op.select_option("#id_mode", "train")
    op.fill(
        "#id_escort", "Volunteer from the hotline" if lang == "en" else "Волонтёр горячей линии"
    )
    op.check(f"input[name=carriers][value='{people['olga'].pk}']")
    submit(op, "form[action$='/relocation/'] button[type=submit]")
    assert ADDRESS in op.content()
    snap(op, 10, "relocation")

    # 9. She arrives: the hold becomes a stay, and her case moves to Yaroslavl.
    submit(yar, "nav a[href='/referrals/inbox/']")
    submit(yar, f"main a[href='/referrals/{referral.pk}/']")
    submit(yar, "form[action$='/arrive/'] button")
    assert yar.url == f"{base}/cases/{code}/stays/"
    stay = Stay.objects.get(client=client)
    assert stay.facility.name == "Yaroslavl refuge" and stay.discharged_at is None
    assert w["stays"] in yar.locator("main").inner_text()
    snap(yar, 11, "stay-phone")

    # 10. Weeks later: discharge to her own flat.
    yar.select_option("#outcome", "independent_housing")
    yar.check("input[name=sure]")
    submit(yar, "button[name=discharge]")
    stay.refresh_from_db()
    assert stay.discharged_at is not None and stay.outcome == "independent_housing"
    # ... and the follow-ups come next.
    assert yar.url == f"{base}/cases/{code}/follow-ups/"
    assert w["discharged"] in yar.locator(".messages").inner_text()
    snap(yar, 12, "discharged-phone")

    # 11. Aftercare: a housing follow-up in a month, done with its outcome.
    yar.select_option("#id_kind", "housing")
    yar.fill("#id_due_on", (timezone.localdate() + timedelta(days=30)).isoformat())
    submit(yar, "form.card button[type=submit]")
    task = AftercareTask.objects.get(client=client)
    outcome = "Tenancy signed" if lang == "en" else "Договор аренды подписан"
    yar.fill(f"#outcome-{task.pk}", outcome)
    submit(yar, f"form[action$='/follow-ups/{task.pk}/done/'] button")
    task.refresh_from_db()
    assert task.done_on is not None
    assert outcome in yar.locator("main table").inner_text()
    snap(yar, 13, "aftercare-phone")

    # Her case moved with her: the hotline no longer sees it.
    assert op.goto(f"{base}/cases/{code}/").status == 404
