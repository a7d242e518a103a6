"""Issue 16 item 4: impossible values are refused with a message on the field and nothing saved:
a birth date giving an age outside 12–110, an intake without any age, a call before 2000."""

from __future__ import annotations

import pytest
from django.urls import reverse

from refuge.cases.models import Client
from refuge.hotline.models import Call

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("born", ["2099-01-01", "1800-01-01", "2020-05-05"])
def test_an_impossible_birth_date_is_refused_and_what_she_typed_comes_back(as_persona, born):
    c = as_persona("caseworker_a")
    r = c.post(reverse("cases:new"), {"name": "Aigul Marker", "birth_date": born})
    html = r.content.decode()
    assert r.status_code == 200 and "Check the date of birth" in html
    assert "Aigul Marker" in html  # nothing typed is lost
    assert Client.objects.count() == 0


def test_an_intake_needs_at_least_an_age_band(as_persona):
    c = as_persona("caseworker_a")
    r = c.post(reverse("cases:new"), {"name": "", "birth_date": ""})
    assert r.status_code == 200 and "at least an age band" in r.content.decode()
    assert Client.objects.count() == 0
    assert c.post(reverse("cases:new"), {"age_band": "25-34"}).status_code == 302
    assert c.post(reverse("cases:new"), {"birth_date": "1990-03-04"}).status_code == 302
    assert Client.objects.count() == 2


def test_the_russian_page_says_it_in_russian(as_persona):
    c = as_persona("caseworker_a")
    c.cookies["django_language"] = "ru"
    html = c.post(reverse("cases:new"), {"birth_date": "2099-01-01"}).content.decode()
    assert "Проверьте дату рождения" in html


def test_a_manual_call_before_2000_is_refused(as_persona):
    c = as_persona("operator_a")
    r = c.post(
        reverse("hotline:call_new"),
        {"direction": "incoming", "started_at": "1900-01-01T10:00", "talk_minutes": 5},
    )
    assert r.status_code == 200 and "before 2000" in r.content.decode()
    assert Call.objects.count() == 0
