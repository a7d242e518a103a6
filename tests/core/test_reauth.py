"""Re-authentication (the password and a fresh code) before sensitive changes (issue 14, H2).

From an open session, the password was changed without the old one and a new authenticator
replaced the owner's without her code; nobody was told.
"""

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.access import ReauthRequired
from refuge.core.models import AuditEvent, SignInFailure
from refuge.core.services import api_key_create, staff_create, totp_device_confirm
from tests.conftest import PASSWORD, sign_in
from tests.core.conftest import (
    NEUTRAL,
    client_from,
    code_for,
    password_step,
    reauthenticate,
    time_passes,
    wrong_code,
)

NEW = "a much longer passphrase 2026"


@pytest.fixture
def session(personas, device):
    """Her session, signed in through the real forms (so her browser is a known one)."""
    c = client_from("198.51.100.20")
    password_step(c, "caseworker-a")
    c.post(reverse("core:login_code"), {"code": code_for(device)})
    assert c.get(reverse("core:home")).status_code == 200
    return c


def _confirm(client, device, password=PASSWORD, code=None, next_url="/account/password/"):
    return client.post(
        reverse("core:reauth"),
        {"password": password, "code": code or code_for(device), "next": next_url},
    )


def test_an_open_session_cannot_change_the_password_without_the_old_one(session):
    r = session.get(reverse("core:password_change"))
    assert r.status_code == 302 and r.url.startswith(reverse("core:reauth"))
    r = session.post(reverse("core:password_change"), {"new_password": NEW, "repeat": NEW})
    assert r.status_code == 302 and r.url.startswith(reverse("core:reauth"))
    session.post(reverse("core:logout"))
    assert NEUTRAL in password_step(HttpClient(), "caseworker-a", NEW).content.decode()


def test_after_re_authenticating_she_changes_it_and_is_told(session, device, personas, notices):
    time_passes(device)
    key_before = session.session.session_key
    r = _confirm(session, device)
    assert r.status_code == 302 and r.url == "/account/password/"
    assert session.session.session_key != key_before  # a new key after the re-authentication
    r = session.post(reverse("core:password_change"), {"new_password": NEW, "repeat": NEW})
    assert r.status_code == 302 and r.url == reverse("core:home")
    assert session.get(reverse("core:home")).status_code == 200  # still signed in
    [n] = [n for n in notices if n.kind == "password_changed"]
    assert n.user_id == personas["caseworker_a"].user.pk
    assert n.organisation_id == personas["caseworker_a"].org.pk
    assert AuditEvent.objects.filter(action="auth.reauthenticated").exists()


def test_the_code_used_to_sign_in_cannot_be_used_again(session, device):
    r = _confirm(session, device)  # the same time step as the sign-in
    assert r.status_code == 200 and NEUTRAL in r.content.decode()
    r = _confirm(session, device, code=code_for(device, 1))  # the next code is fresh
    assert r.status_code == 302


def test_a_wrong_password_or_code_is_refused_and_counted(session, device):
    time_passes(device)
    r = _confirm(session, device, password="wrong")
    assert r.status_code == 200 and NEUTRAL in r.content.decode()
    assert SignInFailure.objects.filter(step="password").count() == 1
    r = _confirm(session, device, code=wrong_code(device))
    assert r.status_code == 200 and NEUTRAL in r.content.decode()
    assert SignInFailure.objects.filter(step="code").count() == 1
    assert session.get(reverse("core:password_change")).status_code == 302


def test_guessing_at_the_re_authentication_ends_the_session(session, device):
    for _ in range(settings.REFUGE_LOCKOUT_FAILURES):
        r = _confirm(session, device, password="wrong")
    assert NEUTRAL in r.content.decode()
    assert session.get(reverse("core:home")).status_code == 302  # signed out


def test_the_proof_lasts_a_few_minutes(session, device):
    time_passes(device)
    _confirm(session, device)
    s = session.session
    s["refuge_reauth_at"] -= settings.REFUGE_REAUTH_MINUTES * 60 + 1
    s.save()
    assert session.get(reverse("core:password_change")).status_code == 302


