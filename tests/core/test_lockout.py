"""Sign-in locks (refuge.core.lockout): per step, per source or known browser, per account.

Issue 14, H1 and M7: wrong codes were wiped by the next right password; five wrong passwords from
anywhere locked anyone out for 30 minutes.
"""

import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from refuge.core import lockout
from refuge.core.models import AuditEvent, SignInFailure
from tests.conftest import PASSWORD
from tests.core.conftest import (
    NEUTRAL,
    client_from,
    code_for,
    password_step,
    signs_in,
    wrong_code,
)


def _signed_in(client) -> bool:
    return client.get(reverse("core:home")).status_code == 200


def test_24_wrong_codes_over_6_password_sign_ins_lock_the_code_step(personas, device, notices):
    """The attack from the report: the password again and again, four codes each time."""
    c = client_from("203.0.113.7")
    evaluated = 0
    for _ in range(6):
        r = password_step(c, "caseworker-a")
        assert r.status_code == 302  # the password is known to the attacker: it passes
        for _ in range(4):
            before = SignInFailure.objects.filter(step="code").count()
            c.post(reverse("core:login_code"), {"code": wrong_code(device)})
            evaluated += SignInFailure.objects.filter(step="code").count() > before
    assert evaluated == settings.REFUGE_LOCKOUT_FAILURES  # not 24
    # Even the right code is refused now, from this source.
    password_step(c, "caseworker-a")
    r = c.post(reverse("core:login_code"), {"code": code_for(device)})
    assert NEUTRAL in r.content.decode() and not _signed_in(c)
    assert [n.kind for n in notices] == ["second_factor_locked"]
    assert notices[0].user_id == personas["caseworker_a"].user.pk
    assert AuditEvent.objects.filter(
        action="auth.lockout", details__kind="second_factor_locked"
    ).exists()


def test_a_right_password_does_not_clear_wrong_codes(personas, device):
    c = client_from("203.0.113.7")
    for _ in range(4):
        password_step(c, "caseworker-a")
        c.post(reverse("core:login_code"), {"code": wrong_code(device)})
    assert SignInFailure.objects.filter(step="code").count() == 4


def test_wrong_codes_from_one_source_leave_the_owner_at_another_alone(personas, device):
    attacker = client_from("203.0.113.7")
    password_step(attacker, "caseworker-a")
    for _ in range(settings.REFUGE_LOCKOUT_FAILURES):
        attacker.post(reverse("core:login_code"), {"code": wrong_code(device)})
    assert signs_in(client_from("198.51.100.20"), device)


def test_wrong_codes_from_many_sources_close_the_code_step_to_strangers_only(
    personas, device, notices
):
    owner = client_from("198.51.100.20")
    assert signs_in(owner, device)  # her browser is known from now on
    owner.post(reverse("core:logout"))
    limit = settings.REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT
    for i in range(limit):
        c = client_from(f"203.0.113.{i + 1}")
        password_step(c, "caseworker-a")
        c.post(reverse("core:login_code"), {"code": wrong_code(device)})
    assert "account_locked" in [n.kind for n in notices]
    # A new source with the right password and the right code: still refused.
    stranger = client_from("192.0.2.99")
    assert not signs_in(stranger, device)
    # Her known browser signs in, from any address.
    owner.defaults["REMOTE_ADDR"] = "192.0.2.100"
    assert signs_in(owner, device)


def test_five_wrong_passwords_from_a_stranger_do_not_lock_the_operator_out(personas):
    """M7: locking by user name let anyone keep a member of staff out, again and again."""
    stranger = client_from("203.0.113.7")
    for _ in range(settings.REFUGE_LOCKOUT_FAILURES + 3):
        password_step(stranger, "analyst-a", "wrong")
    assert NEUTRAL in password_step(stranger, "analyst-a").content.decode()  # he is stopped
    owner = client_from("198.51.100.20")
    assert password_step(owner, "analyst-a").status_code == 302
    assert _signed_in(owner)


def test_one_persons_typos_do_not_lock_out_an_office_behind_the_same_address(personas):
    office = "198.51.100.1"
    for _ in range(settings.REFUGE_LOCKOUT_FAILURES):
        password_step(client_from(office), "analyst-a", "typo")
    colleague = client_from(office)
    assert password_step(colleague, "analyst-b").status_code == 302


@override_settings(REFUGE_LOCKOUT_ACCOUNT_CEILING=6, REFUGE_LOCKOUT_SLOW_SECONDS=60)
def test_wrong_passwords_from_many_sources_only_slow_strangers(personas, notices):
    for i in range(6):
        password_step(client_from(f"203.0.113.{i + 1}"), "analyst-a", "wrong")
    assert [n.kind for n in notices] == ["sign_in_slowed"]
    # Within the minute, a browser the account does not know is refused even with the password.
    late = client_from("192.0.2.50")
    assert NEUTRAL in password_step(late, "analyst-a").content.decode()
    # A minute later, it is let through (slowed, never locked).
    SignInFailure.objects.update(at=timezone.now() - timedelta(seconds=61))
    assert password_step(late, "analyst-a").status_code == 302


