"""The administrator's page of peer networks: trust, untrust, sharing; every change audited."""

from __future__ import annotations

import pytest

from refuge.core.models import AuditEvent
from refuge.core.once import FIELD
from refuge.federation import signing
from refuge.federation.models import OutboxMessage, Peer, SharingOrganisation
from tests.conftest import sign_in
from tests.core.conftest import reauthenticate

URL = "/federation/"


def _key():
    return signing.public_key_text(signing.private_key(signing.new_seed()))


@pytest.fixture
def admin(client, personas):
    """An administrator who has just given her password and a fresh code again."""
    client = sign_in(client, personas["admin_a"].user)
    reauthenticate(client)
    return client


@pytest.fixture
def admin_not_confirmed(client, personas):
    """Signed in with both factors, but not re-authenticated lately."""
    return sign_in(client, personas["admin_a"].user)


def _form(client):
    page = client.get(URL)
    assert page.status_code == 200
    return page.context["request"].session, page


def test_the_page_shows_this_instances_identity(admin):
    from refuge.federation import conf

    page = admin.get(URL).content.decode()
    assert conf.identity().public_key in page
    assert conf.identity().sealing_public_key and conf.identity().sealing_public_key in page


def test_an_admin_trusts_a_peer_once_even_when_she_submits_twice(admin):
    page = admin.get(URL)
    token = page.content.decode().split(f'name="{FIELD}" value="')[1].split('"')[0]
    data = {"name": "czech-service", "base_url": "https://cz.example.org", "public_key": _key()}
    first = admin.post(URL, {**data, FIELD: token})
    second = admin.post(URL, {**data, FIELD: token})
    assert first.status_code == second.status_code == 302
    assert Peer.objects.filter(name="czech-service", trusted=True).count() == 1
    assert OutboxMessage.objects.filter(kind="hello").count() == 1
    assert AuditEvent.objects.filter(action="federation.peer_trust").count() == 1


def test_the_trust_form_takes_the_key_for_case_records(admin):
    from refuge.federation import sealing

    key = sealing.public_key_text(sealing.private_key(signing.new_seed()))
    data = {"name": "czech-service", "base_url": "https://cz.example.org", "public_key": _key()}
    assert admin.post(URL, {**data, "sealing_key": f" {key} "}).status_code == 302
    assert Peer.objects.get(name="czech-service").sealing_key == key
    bad = admin.post(URL, {**data, "name": "other", "public_key": _key(), "sealing_key": "no"})
    assert bad.status_code == 200 and "X25519" in bad.content.decode()
    assert not Peer.objects.filter(name="other").exists()


def test_a_peer_is_shown_by_the_name_staff_read(admin):
    data = {"name": "czech-service", "base_url": "https://cz.example.org", "public_key": _key()}
    title = "Help for migrant women, Prague"
    assert admin.post(URL, {**data, "title": f"  {title} "}).status_code == 302
    peer = Peer.objects.get(name="czech-service")
    assert peer.title == title and peer.label == title
    page = admin.get(URL).content.decode()
    assert title in page and "czech-service" in page  # the identifier under it
    # Trusted again without a title: the one kept stays.
    assert admin.post(URL, data).status_code == 302
    assert Peer.objects.get(name="czech-service").label == title


def test_a_bad_key_is_a_clear_error(admin):
    page = admin.post(
        URL, {"name": "bad", "base_url": "https://bad.example.org", "public_key": "nope"}
    )
    assert page.status_code == 200
    assert "Ed25519" in page.content.decode()
    assert not Peer.objects.exists()


def test_untrusting_is_audited(admin):
    from refuge.federation import services

    peer = services.peer_trust(by=None, name="p", base_url="https://p.test", public_key=_key())
    response = admin.post(f"/federation/peers/{peer.pk}/untrust/")
    assert response.status_code == 302
    peer.refresh_from_db()
    assert not peer.trusted
    event = AuditEvent.objects.get(action="federation.peer_untrust")
    assert event.actor == "admin-a"


def test_sharing_is_switched_on_and_off(admin, orgs):
    admin.post("/federation/sharing/", {"organisation": orgs["b"].pk, "share": "on"})
    assert SharingOrganisation.objects.filter(organisation=orgs["b"]).exists()
    admin.post("/federation/sharing/", {"organisation": orgs["b"].pk})
    assert not SharingOrganisation.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="federation.sharing_").count() == 2


def test_csrf_is_required(personas):
    from django.test import Client

    client = sign_in(Client(enforce_csrf_checks=True), personas["admin_a"].user)
    response = client.post(URL, {"name": "x", "base_url": "https://x.test", "public_key": _key()})
    assert response.status_code == 403
    assert not Peer.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "manager", "operator", "partner", "analyst"])
