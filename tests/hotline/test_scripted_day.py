"""A scripted day of calls through the webhooks gives exactly the expected calls and figures
(SQLite by default; PostgreSQL with DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from refuge.core.services import api_key_create
from refuge.hotline import services
from refuge.hotline.models import Call, CallEvent, QuarantinedEvent
from refuge.hotline.services import WrapUpData
from tests.hotline.scripted_day import DAY, LINES, Script

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(orgs):
    for provider, (number, area) in LINES.items():
        services.line_save(by=None, number=number, organisation=orgs["a"], service_area=",".join(area),
                           default_country="KG" if provider == "json" else "RU")  # fmt: skip
    pbx = api_key_create(by=None, organisation=orgs["a"], role="operator", name="pbx")[1]
    reader = api_key_create(by=None, organisation=orgs["a"], role="coordinator", name="reader")[1]
    return pbx, reader


def _send(client, r):
    return client.generic("POST", r.path, r.data if isinstance(r.data, str) else _form(r.data),
                          content_type=r.content_type, **r.headers)  # fmt: skip


def _form(data):
    from urllib.parse import urlencode

    return urlencode(data)


def test_a_scripted_day_gives_exactly_the_expected_calls_and_figures(network, personas):
    pbx, reader = network
    script = Script(seed=7, calls=260)
    client = HttpClient()
    statuses = {}
    for r in script.requests(pbx):
        got = _send(client, r)
        assert got.status_code in r.expect, (r.path, got.status_code, got.content[:200])
        statuses[got.status_code] = statuses.get(got.status_code, 0) + 1
    # Every distinct good event recorded once; repeats and forgeries recorded nothing.
    assert CallEvent.objects.count() == script.good
    assert Call.objects.count() == len(script.calls)
    assert statuses[403] and statuses[401] and statuses[400] and statuses[422]
    assert QuarantinedEvent.objects.count() == 2  # the two unreadable Mango events

    # Wrap-ups with unmet needs for some answered calls.
    op = personas["operator_a"].principal
    for c in script.calls[:40]:
        if c.fate == "answered":
            c.unmet = 2 if c.t0 % 2 else 1
            needs = {"shelter": "no_place", "legal": None}
            if c.unmet == 2:
                needs["children"] = "no_service"
            services.wrapup_record(by=op, call=Call.objects.get(entry_id=c.entry_id),
                                   data=WrapUpData("victim", outcomes=frozenset({"referral"}), needs=needs))  # fmt: skip

    auth = {"HTTP_AUTHORIZATION": f"Bearer {reader}"}
    period = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    got_calls = client.get("/api/v1/hotline/calls", period, **auth).json()
    assert sorted(got_calls, key=lambda x: x["entry_id"]) == script.expected_calls()
    stats = client.get("/api/v1/hotline/stats", period, **auth).json()
    assert stats == script.expected_stats()

    # The day before and the day after have none of these calls.
    for day in ("2025-03-03", "2025-03-05"):
        other = client.get("/api/v1/hotline/stats", {"from": day, "to": day}, **auth).json()
        assert other["offered"] == 0


def test_the_same_day_in_another_order_gives_the_same_result(network):
    pbx, reader = network
    client = HttpClient()
    script = Script(seed=11, calls=80)
    for r in reversed(script.requests(pbx)):
        _send(client, r)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {reader}"}
    period = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    assert sorted(client.get("/api/v1/hotline/calls", period, **auth).json(),
                  key=lambda x: x["entry_id"]) == script.expected_calls()  # fmt: skip
    assert client.get("/api/v1/hotline/stats", period, **auth).json() == script.expected_stats()
