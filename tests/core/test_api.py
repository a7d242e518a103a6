from django.core.management import call_command
from django.test import Client as HttpClient

from refuge.core.models import ApiKey
from refuge.core.services import api_key_create, api_key_revoke


def _bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_key_acts_as_its_organisation_and_role(orgs):
    key, text = api_key_create(by=None, organisation=orgs["b"], role="operator", name="pbx")
    r = HttpClient().get("/api/v1/me", **_bearer(text))
    assert r.status_code == 200
    assert r.json() == {"name": f"api:{key.prefix}", "role": "operator", "organisation": "org-b"}


def test_keys_are_stored_hashed(orgs):
    key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    secret = text.split("_", 2)[2]
    stored = ApiKey.objects.get(pk=key.pk)
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64


def test_wrong_missing_and_revoked_keys_get_json_401(orgs, personas):
    key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    for headers in (
        {},
        _bearer("rfg_nope_nope"),
        _bearer(text[:-1] + "x"),
        {"HTTP_AUTHORIZATION": text},
    ):
        r = HttpClient().get("/api/v1/me", **headers)
        assert r.status_code == 401
        assert (
            set(r.json()) == {"code", "message", "details"} and r.json()["code"] == "unauthorized"
        )
    api_key_revoke(by=personas["admin_a"].principal, key=key, reason="exposed")
    assert HttpClient().get("/api/v1/me", **_bearer(text)).status_code == 401


def test_the_openapi_document_is_served(db):
    r = HttpClient().get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.") and "/api/v1/me" in doc["paths"]


def test_create_api_key_prints_a_working_key_once_and_defaults_to_the_hub(orgs, capsys):
    call_command("create_api_key", "--role", "coordinator")
    text = capsys.readouterr().out.strip()
    r = HttpClient().get("/api/v1/me", **_bearer(text))
    assert r.json()["organisation"] == "org-a"  # org a is the hub in the test personas
    call_command("create_api_key", "--role", "operator", "--org", "org-b")
    text = capsys.readouterr().out.strip()
    assert HttpClient().get("/api/v1/me", **_bearer(text)).json()["organisation"] == "org-b"


def test_a_session_without_the_second_factor_is_not_an_api_client(personas):
    c = HttpClient()
    c.force_login(personas["caseworker_a"].user)  # password only
    assert c.get("/api/v1/me").status_code == 401


def test_sessions_cannot_change_state_through_the_api(personas, as_persona):
    # Browser sessions get GET only; a POST needs a key (no CSRF hole through the API).
    r = as_persona("coordinator_a").post("/api/v1/me")
    assert r.status_code in (401, 405)
