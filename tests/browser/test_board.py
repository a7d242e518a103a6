"""A caseworker asks the board who can take a woman with sons of 15 and 9 and a dog, sees the
traffic lights and the reasons, says "still accurate" in one tap, in English, in Russian and
on a 390-pixel phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from refuge.core.roles import OrgKind
from refuge.vacancies.models import FacilityAvailability
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user
from tests.directory.factories import OPEN_RULES, ensure_regions, make_facility

pytestmark = pytest.mark.browser


@pytest.fixture
def network(transactional_db):
    ensure_regions()
    kitezh = make_org("kitezh", OrgKind.SHELTER)
    other = make_org("vladimir-centre", OrgKind.CRISIS_CENTRE)
    user = make_user(kitezh, "caseworker", "marina")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    make_facility(
        kitezh, "Kitezh refuge", kind="low_threshold_refuge",
        rules=OPEN_RULES | {"boys_max_age": 12}, rooms=[("family", 4), ("dorm", 6)], free=[4, 2],
    )  # fmt: skip
    stale = make_facility(
        kitezh, "Kitezh second house", region="RU-MOS", rooms=[("family", 4)], free=[4],
    )  # fmt: skip
    FacilityAvailability.objects.filter(facility=stale).update(
        reported_at=timezone.now() - timedelta(hours=30)
    )
    make_facility(
        other, "Vladimir crisis centre", region="RU-VLA",
        rules=OPEN_RULES | {"boys_max_age": 16}, rooms=[("family", 4), ("family", 3)], free=[4, 0],
    )  # fmt: skip
    make_facility(other, "Tula house", region="RU-TUL", rooms=[("family", 5)])
    make_facility(
        other, "Tver sisters", kind="faith_based_shelter", faith="orthodox", region="RU-TVE",
        rules=OPEN_RULES | {"pets_accepted": False}, rooms=[("family", 4)], free=[4],
    )  # fmt: skip
    make_facility(other, "Bishkek centre", region="KG-GB", rooms=[("family", 2)], free=[2])
    return device


def _row(page, name):
    return page.locator(".board-row", has=page.locator(f"h3:has-text('{name}')"))


def test_the_board_finds_places_for_a_woman_with_two_sons_and_a_dog(live_server, page, network):
    sign_in(page, live_server.url, network.user)
    page.click("nav a[href='/vacancies/']")
    page.wait_for_url(f"{live_server.url}/vacancies/")
    page.fill("#id_boys", "15, 9")
    page.check("#id_pets")
    page.select_option("#id_region", "RU")
    submit(page, ".board-filter button[type=submit]")

    assert "light-green" in _row(page, "Vladimir crisis centre").get_attribute("class")
    assert "light-amber" in _row(page, "Tula house").get_attribute("class")
    assert "light-amber" in _row(page, "Kitezh second house").get_attribute("class")
    kitezh = _row(page, "Kitezh refuge")
    assert "light-red" in kitezh.get_attribute("class")
    assert "Boys only up to age 12" in kitezh.inner_text()
    assert "No pets" in _row(page, "Tver sisters").inner_text()
    assert page.locator(".board-row", has_text="Bishkek centre").count() == 0  # Russia only
    green = page.locator(".board-row").first
    assert "Vladimir crisis centre" in green.inner_text()
    assert "takes a household of up to 4 now" in green.inner_text()
    live = page.locator("#board-live")
    assert live.get_attribute("hx-trigger").startswith("every 30s")

    # Her own second house: the figure is 30 hours old, so unknown; one tap says it stands.
    stale = _row(page, "Kitezh second house")
    assert "unknown: last report" in stale.inner_text()
    with page.expect_response(lambda r: "/confirm/" in r.url) as confirmed:
        stale.get_by_role("button", name="Still accurate").click()
    assert confirmed.value.status == 200  # htmx got the row back (a plain post would redirect)
    expect(_row(page, "Kitezh second house")).to_have_class(re.compile(r"\blight-green\b"))
    # ... and the rest of the live board follows at once (her facilities' box).
    expect(page.locator(".own-facility", has_text="Kitezh second house")).to_contain_text(
        "4 beds free"
    )
    assert "reported 0" in _row(page, "Kitezh second house").inner_text()
    assert page.url.startswith(f"{live_server.url}/vacancies/?")  # no page load: htmx swapped it
    shot(page, "board-en")

    page.select_option("#lang-select", "ru")
    submit(page, ".lang button")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert "Мальчики только до 12 лет" in _row(page, "Kitezh refuge").inner_text()
    assert "Может принять сейчас" in _row(page, "Vladimir crisis centre").inner_text()
    assert "Владимирская область" in _row(page, "Vladimir crisis centre").inner_text()
    shot(page, "board-ru")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the board is {width}px wide on a 390px phone"
    button = _row(page, "Kitezh refuge").get_by_role("button", name="Всё ещё верно")
    assert button.bounding_box()["width"] < 390
    shot(page, "board-phone-390")


def test_a_caseworker_reports_free_beds_from_her_phone(live_server, page, network):
    from refuge.directory.models import Facility

    facility = Facility.objects.get(name="Kitezh refuge")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server.url, network.user)
    page.goto(f"{live_server.url}/vacancies/facility/{facility.pk}/")
    assert "6 beds free" in page.locator("main").inner_text()
    shared = page.get_by_label("Room 2 (shared room, 6 beds): free beds")
    shared.fill("-1")
    submit(page, page.get_by_role("button", name="Save availability"))
    assert "Room 2: free beds cannot be below zero (you gave -1)." in page.inner_text(".messages")
    shot(page, "board-report-refused-phone")
    page.get_by_label("Taken").check()
    page.get_by_label("Room 2 (shared room, 6 beds): free beds").fill("5")
    submit(page, page.get_by_role("button", name="Save availability"))
    assert "Availability saved." in page.inner_text(".messages")
    assert "5 beds free" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "board-report-phone")


def test_every_reason_is_shown_and_folded_after_two_on_a_phone(live_server, page, network):
    from refuge.core.models import Organisation

    make_facility(
        Organisation.objects.get(slug="vladimir-centre"), "Strict house", region="RU-VLA",
        rules=OPEN_RULES | {"boys_max_age": 12, "pets_accepted": False, "max_stay_days": 10},
        rooms=[("family", 2)], free=[0],
    )  # fmt: skip
    sign_in(page, live_server.url, network.user)
    url = f"{live_server.url}/vacancies/?boys=15%2C+9&pets=on&stay_days=30&region=RU-VLA"
    page.goto(url)
    strict = _row(page, "Strict house")
    reasons = [
        "Boys only up to age 12",
        "Its rooms hold at most 2 people; this household is 3",
        "No free place for this household now",
        "No pets",
        "Stays of at most 10 days",
    ]
    for text in reasons:  # on a wide screen every reason is in view
        expect(strict.get_by_text(text, exact=True)).to_be_visible()
    expect(strict.get_by_text("3 more reasons")).to_be_hidden()

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url)
    strict = _row(page, "Strict house")
    for text in reasons[:2]:
        expect(strict.get_by_text(text, exact=True)).to_be_visible()
    for text in reasons[2:]:
        expect(strict.get_by_text(text, exact=True)).to_be_hidden()
    strict.get_by_text("3 more reasons").click()
    for text in reasons:
        expect(strict.get_by_text(text, exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "board-every-reason-phone")


@pytest.fixture
def peers(network):
    """A trusted peer network sharing three facilities (made before any browser opens: the test
    and the live server share one SQLite connection)."""
    from tests.federation.factories import peer_item, trusted_peer

    now = timezone.now()
    trusted_peer(
        "volga-network",
        [
            peer_item(
                "Yaroslavl women's house", region="RU-YAR", country="RU", family=(4, 3),
                free_family=(4,), dorm=4, free_dorm=1, as_of=now - timedelta(hours=2),
            ),
            peer_item(
                "Kostroma small house", region="RU-KOS", country="RU",
                rules={"boys_max_age": 12, "pets_accepted": False},
                as_of=now - timedelta(minutes=40),
            ),
            peer_item("Old figure house", region="RU-IVA", country="RU", as_of=now - timedelta(days=3)),
        ],
    )  # fmt: skip
    return network


def test_other_networks_on_the_board_in_english_russian_and_on_a_phone(live_server, page, peers):
    from tests.browser.test_staff_axe import AXE, RUN_AXE

    sign_in(page, live_server.url, peers.user)
    page.goto(f"{live_server.url}/vacancies/?boys=15%2C+9&pets=on&region=RU")
    section = page.locator("section.other-networks")
    expect(section.locator("h2")).to_have_text("Other networks")
    yaroslavl = section.locator(".board-row", has=page.locator("h3:has-text('Yaroslavl')"))
    text = yaroslavl.inner_text()
    assert "network volga-network" in text and "Yaroslavl Oblast" in text and "RU-YAR" not in text
    assert "5 beds free" in text and "family rooms free, beds in each: 4" in text
    assert "reported by the facility · figure of 2\xa0hours ago" in text
    assert "light-green" in yaroslavl.get_attribute("class")
    kostroma = section.locator(".board-row", has=page.locator("h3:has-text('Kostroma')"))
    assert "light-red" in kostroma.get_attribute("class")
    assert "Boys only up to age 12" in kostroma.inner_text()
    assert "figure of 3\xa0days ago" in section.inner_text()
    page.evaluate(AXE.read_text(encoding="utf-8"))  # through the debugger: CSP does not apply
    assert page.evaluate(RUN_AXE) == []
    shot(page, "board-peers-en")

    page.select_option("#lang-select", "ru")
    submit(page, ".lang button")
    section = page.locator("section.other-networks")
    expect(section.locator("h2")).to_have_text("Другие сети")
    assert "Ярославская область" in section.inner_text()
    assert "сеть volga-network" in section.inner_text()
    page.evaluate(AXE.read_text(encoding="utf-8"))
    assert page.evaluate(RUN_AXE) == []
    shot(page, "board-peers-ru")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the board is {width}px wide on a 390px phone"
    page.locator("section.other-networks").screenshot(
        path=str(shot(page, "board-peers-phone-390").with_name("board-peers-phone-390-section.png"))
    )