def test_a_temporary_password_is_changed_without_re_authenticating(personas, as_persona):
    """She has just typed it to sign in, and the session can do nothing else until then."""
    r = as_persona("admin_a").post(
        reverse("core:staff_action", args=[personas["analyst_a"].user.pk, "reset-password"])
    )
    c = HttpClient()
    password_step(c, "analyst-a", r.context["password"])
    r = c.post(reverse("core:password_change"), {"new_password": NEW, "repeat": NEW})
    assert r.status_code == 302 and r.url == reverse("core:home")


def test_an_analyst_re_authenticates_with_her_password_only(personas):
    c = client_from("198.51.100.20")
    password_step(c, "analyst-a")
    page = c.get(reverse("core:reauth"))
    assert page.status_code == 200 and "code" not in page.context["form"].fields
    r = c.post(reverse("core:reauth"), {"password": PASSWORD, "next": "/account/password/"})
    assert r.status_code == 302
    assert c.get(reverse("core:password_change")).status_code == 200


# --- the authenticator -----------------------------------------------------------------------


def test_an_open_session_cannot_replace_the_authenticator(session, device):
    r = session.get(reverse("core:enrol"))
    assert r.status_code == 302 and r.url.startswith(reverse("core:reauth"))
    assert not TOTPDevice.objects.filter(confirmed=False).exists()  # nothing was created


def test_after_re_authenticating_with_the_old_one_she_sets_up_a_new_one(
    session, device, personas, notices
):
    time_passes(device)
    _confirm(session, device, next_url=reverse("core:enrol"))
    page = session.get(reverse("core:enrol"))
    assert page.status_code == 200 and page.context["replacing"]
    new = TOTPDevice.objects.get(user=personas["caseworker_a"].user, confirmed=False)
    r = session.post(reverse("core:enrol"), {"code": code_for(new)})
    assert r.status_code == 302
    assert list(TOTPDevice.objects.filter(confirmed=True)) == [new]
    [n] = [n for n in notices if n.kind.startswith("second_factor")]
    assert (n.kind, n.user_id) == ("second_factor_changed", personas["caseworker_a"].user.pk)
    assert session.get(reverse("core:home")).status_code == 200


def test_the_service_refuses_to_replace_a_device_without_re_authentication(personas, device):
    new = TOTPDevice.objects.create(user=device.user, name="new", confirmed=False)
    with pytest.raises(ReauthRequired):
        totp_device_confirm(user=device.user, device=new, actor=personas["caseworker_a"].principal)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_a_first_authenticator_is_announced(personas, notices):
    c = HttpClient()
    password_step(c, "operator-a")
    c.get(reverse("core:enrol"))
    pending = TOTPDevice.objects.get(user=personas["operator_a"].user)
    c.post(reverse("core:enrol"), {"code": code_for(pending)})
    assert [n.kind for n in notices] == ["second_factor_enrolled"]


# --- staff and API keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("core:staff_new", {}),
        ("core:api_key_new", {}),
    ],
)
def test_creating_staff_and_keys_needs_re_authentication(personas, name, kwargs):
    c = sign_in(HttpClient(), personas["manager_a"].user)
    r = c.get(reverse(name, kwargs=kwargs))
    assert r.status_code == 302 and r.url.startswith(reverse("core:reauth"))
    reauthenticate(c)
    assert c.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_the_services_refuse_a_person_who_has_not_re_authenticated(personas):
    manager = personas["manager_a"]
    with pytest.raises(ReauthRequired):
        staff_create(
            by=manager.principal, organisation=manager.org, username="x", role="caseworker"
        )
    with pytest.raises(ReauthRequired):
        api_key_create(by=manager.principal, organisation=manager.org, role="operator")


def test_re_authentication_comes_back_to_the_page_that_asked(personas, device, session):
    time_passes(device)
    r = session.get(reverse("core:enrol"))
    target = r.url
    assert "next=" in target
    r = session.post(
        target, {"password": PASSWORD, "code": code_for(device), "next": reverse("core:enrol")}
    )
    assert r.url == reverse("core:enrol")


def test_re_authentication_refuses_an_open_redirect(session, device):
    time_passes(device)
    r = _confirm(session, device, next_url="https://evil.example/")
    assert r.url == reverse("core:home")
