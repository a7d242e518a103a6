"""The worklist home in a real browser: a shelter caseworker sees what waits for her, the hold
counting down and a new referral arriving without a reload, acts in one tap; in English, in
Russian and on a 390-pixel phone; the counts poll in the background and stop at the sign-in
page; the daily sheet prints. axe-core finds no violation on the worklist or the sheets."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from refuge.core.roles import OrgKind, Role
from refuge.directory.services import phone_add
from refuge.referrals import services as referrals
from refuge.referrals.models import ReferralTarget
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import Persona, make_org, make_user
from tests.notifications.worklist_world import HOUSEHOLD, build

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"


@pytest.fixture
def network(transactional_db, settings):
    settings.REFUGE_WORKLIST_POLL_SECONDS = 1  # the navigation's counts, every second
    orgs = {"a": make_org("org-a", OrgKind.HUB), "b": make_org("org-b", OrgKind.SHELTER)}
    personas = {
        f"{role.value}_{key}": Persona(make_user(org, role, f"{role.value}-{key}"), role, org)
        for key, org in orgs.items()
        for role in Role
    }
    for key in ("caseworker_b", "coordinator_a", "operator_a"):
        TOTPDevice.objects.create(user=personas[key].user, name="phone", confirmed=True)
    world = build(personas, orgs)
    for key, number in (("soon0", "+7 492 222-33-44"), ("vladimir", "+7 492 555-10-10")):
        phone_add(by=None, organisation=orgs["b"], facility=world.facilities[key], number=number)
    phone_add(by=None, organisation=orgs["a"], number="+7 495 111-22-33", description="night line")
    return personas, orgs, world


def _axe(page) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", ")}`);
        }"""
    )


def _timer(page, target_id) -> str:
    return page.locator(f"#wl-referral-{target_id} .wl-countdown").inner_text()


