import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from refuge.cases.models import Client
from refuge.cases.services import client_create
from refuge.core.models import AuditEvent

NAME = "Svetlana Ivanova"
PHONE = "+7 916 555-01-23"


@pytest.fixture
def client_a(personas):
    return client_create(by=personas["caseworker_a"].principal, name=NAME, phone=PHONE)


def test_a_caseworker_records_a_client_through_the_form(personas, as_persona):
    r = as_persona("caseworker_a").post(
        reverse("cases:new"), {"name": NAME, "phone": PHONE, "age_band": "25-34"}
    )
    assert r.status_code == 302
    c = Client.objects.get()
    assert (
        c.organisation == personas["caseworker_a"].org
        and c.name == NAME
        and c.phone == "+79165550123"
    )


def test_a_bad_phone_number_is_refused_clearly_and_nothing_is_saved(as_persona):
    r = as_persona("caseworker_a").post(
        reverse("cases:new"), {"name": NAME, "phone": "not a number", "age_band": "25-34"}
    )
    assert r.status_code == 200 and "does not look like a phone number" in r.content.decode()
    assert not Client.objects.exists()


def test_another_organisations_caseworker_gets_404(client_a, as_persona):
    assert (
        as_persona("caseworker_b")
        .get(reverse("cases:detail", args=[client_a.case_code]))
        .status_code
        == 404
    )
    assert (
        as_persona("coordinator_b")
        .get(reverse("cases:detail", args=[client_a.case_code]))
        .status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["facilitator_a", "partner_a", "analyst_a", "admin_a"])
def test_roles_without_case_access_get_403(client_a, as_persona, persona):
    assert (
        as_persona(persona).get(reverse("cases:detail", args=[client_a.case_code])).status_code
        == 403
    )
    assert as_persona(persona).get(reverse("cases:list")).status_code == 403


def test_every_read_leaves_an_audit_event(client_a, as_persona):
    c = as_persona("caseworker_a")
    before = AuditEvent.objects.filter(action="read", target_id=str(client_a.pk)).count()
    c.get(reverse("cases:detail", args=[client_a.case_code]))
    c.get(reverse("cases:detail", args=[client_a.case_code]))
    assert (
        AuditEvent.objects.filter(action="read", target_id=str(client_a.pk)).count() == before + 2
    )
    c.get(reverse("cases:list"))
    listed = AuditEvent.objects.filter(action="read_list").latest("seq")
    assert str(client_a.pk) in listed.details["ids"]


def test_the_list_does_not_unwrap_a_key_per_row(
    personas, as_persona, django_assert_max_num_queries
):
    for i in range(15):
        client_create(by=personas["caseworker_a"].principal, name=f"Client {i}")
    c = as_persona("caseworker_a")
    from refuge.core import crypto

    crypto.key_cache.clear()
    with django_assert_max_num_queries(16):
        r = c.get(reverse("cases:list"))
    assert r.status_code == 200 and "Client 7" in r.content.decode()


def test_a_database_dump_has_no_personal_field_in_clear(client_a):
    out = io.StringIO()
    call_command("dumpdata", "cases", "core", stdout=out)
    dump = out.getvalue()
    for clear in ("Svetlana", "Ivanova", "9165550123", "916 555"):
        assert clear not in dump
    if connection.vendor == "sqlite":
        raw = "\n".join(connection.connection.iterdump())
        for clear in ("Svetlana", "Ivanova", "9165550123"):
            assert clear not in raw
    else:
        with connection.cursor() as cur:
            cur.execute("SELECT name, phone FROM cases_client")
            assert all("Svetlana" not in (v or "") for row in cur.fetchall() for v in row)
