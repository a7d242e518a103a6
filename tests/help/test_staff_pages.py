"""The staff pages that edit the help texts (under /help/manage/)."""

from __future__ import annotations

import time

from django.test import Client

from refuge.core.models import AuditEvent
from refuge.help.models import HelpText
from tests.conftest import sign_in


def test_the_list_shows_every_block_in_every_language(as_persona):
    response = as_persona("coordinator_a").get("/help/manage/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('href="/help/manage/') == 6 * 5
    assert "Leaflet: rights whatever the residence status" in body


def test_a_coordinator_edits_a_leaflet_and_can_reset_it(as_persona, regions):
    client = as_persona("coordinator_a")
    form = client.get("/help/manage/leaflet_emergency/ky/")
    assert form.status_code == 200 and 'lang="ky"' in form.content.decode()
    response = client.post(
        "/help/manage/leaflet_emergency/ky/", {"title": "Жаңы аталыш", "body": "## Бөлүм\n- Пункт"}
    )
    assert response.status_code == 302 and response["Location"] == "/help/manage/"
    assert HelpText.objects.get(key="leaflet_emergency", language="ky").title == "Жаңы аталыш"
    public = Client().get("/help/ky/leaflets/emergency/").content.decode()
    assert "<h2>Бөлүм</h2>" in public and "<li>Пункт</li>" in public
    edited = client.get("/help/manage/leaflet_emergency/ky/").content.decode()
    assert 'name="reset"' in edited
    client.post("/help/manage/leaflet_emergency/ky/", {"reset": "1"})
    assert not HelpText.objects.exists()
    assert AuditEvent.objects.filter(action="help.text_reset").count() == 1


def test_an_empty_text_is_refused_with_the_form_kept(as_persona):
    client = as_persona("admin_a")
    response = client.post("/help/manage/home_intro/cs/", {"title": "Nadpis", "body": ""})
    assert response.status_code == 200 and "Nadpis" in response.content.decode()
    assert not HelpText.objects.exists()


def test_unknown_blocks_and_languages_are_404(as_persona):
    client = as_persona("coordinator_a")
    assert client.get("/help/manage/nothing/en/").status_code == 404
    assert client.get("/help/manage/home_intro/de/").status_code == 404


def test_the_second_factor_is_required_although_help_is_exempt_in_the_middleware(personas):
    client = Client()
    client.force_login(personas["coordinator_a"].user)  # password only, no TOTP step
    response = client.get("/help/manage/")
    assert response.status_code == 302
    assert response["Location"] in {"/login/code/", "/account/second-factor/"}
    response = client.post("/help/manage/home_intro/en/", {"title": "x", "body": "y"})
    assert response.status_code == 302 and not HelpText.objects.exists()


def test_the_idle_timeout_applies(personas, settings):
    client = sign_in(Client(), personas["coordinator_a"].user)
    session = client.session
    session["last_activity"] = time.time() - settings.REFUGE_IDLE_TIMEOUT.total_seconds() - 60
    session.save()
    response = client.get("/help/manage/")
    assert response.status_code == 302 and "timeout=1" in response["Location"]
    assert client.get("/help/manage/").status_code == 302  # signed out
