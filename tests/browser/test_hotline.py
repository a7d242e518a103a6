"""An operator takes calls from the shared PBX through to the wrap-up, in English and Russian.

The PBX is played by real signed HTTP requests to the live server's Mango webhooks; the
queue page updates itself (htmx polling) and sends her to the wrap-up form when the call ends.
"""

from __future__ import annotations

import time
import urllib.request
from urllib.parse import urlencode

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.models import Organisation
from refuge.core.roles import OrgKind
from refuge.hotline import services
from refuge.hotline.models import Call, WrapUp
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user
from tests.hotline.helpers import MANGO_CALL, MANGO_SUMMARY, mango_event, mango_form, mango_summary

pytestmark = pytest.mark.browser
LINE = "74950000001"


@pytest.fixture
def operator(transactional_db):
    org = make_org("coalition-hotline", OrgKind.HOTLINE)
    user = make_user(org, "operator", "olga")
    user.first_name = "Olga"
    user.save()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    services.line_save(
        by=None,
        number=LINE,
        name="Coalition hotline",
        organisation=org,
        region="RU-MOW",
        service_area="RU-MOW,RU-MOS,RU-TUL",
    )
    services.extension_assign(by=None, user=user, identity="101")
    return user, device


def _pbx(live_server, path: str, payload: dict) -> None:
    body = urlencode(mango_form(payload)).encode()
    url = f"{live_server.url}{path}"
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - http only
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our live server
        assert response.status == 200


