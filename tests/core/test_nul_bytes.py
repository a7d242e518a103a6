"""A NUL byte anywhere in a request is a 400, never a 500 (issue 14, L1; PostgreSQL cannot
store or compare one). JSON under /api/, the neutral public page under /help/, the plain
error page elsewhere."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from refuge.cases.services import client_create
from refuge.core.services import api_key_create

HSDS = "/api/v1/hsds"


def _neutral_public(r) -> None:
    html = r.content.decode()
    assert r.status_code == 400
    assert 'id="quick-exit"' in html and 'href="/accounts' not in html
    assert "csrftoken" not in r.cookies and "sessionid" not in r.cookies


@pytest.mark.parametrize(
    "url",
    [
        f"{HSDS}/services?search=%00",
        f"{HSDS}/organizations?search=a%00b",
        f"{HSDS}/service_at_locations?postcode=%00",
        f"{HSDS}/taxonomy_terms?parent_id=%00",
        f"{HSDS}/services?x%00=1",
    ],
)
def test_the_public_api_answers_a_json_400(db, url):
    r = HttpClient().get(url)
    assert r.status_code == 400
    assert r.json()["code"] == "bad_request"


@pytest.mark.parametrize("lang", ["en", "ru", "ky", "uk", "cs"])
def test_a_help_page_answers_the_neutral_public_400(db, lang):
    r = HttpClient().get(f"/help/{lang}/region/RU-MOW%00/")
    _neutral_public(r)
    assert r["Content-Language"] == lang


def test_staff_pages_answer_400(personas, as_persona):
    c = as_persona("operator_a")
    client = client_create(by=personas["operator_a"].principal, name="Olga")
    for url in (
        "/referrals/search/?woman_age=30&home_region=RU%00",
        f"/cases/{client.case_code}%00/",
        f"/cases/{client.case_code}/?tab=%00",
    ):
        r = c.get(url)
        assert r.status_code == 400, url
        assert "application/json" not in r["Content-Type"]


def test_a_form_field_with_a_nul_answers_400_and_creates_nothing(personas, as_persona):
    from refuge.referrals.models import Referral

    c = as_persona("operator_a")
    r = c.post("/referrals/send/", {"woman_age": "30", "home_region": "RU-MOW", "note": "a\x00b"})
    assert r.status_code == 400
    assert not Referral.objects.exists()


def test_an_api_body_with_a_nul_answers_json_400(personas, orgs):
    from refuge.referrals.models import Referral

    _, key = api_key_create(by=None, organisation=orgs["a"], role="operator", name="t")
    r = HttpClient().post(
        "/api/v1/referrals",
        '{"woman_age": 30, "home_region": "RU-MOW", "note": "a\\u0000b", "facility_ids": [1]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    assert not Referral.objects.exists()


def test_ordinary_requests_pass(db):
    assert HttpClient().get(f"{HSDS}/services?search=shelter").status_code == 200
    assert HttpClient().get("/help/en/").status_code == 200


def test_the_refusal_carries_the_security_headers(db):
    r = HttpClient().get(f"{HSDS}/services?search=%00")
    assert r["Cache-Control"] == "no-store" and r["X-Content-Type-Options"] == "nosniff"


def test_the_telephony_lane_refuses_a_nul_too(db):
    r = HttpClient().post(
        "/api/v1/telephony/events", '{"id": "a\\u0000b"}', content_type="application/json"
    )
    assert r.status_code == 400 and r.json()["code"] == "bad_request"


@pytest.mark.django_db
def test_a_view_that_reads_the_raw_body_still_can_after_the_check(as_persona):
    """The check reads a form body; a view that then reads request.body (the push
    subscription) must not fail with "cannot access body after reading the stream"."""
    c = as_persona("caseworker_a")
    r = c.post("/notifications/push/subscribe/", {"endpoint": "x"})
    assert r.status_code < 500
