import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.access import Principal
from tests.browser.conftest import shot, submit, totp_code
from tests.conftest import PASSWORD, make_org, make_user

pytestmark = pytest.mark.browser


@pytest.fixture
def manager(transactional_db):
    org = make_org("kitezh")
    user = make_user(org, "manager", "alena")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    return user, device


def test_a_manager_signs_in_with_a_code_and_switches_to_russian(live_server, page, manager):
    user, device = manager
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    shot(page, "01-sign-in")
    page.fill("#id_username", "alena")
    page.fill("#id_password", "wrong password")
    submit(page, "main button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Sign-in failed")
    page.fill("#id_password", PASSWORD)
    submit(page, "main button[type=submit]")
    assert "/login/code/" in page.url
    page.fill("#id_code", totp_code(device))
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h1").inner_text() == "What needs you now"  # her worklist
    assert page.locator("main").inner_text().count("Hello, alena") == 1
    shot(page, "02-home-en")
    page.select_option("#lang-select", "ru")
    submit(page, ".lang button")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Что ждёт вас сейчас"
    assert "Здравствуйте, alena" in page.locator("main").inner_text()
    shot(page, "03-home-ru")
    submit(page, "text=Выйти")
    assert "/login/" in page.url


def test_first_sign_in_shows_a_scannable_qr_code(live_server, page, transactional_db):
    org = make_org("hotline")
    make_user(org, "operator", "olga")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "olga")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    assert "/account/second-factor/" in page.url
    # The QR image is served by its own URL (CSP allows no data: images): it must really load.
    page.wait_for_function(
        "() => { const i = document.querySelector('img.qr'); return i && i.complete && i.naturalWidth > 0; }"
    )
    shot(page, "04-enrol")
    device = TOTPDevice.objects.get(user__username="olga")
    page.fill("#id_code", totp_code(device))
    page.click("main form button[type=submit] >> nth=0")
    page.wait_for_url(f"{live_server.url}/")


def _fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_re_authentication_and_break_glass_on_a_phone_in_both_languages(
    live_server, page, transactional_db
):
    """An administrator re-authenticates, opens break-glass on a shelter's cases and sees the
    banner; each page fits a phone, in English and in Russian."""
    from refuge.cases.services import client_create
    from refuge.core.roles import OrgKind
    from tests.browser.conftest import sign_in

    hub = make_org("coalition-hub", OrgKind.HUB)
    shelter = make_org("kitezh")
    admin = make_user(hub, "admin", "ivan")
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    worker = make_user(shelter, "caseworker", "marina")
    case = client_create(by=Principal.for_user(worker), name="Test Person")
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    sign_in(page, base, admin)
    page.goto(f"{base}/break-glass/")
    assert "/account/confirm/" in page.url
    assert _fits_the_phone(page)
    shot(page, "05-reauth-en")
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the next time step
    page.fill("#id_password", PASSWORD)
    page.fill("#id_code", totp_code(device))
    submit(page, "main form button[type=submit]")
    assert page.url.endswith("/break-glass/")
    assert _fits_the_phone(page)
    shot(page, "06-break-glass-en")
    page.select_option("#lang-select", "ru")
    submit(page, ".lang button")
    assert page.locator("h1").inner_text() == "Экстренный доступ"
    assert _fits_the_phone(page)
    shot(page, "07-break-glass-ru")
    page.goto(f"{base}/account/confirm/")
    assert page.locator("h1").inner_text() == "Подтвердите, что это вы"
    shot(page, "08-reauth-ru")
    page.goto(f"{base}/break-glass/")
    page.select_option("#id_organisation", label="Kitezh")
    page.fill("#id_reason", "Суд запросил подтверждение записи от 3 мая; руководитель в отпуске.")
    submit(page, "main form button[type=submit]")
    assert page.url.endswith("/cases/")
    banner = page.locator("#break-glass-banner")
    assert "Kitezh" in banner.inner_text() and case.case_code in page.content()
    assert _fits_the_phone(page)
    shot(page, "09-break-glass-banner-ru")
    submit(page, "#break-glass-banner button")
    assert page.url.endswith("/break-glass/")
    assert page.locator("#break-glass-banner").count() == 0
