"""Telegram and Web Push against real protocol peers on loopback; linking, unlinking, devices."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.core.services import staff_set_active
from refuge.notifications import services
from refuge.notifications.models import Delivery, PushSubscription, TelegramLink, TelegramLinkCode
from tests.conftest import sign_in
from tests.notifications.conftest import opt_in, refer, run_worker
from tests.notifications.peers import Device

SECRET = {"X-Telegram-Bot-Api-Secret-Token": "test-telegram-webhook-secret"}


def _webhook(client, text, chat_id=777, headers=SECRET):
    return client.post(
        reverse("notifications:telegram_webhook"),
        data=json.dumps({"update_id": 1, "message": {"chat": {"id": chat_id}, "text": text}}),
        content_type="application/json",
        headers=headers,
    )


def _link_code(as_persona, key):
    page = as_persona(key).post(reverse("notifications:telegram_link"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "https://t.me/refuge_test_bot?start=" in body
    return body.split("?start=", 1)[1].split('"', 1)[0]


_refer = refer


def test_telegram_links_with_a_one_time_code_and_receives_neutral_words(
    personas, network, client_a, as_persona, telegram
):
    code = _link_code(as_persona, "caseworker_b")
    assert _webhook(HttpClient(), f"/start {code}").status_code == 200
    link = TelegramLink.objects.get()
    assert link.user == personas["caseworker_b"].user and link.chat_id == 777
    opt_in(personas["caseworker_b"].user, telegram=True)
    _refer(personas, network, client_a)
    run_worker()
    run_worker()
    sent = [m for m in telegram.sent() if m["text"].startswith("Refuge: 1 new item")]
    assert sent == [
        {"chat_id": 777, "text": "Refuge: 1 new item is waiting for you. Sign in to see it."}
    ]
    # The code works once.
    assert _webhook(HttpClient(), f"/start {code}", chat_id=888).status_code == 200
    assert TelegramLink.objects.get().chat_id == 777
    assert AuditEvent.objects.filter(
        action="notification.telegram_link_refused", details__reason="reused"
    ).exists()


def test_an_expired_code_is_refused_and_audited(personas, as_persona, telegram):
    code = _link_code(as_persona, "caseworker_b")
    TelegramLinkCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    _webhook(HttpClient(), f"/start {code}")
    assert not TelegramLink.objects.exists()
    assert AuditEvent.objects.filter(
        action="notification.telegram_link_refused", details__reason="expired"
    ).exists()


def test_a_forged_webhook_is_refused_with_403_and_audited(personas, as_persona, telegram):
    code = _link_code(as_persona, "caseworker_b")
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
        assert _webhook(HttpClient(), f"/start {code}", headers=headers).status_code == 403
    assert not TelegramLink.objects.exists()
    assert AuditEvent.objects.filter(action="notification.telegram_webhook_refused").count() == 2


def test_unlink_in_one_tap_and_on_deactivation(personas, as_persona, telegram):
    code = _link_code(as_persona, "caseworker_b")
    _webhook(HttpClient(), f"/start {code}")
    r = as_persona("caseworker_b").post(reverse("notifications:telegram_unlink"))
    assert r.status_code == 302 and not TelegramLink.objects.exists()
    code = _link_code(as_persona, "caseworker_b")
    _webhook(HttpClient(), f"/start {code}")
    staff_set_active(
        by=personas["manager_b"].principal, member=personas["caseworker_b"].user, active=False
    )
    services.channels_of_inactive_drop()
    assert not TelegramLink.objects.exists()


def test_telegram_down_is_retried_and_nothing_is_sent_twice(
    personas, network, client_a, as_persona, telegram, fast_retries
):
    import time

    code = _link_code(as_persona, "caseworker_b")
    _webhook(HttpClient(), f"/start {code}")
    opt_in(personas["caseworker_b"].user, telegram=True)
    before = len(telegram.sent())
    telegram.status = 502
    _refer(personas, network, client_a)
    run_worker()
    run_worker()
    d = Delivery.objects.get(channel="telegram")
    assert d.status == "failed" and d.last_error == "telegram_http_502"
    telegram.status = 200
    for _ in range(10):
        time.sleep(0.06)
        run_worker()
    assert Delivery.objects.get(pk=d.pk).status == "sent"
    assert len(telegram.sent()) == before + 1


def _subscribe(persona_client, device):
    return persona_client.post(
        reverse("notifications:push_subscribe"),
        data=json.dumps(
            {
                "endpoint": device.endpoint,
                "keys": {"p256dh": device.p256dh, "auth": device.auth_b64},
            }
        ),
        content_type="application/json",
    )


def test_web_push_is_encrypted_for_the_device_and_says_nothing(
    personas, network, client_a, as_persona, push
):
    phone = Device(push, "phone-1")
    assert _subscribe(as_persona("caseworker_b"), phone).status_code == 200
    opt_in(personas["caseworker_b"].user, push=True)
    _refer(personas, network, client_a)
    run_worker()
    run_worker()
    [(path, headers, body)] = push.requests
    assert path == phone.path and headers["content-encoding"] == "aes128gcm"
    assert headers["authorization"].startswith("vapid ")
    assert b"Refuge" not in body  # encrypted on the wire
    payload = phone.decrypt(body)
    assert payload["body"] == "Refuge: 1 new item is waiting for you. Sign in to see it."
    assert set(payload) == {"title", "body", "tag", "url"} and payload["url"] == "/"
    for secret in ("Olga", "Vladimir", "RU-", client_a.case_code):
        assert secret not in json.dumps(payload)


def test_a_push_service_answering_410_drops_the_device(
    personas, network, client_a, as_persona, push
):
    phone = Device(push, "phone-2")
    _subscribe(as_persona("caseworker_b"), phone)
    opt_in(personas["caseworker_b"].user, push=True)
    push.gone.add(phone.path)
    _refer(personas, network, client_a)
    run_worker()
    run_worker()
    assert not PushSubscription.objects.exists()
    d = Delivery.objects.get(channel="push")
    assert d.status == "failed" and d.last_error == "push_no_device" and d.next_attempt_at is None


def test_a_device_of_another_user_is_refused_and_audited(personas, as_persona, push):
    phone = Device(push, "shared")
    assert _subscribe(as_persona("caseworker_b"), phone).status_code == 200
    assert _subscribe(as_persona("manager_b"), phone).status_code == 403
    assert PushSubscription.objects.get().user == personas["caseworker_b"].user
    assert AuditEvent.objects.filter(action="notification.push_refused").exists()


def test_sign_out_drops_this_devices_subscription_only(personas, push):
    user = personas["caseworker_b"].user
    phone, laptop = HttpClient(), HttpClient()
    sign_in(phone, user)
    sign_in(laptop, user)
    _subscribe(phone, Device(push, "p"))
    _subscribe(laptop, Device(push, "l"))
    phone.post(reverse("core:logout"))
    assert [s.endpoint.rsplit("/", 1)[1] for s in PushSubscription.objects.all()] == ["l"]


def test_the_service_worker_is_served_from_our_origin_under_the_strict_csp():
    r = HttpClient().get(reverse("notifications:service_worker"))
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    assert "showNotification" in r.content.decode()
    assert "script-src 'self'" in r["Content-Security-Policy"]
