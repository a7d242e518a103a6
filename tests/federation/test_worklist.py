# ruff: noqa: F811 (the fixtures of test_referrals, imported by name)
"""Cross-network referrals on the worklist: a peer's referral waiting for our answer on the
receiving facility's staff's list, an answered one on its sender's; nobody else's; nothing
personal in any notification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from refuge.cases.services import client_create
from refuge.federation import referrals
from refuge.federation.models import IncomingReferral, OutboxMessage, OutgoingReferral
from refuge.notifications.models import Delivery, Event
from refuge.notifications.worklist import worklist_for
from tests.federation.test_referrals import (  # noqa: F401 (fixtures)
    HOUSEHOLD,
    _answer_from_peer,
    _offer,
    _post,
    peer_facility,
)

RECEIVED, SENT = "federation_received", "federation_sent"
ROLES = ["coordinator", "operator", "caseworker", "manager", "partner", "facilitator", "analyst"]
ROLES += ["admin"]


def _kinds(personas, key) -> dict[str, list]:
    wl = worklist_for(personas[key].principal, at=timezone.now(), decrypt=False)
    return {s.kind: s.items for s in wl.sections}


@pytest.fixture
def received(shelter, fake_peer):
    response = _post(fake_peer, kind="referral.offer", body=_offer(shelter.pk))
    assert response.status_code == 200, response.content
    return IncomingReferral.objects.get()


@pytest.fixture
def olga(personas):
    return client_create(by=personas["operator_a"].principal, name="Olga Secretname")


@pytest.fixture
def answered(personas, olga, peer_facility, fake_peer):
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    assert (
        _answer_from_peer(fake_peer, row, answer="declined", reason="no_place").status_code == 200
    )
    row.refresh_from_db()
    return row


# --- who sees a peer's referral waiting for an answer ----------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("org", ["a", "b"])
def test_only_the_receiving_organisations_case_staff_see_it(personas, received, role, org):
    items = _kinds(personas, f"{role}_{org}").get(RECEIVED, [])
    case_staff = role in ("coordinator", "operator", "caseworker", "manager")
    if org == "b" and case_staff:
        assert [i.row.pk for i in items] == [received.pk]
    else:
        assert items == []


def test_it_shows_the_network_facility_and_household_and_can_be_accepted(
    personas, received, as_persona
):
    client = as_persona("caseworker_b")
    html = client.get("/").content.decode()
    assert f'id="wl-federation-received-{received.pk}"' in html
    assert "Referral to Vladimir refuge from the network kyrgyz-centres" in html
    assert "woman (31), girl (4)" in html
    # The navigation's badge counts it.
    wl = worklist_for(personas["caseworker_b"].principal, at=timezone.now())
    assert wl.counts().get("federation:referrals") == 1
    response = client.post(f"/federation/referrals/{received.pk}/answer/", {"answer": "accept"})
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.status == "accepted"
    assert OutboxMessage.objects.filter(kind="referral.answer").count() == 1
    assert f"wl-federation-received-{received.pk}" not in client.get("/").content.decode()


def test_a_referral_from_an_untrusted_peer_leaves_the_list(personas, received, trusted):
    from refuge.federation import services

    services.peer_untrust(by=None, peer=trusted)
    assert RECEIVED not in _kinds(personas, "caseworker_b")


def test_it_is_on_the_facilitys_daily_sheet(received, as_persona):
    from django.urls import reverse

    url = reverse("worklist:sheet_facility", args=[received.facility_id])
    html = as_persona("manager_b").get(url)
    assert html.status_code == 200
    assert "from the network kyrgyz-centres" in html.content.decode()


# --- the sender hears of the answer ----------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("org", ["a", "b"])
def test_only_the_sender_sees_the_answer(personas, answered, role, org):
    items = _kinds(personas, f"{role}_{org}").get(SENT, [])
    if (role, org) == ("operator", "a"):
        assert [i.row.pk for i in items] == [answered.pk]
    else:
        assert items == []


def test_the_answer_reads_in_words_and_leads_to_the_search(answered, as_persona):
    html = as_persona("operator_a").get("/").content.decode()
    assert f'id="wl-federation-sent-{answered.pk}"' in html
    assert f"Referral for {answered.client.case_code} to the network kyrgyz-centres" in html
    assert "declined" in html and "no_place" not in html
    assert f"/referrals/search/?case={answered.client.case_code}&amp;go=1" in html


def test_an_accepted_referral_shows_accepted(personas, olga, peer_facility, fake_peer):
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    assert SENT not in _kinds(personas, "operator_a")  # waiting: the referrals page says it
    _answer_from_peer(fake_peer, row, answer="accepted", reason="")
    item = _kinds(personas, "operator_a")[SENT][0]
    assert item.row.status == "accepted" and item.urgent


def test_an_answer_leaves_the_list_after_a_week(personas, answered):
    OutgoingReferral.objects.filter(pk=answered.pk).update(
        answered_at=timezone.now() - timedelta(days=8)
    )
    assert SENT not in _kinds(personas, "operator_a")


def test_a_referral_waiting_on_a_silent_peer_is_on_the_senders_list(
    personas,
    olga,
    peer_facility,
    fake_peer,
    as_persona,
):
    from refuge.federation import services

    fake_peer.fail_status = 500
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    message = OutboxMessage.objects.get(kind="referral.offer")
    for i in range(3):
        services.outbox_send(
            message_id=str(message.pk), now=timezone.now() + timedelta(hours=i + 1)
        )
    items = _kinds(personas, "operator_a")[SENT]
    assert [i.row.pk for i in items] == [row.pk] and items[0].extra["silence"]
    html = as_persona("operator_a").get("/").content.decode()
    assert "kyrgyz-centres has not answered since" in html
    assert SENT not in _kinds(personas, "coordinator_a")


# --- nothing personal in any notification ----------------------------------------------------


def test_notifications_carry_ids_and_the_peers_name_only(received, answered, as_persona):
    from tests.federation.conftest import run_worker

    run_worker()
    events = Event.objects.filter(kind__startswith="federation.")
    assert {e.kind for e in events} == {
        "federation.referral_received",
        "federation.referral_answered",
    }
    for event in events:
        text = json.dumps({"context": event.context, "about": event.about_id})
        for secret in ("Secretname", "Olga", answered.client.case_code, "wheelchair"):
            assert secret not in text
        # Her age (31) as a value, not as two digits: an id's hex may hold "31" by chance.
        assert 31 not in event.context.values() and "31" not in event.context.values()
        assert set(event.context) <= {"facility_ids", "by_user_id"}
    for delivery in Delivery.objects.filter(event__in=events):
        assert "Secretname" not in json.dumps(
            {"ref": delivery.provider_ref, "err": delivery.last_error}
        )
    # The in-app list of notifications and the worklist say nothing more.
    for key in ("caseworker_b", "operator_a"):
        for url in ("/", "/worklist/items/", "/worklist/counts/", "/notifications/"):
            response = as_persona(key).get(url)
            assert "Secretname" not in response.content.decode()


def test_the_worklist_items_in_russian(received, answered, as_persona):
    html = as_persona("caseworker_b").get("/", headers={"Accept-Language": "ru"}).content.decode()
    assert "Направления из других сетей ждут вашего ответа" in html
    assert "from the network" not in html
    html = as_persona("operator_a").get("/", headers={"Accept-Language": "ru"}).content.decode()
    assert "Ваши направления в другие сети" in html
    assert "to the network" not in html and "Look for another place" not in html


def test_the_worklist_costs_the_same_queries_for_one_referral_or_many(
    shelter, fake_peer, as_persona
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_persona("caseworker_b")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/worklist/items/").status_code == 200
        return len(ctx.captured_queries)

    _post(fake_peer, kind="referral.offer", body=_offer(shelter.pk))
    client.get("/worklist/items/")  # a session's first page writes its first action
    one = count()
    for _i in range(4):
        _post(fake_peer, kind="referral.offer", body=_offer(shelter.pk))
    assert IncomingReferral.objects.count() == 5
    assert count() == one


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_referrals_page_names_languages_regions_and_risk_not_codes(
    shelter, fake_peer, as_persona, lang
):
    body = _offer(shelter.pk, needs=["wheelchair"], documents=["passport"])
    assert _post(fake_peer, kind="referral.offer", body=body).status_code == 200
    page = as_persona("caseworker_b").get(
        "/federation/referrals/", headers={"Accept-Language": lang}
    )
    html = page.content.decode()
    start = html.index('class="card fed-offer"')
    row = html[start : html.index("</section>", start)]
    codes = ("RU-MOW", ">ru<", "wheelchair<", "passport", ">high<") if lang == "ru" else ()
    for code in ("RU-MOW", ">ru<", *codes):
        assert code not in row, code
    words = {
        "en": ("Moscow", "Russian", "wheelchair access"),
        "ru": ("Москва", "русский", "аспорт", "высок"),
    }[lang]
    for word in words:
        assert word in row, (word, row)
