"""Issue 16, item 1: from the call card to a sent referral in at most 30 interactions.

The household of the issue's journey: she calls the hotline (Mango Office webhooks, signed,
to the live server); she is in her thirties, lives in Moscow, has a boy of 15 and a girl of 9,
and must stay away from Moscow, where her ex-partner is; her screening comes out high. The
operator goes from the call card through the guided intake (her, household and safety,
screening with the live score) to the search, which runs at once from everything recorded,
and sends one referral to two shelters. Every click and every field typed or chosen is
counted; the count is written to ``docs/benchmarks.md``. When the call ends, the wrap-up
opens filled in from the intake.
"""

from __future__ import annotations

import time

import pytest

from refuge.cases.models import Client, HouseholdMember, OtherParty, RiskAssessment
from refuge.hotline.models import Call, WrapUp
from refuge.referrals.models import Referral
from tests.browser.conftest import shot, sign_in, submit
from tests.browser.test_whole_journey import CALLER, LINE, _pbx, network  # noqa: F401
from tests.browser.test_worklist import _axe
from tests.hotline.helpers import MANGO_CALL, MANGO_SUMMARY, mango_event, mango_summary

pytestmark = pytest.mark.browser
TARGET = 30  # the target, from the call card to a sent referral


class Counted:
    """The operator's hands: every click and every field filled, checked or chosen counts
    as one interaction; waiting and reading do not."""

    def __init__(self, page):
        self.page, self.log = page, []

    @property
    def n(self) -> int:
        return len(self.log)

    def go(self, target, what: str) -> None:  # a click that loads a page
        self.log.append(what)
        submit(self.page, target)

    def click(self, selector: str, what: str) -> None:  # a click that stays on the page
        self.log.append(what)
        self.page.click(selector)

    def fill(self, selector: str, value: str) -> None:
        self.log.append(f"type {selector}")
        self.page.fill(selector, value)

    def choose(self, selector: str, value) -> None:
        self.log.append(f"choose {selector}")
        self.page.select_option(selector, value)

    def check(self, selector: str) -> None:
        self.log.append(f"tick {selector}")
        self.page.check(selector)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_from_the_call_card_to_a_sent_referral(live_server, browser, network, lang):  # noqa: F811
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    try:
        _intake(base, lang, network, ctx.new_page())
    finally:
        ctx.close()


def _intake(base, lang, people, page):
    def snap(n: int, step: str) -> None:
        assert _axe(page) == [], step  # every step, as it is at that moment
        shot(page, f"intake-{lang}-{n:02d}-{step}")

    sign_in(page, base, people["olga"], lang=lang)
    submit(page, "nav a[href='/hotline/']")
    now, entry = int(time.time()), f"intake-{lang}"
    _pbx(base, MANGO_CALL, mango_event(entry, "c1", 1, "Appeared", now - 30, caller=CALLER,
                                       line=LINE, location="queue"))  # fmt: skip
    _pbx(base, MANGO_CALL, mango_event(entry, "c1", 2, "Connected", now - 20, caller=CALLER,
                                       line=LINE, extension="101"))  # fmt: skip
    page.locator("#hl-h-mine").wait_for(timeout=10_000)
    call = Call.objects.get(entry_id=entry)
    op = Counted(page)

    # From the call card: her intake, while she is on the line.
    op.go(
        f"section[aria-labelledby=hl-h-mine] a[href='/cases/new/?call={call.pk}']",
        "start the intake",
    )
    assert page.locator("nav.steps li.current").count() == 1
    op.fill("#id_name", "Irina S." if lang == "en" else "Ирина С.")
    op.fill("#id_phone", "+7 916 000 11 22")
    op.choose("#id_age_band", "25-34")
    op.choose("#id_residence_region", "RU-MOW")
    snap(1, "her")
    op.go("main form button[type=submit]", "open her case")
    client = Client.objects.get()
    code = client.case_code
    assert page.url == f"{base}/cases/{code}/intake/household/"

    # Who comes with her, and who and where she must avoid (kept with her agreement).
    op.fill("#id_children", "m15, f9")
    op.fill("#id_avoid_relation", "ex-partner" if lang == "en" else "бывший муж")
    op.choose("#id_avoid_region", "RU-MOW")
    op.check("#id_keep_avoid")
    snap(2, "household")
    page.set_viewport_size({"width": 390, "height": 844})  # and on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    snap(2, "household-phone")
    page.set_viewport_size({"width": 1200, "height": 900})
    op.go("main form button[type=submit]", "save the household")
    assert HouseholdMember.objects.filter(client=client).count() == 2
    assert OtherParty.objects.filter(client=client, region="RU-MOW").exists()

    # Screening, with the live score: what she says yes to, then "no" to the rest.
    for item in ("hurt_recently", "threat_to_kill", "neck_pressure", "weapon", "has_children"):
        op.check(f"input[name=item-{item}][value=yes]")
    page.locator("fieldset[data-item=children_harmed]").wait_for(state="visible")
    op.check("input[name=item-children_harmed][value=yes]")
    op.click("button[data-rest-no]", "answer no to the rest")
    # The live score follows: complete, 12 points, high.
    page.wait_for_function(
        "() => document.querySelector('#live-score strong')?.textContent.includes('12')"
    )
    snap(3, "screening")
    op.go("button[name=finish]", "finish the screening")
    assessment = RiskAssessment.objects.get(client=client)
    assert assessment.status == "complete" and assessment.band == "high"

    # The search ran at once, from everything recorded: Moscow avoided, both children.
    assert page.url.startswith(f"{base}/referrals/search/?")
    assert page.locator("#id_children").input_value() == "m15, f9"
    assert page.locator("#id_avoid_regions option[value=RU-MOW]").evaluate("o => o.selected")
    boxes = page.locator("input[name=facility]")
    assert boxes.count() == 2
    snap(4, "search")
    op.check("input[name=facility] >> nth=0")
    op.check("input[name=facility] >> nth=1")
    op.go("form[action='/referrals/send/'] button[type=submit]", "send the referral")
    referral = Referral.objects.get(client=client)
    assert page.url == f"{base}/referrals/{referral.pk}/"
    assert referral.targets.filter(hold_active=True).count() == 2
    snap(5, "sent")
    assert op.n <= TARGET, f"{op.n} interactions: {op.log}"
    print(f"\nguided intake ({lang}): {op.n} interactions from the call card to a sent referral")

    # The call ends: the wrap-up opens filled in from the intake; one click saves it.
    _pbx(base, MANGO_CALL, mango_event(entry, "c1", 3, "Disconnected", now, caller=CALLER,
                                       line=LINE, reason=1110))  # fmt: skip
    _pbx(base, MANGO_SUMMARY, mango_summary(entry, created=now - 30, talk=now - 20, ended=now,
                                            caller=CALLER, line=LINE))  # fmt: skip
    submit(page, "nav a[href='/hotline/']")  # the queue sends her to the wrap-up first
    page.wait_for_url(f"{base}/hotline/calls/{call.pk}/wrap-up/", timeout=10_000)
    assert page.locator("input[name=contact_type][value=victim]").is_checked()
    assert page.locator("input[name=outcomes][value=placement]").is_checked()
    snap(6, "wrap-up")
    submit(page, "main form.hl-form button[type=submit]")
    wrapup = WrapUp.objects.get(call=call)
    assert wrapup.contact_type == "victim" and "placement" in wrapup.outcomes
