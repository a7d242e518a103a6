"""SPEC S5: public pages set no cookie, even in a browser that has been used by staff."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import PASSWORD

PUBLIC = [
    "/help/",
    "/help/en/",
    "/help/ru/region/KG-GB/",
    "/help/ky/leaflets/",
    "/help/uk/leaflets/rights/",
    "/help/cs/safety/",
    "/help/sitemap.xml",
    "/help/ru/nowhere/",
    "/help/ru",
]


def _assert_no_cookie(client: Client) -> None:
    for url in PUBLIC:
        response = client.get(url)
        assert not response.cookies, (url, response.cookies)
        assert "Set-Cookie" not in response.headers, url


def test_no_cookie_for_a_fresh_visitor(regions):
    _assert_no_cookie(Client())


def test_no_cookie_after_a_member_of_staff_signed_in_in_the_same_browser(personas, regions):
    client = Client()
    client.get("/login/")  # sets the CSRF cookie
    response = client.post(
        "/login/", {"username": personas["coordinator_a"].user.username, "password": PASSWORD}
    )
    assert response.status_code == 302 and "refuge_session" in client.cookies
    client.get("/")  # a staff page, on the way to the second factor
    _assert_no_cookie(client)


def test_no_cookie_when_the_staff_session_has_expired_on_the_server(personas, regions):
    """Without the help app's guard, SessionMiddleware would send a cookie deletion here."""
    client = Client()
    client.post(
        "/login/", {"username": personas["coordinator_a"].user.username, "password": PASSWORD}
    )
    assert "refuge_session" in client.cookies
    Session.objects.all().delete()
    _assert_no_cookie(client)


def test_no_cookie_for_a_signed_in_coordinator(as_persona, regions):
    _assert_no_cookie(as_persona("coordinator_a"))


def test_the_language_cookie_of_the_staff_ui_does_not_choose_the_public_language(regions):
    client = Client()
    client.cookies["django_language"] = "ru"
    response = client.get("/help/", headers={"accept-language": "cs"})
    assert response["Location"] == "/help/cs/"
    assert b'lang="en"' in client.get("/help/en/").content