def test_a_caseworker_works_her_list_without_reloading(live_server, page, network):
    personas, _orgs, world = network
    first = ReferralTarget.objects.get(referral=world.referrals[0])
    sign_in(page, live_server.url, personas["caseworker_b"].user)
    assert page.url == f"{live_server.url}/"
    expect(page.locator("h1")).to_have_text("What needs you now")
    expect(page.locator("#nav-count-core-home")).to_contain_text("7")
    expect(page.locator("#nav-count-referrals-inbox")).to_contain_text("1")

    # The hold counts down by itself, from the server's clock.
    before = _timer(page, first.pk)
    assert re.fullmatch(r"1:59:\d\d left", before)
    expect(page.locator(f"#wl-referral-{first.pk} .wl-countdown")).not_to_have_text(before)
    assert _axe(page) == []
    shot(page, "worklist-en")

    # A second referral arrives while she looks: the badge and the list follow, no reload.
    page.evaluate("window.__stayed = true")
    second = referrals.referral_create(
        by=personas["operator_a"].principal,
        client=world.clients[0],
        household=HOUSEHOLD,
        facility_ids=[world.facilities["vladimir"].pk],
        hold_minutes=6,
    )
    new = ReferralTarget.objects.get(referral=second)
    expect(page.locator("#nav-count-referrals-inbox")).to_contain_text("2", timeout=10_000)
    expect(page.locator(f"#wl-referral-{new.pk}")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__stayed") is True
    expect(page.locator(f"#wl-referral-{new.pk} .wl-countdown")).to_have_class(re.compile("soon"))
    expect(page.locator(f"#wl-referral-{new.pk} .wl-countdown")).to_contain_text("left")

    # A hold that runs out says so where it stood, still without a reload.
    ReferralTarget.objects.filter(pk=new.pk).update(
        hold_expires_at=timezone.now() + timedelta(seconds=3)
    )
    page.evaluate("document.body.dispatchEvent(new Event('worklist-changed'))")
    expect(page.locator(f"#wl-referral-{new.pk} .wl-countdown")).to_have_text(
        "hold expired", timeout=10_000
    )
    assert page.evaluate("window.__stayed") is True

    # One tap: accept the first referral.
    submit(page, page.locator(f"#wl-referral-{first.pk}").get_by_role("button", name="Accept"))
    assert f"/referrals/{first.referral_id}/" in page.url
    first.refresh_from_db()
    assert first.status == ReferralTarget.Status.ACCEPTED

    # One tap: "still accurate" on a figure about to decay, and she is back on her list.
    page.goto(f"{live_server.url}/")
    soon = world.facilities["soon0"]
    submit(page, page.locator(f"#wl-stale-{soon.pk}").get_by_role("button", name="Still accurate"))
    assert page.url == f"{live_server.url}/"
    assert "Marked as still accurate." in page.inner_text(".messages")
    expect(page.locator(f"#wl-stale-{soon.pk}")).to_have_count(0)

    # In Russian.
    page.select_option("#lang-select", "ru")
    submit(page, ".lang button")
    expect(page.locator("h1")).to_have_text("Что ждёт вас сейчас")
    assert (
        page.locator(".wl-section h2")
        .first.inner_text()
        .startswith("Направления ждут вашего ответа")
    )
    assert "Прочитать и подтвердить" in page.inner_text("#worklist")
    assert _axe(page) == []
    shot(page, "worklist-ru")

    # On a phone: one swipeable line of menu, the list fits, the buttons are thumb-sized.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    accept = page.locator(".wl-kind-referral").get_by_role("button", name="Принять").first
    box = accept.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 390
    assert _axe(page) == []
    shot(page, "worklist-ru-phone-390")
    page.select_option("#lang-select", "en")
    submit(page, ".lang button")
    shot(page, "worklist-en-phone-390")


def test_counts_poll_in_the_background_and_stop_at_the_sign_in_page(
    live_server, page, network, settings
):
    personas, _orgs, _world = network
    settings.REFUGE_IDLE_TIMEOUT = timedelta(seconds=12)
    polls = []
    page.on(
        "request",
        lambda r: (
            polls.append(r.headers.get("x-refuge-background"))
            if "/worklist/counts/" in r.url
            else None
        ),
    )
    sign_in(page, live_server.url, personas["caseworker_b"].user)
    page.goto(f"{live_server.url}/vacancies/")  # any page: the badges poll there too
    expect(page.locator("#nav-count-vacancies-board")).to_contain_text("3")
    # Idle: only background polls from now on, so the session ends, and the next poll
    # brings the sign-in page instead of the last figures.
    page.wait_for_url(re.compile(r"/login/\?timeout=1"), timeout=30_000)
    assert len(polls) >= 3 and set(polls) == {"1"}, polls
    n = len(polls)
    page.wait_for_timeout(2_500)
    assert len(polls) == n  # polling stopped with the page


def test_the_hotline_queue_poll_is_background_too(live_server, page, network):
    """htmx 2 runs a poll with no triggering event: refuge.js must still mark it."""
    personas, _orgs, _world = network
    sign_in(page, live_server.url, personas["operator_a"].user)
    with page.expect_request(lambda r: "/hotline/live/" in r.url, timeout=10_000) as polled:
        page.goto(f"{live_server.url}/hotline/")
    assert polled.value.headers.get("x-refuge-background") == "1"


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_daily_sheets_print(live_server, page, network, lang):
    personas, _orgs, world = network
    sign_in(page, live_server.url, personas["caseworker_b"].user, lang=lang)
    vladimir = world.facilities["vladimir"]
    submit(page, f"a[href='/worklist/sheet/{vladimir.pk}/']")
    title = {"en": "Daily sheet: Vladimir refuge", "ru": "Дневной лист: Vladimir refuge"}[lang]
    expect(page.locator("h1")).to_have_text(title)
    assert _axe(page) == []
    page.emulate_media(media="print")
    assert not page.locator(".sheet-tools").is_visible()
    shot(page, f"worklist-sheet-{lang}-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") <= 2
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, f"worklist-sheet-{lang}-phone-390")


def test_the_network_sheet_for_a_coordinator(live_server, page, network):
    personas, _orgs, _world = network
    sign_in(page, live_server.url, personas["coordinator_a"].user)
    expect(page.locator("#nav-count-referrals-partner-requests")).to_contain_text("1")
    assert _axe(page) == []
    shot(page, "worklist-coordinator-en")
    submit(page, "a[href='/worklist/sheet/']")
    expect(page.locator("h1")).to_have_text("Daily sheet: the network")
    assert page.locator(".sheet-table tbody tr").count() == 5
    assert _axe(page) == []
    page.emulate_media(media="print")
    shot(page, "worklist-sheet-network-print")
