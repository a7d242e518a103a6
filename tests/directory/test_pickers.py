"""Issue 16 item 2, pickers never codes: regions, countries and languages are chosen and shown by
name in the reader's language; what is stored is the code; a typed code or a made-up value is
refused rather than saved."""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse
from django.utils import translation

from refuge.cases.models import Client
from refuge.cases.services import client_create, other_party_add
from refuge.directory.pickers import country_label, language_label, region_label
from refuge.hotline.services import callback_create
from refuge.hotline.windows import Window
from refuge.referrals import services as referral_services

pytestmark = pytest.mark.django_db


def _case(personas):
    return client_create(by=personas["caseworker_a"].principal, name="Aigul", age_band="25-34")


def test_names_follow_the_readers_language():
    with translation.override("en"):
        assert region_label("RU-VLG") == "Vologda Oblast"
        assert country_label("KG") == "Kyrgyzstan"
        assert country_label("UZ") == "Uzbekistan"
        assert language_label("uz") == "Uzbek"
        assert region_label("XX-NOWHERE") == "unknown region"
    with translation.override("ru"):
        assert region_label("RU-VLG") == "Вологодская область"
        assert country_label("UZ") == "Узбекистан"
        assert language_label("uz").lower() == "узбекский"


@pytest.mark.parametrize("bad", ["XX", "ZZ", "Moscow", "ru"])
def test_a_made_up_citizenship_is_refused_and_nothing_is_saved(personas, as_persona, bad):
    client = _case(personas)
    c = as_persona("caseworker_a")
    page = c.get(reverse("cases:detail", args=[client.case_code])).content.decode()
    assert '<option value="KG">Kyrgyzstan</option>' in page
    assert '<option value="RU-VLG">Vologda Oblast</option>' in page
    form = {"name": "Aigul", "age_band": "25-34", "pets": 0, "citizenship": bad}
    r = c.post(reverse("cases:detail", args=[client.case_code]), form)
    assert r.status_code == 200 and "Select a valid choice" in r.content.decode()
    assert Client.objects.get(pk=client.pk).citizenship == ""
    r = c.post(reverse("cases:detail", args=[client.case_code]), {**form, "citizenship": "KG"})
    assert r.status_code == 302 and Client.objects.get(pk=client.pk).citizenship == "KG"


def test_the_profile_reads_in_russian_with_russian_names(personas, as_persona):
    client = _case(personas)
    c = as_persona("caseworker_a")
    c.cookies["django_language"] = "ru"
    page = c.get(reverse("cases:detail", args=[client.case_code])).content.decode()
    assert '<option value="KG">Киргизия</option>' in page
    assert '<option value="RU-VLG">Вологодская область</option>' in page
    assert "ISO" not in page


def test_the_search_from_a_case_already_avoids_where_he_is(personas, as_persona):
    client = _case(personas)
    other_party_add(
        by=personas["caseworker_a"].principal, client=client, relation="husband", region="RU-VLG"
    )
    c = as_persona("caseworker_a")
    page = c.get(reverse("referrals:search") + f"?case={client.case_code}").content.decode()
    avoid = page[page.index('name="avoid_regions"') :]
    avoid = avoid[: avoid.index("</select>")]
    assert '<option value="RU-VLG" selected>Vologda Oblast</option>' in avoid
    assert "codes" not in page and "ISO" not in page


def test_partner_requests_and_callbacks_show_names_not_codes(personas, as_persona):
    referral_services.partner_request_create(
        by=personas["partner_a"].principal,
        region="RU-VLG",
        contact="through the duty officer",
        details="",
        household={"woman_age": 30, "children": []},
    )
    page = as_persona("coordinator_a").get(reverse("referrals:partner_requests")).content
    assert "Vologda Oblast" in page.decode() and ">RU-VLG<" not in page.decode()

    callback_create(
        by=personas["operator_a"].principal,
        safe_number="+79001234567",
        safe_times=[Window(days=(0, 1, 2, 3, 4, 5, 6), start=time(9), end=time(18))],
        tz="Europe/Moscow",
        language="uz",
    )
    page = as_persona("operator_a").get(reverse("hotline:callbacks")).content.decode()
    assert "<td>Uzbek</td>" in page


def test_search_results_name_the_region_and_the_languages(personas, as_persona):
    from refuge.placement.fit import Reason
    from refuge.referrals import wording

    assert wording.why_text(Reason("common_language", {"languages": ["ky", "ru"]})) == (
        "Staff speak: Kyrgyz, Russian"
    )
    assert wording.why_text(Reason("services", {"matched": ["lawyer"]})) == "Offers: Lawyer"
