"""The owner always gets back in: a manager's unlock, or a link e-mailed to her (issue 14, H1)."""

from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from refuge.core import lockout
from refuge.core.models import AuditEvent, SignInFailure, UnlockLink
from tests.core.conftest import (
    NEUTRAL,
    client_from,
    code_for,
    password_step,
    signs_in,
    wrong_code,
)


def _lock_the_code_step(device):
    """Someone who has her password tries codes from many addresses."""
    for i in range(settings.REFUGE_SECOND_FACTOR_ACCOUNT_LIMIT):
        c = client_from(f"203.0.113.{i + 1}")
        password_step(c, "caseworker-a")
        c.post(reverse("core:login_code"), {"code": wrong_code(device)})


def _ask_for_link(client, username="caseworker-a"):
    r = client.post(reverse("core:unlock_request"), {"username": username})
    future = getattr(r.wsgi_request, "_refuge_mail", None)
    if future is not None:
        assert future.result(timeout=10)
    return r


def _link_path() -> str:
    [message] = mail.outbox
    return next(line for line in message.body.splitlines() if "/login/unlock/" in line).split(
        "testserver", 1
    )[1]


def test_a_manager_unlocks_her_and_both_are_told(personas, device, as_persona, notices):
    _lock_the_code_step(device)
    assert not signs_in(client_from("192.0.2.1"), device)
    manager = as_persona("manager_a")
    page = manager.get(reverse("core:staff_list"))
    row = next(r for r in page.context["rows"] if r["member"].username == "caseworker-a")
    assert row["lock"].account_locked and "unlock" in row["actions"]
    r = manager.post(reverse("core:staff_action", args=[device.user.pk, "unlock"]))
    assert r.status_code == 302
    assert not SignInFailure.objects.filter(username="caseworker-a").exists()
    assert signs_in(client_from("192.0.2.1"), device)
    [n] = [n for n in notices if n.kind == "account_unlocked"]
    assert n.by_user_id == personas["manager_a"].user.pk and n.user_id == device.user.pk
    assert AuditEvent.objects.filter(action="auth.unlock", details__by="staff").exists()


def test_another_organisations_manager_cannot_unlock_her(personas, device, as_persona):
    r = as_persona("manager_b").post(reverse("core:staff_action", args=[device.user.pk, "unlock"]))
    assert r.status_code == 404


def test_an_e_mailed_link_unlocks_her_and_makes_her_browser_a_known_one(personas, device, notices):
    _lock_the_code_step(device)
    her = client_from("192.0.2.1")
    assert not signs_in(her, device)
    r = _ask_for_link(her)
    assert r.status_code == 302 and r.url == reverse("core:login")
    assert mail.outbox[0].to == ["marina@example.org"]
    path = _link_path()
    assert her.get(path).status_code == 200  # a page with a button: a mail scanner spends nothing
    assert UnlockLink.objects.get().used_at is None
    r = her.post(path)
    assert r.status_code == 302 and lockout.COOKIE in r.cookies
    assert "account_unlocked" in [n.kind for n in notices]
    # The attacker goes on: her browser is known now, so it still signs her in.
    _lock_the_code_step(device)
    assert not signs_in(client_from("192.0.2.2"), device)
    assert signs_in(her, device)


def test_a_link_works_once_and_not_after_it_expires(personas, device):
    _ask_for_link(HttpClient())
    path = _link_path()
    assert HttpClient().post(path).status_code == 302
    again = HttpClient().post(path)
    assert again.status_code == 200 and "does not work any more" in again.content.decode()
    mail.outbox.clear()
    _ask_for_link(HttpClient())
    UnlockLink.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert HttpClient().post(_link_path()).status_code == 200


def test_the_answer_is_the_same_for_any_user_name(personas, device):
    pages = []
    for username in ("caseworker-a", "nobody-here", "operator-a"):  # the last has no e-mail
        c = HttpClient()
        r = _ask_for_link(c, username)
        assert r.url == reverse("core:login")
        pages.append([str(m) for m in c.get(r.url).context["messages"]])
    assert pages[0] == pages[1] == pages[2] and pages[0]
    assert len(mail.outbox) == 1


def test_she_gets_at_most_a_few_links_an_hour(personas, device):
    for _ in range(settings.REFUGE_UNLOCK_LINKS_PER_HOUR + 2):
        _ask_for_link(HttpClient())
    assert len(mail.outbox) == settings.REFUGE_UNLOCK_LINKS_PER_HOUR


def test_the_link_and_the_mail_hold_no_secret_in_the_database(personas, device):
    _ask_for_link(HttpClient())
    token = _link_path().rstrip("/").rsplit("/", 1)[1]
    stored = UnlockLink.objects.get()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    event = AuditEvent.objects.get(action="auth.unlock_link_sent")
    assert token not in str(event.details) and "example.org" not in str(event.details)


def test_a_wrong_link_changes_nothing(personas, device):
    _lock_the_code_step(device)
    r = HttpClient().post(reverse("core:unlock", args=["x" * 43]))
    assert r.status_code == 200
    assert SignInFailure.objects.filter(username="caseworker-a").exists()


def test_a_locked_sign_in_page_says_only_the_usual(personas, device):
    _lock_the_code_step(device)
    c = client_from("192.0.2.1")
    password_step(c, "caseworker-a")
    r = c.post(reverse("core:login_code"), {"code": code_for(device)})
    assert NEUTRAL in r.content.decode()
    assert reverse("core:unlock_request") in r.content.decode()  # the way back is on the page
