"""A server error under /help/ shows the neutral public page, never the staff layout
(issue 14, L1): in the page's language, with the quick exit, and no cookie."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import include, path

from refuge.help.views import public_page


@public_page
def _boom(request, lang):
    raise RuntimeError("a bug in a public page")


def _staff_boom(request):
    raise RuntimeError("a bug in a staff page")


urlpatterns = [
    path("help/<str:lang>/boom/", _boom),
    path("staff-boom/", _staff_boom),
    path("", include("refuge.urls")),
]
handler500 = "refuge.core.views.errors.server_error"

WORDS = {
    "en": "Something went wrong",
    "ru": "Что-то пошло не так",
    "ky": "Бир нерсе туура эмес болду",
    "uk": "Щось пішло не так",
    "cs": "Něco se nepovedlo",
}


@pytest.mark.parametrize("lang", sorted(WORDS))
@override_settings(ROOT_URLCONF=__name__)
def test_a_public_page_that_fails_shows_the_neutral_page(db, lang):
    r = HttpClient(raise_request_exception=False).get(f"/help/{lang}/boom/")
    html = r.content.decode()
    assert r.status_code == 500
    assert WORDS[lang] in html and 'id="quick-exit"' in html
    assert f'<html lang="{lang}">' in html and f'href="/help/{lang}/"' in html
    assert "Something went wrong on our side" not in html  # the staff page's words
    assert "/static/refuge/" not in html and "nav" not in html.split("<main", 1)[0].lower()
    assert not r.cookies


@override_settings(ROOT_URLCONF=__name__)
def test_a_staff_page_keeps_the_staff_error_page(db):
    r = HttpClient(raise_request_exception=False).get("/staff-boom/")
    assert r.status_code == 500 and "Something went wrong on our side" in r.content.decode()
