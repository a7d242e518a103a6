"""Helpers for the sign-in, re-authentication and break-glass tests."""

from __future__ import annotations

import time

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.access import REAUTH_SESSION_KEY
from refuge.core.notices import KINDS, register_security_listener, unregister_security_listener
from tests.conftest import PASSWORD

NEUTRAL = "Sign-in failed. Check your details and try again"


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    """The code her phone shows now, or ``offset`` time steps from now."""
    t = (int(time.time()) - device.t0) // device.step + offset
    return f"{hotp(device.bin_key, t, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    good = {code_for(device, k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in good)


def time_passes(device: TOTPDevice) -> None:
    """A code is accepted once per time step; let a test use the current one again, as if
    30 seconds had passed."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)


def client_from(ip: str) -> HttpClient:
    return HttpClient(REMOTE_ADDR=ip)


def password_step(client, username, password=PASSWORD):
    return client.post(reverse("core:login"), {"username": username, "password": password})


def reauthenticate(client) -> None:
    """As if she had just given her password and a fresh code again (for tests of the pages
    behind re-authentication; tests/core/test_reauth.py drives the real form)."""
    session = client.session
    session[REAUTH_SESSION_KEY] = time.time()
    session.save()


@pytest.fixture
def device(personas):
    """caseworker-a's authenticator (she has an e-mail address, for unlock links)."""
    user = personas["caseworker_a"].user
    user.email = "marina@example.org"
    user.save(update_fields=["email"])
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def signs_in(client, device, username="caseworker-a") -> bool:
    """Both steps through the real forms; True if she is in."""
    r = password_step(client, username)
    if r.status_code != 302 or not r.url.startswith(reverse("core:login_code")):
        return False
    client.post(reverse("core:login_code"), {"code": code_for(device)})
    time_passes(device)
    return client.get(reverse("core:home")).status_code == 200


@pytest.fixture
def notices():
    """Every security notice announced during the test, checked against the documented kinds."""
    heard = []

    def listener(notice):
        assert notice.kind in KINDS, f"undocumented notice kind {notice.kind!r}"
        heard.append(notice)

    register_security_listener(listener)
    yield heard
    unregister_security_listener(listener)