TEXT = {
    "en": {"ringing": "Ringing", "yours": "Your call", "take": "Take this call",
           "saved": "Wrap-up saved", "outcome": "Choose at least one outcome"},
    "ru": {"ringing": "Звонят", "yours": "Ваш звонок", "take": "Взять звонок",
           "saved": "Итоги звонка сохранены", "outcome": "Отметьте хотя бы один итог"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_operator_takes_a_call_through_wrap_up(live_server, page, operator, lang):
    user, device = operator
    t = TEXT[lang]
    now = int(time.time())
    entry = f"browser-{lang}"
    sign_in(page, live_server.url, user, lang=lang)
    page.click("nav a[href='/hotline/']")
    page.wait_for_url(f"{live_server.url}/hotline/")
    assert page.locator("html").get_attribute("lang") == lang
    shot(page, f"hotline-{lang}-01-queue-empty")

    # A call comes in from a Tula landline; nobody has answered yet.
    caller = "74872123456"
    _pbx(live_server, MANGO_CALL, mango_event(entry, "c1", 1, "Appeared", now - 8, caller=caller,
                                              line=LINE, location="queue"))  # fmt: skip
    card = page.locator(".hl-call").first
    card.wait_for(timeout=10_000)  # the queue refreshes itself every 3 seconds
    assert t["ringing"] in page.locator("#hl-h-waiting").inner_text()
    assert "Тульская" in card.inner_text() or "Tula" in card.inner_text()
    assert caller not in page.content()
    shot(page, f"hotline-{lang}-02-ringing")

    if lang == "en":
        # Her extension answers: the PBX says so, the call becomes hers.
        _pbx(live_server, MANGO_CALL, mango_event(entry, "c1", 2, "Connected", now - 2,
                                                  caller=caller, line=LINE, extension="101"))  # fmt: skip
        page.locator("#hl-h-mine").wait_for(timeout=10_000)
    else:
        # A PBX that does not say who answered: she takes the call herself.
        _pbx(live_server, MANGO_CALL, mango_event(entry, "c1", 2, "Connected", now - 2,
                                                  caller=caller, line=LINE, extension=""))  # fmt: skip
        page.get_by_role("button", name=t["take"]).first.click()
        page.wait_for_url(f"{live_server.url}/hotline/calls/*/")
        page.goto(f"{live_server.url}/hotline/")
        page.locator("#hl-h-mine").wait_for(timeout=10_000)
    assert t["yours"] in page.locator("#hl-h-mine").inner_text()
    call = Call.objects.get(entry_id=entry)
    intake = page.locator(f"a[href='/cases/new/?call={call.pk}']").first
    assert intake.is_visible()
    shot(page, f"hotline-{lang}-03-in-progress")

    # The call ends: the queue sends her to the wrap-up before anything else.
    _pbx(live_server, MANGO_CALL, mango_event(entry, "c1", 3, "Disconnected", now + 1,
                                              caller=caller, line=LINE, reason=1110))  # fmt: skip
    _pbx(live_server, MANGO_SUMMARY, mango_summary(entry, created=now - 8, talk=now - 2,
                                                   ended=now + 1, caller=caller, line=LINE))  # fmt: skip
    page.wait_for_url(f"{live_server.url}/hotline/calls/{call.pk}/wrap-up/", timeout=10_000)
    page.goto(f"{live_server.url}/hotline/")  # and the queue keeps sending her there
    page.wait_for_url(f"{live_server.url}/hotline/calls/{call.pk}/wrap-up/")
    shot(page, f"hotline-{lang}-04-wrap-up")

    # Codes only; a need that was not met needs its reason, an outcome is required.
    page.check("input[name=contact_type][value=victim]")
    page.select_option("#id_need_shelter", "unmet")
    page.select_option("#id_need_counselling", "met")
    submit(page, "main form button[type=submit]")
    assert t["outcome"] in page.content()
    page.select_option("#id_reason_shelter", "no_place")
    page.check("input[name=abuse][value=physical]")
    page.check("input[name=abuse][value=psychological]")
    page.check("input[name=outcomes][value=information]")
    page.check("input[name=outcomes][value=referral]")
    shot(page, f"hotline-{lang}-05-wrap-up-filled")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/hotline/")
    assert t["saved"] in page.locator(".messages").inner_text()
    shot(page, f"hotline-{lang}-06-queue-after")

    wrapup = WrapUp.objects.get(call=call)
    assert wrapup.contact_type == "victim" and wrapup.recorded_by == user
    assert {(n.need, n.met, n.unmet_reason) for n in wrapup.needs.all()} == {
        ("shelter", False, "no_place"),
        ("counselling", True, ""),
    }
    call.refresh_from_db()
    assert call.answered and call.talk_seconds == 3 and call.caller_region == "RU-TUL"

    page.goto(f"{live_server.url}/hotline/figures/")
    assert page.locator(".hl-tile .hl-num").first.inner_text() == "1"
    shot(page, f"hotline-{lang}-07-figures")


def test_a_callback_shows_her_number_only_in_her_safe_time(live_server, page, operator):
    from datetime import time as dtime

    from refuge.core.access import Principal
    from refuge.hotline.windows import Window

    user, device = operator
    p = Principal.for_user(user)
    always = services.callback_create(
        by=p, safe_number="+7 916 555-01-02", name_to_ask="Marina",
        safe_times=[Window(tuple(range(7)), dtime(0), dtime(23, 59))], tz="Europe/Moscow",
    )  # fmt: skip
    never_now = services.callback_create(
        by=p, safe_number="+7 916 555-03-04",
        safe_times=[Window((0,), dtime(0), dtime(0, 1))], tz="Asia/Bishkek",
    )  # fmt: skip
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/hotline/callbacks/")
    rows = page.locator("tbody tr")
    assert "safe to call now" in rows.nth(0).inner_text()
    assert "next safe time" in rows.nth(1).inner_text()
    shot(page, "hotline-en-08-callbacks")
    page.goto(f"{live_server.url}/hotline/callbacks/{always.pk}/")
    assert "+79165550102" in page.locator("#hl-number").inner_text()
    greeting = page.locator(".hl-greeting").inner_text()
    assert "Marina" in greeting and "violence" not in greeting.lower()
    shot(page, "hotline-en-09-callback")
    page.goto(f"{live_server.url}/hotline/callbacks/{never_now.pk}/")
    assert "+79165550304" not in page.content()
    page.check("input[name=outcome][value=no_answer]")
    submit(page, "form[action$='/attempt/'] button")
    assert "The attempt is recorded" in page.locator(".messages").inner_text()


def test_the_figures_of_the_demo_year_in_charts_and_tables(
    live_server, page, transactional_db, tmp_path
):
    import io

    from django.test import override_settings

    from refuge.core import demo as core_demo
    from refuge.hotline import demo

    with override_settings(REFUGE_HOME=tmp_path):
        core_demo.load(io.StringIO())
        demo.load(io.StringIO())
    user = make_user(Organisation.objects.get(slug="coalition-hub"), "coordinator", "nadia")
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    sign_in(page, live_server.url, user)
    for lang in ("en", "ru"):
        if lang == "ru":
            page.select_option("#lang-select", "ru")
            submit(page, ".lang button")
        page.goto(f"{live_server.url}/hotline/figures/")
        assert page.locator("svg.chart rect").count() > 30
        offered = int(page.locator(".hl-tile .hl-num").first.inner_text())
        assert offered > 200  # about a month of the demo's calls
        shot(page, f"hotline-{lang}-10-figures-demo-month")


def test_a_call_routed_from_the_ivr_is_talking_after_the_ivr_leg_ends(live_server, page, operator):
    """Mango's own example "Маршрутизация вызова" (API v1.9, pp. 331-333), sent now: the IVR
    leg ends (1100) when the call is routed to her extension on a leg of its own (with her SIP
    address, 48 characters, as to.number). Before issue 17 the IVR leg's end closed the call,
    and she talked to a caller her queue no longer showed."""
    user, device = operator
    now = int(time.time())
    entry, ivr, op = "routed-browser", "100:500:256", "100:500:257"
    caller = "74872123456"
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/hotline/")
    sip = "sip:hotline.operator02@vpbx400212345.mangosip.ru"

    def leg(call_id, seq, state, at, location, **extra):
        body = {"entry_id": entry, "call_id": call_id, "timestamp": str(at), "seq": str(seq),
                "call_state": state, "location": location, **extra}  # fmt: skip
        _pbx(live_server, MANGO_CALL, body)

    frm = {"number": caller}
    ivr_to = {"number": LINE, "line_number": LINE}
    routed = {"from": {"number": caller, "taken_from_call_id": ivr},
              "to": {"extension": "101", "number": sip, "line_number": LINE}}  # fmt: skip
    leg(ivr, 1, "Appeared", now - 20, "ivr", **{"from": frm, "to": ivr_to})
    leg(ivr, 2, "Disconnected", now - 19, "ivr", disconnect_reason="1100",
        **{"from": frm, "to": ivr_to})  # fmt: skip
    # Between the legs she is still waiting: on the queue, not ended.
    page.locator("#hl-h-waiting").wait_for(timeout=10_000)
    page.locator(".hl-call").first.wait_for(timeout=10_000)
    assert "1" in page.locator("#hl-h-waiting .badge").inner_text()
    leg(op, 1, "Appeared", now - 18, "abonent", command_id="c111", **routed)
    leg(op, 2, "Connected", now - 10, "abonent", command_id="c111", **routed)
    page.locator("#hl-h-mine").wait_for(timeout=10_000)  # the queue refreshes every 3 s
    assert "Your call" in page.locator("#hl-h-mine").inner_text()
    call = Call.objects.get(entry_id=entry)
    assert (call.state, call.answered, call.answered_by) == ("connected", True, user)
    assert caller not in page.content()
    shot(page, "hotline-en-11-routed-from-ivr-talking")
