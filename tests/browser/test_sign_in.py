import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

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