@override_settings(REFUGE_LOCKOUT_ACCOUNT_CEILING=6)
def test_a_known_browser_is_never_slowed(personas):
    owner = client_from("198.51.100.20")
    assert password_step(owner, "analyst-a").status_code == 302  # known from now on
    owner.post(reverse("core:logout"))
    for i in range(10):
        password_step(client_from(f"203.0.113.{i + 1}"), "analyst-a", "wrong")
    assert password_step(owner, "analyst-a").status_code == 302


def test_a_lock_ends_after_the_window(personas):
    c = client_from("203.0.113.7")
    for _ in range(settings.REFUGE_LOCKOUT_FAILURES):
        password_step(c, "analyst-a", "wrong")
    assert NEUTRAL in password_step(c, "analyst-a").content.decode()
    SignInFailure.objects.update(
        at=timezone.now() - timedelta(minutes=settings.REFUGE_LOCKOUT_MINUTES, seconds=1)
    )
    assert password_step(c, "analyst-a").status_code == 302


def test_a_forged_or_foreign_browser_cookie_counts_as_a_stranger(personas, device):
    owner = client_from("198.51.100.20")
    assert signs_in(owner, device)
    cookie = owner.cookies[lockout.COOKIE].value
    bid, secret = cookie.split("|")[0].split(".")
    forged = client_from("203.0.113.7")
    forged.cookies[lockout.COOKIE] = f"{bid}.{secret[:-1]}x"
    for _ in range(settings.REFUGE_LOCKOUT_FAILURES):
        password_step(forged, "caseworker-a", "wrong")
    assert SignInFailure.objects.filter(browser__isnull=True).count() == 5
    # Her cookie does not make another account's attempts "known" either.
    other = client_from("203.0.113.8")
    other.cookies[lockout.COOKIE] = cookie
    password_step(other, "analyst-a", "wrong")
    assert SignInFailure.objects.get(username="analyst-a").browser is None


def test_known_browsers_keep_five_people_and_drop_bad_entries(personas, device):
    c = client_from("198.51.100.20")
    c.cookies[lockout.COOKIE] = "not-a-uuid.x|" + "|".join(["junk"] * 3)
    assert signs_in(c, device)
    entries = c.cookies[lockout.COOKIE].value.split("|")
    assert len(entries) == 1
    c.post(reverse("core:logout"))
    assert password_step(c, "analyst-a").status_code == 302
    assert len(c.cookies[lockout.COOKIE].value.split("|")) == 2
    cookie = c.cookies[lockout.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"


def test_the_session_key_changes_at_the_password_and_at_the_code(personas, device):
    c = client_from("198.51.100.20")
    c.get(reverse("core:login"))
    c.session.save()
    first = c.session.session_key
    password_step(c, "caseworker-a")
    second = c.session.session_key
    c.post(reverse("core:login_code"), {"code": code_for(device)})
    third = c.session.session_key
    assert _signed_in(c)
    assert len({first, second, third}) == 3


def test_the_failure_rows_hold_no_password_or_code(personas, device):
    c = client_from("203.0.113.7")
    password_step(c, "caseworker-a", "secret-guess-1")
    password_step(c, "caseworker-a")
    c.post(reverse("core:login_code"), {"code": "424242"})
    for row in SignInFailure.objects.values():
        assert "secret-guess-1" not in str(row) and "424242" not in str(row)


def test_django_otps_throttle_is_off_on_purpose():
    """Its delay lives on the device, shared by every source, and doubles without bound."""
    assert settings.OTP_TOTP_THROTTLE_FACTOR == 0
    assert "axes" not in settings.INSTALLED_APPS


@pytest.mark.django_db(transaction=True)
def test_parallel_guesses_are_counted_exactly(personas):
    """A burst of guesses at once gets no more tries than one at a time: each attempt is
    written down under a lock on the account before it is checked."""
    if connection.vendor != "postgresql":
        pytest.skip("threads need a database server (PostgreSQL, as in CI)")
    admitted, barrier = [], threading.Barrier(16)

    def guess():
        try:
            barrier.wait()
            gate = lockout.begin(
                username="analyst-a", step="password", source="203.0.113.7", browser=None
            )
            if isinstance(gate, lockout.Attempt):
                admitted.append(gate)
                lockout.failed(gate)
        finally:
            connection.close()

    threads = [threading.Thread(target=guess) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == settings.REFUGE_LOCKOUT_FAILURES
    assert password_step(client_from("198.51.100.20"), "analyst-a").status_code == 302
    assert PASSWORD  # the right password still works from elsewhere
