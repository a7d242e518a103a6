"""Issue 16 item 4: a double submit never creates two records. The forms that create something
carry a one-time token; the second POST of the same token (a double click, a reload of the
result) creates nothing and is sent where the first one led. On PostgreSQL two submits racing
each other on two connections make one record too."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, connections
from django.test import Client as HttpClient
from django.urls import reverse

from refuge.cases.models import Client
from refuge.core.models import ApiKey, FormSubmission
from refuge.referrals.models import PartnerRequest
from tests.conftest import sign_in
from tests.core.conftest import reauthenticate

pytestmark = pytest.mark.django_db


def _token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_creating_a_case_twice_with_one_form_makes_one_case(as_persona):
    c = as_persona("caseworker_a")
    token = _token(c.get(reverse("cases:new")).content.decode())
    form = {"name": "Aigul", "age_band": "25-34", "form_token": token}
    first = c.post(reverse("cases:new"), form)
    second = c.post(reverse("cases:new"), form)
    assert Client.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    page = c.get(second["Location"]).content.decode()
    assert "already been sent" in page
    # A new form (a new token) makes a new case, as it should.
    token = _token(c.get(reverse("cases:new")).content.decode())
    c.post(reverse("cases:new"), {**form, "form_token": token})
    assert Client.objects.count() == 2


def test_a_form_sent_back_with_errors_can_be_sent_again_once_corrected(as_persona):
    c = as_persona("caseworker_a")
    token = _token(c.get(reverse("cases:new")).content.decode())
    bad = c.post(reverse("cases:new"), {"age_band": "nonsense", "form_token": token})
    assert bad.status_code == 200 and Client.objects.count() == 0
    assert not FormSubmission.objects.filter(token=token).exists()
    good = c.post(reverse("cases:new"), {"name": "A", "age_band": "25-34", "form_token": token})
    assert good.status_code == 302 and Client.objects.count() == 1


def test_a_new_api_key_and_a_partner_request_are_made_once(personas, as_persona):
    c = as_persona("manager_a")
    reauthenticate(c)
    token = _token(c.get(reverse("core:api_key_new")).content.decode())
    form = {"name": "Intake bridge", "role": "operator", "days": 30, "form_token": token}
    first = c.post(reverse("core:api_key_new"), form)
    second = c.post(reverse("core:api_key_new"), form)
    assert first.status_code == 200 and ApiKey.objects.count() == 1
    assert second.status_code == 302 and second["Location"] == reverse("core:api_keys")

    p = as_persona("partner_a")
    token = _token(p.get(reverse("referrals:partner_requests")).content.decode())
    form = {"create": "1", "region": "RU-VLG", "woman_age": 30, "contact": "duty officer",
            "form_token": token}  # fmt: skip
    p.post(reverse("referrals:partner_requests"), form)
    p.post(reverse("referrals:partner_requests"), form)
    assert PartnerRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_submits_at_once_make_one_case_on_postgresql(personas):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and two connections at once: PostgreSQL")
    user = personas["caseworker_a"].user
    token = "t" * 32
    barrier, codes = threading.Barrier(4), []

    def submit():
        try:
            c = sign_in(HttpClient(), user)
            barrier.wait(timeout=30)
            r = c.post(
                reverse("cases:new"), {"name": "A", "age_band": "25-34", "form_token": token}
            )
            codes.append(r.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(codes) == [302] * 4
    assert Client.objects.count() == 1
