"""Nobody misses what is waiting (issue 21, "Done when"), in two browser contexts at once.

The hotline operator (desktop) sends a referral through the search; the receiving shelter
caseworker's worklist (a phone-sized second context, already open) shows the count in the
navigation and the item with its hold counting down, without a reload. Nobody opens it; the
clock is moved past the network's escalation time (10 minutes) and the scheduled check runs:
the shelter's manager is notified (her outbox row, and an email at a real SMTP server on
loopback, in neutral words). The caseworker accepts in one tap from her list; the sender is
notified (her outbox row and email, and her own navigation count, again without a reload).
In English and in Russian, with screenshots at desktop and phone width.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from refuge.cases.services import client_create
from refuge.core.access import Principal
from refuge.core.models import AuditEvent
from refuge.core.roles import OrgKind, Role
from refuge.notifications import checks
from refuge.notifications.models import Delivery
from refuge.referrals.models import Referral, ReferralTarget
from tests.browser.conftest import shot, sign_in, submit
from tests.conftest import make_org, make_user
from tests.directory.factories import make_facility
from tests.notifications.conftest import opt_in, run_worker
from tests.notifications.peers import SMTPPeer
from tests.referrals.conftest import system

pytestmark = pytest.mark.browser
WORDS = {
    "en": {"home": "What needs you now", "neutral": "1 new item is waiting for you"},
    "ru": {"home": "Что ждёт вас сейчас", "neutral": "вас ждёт 1 новая запись"},
}


@pytest.fixture
def smtp(settings):
    peer = SMTPPeer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", peer.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    yield peer
    peer.stop()


@pytest.fixture
def people(transactional_db, settings):
    settings.REFUGE_WORKLIST_POLL_SECONDS = 1  # the navigation's counts, every second
    hub, shelter = make_org("coalition", OrgKind.HUB), make_org("vladimir-refuge")
    people = {
        "olga": make_user(hub, Role.OPERATOR, "olga"),
        "vera": make_user(shelter, Role.CASEWORKER, "vera"),
        "alena": make_user(shelter, Role.MANAGER, "alena"),
    }
    for name, user in people.items():
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        user.email = f"{name}@example.org"
        user.save(update_fields=["email"])
        opt_in(user, email=True)
    system(make_facility(shelter, "Vladimir refuge", region="RU-VLA", rooms=[("family", 4)]))
    people["case"] = client_create(
        by=Principal.for_user(people["olga"]),
        name="Olga Secret",
        phone="+7 900 111 22 33",
    )
    return people


def _domain() -> str:
    from django.conf import settings

    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2]


def _mail_to(smtp: SMTPPeer, address: str) -> list:
    return [m for m in smtp.messages if m["To"] == address]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_referral_nobody_opens_escalates_and_its_answer_reaches_the_sender(
    live_server, browser, people, smtp, lang
):
    base, w = live_server.url, WORDS[lang]
    desk = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-GB")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB")
    try:
        op, cw = desk.new_page(), phone.new_page()
        errors: list[str] = []
        for p in (op, cw):
            p.on("pageerror", lambda exc: errors.append(str(exc)))
        _story(base, w, lang, people, smtp, op, cw)
        assert not errors, errors
    finally:
        desk.close()
        phone.close()


def _story(base, w, lang, people, smtp, op, cw):
    def snap(page, step: str) -> None:
        width = "phone-390" if page.viewport_size["width"] <= 400 else "desktop"
        shot(page, f"notify-escalation-{lang}-{step}-{width}")

    # The caseworker's list is open on her phone, with nothing waiting yet.
    sign_in(cw, base, people["vera"], lang=lang)
    expect(cw.locator("h1")).to_have_text(w["home"])
    expect(cw.locator("#nav-count-referrals-inbox")).to_be_hidden()
    cw.evaluate("window.__stayed = true")  # gone if the page reloads
    snap(cw, "01-empty")

    # The operator sends a referral through the search, in her own browser.
    sign_in(op, base, people["olga"], lang=lang)
    code = people["case"].case_code
    op.goto(f"{base}/cases/{code}/")
    submit(op, f"a[href='/referrals/search/?case={code}']")
    op.fill("#id_woman_age", "34")
    submit(op, "form.search-form button[type=submit]")
    op.locator("input[name=facility]").first.check()
    submit(op, "form[action='/referrals/send/'] button[type=submit]")
    referral = Referral.objects.get(client=people["case"])
    target = ReferralTarget.objects.get(referral=referral)
    assert op.url == f"{base}/referrals/{referral.pk}/"
    snap(op, "02-sent")

    # Her phone shows the count and the item with its countdown, without a reload.
    item = cw.locator(f"#wl-referral-{target.pk}")
    expect(cw.locator("#nav-count-referrals-inbox")).to_contain_text("1", timeout=15_000)
    expect(item).to_be_visible(timeout=15_000)
    countdown = item.locator(".wl-countdown")
    expect(countdown).to_have_text(re.compile(r"1:59:\d\d"))
    first = countdown.inner_text()
    expect(countdown).not_to_have_text(first, timeout=5_000)  # it counts down by itself
    assert cw.evaluate("window.__stayed") is True
    snap(cw, "03-arrived")

    # The referral's own email to the shelter went out (the worker's job).
    run_worker()
    assert len(_mail_to(smtp, "vera@example.org")) == 1

    # Nobody opens it for ten minutes: the scheduled check, with the clock moved on.
    assert ReferralTarget.objects.get(pk=target.pk).seen_at is None
    assert checks.referral_escalations(now=timezone.now() + timedelta(minutes=9)) == 0
    assert checks.referral_escalations(now=timezone.now() + timedelta(minutes=11)) == 1
    run_worker()
    to_manager = Delivery.objects.filter(
        event__kind="referral.unopened", user=people["alena"]
    ).values_list("channel", "status")
    assert sorted(to_manager) == [("app", "sent"), ("email", "sent")]
    # Her second email (the first told her of the referral): under the escalation's own id.
    escalation = Delivery.objects.get(
        event__kind="referral.unopened", user=people["alena"], channel="email"
    )
    mail = [m for m in _mail_to(smtp, "alena@example.org") if str(escalation.pk) in m["Message-ID"]]
    assert len(mail) == 1 and len(_mail_to(smtp, "alena@example.org")) == 2
    body = mail[0].get_payload(decode=True).decode()
    assert w["neutral"] in body or WORDS["en"]["neutral"] in body
    for secret in ("Olga", "Vladimir", "RU-VLA", code):
        assert secret not in body and secret not in mail[0]["Subject"]
    assert AuditEvent.objects.filter(action="notification.escalate").count() == 1
    # Running the check again escalates nothing twice.
    assert checks.referral_escalations(now=timezone.now() + timedelta(minutes=12)) == 0

    # The operator's page is still open: her count follows the answer without a reload.
    op.goto(f"{base}/")
    op.evaluate("window.__stayed = true")

    # One tap on her phone: accept.
    submit(cw, item.locator("form[action$='/accept/'] button"))
    assert f"/referrals/{referral.pk}/" in cw.url
    assert ReferralTarget.objects.get(pk=target.pk).status == ReferralTarget.Status.ACCEPTED
    snap(cw, "04-accepted")

    # The sender is notified: her outbox row, her email, her navigation.
    run_worker()
    to_sender = Delivery.objects.filter(
        event__kind="referral.accepted", user=people["olga"]
    ).values_list("channel", "status")
    assert sorted(to_sender) == [("app", "sent"), ("email", "sent")]
    accepted = Delivery.objects.get(
        event__kind="referral.accepted", user=people["olga"], channel="email"
    )
    assert [m["Message-ID"] for m in _mail_to(smtp, "olga@example.org")] == [
        f"<{accepted.pk}@{_domain()}>"
    ]
    expect(op.locator(f"#wl-sent-{referral.pk} .badge.ok")).to_be_visible(timeout=15_000)
    assert op.evaluate("window.__stayed") is True
    snap(op, "05-sender-notified")
    op.set_viewport_size({"width": 390, "height": 844})
    snap(op, "05-sender-notified")
    # Every message is one per person and event, under its own Message-ID.
    assert len(smtp.ids()) == len(set(smtp.ids()))
