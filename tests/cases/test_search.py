"""Find her: search by case code, phone or full name (issue 16, item 3)."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from refuge.cases import selectors
from refuge.cases.models import Client
from refuge.cases.services import (
    client_close,
    client_create,
    client_shred,
    client_update,
    name_index,
    normalise_name,
)
from refuge.core.models import AuditEvent

NAME = "Алёна Сергеевна  Петрова"
PHONE = "+7 916 555-01-23"
URL = reverse("cases:list")


@pytest.fixture
def alena(personas):
    return client_create(by=personas["caseworker_a"].principal, name=NAME, phone=PHONE)


@pytest.fixture
def other(personas):
    return client_create(by=personas["caseworker_a"].principal, name="Мария Котова")


def _found(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def _link(client) -> str:
    return f'href="{reverse("cases:detail", args=[client.case_code])}"'


def test_the_name_is_normalised_for_the_index():
    assert normalise_name("  АЛЁНА\tсергеевна \u00a0ПЕТРОВА ") == "алена сергеевна петрова"
    assert normalise_name("ＡＢＣ") == "abc"  # NFKC: full-width letters
    assert name_index("") == ""
    assert name_index("Алёна Петрова") == name_index("алена  петрова")
    assert name_index("Алёна Петрова") != name_index("Алёна Петров")


def test_the_name_index_is_kept_up_to_date(alena, personas):
    assert alena.name_index == name_index(NAME) and len(alena.name_index) == 64
    client_update(by=personas["caseworker_a"].principal, client=alena, name="Алёна Ким")
    assert Client.objects.get(pk=alena.pk).name_index == name_index("алена ким")


@pytest.mark.parametrize("persona", ["caseworker_a", "manager_a", "operator_a", "coordinator_a"])
def test_case_roles_find_her_by_case_code(alena, other, as_persona, persona):
    page = _found(as_persona(persona).post(URL, {"q": alena.case_code.lower()}))
    assert _link(alena) in page and _link(other) not in page


@pytest.mark.parametrize("persona", ["facilitator_a", "partner_a", "analyst_a", "admin_a"])
def test_roles_without_case_access_cannot_search(alena, as_persona, persona):
    assert as_persona(persona).post(URL, {"q": alena.case_code}).status_code == 403


def test_the_search_box_says_a_name_must_be_typed_in_full(as_persona):
    assert "Type her full name as recorded" in _found(as_persona("caseworker_a").get(URL))


@pytest.mark.parametrize("typed", ["+7 916 555 01 23", "89165550123", "8 (916) 555-01-23"])
def test_a_phone_in_another_format_is_found(alena, other, as_persona, typed):
    page = _found(as_persona("caseworker_a").post(URL, {"q": typed}))
    assert _link(alena) in page and _link(other) not in page


@pytest.mark.parametrize(
    "typed", ["алёна сергеевна петрова", "АЛЕНА   СЕРГЕЕВНА ПЕТРОВА", " Алена Сергеевна Петрова "]
)
def test_a_name_with_other_case_spacing_or_yo_is_found(alena, other, as_persona, typed):
    page = _found(as_persona("caseworker_a").post(URL, {"q": typed}))
    assert _link(alena) in page and _link(other) not in page


def test_part_of_a_name_finds_nobody(alena, as_persona):
    page = _found(as_persona("caseworker_a").post(URL, {"q": "Петрова"}))
    assert _link(alena) not in page and "No case matches" in page


@pytest.mark.parametrize("persona", ["caseworker_b", "coordinator_b", "manager_b"])
def test_a_client_of_another_organisation_is_never_found(alena, as_persona, persona):
    c = as_persona(persona)
    for typed in (alena.case_code, PHONE, NAME):
        assert _link(alena) not in _found(c.post(URL, {"q": typed}))


def test_a_closed_case_is_found_only_with_the_closed_toggle(alena, personas, as_persona):
    client_close(by=personas["caseworker_a"].principal, client=alena, reason="moved on")
    c = as_persona("caseworker_a")
    assert _link(alena) not in _found(c.post(URL, {"q": PHONE}))
    assert _link(alena) in _found(c.post(URL, {"q": PHONE, "closed": "1"}))


def test_an_empty_query_is_the_normal_list(alena, other, as_persona):
    page = _found(as_persona("caseworker_a").post(URL, {"q": "  "}))
    assert _link(alena) in page and _link(other) in page


@pytest.mark.parametrize(
    ("typed", "kind"), [("rf-abcd-2345", "code"), (PHONE, "phone"), (NAME, "name")]
)
def test_every_search_is_audited_without_what_was_typed(alena, as_persona, typed, kind):
    _found(as_persona("caseworker_a").post(URL, {"q": typed}))
    event = AuditEvent.objects.filter(action="read_list").latest("seq")
    assert event.details["search"] == kind
    assert event.details["results"] == (0 if kind == "code" else 1)
    stored = json.dumps(event.details, ensure_ascii=False).casefold()
    for secret in ("петрова", "алена", "алёна", "916", "5550123", "abcd", alena.name_index):
        assert secret not in stored


def test_a_code_search_finds_her_and_audits_her_id(alena, as_persona):
    _found(as_persona("caseworker_a").post(URL, {"q": alena.case_code}))
    event = AuditEvent.objects.filter(action="read_list").latest("seq")
    assert event.details == {"search": "code", "results": 1, "ids": [str(alena.pk)]}


@pytest.mark.parametrize(
    "typed",
    ["x" * 10_000, "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "12", "+"],
)
def test_bad_input_never_fails_and_is_never_reflected_unescaped(alena, as_persona, typed):
    r = as_persona("caseworker_a").post(URL, {"q": typed})
    assert r.status_code == 200
    page = r.content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert _link(alena) not in page


@override_settings(REFUGE_RATE_CASE_SEARCHES_PER_MINUTE=2)
def test_searching_is_rate_limited_with_a_clear_message(alena, as_persona):
    c = as_persona("caseworker_a")
    for _ in range(2):
        _found(c.post(URL, {"q": "Кто-то Другой"}))
    r = c.post(URL, {"q": NAME})
    assert r.status_code == 429 and r["Retry-After"]
    page = r.content.decode()
    assert "Too many searches" in page and _link(alena) not in page
    # The plain list is not a search and stays available.
    assert _link(alena) in _found(c.get(URL))


def test_an_erased_client_is_not_found_and_reindexing_skips_her(alena, other, personas):
    client_shred(by=None, client=alena, reason="test")
    Client.objects.filter(pk=other.pk).update(name_index="")
    out = io.StringIO()
    call_command("reindex_names", stdout=out)
    assert "1 clients reindexed, 1 erased clients skipped." in out.getvalue()
    assert Client.objects.get(pk=alena.pk).name_index == ""
    assert Client.objects.get(pk=other.pk).name_index == name_index("мария котова")
    p = personas["caseworker_a"].principal
    assert selectors.search_clients_for_principal(p, NAME, show_closed=True)[1] == []
    assert selectors.search_clients_for_principal(p, "мария котова")[1] == [other]


def test_search_kinds():
    assert selectors.search_kind(" rf-abcd-2345 ") == "code"
    assert selectors.search_kind("+7 (916) 555-01-23") == "phone"
    assert selectors.search_kind("RF Петрова") == "name"


def test_the_migration_indexes_existing_clients_and_skips_erased_ones(alena, other):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("refuge.cases.migrations.0007_client_name_index")
    client_shred(by=None, client=alena, reason="test")
    Client.objects.update(name_index="")
    migration.forwards(apps, None)
    assert Client.objects.get(pk=other.pk).name_index == name_index("Мария Котова")
    assert Client.objects.get(pk=alena.pk).name_index == ""


def test_a_client_seen_through_an_accepted_referral_is_not_searchable(alena, personas, orgs):
    """The receiving shelter may open her record by its code, but cannot find her by search."""
    from refuge.referrals import services as referrals
    from tests.referrals.conftest import FAMILY, network

    facilities = network.__wrapped__(orgs)
    b = personas["caseworker_b"].principal
    ref = referrals.referral_create(
        by=personas["operator_a"].principal,
        client=alena,
        household=FAMILY,
        facility_ids=[facilities["vla"].pk],
    )
    referrals.referral_accept(by=b, referral=ref, facility=facilities["vla"])
    assert selectors.client_for_principal(b, alena.case_code) == alena
    for typed in (alena.case_code, PHONE, NAME):
        assert selectors.search_clients_for_principal(b, typed)[1] == []


def test_a_nul_in_the_search_is_a_400_not_a_5xx(as_persona):
    assert as_persona("caseworker_a").post(URL, {"q": "Ann\x00a"}).status_code == 400
