"""The PBX webhooks' lean lane (refuge/hotline/lane.py): the headers that matter for a JSON
answer are still there, the middleware for people is not run, and nothing else changes."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from refuge.hotline import lane
from refuge.hotline.models import Call
from tests.hotline.helpers import JSON_EVENTS, MANGO_CALL, T0, mango_event, post_mango


@pytest.fixture
def client(db):
    return HttpClient()


def test_the_lane_is_first_in_the_middleware():
    from django.conf import settings

    assert settings.MIDDLEWARE[0] == "refuge.hotline.lane.TelephonyLaneMiddleware"


def test_a_webhook_answer_keeps_the_security_headers_for_json(client):
    r = post_mango(client, MANGO_CALL, mango_event("lane-1", "c1", 1, "Appeared", T0))
    assert r.status_code == 200 and r.json()["status"] == "recorded"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Cache-Control"] == "no-store"
    assert r["Cross-Origin-Resource-Policy"] == "same-origin"
    assert r["Referrer-Policy"] == "same-origin"
    assert "Permissions-Policy" in r
    assert r["Content-Length"] == str(len(r.content))
    # … and none of the people's middleware ran: no cookie, no CSP, no language negotiation.
    assert not r.cookies and "Content-Security-Policy" not in r and "Vary" not in r


def test_other_paths_still_take_the_full_chain(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and "Content-Security-Policy" in r


def test_a_session_is_no_key_on_the_json_webhook(client, personas):
    from tests.conftest import sign_in

    signed_in = sign_in(HttpClient(), personas["operator_a"].user)
    event = {"entry_id": "x", "seq": 1, "state": "appeared", "at": "2025-03-03T09:00:00Z"}
    r = signed_in.post(JSON_EVENTS, json.dumps(event), content_type="application/json")
    assert r.status_code == 401 and not Call.objects.exists()


def test_an_unknown_telephony_path_is_a_json_404(client):
    r = client.post("/api/v1/telephony/nowhere", {})
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_the_lane_remembers_only_urls_that_resolve_and_only_a_few(client, monkeypatch):
    monkeypatch.setattr(lane, "_RESOLVED", {})
    for n in range(40):
        assert client.post(f"/api/v1/telephony/nowhere-{n}", {}).status_code == 404
    assert lane._RESOLVED == {}
    calls = []
    real = lane.resolve
    monkeypatch.setattr(lane, "resolve", lambda path: calls.append(path) or real(path))
    for seq in (1, 2):
        event = mango_event("lane-r", "c1", seq, "Appeared", T0)
        assert post_mango(client, MANGO_CALL, event).status_code == 200
    assert len(calls) == 1 and len(lane._RESOLVED) == 1


def test_an_error_in_a_view_is_a_500_json_without_detail(client, monkeypatch):
    from refuge.hotline import services

    def boom(**kwargs):
        raise RuntimeError("+79161234567")

    monkeypatch.setattr(services, "call_event_ingest", boom)
    r = post_mango(client, MANGO_CALL, mango_event("lane-2", "c1", 1, "Appeared", T0))
    assert r.status_code == 500 and "79161234567" not in r.content.decode()


def test_the_lean_chain_is_the_listed_middleware_only():
    assert lane.LEAN_MIDDLEWARE == (
        "django.middleware.security.SecurityMiddleware",
        "refuge.core.middleware.SecurityHeadersMiddleware",
        "refuge.core.middleware.NulByteMiddleware",
    )