def test_it_refuses_other_roles(client, personas, role):
    client = sign_in(client, personas[f"{role}_a"].user)
    response = client.post(URL, {"name": "x", "base_url": "https://x.test", "public_key": _key()})
    assert response.status_code == 403
    assert not Peer.objects.exists()


def test_the_page_in_russian(admin):
    page = admin.get(URL, headers={"Accept-Language": "ru"})
    assert "Сети-партнёры" in page.content.decode()


def test_the_page_costs_the_same_queries_for_one_peer_or_many(admin, orgs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from refuge.federation import services

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(URL).status_code == 200
        return len(ctx.captured_queries)

    services.peer_trust(by=None, name="p0", base_url="https://p0.test", public_key=_key())
    one = count()
    for i in range(1, 6):
        peer = services.peer_trust(
            by=None, name=f"p{i}", base_url=f"https://p{i}.test", public_key=_key()
        )
        services.outbox_put(peer=peer, kind="hello")
        services.sharing_set(by=None, organisation=orgs["b"], share=True)
    assert count() == one


# --- re-authentication before trusting, untrusting or rotating a key -------------------------


def _reauth_redirect(response) -> bool:
    from django.urls import reverse

    return response.status_code == 302 and response["Location"].startswith(reverse("core:reauth"))


def test_trusting_without_a_recent_reauthentication_is_refused(admin_not_confirmed):
    page = admin_not_confirmed.get(URL)
    text = page.content.decode()
    assert 'id="reauth-note"' in text and 'name="public_key"' not in text
    data = {"name": "czech-service", "base_url": "https://cz.example.org", "public_key": _key()}
    response = admin_not_confirmed.post(URL, data)
    assert _reauth_redirect(response)
    assert "next=%2Ffederation%2F" in response["Location"]
    assert not Peer.objects.exists() and not OutboxMessage.objects.exists()
    assert not AuditEvent.objects.filter(action="federation.peer_trust").exists()


def test_untrusting_without_a_recent_reauthentication_is_refused(admin_not_confirmed):
    from refuge.federation import services

    peer = services.peer_trust(by=None, name="p", base_url="https://p.test", public_key=_key())
    assert "peer_untrust" not in admin_not_confirmed.get(URL).content.decode()
    response = admin_not_confirmed.post(f"/federation/peers/{peer.pk}/untrust/")
    assert _reauth_redirect(response)
    peer.refresh_from_db()
    assert peer.trusted
    assert not AuditEvent.objects.filter(action="federation.peer_untrust").exists()


def test_rotating_without_a_recent_reauthentication_is_refused(admin_not_confirmed):
    from refuge.federation import services

    old = _key()
    services.peer_trust(by=None, name="p", base_url="https://p.test", public_key=old)
    data = {"name": "p", "base_url": "https://p.test", "public_key": _key(), "rotate": "on"}
    assert _reauth_redirect(admin_not_confirmed.post(URL, data))
    assert Peer.objects.get(name="p").public_key == old


def test_a_stale_reauthentication_no_longer_counts(admin):
    from django.conf import settings

    session = admin.session
    session["refuge_reauth_at"] -= settings.REFUGE_REAUTH_MINUTES * 60 + 1
    session.save()
    data = {"name": "czech-service", "base_url": "https://cz.example.org", "public_key": _key()}
    assert _reauth_redirect(admin.post(URL, data))
    assert not Peer.objects.exists()


def test_rotating_a_key_after_reauthentication_is_audited(admin):
    from refuge.federation import services

    old, new = _key(), _key()
    services.peer_trust(by=None, name="p", base_url="https://p.test", public_key=old)
    page = admin.get(URL)
    assert 'name="rotate"' in page.content.decode()
    data = {"name": "p", "base_url": "https://p.test", "public_key": new, "rotate": "on"}
    assert admin.post(URL, data).status_code == 302
    assert Peer.objects.get(name="p").public_key == new
    event = AuditEvent.objects.filter(action="federation.peer_trust").latest("pk")
    assert event.actor == "admin-a"
    assert event.details["old_key"] == old and event.details["key"] == new


def test_the_service_itself_asks_for_a_recent_reauthentication(personas):
    from dataclasses import replace

    from refuge.core.access import ReauthRequired
    from refuge.federation import services

    p = personas["admin_a"].principal
    with pytest.raises(ReauthRequired):
        services.peer_trust(by=p, name="p", base_url="https://p.test", public_key=_key())
    peer = services.peer_trust(
        by=replace(p, reauthenticated=True), name="p", base_url="https://p.test", public_key=_key()
    )
    with pytest.raises(ReauthRequired):
        services.peer_untrust(by=p, peer=peer)
    peer.refresh_from_db()
    assert peer.trusted


def test_the_reauthentication_note_in_russian(admin_not_confirmed):
    page = admin_not_confirmed.get(URL, headers={"Accept-Language": "ru"})
    assert "Подтвердите, что это вы" in page.content.decode()
