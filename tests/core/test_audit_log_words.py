"""The audit log in words (issue 16, item 5): each event is a sentence a manager can read, with
names resolved for the whole page at once and nothing a manager may not know."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from refuge.cases.retention import client_erase
from refuge.cases.services import client_create
from refuge.core import audit
from refuge.core.access import Principal
from refuge.core.models import User

URL = reverse("core:audit_log")


@pytest.fixture
def olga(personas):
    User.objects.filter(pk=personas["caseworker_a"].user.pk).update(
        first_name="Olga", last_name="Ivanova"
    )
    return personas["caseworker_a"]


def _text(response) -> str:
    body = response.content.decode()
    body = re.sub(r"<details\b.*?</details>", " ", body, flags=re.S)
    body = re.sub(r"</?bdi[^>]*>", "", body)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def test_a_read_is_a_sentence_with_who_what_and_which_case(olga, as_persona):
    her = client_create(by=olga.principal, name="Alena Secretname")
    as_persona("caseworker_a").get(reverse("cases:detail", args=[her.case_code]))
    r = as_persona("manager_a")
    body = r.get(URL).content.decode()
    assert f'<bdi class="code">{her.case_code}</bdi>' in body and "<bdi>Olga Ivanova</bdi>" in body
    text = _text(r.get(URL))
    assert f"Olga Ivanova, caseworker, Org A, read the profile of case {her.case_code}." in text
    assert f"Olga Ivanova, caseworker, Org A, opened case {her.case_code}." in text
    assert "Secretname" not in body  # no client name is decrypted for the log


def test_the_raw_details_are_kept_folded_away(olga, as_persona):
    her = client_create(by=olga.principal, name="A")
    body = as_persona("manager_a").get(URL).content.decode()
    raw = re.search(r"<details class=\"audit-raw\">.*?</details>", body, flags=re.S)
    assert raw and "client.create" in raw.group(0) and str(her.pk) in raw.group(0)
    assert "caseworker-a" in raw.group(0)


def test_it_reads_in_russian(olga, as_persona):
    her = client_create(by=olga.principal, name="A")
    as_persona("caseworker_a").get(reverse("cases:detail", args=[her.case_code]))
    c = as_persona("manager_a")
    c.cookies["django_language"] = "ru"
    text = _text(c.get(URL))
    assert f"Olga Ivanova (специалист, Org A): просмотр профиля дела {her.case_code}." in text
    assert "read the profile" not in text and "Что произошло" in text


def test_a_list_read_names_the_cases_and_folds_after_ten(olga, as_persona):
    made = [client_create(by=olga.principal, name=f"C{i}") for i in range(12)]
    as_persona("caseworker_a").get(reverse("cases:list"))
    text = _text(as_persona("manager_a").get(URL))
    sentence = re.search(r"read a list of 12 cases: ([^.]*)\.", text)
    assert sentence, text
    shown = re.findall(r"RF-[A-Z0-9-]+", sentence.group(1))
    assert len(shown) == 10 and set(shown) <= {c.case_code for c in made}
    assert sentence.group(1).endswith("and 2 more")


def test_a_list_read_in_russian_counts_in_russian(olga, as_persona):
    for i in range(3):
        client_create(by=olga.principal, name=f"C{i}")
    as_persona("caseworker_a").get(reverse("cases:list"))
    c = as_persona("manager_a")
    c.cookies["django_language"] = "ru"
    assert "просмотр списка из 3 дел:" in _text(c.get(URL))


def test_an_erased_case_and_a_missing_one_are_said_so(olga, personas, as_persona):
    her = client_create(by=olga.principal, name="A")
    by = Principal.for_user(personas["manager_a"].user, reauthenticated=True)
    client_erase(by=by, client=her, reason="her_request")
    audit.record(
        actor=olga.principal,
        action="read",
        target_type="cases.client",
        target_id=uuid.uuid4(),
        target_org_slug="org-a",
        details={"what": "notes"},
    )
    audit.record(
        actor=olga.principal,
        action="read_list",
        target_type="cases.client",
        target_org_slug="org-a",
        details={"ids": [str(her.pk), "not-a-uuid"]},
    )
    text = _text(as_persona("manager_a").get(URL))
    assert f"opened case {her.case_code}, since erased." in text
    assert "read the notes of a case that no longer exists." in text
    assert f"read a list of 2 cases: {her.case_code} (since erased), a case that no longer" in text


def test_a_case_of_another_organisation_is_not_named(olga, personas, as_persona):
    theirs = client_create(by=personas["caseworker_b"].principal, name="B")
    audit.record(
        actor=olga.principal,
        action="read_list",
        target_type="cases.client",
        target_org_slug="org-a",
        details={"ids": [str(theirs.pk)]},
    )
    text = _text(as_persona("manager_a").get(URL))
    assert "read a list of 1 case: a case of another organisation." in text
    assert theirs.case_code not in as_persona("manager_a").get(URL).content.decode()


def test_staff_accounts_facilities_and_unknown_actions_are_named(olga, personas, as_persona):
    manager = personas["manager_a"]
    audit.record(
        actor=manager.principal,
        action="staff.reset_password",
        target_type="core.user",
        target_id=olga.user.pk,
        target_org_slug="org-a",
    )
    audit.record(actor=None, action="something.new", target_org_slug="org-a")
    text = _text(as_persona("manager_a").get(URL))
    assert "manager, Org A, reset the password of the account of Olga Ivanova." in text
    assert "The system did “something.new”." in text


def test_names_are_escaped(personas, as_persona):
    User.objects.filter(pk=personas["caseworker_a"].user.pk).update(first_name="<b>Eve</b>")
    client_create(by=personas["caseworker_a"].principal, name="A")
    body = as_persona("manager_a").get(URL).content.decode()
    assert "<bdi>&lt;b&gt;Eve&lt;/b&gt;</bdi>" in body and "<b>Eve</b>" not in body


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def _mixed_events(olga, personas, n: int) -> None:
    for i in range(n):
        her = client_create(by=olga.principal, name=f"C{i}")
        audit.record(
            actor=personas["manager_a"].principal,
            action="staff.reset_password",
            target_type="core.user",
            target_id=personas["operator_a"].user.pk,
            target_org_slug="org-a",
        )
        audit.record(
            actor=olga.principal,
            action="read_list",
            target_type="cases.client",
            target_org_slug="org-a",
            details={"ids": [str(her.pk)]},
        )


def test_the_query_count_does_not_grow_with_the_events(olga, personas, as_persona):
    c = as_persona("manager_a")
    _mixed_events(olga, personas, 2)
    few = _queries(c)
    _mixed_events(olga, personas, 12)
    assert _queries(c) == few


@pytest.mark.parametrize("role", ["caseworker", "operator", "coordinator", "analyst"])
def test_other_roles_still_cannot_read_it(role, as_persona):
    assert as_persona(f"{role}_a").get(URL).status_code == 403
