"""Issue 16 item 4: "Send the referral" twice makes one referral holding one set of places."""

from __future__ import annotations

import pytest
from django.urls import reverse

from refuge.referrals.models import Referral
from tests.core.test_once import _token

pytestmark = pytest.mark.django_db


def test_sending_a_referral_twice_makes_one_referral(personas, network, client_a, as_persona):
    c = as_persona("operator_a")
    query = {"case": client_a.case_code, "woman_age": 34, "children": "m9, f5"}
    page = c.get(reverse("referrals:search"), query).content.decode()
    form = {
        **query,
        "facility": [str(network["yar"].pk)],
        "form_token": _token(page[page.index("referrals/send/") :]),
    }
    first = c.post(reverse("referrals:send"), form)
    second = c.post(reverse("referrals:send"), form)
    assert Referral.objects.count() == 1
    assert second["Location"] == first["Location"]
