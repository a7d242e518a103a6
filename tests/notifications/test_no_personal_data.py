"""SPEC S7: no personal field and no place in any notification payload, task argument, outbox
row or log line. On the demo network: every kind of event is raised about real demo records,
sent through every channel to real peers on loopback, and everything that left or was kept is
searched for every client name and phone, every facility name and address, and every region."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refuge.core.models import User
from refuge.core.notices import SecurityNotice, announce
from refuge.notifications.models import (
    ChannelSettings,
    Delivery,
    Event,
    PushSubscription,
    TelegramLink,
)
from refuge.notifications.services import notify
from tests.notifications.conftest import run_worker
from tests.notifications.peers import Device


@pytest.fixture
def demo(db, tmp_path):
    with override_settings(REFUGE_HOME=tmp_path):
        call_command("load_demo", stdout=io.StringIO())


def _secrets() -> set[str]:
    from refuge.cases.models import Client
    from refuge.directory.models import Facility, Region

    out: set[str] = set()
    for c in Client.objects.all():
        out.update(v for v in (c.name, c.phone, c.safe_contact) if v and len(v) > 3)
    for f in Facility.objects.all():
        out.update(v for v in (f.name, f.address) if v and len(v) > 3)
    out.update(Region.objects.values_list("code", flat=True))
    return out


def _raise_every_kind() -> None:
    from refuge.core.models import Organisation
    from refuge.directory.models import Facility
    from refuge.hotline.models import Callback
    from refuge.meetings.models import Action
    from refuge.programmes.models import RiskConcern
    from refuge.referrals.models import PartnerRequest, Referral, ReferralTarget

    referral = Referral.objects.first()
    target = ReferralTarget.objects.first()
    facility = Facility.objects.first()
    facility_ids = list(Facility.objects.values_list("pk", flat=True)[:3])
    subjects = [
        ("referral.sent", referral, {"facility_ids": facility_ids}),
        ("referral.accepted", referral, {}),
        ("referral.declined", referral, {}),
        ("referral.withdrawn", referral, {"facility_ids": facility_ids}),
        ("referral.hold_expiring", target, {}),
        ("referral.unopened", target, {"step": 1}),
        ("referral.unopened", target, {"step": 2}),
        ("partner_request.created", PartnerRequest.objects.first(), {}),
        ("risk_concern.raised", RiskConcern.objects.first(), {}),
        ("risk_concern.unacknowledged", RiskConcern.objects.first(), {}),
        ("callback.due", Callback.objects.first(), {}),
        ("availability.decaying", facility, {}),
        ("evacuation.proposed", facility, {}),
        ("evacuation.confirmed", facility, {"facility_ids": facility_ids}),
        ("meeting.action_due", Action.objects.first(), {}),
    ]
    for n, (kind, about, ids) in enumerate(subjects):
        if about is not None:
            notify(event=kind, about=about, occurrence=str(n), **ids)
    org = Organisation.objects.get(slug="kitezh")
    announce(
        SecurityNotice(
            kind="break_glass",
            user_id=User.objects.get(username="manager").pk,
            organisation_id=org.pk,
        )
    )


def test_nothing_personal_leaves_or_is_kept(demo, smtp, telegram, push, caplog):
    devices = {}
    for i, user in enumerate(User.objects.filter(is_active=True)):
        ChannelSettings.objects.update_or_create(
            user=user, defaults={"email": True, "telegram": True, "push": True}
        )
        TelegramLink.objects.create(user=user, chat_id=1000 + i)
        device = Device(push, f"d{i}")
        PushSubscription.objects.create(
            user=user, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth_b64
        )
        devices[device.path] = device
    caplog.set_level(logging.DEBUG)
    _raise_every_kind()
    for _ in range(3):
        run_worker()
    kinds = set(Event.objects.values_list("kind", flat=True))
    assert len(kinds) >= 12, kinds  # the demo has no risk concern to raise
    assert not Delivery.objects.filter(status__in=["queued", "failed", "sending"]).exists()
    assert smtp.messages and telegram.sent() and push.requests

    haystack = []
    haystack += [m.as_string() for m in smtp.messages]
    haystack += [json.dumps(m, ensure_ascii=False) for m in telegram.sent()]
    haystack += [
        json.dumps(devices[p].decrypt(b), ensure_ascii=False) for p, _h, b in push.requests
    ]
    haystack += [
        json.dumps(r.args_kwargs) + json.dumps(r.return_value) for r in DBTaskResult.objects.all()
    ]
    haystack += [json.dumps(list(Event.objects.values()), default=str, ensure_ascii=False)]
    haystack += [json.dumps(list(Delivery.objects.values()), default=str, ensure_ascii=False)]
    haystack += [r.getMessage() for r in caplog.records]
    text = "\n".join(haystack)
    found = sorted(s for s in _secrets() if s in text)
    assert found == []
    assert timezone.now()
