import time

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.core.models import AuditEvent
from tests.conftest import PASSWORD, sign_in

NEUTRAL = "Sign-in failed. Check your details and try again"


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def password_step(client, username, password=PASSWORD):
    return client.post(reverse("core:login"), {"username": username, "password": password})


@pytest.fixture
def device(personas):
    return TOTPDevice.objects.create(
        user=personas["caseworker_a"].user, name="phone", confirmed=True
    )


def test_a_caseworker_signs_in_with_password_and_code(personas, device):
    c = HttpClient()
    r = password_step(c, "caseworker-a")
    assert r.status_code == 302 and r.url.startswith(reverse("core:login_code"))
    assert c.get(reverse("core:home")).status_code == 302  # not in yet: the code is missing
    r = c.post(reverse("core:login_code"), {"code": code_for(device)})
    assert r.status_code == 302 and r.url == reverse("core:home")
    assert c.get(reverse("core:home")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.sign_in", actor="caseworker-a").exists()


def test_without_the_code_a_signed_in_user_reaches_nothing(personas, device):
    c = HttpClient()
    password_step(c, "caseworker-a")
    for name in ("core:home", "cases:list", "core:audit_log"):
        r = c.get(reverse(name))
        assert r.status_code == 302 and reverse("core:login_code") in r.url


def test_wrong_password_wrong_user_and_wrong_code_say_the_same(personas, device):
    a = password_step(HttpClient(), "caseworker-a", "wrong").content.decode()
    b = password_step(HttpClient(), "nobody-at-all").content.decode()
    c = HttpClient()
    password_step(c, "caseworker-a")
    bad = "000000" if code_for(device) != "000000" else "111111"
    d = c.post(reverse("core:login_code"), {"code": bad}).content.decode()
    for page in (a, b, d):
        assert NEUTRAL in page
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 3


def test_the_account_locks_after_five_failures_even_for_the_right_password(personas, device):
    for _ in range(5):
        password_step(HttpClient(), "caseworker-a", "wrong")
    c = HttpClient()
    r = password_step(c, "caseworker-a")
    assert NEUTRAL in r.content.decode()
    assert c.get(reverse("core:home")).status_code == 302
    assert "_auth_user_id" not in c.session


def test_wrong_codes_lock_the_code_step_and_a_right_password_does_not_reopen_it(personas, device):
    c = HttpClient()
    password_step(c, "caseworker-a")
    bad = "000000" if code_for(device) != "000000" else "111111"
    for _ in range(5):
        r = c.post(reverse("core:login_code"), {"code": bad})
    assert NEUTRAL in r.content.decode()
    assert "_auth_user_id" not in c.session  # signed out completely once locked
    # The password step has its own count; the code step stays closed to this source.
    again = HttpClient()
    assert password_step(again, "caseworker-a").url.startswith(reverse("core:login_code"))
    r = again.post(reverse("core:login_code"), {"code": code_for(device)})
    assert NEUTRAL in r.content.decode() and "_auth_user_id" not in again.session


def test_a_manager_reset_lifts_the_lockout(personas, device, as_persona):
    for _ in range(5):
        password_step(HttpClient(), "caseworker-a", "wrong")
    r = as_persona("manager_a").post(
        reverse("core:staff_action", args=[personas["caseworker_a"].user.pk, "reset-password"])
    )
    temp = r.context["password"]
    c = HttpClient()
    assert password_step(c, "caseworker-a", temp).status_code == 302


def test_first_sign_in_enrols_an_authenticator_by_qr_code(personas):
    c = HttpClient()
    r = password_step(c, "operator-a")
    assert r.url.startswith(reverse("core:enrol"))
    page = c.get(reverse("core:enrol"))
    assert page.status_code == 200 and page.context["secret"]
    qr = c.get(reverse("core:enrol_qr"))
    assert qr["Content-Type"] == "image/svg+xml" and b"<svg" in qr.content
    device = TOTPDevice.objects.get(user=personas["operator_a"].user)
    assert not device.confirmed
    r = c.post(reverse("core:enrol"), {"code": code_for(device)})
    assert r.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert c.get(reverse("core:home")).status_code == 200


def test_an_analyst_needs_no_second_factor(personas):
    c = HttpClient()
    r = password_step(c, "analyst-a")
    assert r.status_code == 302 and r.url == reverse("core:home")
    assert c.get(reverse("core:home")).status_code == 200


def test_a_user_without_membership_cannot_sign_in(db):
    from refuge.core.models import User

    u = User(username="loose")
    u.set_password(PASSWORD)
    u.save()
    r = password_step(HttpClient(), "loose")
    assert NEUTRAL in r.content.decode()


def test_a_deactivated_member_cannot_sign_in(personas, as_persona):
    as_persona("manager_a").post(
        reverse("core:staff_action", args=[personas["caseworker_a"].user.pk, "deactivate"]),
        {"reason": "left", "sure": "1"},
    )
    assert NEUTRAL in password_step(HttpClient(), "caseworker-a").content.decode()


def test_a_temporary_password_must_be_changed_first(personas, as_persona):
    r = as_persona("admin_a").post(
        reverse("core:staff_action", args=[personas["analyst_a"].user.pk, "reset-password"])
    )
    temp = r.context["password"]
    c = HttpClient()
    password_step(c, "analyst-a", temp)
    r = c.get(reverse("core:home"))
    assert r.status_code == 302 and r.url == reverse("core:password_change")
    r = c.post(reverse("core:password_change"), {"new_password": "short", "repeat": "short"})
    assert r.status_code == 200
    new = "a much longer passphrase 2026"
    r = c.post(reverse("core:password_change"), {"new_password": new, "repeat": new})
    assert r.status_code == 302
    assert c.get(reverse("core:home")).status_code == 200


@override_settings(REFUGE_IDLE_TIMEOUT=__import__("datetime").timedelta(seconds=60))
def test_idle_sessions_end_and_background_polls_do_not_keep_them_alive(personas):
    c = sign_in(HttpClient(), personas["caseworker_a"].user)
    assert c.get(reverse("core:home")).status_code == 200
    session = c.session
    session["last_activity"] = time.time() - 50
    session.save()
    # A background refresh within the limit is served but does not count as activity.
    assert c.get(reverse("core:home"), HTTP_X_REFUGE_BACKGROUND="1").status_code == 200
    session = c.session
    assert time.time() - session["last_activity"] >= 50
    session["last_activity"] = time.time() - 61
    session.save()
    r = c.get(reverse("core:home"))
    assert r.status_code == 302 and "timeout=1" in r.url
    assert c.get(reverse("core:home")).status_code == 302


def test_the_last_action_is_written_once_a_step_not_on_every_page(personas):
    """A page view writes nothing to the session unless the last action written is older than
    a step (30 s with the default limit): no UPDATE of the session row per page."""
    from django.contrib.sessions.models import Session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = sign_in(HttpClient(), personas["caseworker_a"].user)
    assert c.get(reverse("core:home")).status_code == 200
    first = c.session["last_activity"]
    with CaptureQueriesContext(connection) as queries:
        assert c.get(reverse("core:home")).status_code == 200
    table = Session._meta.db_table
    assert not [q for q in queries if q["sql"].startswith("UPDATE") and table in q["sql"]]
    assert c.session["last_activity"] == first
    session = c.session
    session["last_activity"] = time.time() - 31
    session.save()
    assert c.get(reverse("core:home")).status_code == 200
    assert time.time() - c.session["last_activity"] < 5  # a step later: written again


@override_settings(REFUGE_IDLE_TIMEOUT=__import__("datetime").timedelta(seconds=60))
def test_an_htmx_request_sent_to_sign_in_again_loads_the_whole_sign_in_page(personas):
    """htmx would follow a 302 and swap the sign-in form into a board row; HX-Redirect makes
    it load the page instead."""
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_X_REFUGE_BACKGROUND": "1"}
    c = sign_in(HttpClient(), personas["caseworker_a"].user)
    c.get(reverse("core:home"))
    session = c.session
    session["last_activity"] = time.time() - 61
    session.save()
    r = c.get(reverse("vacancies:board"), **htmx)
    assert r.status_code == 204 and r["HX-Redirect"] == reverse("core:login") + "?timeout=1"
    r = c.get(reverse("vacancies:board"), **htmx)  # signed out now: login_required
    assert r.status_code == 204 and r["HX-Redirect"].startswith(reverse("core:login") + "?next=")
    assert c.get(reverse("vacancies:board")).status_code == 302  # a plain request: a redirect


def test_an_htmx_request_before_the_second_factor_is_sent_to_give_it(personas, device):
    c = HttpClient()
    c.post(reverse("core:login"), {"username": "caseworker-a", "password": PASSWORD})
    r = c.get(reverse("vacancies:board"), HTTP_HX_REQUEST="true")
    assert r.status_code == 204 and r["HX-Redirect"] == reverse("core:login_code")


def test_sign_out_needs_post_and_ends_the_session(personas):
    c = sign_in(HttpClient(), personas["caseworker_a"].user)
    assert c.get(reverse("core:logout")).status_code == 405
    assert c.post(reverse("core:logout")).status_code == 302
    assert c.get(reverse("core:home")).status_code == 302


def test_open_redirects_are_refused(personas, device):
    c = HttpClient()
    c.post(
        reverse("core:login") + "?next=https://evil.example/",
        {"username": "caseworker-a", "password": PASSWORD, "next": "https://evil.example/"},
    )
    r = c.post(
        reverse("core:login_code"), {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert r.url == reverse("core:home")


@override_settings(REFUGE_IDLE_TIMEOUT=__import__("datetime").timedelta(seconds=60))
def test_an_idle_session_gets_401_from_the_api_and_api_reads_do_not_extend_it(personas):
    c = sign_in(HttpClient(), personas["caseworker_a"].user)
    c.get(reverse("core:home"))
    session = c.session
    session["last_activity"] = time.time() - 50
    session.save()
    assert c.get("/api/v1/me").status_code == 200
    assert time.time() - c.session["last_activity"] >= 50  # an API read is not activity
    session = c.session
    session["last_activity"] = time.time() - 61
    session.save()
    assert c.get("/api/v1/me").status_code == 401
