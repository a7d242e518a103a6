"""API keys expire and can be revoked, from a page and from the console (issue 14, L3)."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from refuge.core.models import ApiKey, AuditEvent
from refuge.core.services import ServiceError, api_key_create, api_key_revoke
from tests.conftest import sign_in
from tests.core.conftest import reauthenticate


def _bearer(text):
    return {"HTTP_AUTHORIZATION": f"Bearer {text}"}


def _works(text) -> bool:
    return HttpClient().get("/api/v1/me", **_bearer(text)).status_code == 200


def test_a_key_stops_working_when_it_expires(orgs):
    key, text = api_key_create(by=None, organisation=orgs["a"], role="operator", days=1)
    assert timedelta(hours=23) < key.expires_at - timezone.now() <= timedelta(days=1)
    assert _works(text)
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not _works(text)


def test_keys_last_the_configured_default(orgs):
    key, _ = api_key_create(by=None, organisation=orgs["a"], role="operator")
    expected = timezone.now() + timedelta(days=settings.REFUGE_API_KEY_DAYS)
    assert abs((key.expires_at - expected).total_seconds()) < 60


@pytest.mark.parametrize("days", [0, -3, 5 * 366 + 1])
def test_a_key_cannot_be_made_forever_or_already_dead(orgs, days):
    with pytest.raises(ServiceError):
        api_key_create(by=None, organisation=orgs["a"], role="operator", days=days)


def test_the_command_keeps_its_contract_and_takes_days(orgs, capsys):
    call_command("create_api_key", "--role", "operator", "--days", "7")
    text = capsys.readouterr().out.strip()
    assert text.startswith("rfg_") and len(text.splitlines()) == 1 and _works(text)
    key = ApiKey.objects.get()
    assert timedelta(days=6) < key.expires_at - timezone.now() <= timedelta(days=7)
    with pytest.raises(CommandError):
        call_command("create_api_key", "--role", "operator", "--days", "0")


def test_the_console_lists_and_revokes_keys(orgs, capsys):
    key, text = api_key_create(by=None, organisation=orgs["b"], role="operator", name="PBX")
    call_command("api_keys")
    listing = capsys.readouterr().out
    assert key.prefix in listing and "PBX" in listing and "active" in listing
    assert text.split("_", 2)[2] not in listing  # the secret is never shown again
    call_command("revoke_api_key", key.prefix, "--reason", "exposed")
    assert not _works(text)
    call_command("api_keys", "--org", "org-b")
    assert "revoked (exposed)" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("revoke_api_key", key.prefix, "--reason", "exposed")  # once
    with pytest.raises(CommandError):
        call_command("revoke_api_key", "nope", "--reason", "exposed")


def test_a_manager_lists_her_organisations_keys_only(personas, orgs):
    mine, _ = api_key_create(by=None, organisation=orgs["a"], role="operator", name="ours")
    api_key_create(by=None, organisation=orgs["b"], role="operator", name="theirs")
    page = sign_in(HttpClient(), personas["manager_a"].user).get(reverse("core:api_keys"))
    assert [k.pk for k in page.context["keys"]] == [mine.pk]
    admin_page = sign_in(HttpClient(), personas["admin_a"].user).get(reverse("core:api_keys"))
    assert len(admin_page.context["keys"]) == 2


def test_a_manager_issues_a_key_after_re_authenticating_and_sees_it_once(personas, notices):
    c = sign_in(HttpClient(), personas["manager_a"].user)
    reauthenticate(c)
    r = c.post(reverse("core:api_key_new"), {"name": "Hotline PBX", "role": "operator", "days": 90})
    assert r.status_code == 200
    text = r.context["text"]
    assert _works(text) and text in r.content.decode()
    key = ApiKey.objects.get()
    assert key.organisation == personas["manager_a"].org and key.name == "Hotline PBX"
    assert text not in c.get(reverse("core:api_keys")).content.decode()
    [n] = notices
    assert (n.kind, n.user_id, n.organisation_id) == (
        "api_key_issued",
        personas["manager_a"].user.pk,
        personas["manager_a"].org.pk,
    )


def test_a_manager_cannot_issue_a_role_she_cannot_give(personas):
    by = replace(personas["manager_a"].principal, reauthenticated=True)
    for role in ("coordinator", "analyst"):
        with pytest.raises(ServiceError):
            api_key_create(by=by, organisation=personas["manager_a"].org, role=role)
    with pytest.raises(ServiceError):
        api_key_create(by=by, organisation=personas["manager_b"].org, role="operator")


def test_an_admin_cannot_issue_a_case_role_key_for_an_organisation(personas):
    by = replace(personas["admin_a"].principal, reauthenticated=True)
    for role in ("caseworker", "operator", "partner"):
        with pytest.raises(ServiceError):
            api_key_create(by=by, organisation=personas["manager_b"].org, role=role)
    with pytest.raises(ServiceError):  # a coordinator key reads cases: a reason first
        api_key_create(by=by, organisation=personas["manager_b"].org, role="coordinator")
    api_key_create(by=by, organisation=personas["manager_b"].org, role="analyst")


def test_revoking_from_the_page_needs_a_reason_from_the_list(personas, orgs, notices):
    key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    c = sign_in(HttpClient(), personas["manager_a"].user)
    url = reverse("core:api_key_revoke", args=[key.pk])
    c.post(url, {"reason": "because I said so"})
    assert _works(text)
    assert c.post(url, {"reason": "replaced"}).status_code == 302
    assert not _works(text)
    key.refresh_from_db()
    assert key.revoked_reason == "replaced"
    event = AuditEvent.objects.get(action="api_key.revoke")
    assert event.details["reason"] == "replaced" and event.actor == "manager-a"
    assert [n.kind for n in notices] == ["api_key_revoked"]


def test_another_organisations_key_cannot_be_revoked(personas, orgs):
    key, text = api_key_create(by=None, organisation=orgs["b"], role="operator")
    c = sign_in(HttpClient(), personas["manager_a"].user)
    assert (
        c.post(reverse("core:api_key_revoke", args=[key.pk]), {"reason": "ended"}).status_code
        == 404
    )
    with pytest.raises(ServiceError):
        api_key_revoke(by=personas["manager_a"].principal, key=key, reason="ended")
    assert _works(text)


def test_the_key_list_is_a_constant_number_of_queries(
    personas, orgs, django_assert_max_num_queries
):
    for i in range(12):
        api_key_create(by=None, organisation=orgs["a" if i % 2 else "b"], role="operator")
    c = sign_in(HttpClient(), personas["admin_a"].user)
    with django_assert_max_num_queries(12):
        assert c.get(reverse("core:api_keys")).status_code == 200
