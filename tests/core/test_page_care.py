"""Issue 16 item 6, small things that show care: titles with a separator, an icon on every
page, a 405 page like the other error pages, names isolated from the text around them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from refuge.cases.services import client_create

pytestmark = pytest.mark.django_db

RLO = "\u202e"


def test_titles_have_a_separator_and_pages_name_their_icon(client, as_persona):
    for c, url in (
        (client, reverse("core:login")),
        (as_persona("manager_a"), reverse("core:home")),
    ):
        html = c.get(url).content.decode()
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert title.endswith(" · Refuge") and len(title) > len(" · Refuge"), title
        assert 'rel="icon"' in html and "favicon.svg" in html


def test_public_pages_name_the_icon_too(client):
    html = client.get("/help/en/").content.decode()
    assert 'rel="icon"' in html


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("refuge/favicon.svg")


@pytest.mark.parametrize("lang, words", [("en", "cannot be opened like that"), ("ru", "нельзя")])
def test_a_get_on_a_post_only_address_shows_a_page_like_the_other_errors(as_persona, lang, words):
    c = as_persona("coordinator_a")
    c.cookies["django_language"] = lang
    response = c.get("/referrals/send/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = response.content.decode()
    assert "<h1>405</h1>" in html and words in html
    assert "Content-Security-Policy" in response.headers
    assert response["Cache-Control"] == "no-store"


def test_the_api_answers_405_in_json(as_persona):
    response = as_persona("coordinator_a").get("/referrals/send/", HTTP_ACCEPT="application/json")
    assert response.status_code == 405


def test_a_right_to_left_override_in_a_name_stays_inside_it(personas, as_persona):
    manager = personas["manager_a"].user
    manager.first_name, manager.last_name = f"Olga{RLO}", "Petrova"
    manager.save(update_fields=["first_name", "last_name"])
    html = as_persona("manager_a").get(reverse("core:staff_list")).content.decode()
    assert f"<bdi>Olga{RLO} Petrova</bdi>" in html
    # Her own row says it is hers rather than offering actions on herself.
    assert "(you)" in html

    client_create(by=personas["caseworker_a"].principal, name=f"Aigul{RLO}", age_band="25-34")
    html = as_persona("caseworker_a").get(reverse("cases:list")).content.decode()
    assert f"<bdi>Aigul{RLO}</bdi>" in html


def test_the_url_map_loads_before_the_static_files_are_collected(tmp_path, settings):
    """Production serves static files through a manifest made by collectstatic; `migrate` on a
    new server imports the URL map before that, so the map must not look up any file then."""
    import importlib

    import refuge.urls

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    importlib.reload(refuge.urls)  # raised "Missing staticfiles manifest entry" before
