"""Cross-network referrals: the offer carries the minimum, both ways; the receiving facility
answers with a coded reason in its own instance; the sender learns of it."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from refuge.cases.services import client_create
from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.federation import referrals, services
from refuge.federation.models import (
    InboxMessage,
    IncomingReferral,
    OutboxMessage,
    OutgoingReferral,
    PeerFacility,
)
from refuge.notifications.models import Event
from tests.directory.factories import make_facility
from tests.federation.conftest import post_signed, run_worker

URL = "/api/v1/federation/inbox"
HOUSEHOLD = {
    "woman_age": 31,
    "children": [{"age": 4, "sex": "female"}, {"age": 9, "sex": "male"}],
    "needs": ["wheelchair"],
    "languages": ["ru", "ky"],
    "documents": ["passport"],
    "avoid_regions": ["RU-MOW"],
}


_post = post_signed


def _offer(facility_id, **extra):
    return {
        "referral": str(uuid.uuid4()),
        "facility": str(facility_id),
        "woman_age": 31,
        "children": [{"age": 4, "sex": "female"}],
        "needs": [],
        "languages": ["ru"],
        "documents": [],
        "risk_level": "high",
        "avoid_regions": ["RU-MOW"],
        **extra,
    }


@pytest.fixture
def peer_facility(trusted):
    return PeerFacility.objects.create(
        peer=trusted,
        remote_id=str(uuid.uuid4()),
        name="Bishkek house",
        region="KG-C",
        country="KG",
        rules={},
        capacity={},
        availability="unknown",
    )


@pytest.fixture
def olga(personas):
    return client_create(by=personas["operator_a"].principal, name="Olga Secretname")


# --- the sending side --------------------------------------------------------------------------


def test_an_offer_carries_only_the_minimum(personas, olga, peer_facility, fake_peer):
    household = {**HOUSEHOLD, "name": "Olga Secretname", "phone": "+79990000000"}
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=household,
        risk_level="high",
    )
    assert row.status == "sent" and row.remote_facility_id == peer_facility.remote_id
    run_worker()
    kind, body = fake_peer.received[str(OutboxMessage.objects.get(subject_id=row.pk).pk)]
    assert kind == "referral.offer"
    assert set(body) <= referrals.OFFER_FIELDS
    assert body["referral"] == str(row.pk) and body["risk_level"] == "high"
    assert body["children"] == [{"age": 4, "sex": "female"}, {"age": 9, "sex": "male"}]
    assert body["avoid_regions"] == ["RU-MOW"]
    text = json.dumps(body)
    for secret in ("Secretname", "Olga", "+7999", olga.case_code):
        assert secret not in text
    assert AuditEvent.objects.filter(action="federation.referral_send").count() == 1


def test_only_the_cases_organisation_refers_her(personas, olga, peer_facility):
    with pytest.raises(ServiceError) as exc:
        referrals.federated_referral_send(
            by=personas["operator_b"].principal,
            client=olga,
            peer_facility=peer_facility,
            household=HOUSEHOLD,
        )
    assert exc.value.code == "forbidden"
    with pytest.raises(PermissionDenied):
        referrals.federated_referral_send(
            by=personas["analyst_a"].principal,
            client=olga,
            peer_facility=peer_facility,
            household=HOUSEHOLD,
        )
    assert not OutgoingReferral.objects.exists() and not OutboxMessage.objects.exists()


def test_an_untrusted_network_is_not_offered_anything(personas, olga, peer_facility, trusted):
    services.peer_untrust(by=None, peer=trusted)  # its facilities leave with it
    with pytest.raises(ServiceError):
        referrals.federated_referral_send(
            by=personas["operator_a"].principal,
            client=olga,
            peer_facility=peer_facility,
            household=HOUSEHOLD,
        )
    assert not OutgoingReferral.objects.exists()


def test_a_peer_down_then_up_gets_the_offer_once(personas, olga, peer_facility, fake_peer):
    fake_peer.down = True
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    run_worker()
    message = OutboxMessage.objects.get(subject_id=row.pk)
    message.refresh_from_db()
    assert message.status == "queued" and fake_peer.accepted == []
    fake_peer.down = False
    later = timezone.now() + timedelta(hours=1)
    assert services.outbox_send(message_id=str(message.pk), now=later) == "delivered"
    assert services.outbox_send(message_id=str(message.pk), now=later) == "delivered"
    run_worker()
    assert fake_peer.accepted == [str(message.pk)]


def _answer_from_peer(fake_peer, row, answer="declined", reason="no_place", **extra):
    body = {"referral": str(row.pk), "answer": answer, "reason": reason, **extra}
    return _post(fake_peer, kind="referral.answer", body=body)


def test_an_answer_updates_the_referral_and_tells_the_sender(
    personas, olga, peer_facility, fake_peer
):
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    response = _answer_from_peer(fake_peer, row)
    assert response.status_code == 200, response.content
    row.refresh_from_db()
    assert (row.status, row.decline_reason) == ("declined", "no_place")
    event = Event.objects.get(kind="federation.referral_answered")
    assert event.about_id == str(row.pk)
    from refuge.notifications.recipients import RULES

    assert RULES["federation.referral_answered"](event) == [personas["operator_a"].user.pk]
    # A second answer (another message) cannot change it.
    again = _answer_from_peer(fake_peer, row, answer="accepted", reason="")
    assert again.status_code == 409
    row.refresh_from_db()
    assert row.status == "declined"


def test_an_answer_for_an_unknown_referral_is_refused(db, fake_peer, trusted):
    response = _post(
        fake_peer,
        kind="referral.answer",
        body={"referral": str(uuid.uuid4()), "answer": "accepted", "reason": ""},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_referral"
    assert AuditEvent.objects.filter(
        action="federation.message_refused", details__code="unknown_referral"
    ).exists()
    assert not InboxMessage.objects.exists()  # refused: nothing of it kept, it may come again


def test_an_answer_with_a_made_up_reason_is_refused(personas, olga, peer_facility, fake_peer):
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    response = _answer_from_peer(fake_peer, row, reason="she is called Olga")
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.status == "sent"


# --- the receiving side ------------------------------------------------------------------------


def test_an_offer_becomes_a_referral_for_the_facilitys_staff(shelter, fake_peer, personas):
    body = _offer(shelter.pk)
    response = _post(fake_peer, kind="referral.offer", body=body)
    assert response.status_code == 200, response.content
    incoming = IncomingReferral.objects.get()
    assert incoming.facility == shelter and str(incoming.remote_id) == body["referral"]
    assert incoming.offer["risk_level"] == "high"
    event = Event.objects.get(kind="federation.referral_received")
    assert event.context == {"facility_ids": [str(shelter.pk)]}
    from refuge.notifications.recipients import RULES

    heard = set(RULES["federation.referral_received"](event))
    assert heard == {personas["caseworker_b"].user.pk, personas["manager_b"].user.pk}


@pytest.mark.parametrize(
    "extra",
    [
        {"name": "Olga Secretname"},
        {"phone": "+79990000000"},
        {"children": [{"age": 4, "sex": "female", "name": "Masha"}]},
    ],
)
def test_an_offer_with_a_name_or_phone_is_refused_and_audited(shelter, fake_peer, extra):
    response = _post(fake_peer, kind="referral.offer", body=_offer(shelter.pk, **extra))
    assert response.status_code == 400
    assert response.json()["code"] == "extra_fields"
    assert not IncomingReferral.objects.exists() and not Event.objects.exists()
    refusal = AuditEvent.objects.get(action="federation.message_refused")
    assert refusal.details["kind"] == "referral.offer"
    assert refusal.details["fields"] in (["name"], ["phone"], ["children.name"])
    stored = json.dumps([e.details for e in AuditEvent.objects.all()])
    assert "Secretname" not in stored and "+7999" not in stored and "Masha" not in stored


def test_an_offer_for_a_facility_not_shared_is_refused(orgs, fake_peer, trusted):
    hidden = make_facility(orgs["a"], "Not shared", region="RU-YAR", rooms=[("dorm", 1)])
    response = _post(fake_peer, kind="referral.offer", body=_offer(hidden.pk))
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_facility"
    assert not IncomingReferral.objects.exists()


def test_a_replayed_offer_creates_nothing_twice(shelter, fake_peer):
    body = _offer(shelter.pk)
    message_id = str(uuid.uuid4())
    assert _post(fake_peer, kind="referral.offer", body=body, message_id=message_id).json() == {
        "id": message_id,
        "duplicate": False,
    }
    # The same message again (a retry after a lost answer): acknowledged, not redone.
    again = _post(fake_peer, kind="referral.offer", body=body, message_id=message_id)
    assert again.json()["duplicate"] is True
    # The same referral under another message id: refused.
    assert _post(fake_peer, kind="referral.offer", body=body).status_code == 409
    assert IncomingReferral.objects.count() == 1
    assert Event.objects.filter(kind="federation.referral_received").count() == 1


def _received(shelter, fake_peer):
    _post(fake_peer, kind="referral.offer", body=_offer(shelter.pk))
    return IncomingReferral.objects.get()


def test_the_facilitys_staff_accept_and_the_peer_is_told(shelter, fake_peer, personas):
    incoming = _received(shelter, fake_peer)
    referrals.incoming_referral_answer(
        by=personas["caseworker_b"].principal, incoming=incoming, accept=True
    )
    run_worker()
    (kind, body), *_ = fake_peer.received.values()
    assert kind == "referral.answer"
    assert body == {"referral": str(incoming.remote_id), "answer": "accepted", "reason": ""}
    with pytest.raises(ServiceError) as exc:
        referrals.incoming_referral_answer(
            by=personas["manager_b"].principal, incoming=incoming, accept=True
        )
    assert exc.value.code == "conflict"
    assert AuditEvent.objects.filter(action="federation.referral_answer").count() == 1


def test_a_decline_needs_a_reason_code(shelter, fake_peer, personas):
    incoming = _received(shelter, fake_peer)
    with pytest.raises(ServiceError):
        referrals.incoming_referral_answer(
            by=personas["caseworker_b"].principal, incoming=incoming, accept=False
        )
    referrals.incoming_referral_answer(
        by=personas["caseworker_b"].principal, incoming=incoming, accept=False, reason="language"
    )
    run_worker()
    (_kind, body), *_ = fake_peer.received.values()
    assert body["answer"] == "declined" and body["reason"] == "language"


def test_another_organisation_cannot_answer(shelter, fake_peer, personas):
    incoming = _received(shelter, fake_peer)
    with pytest.raises(ServiceError) as exc:
        referrals.incoming_referral_answer(
            by=personas["caseworker_a"].principal, incoming=incoming, accept=True
        )
    assert exc.value.code == "forbidden"
    incoming.refresh_from_db()
    assert incoming.status == "open" and not OutboxMessage.objects.exists()


def test_the_page_lists_and_answers_in_english_and_russian(shelter, fake_peer, as_persona):
    incoming = _received(shelter, fake_peer)
    page = as_persona("caseworker_b").get("/federation/referrals/")
    assert page.status_code == 200
    assert "a girl of 4" in page.content.decode()
    assert "Accepting holds a place for her household until she arrives" in page.content.decode()
    russian = as_persona("manager_b")
    russian.cookies["django_language"] = "ru"
    ru = russian.get("/federation/referrals/").content.decode()
    assert "Направления между сетями" in ru and "девочка, 4" in ru and "Отклонить" in ru
    assert "Принятие бронирует место для её семьи до её приезда" in ru
    other = as_persona("caseworker_a").get("/federation/referrals/")
    assert "a girl of 4" not in other.content.decode()
    url = f"/federation/referrals/{incoming.pk}/answer/"
    assert as_persona("caseworker_a").post(url, {"answer": "accept"}).status_code == 404
    assert as_persona("analyst_b").post(url, {"answer": "accept"}).status_code == 403
    response = as_persona("caseworker_b").post(url, {"answer": "decline", "reason": "safety"})
    assert response.status_code == 302
    incoming.refresh_from_db()
    assert (incoming.status, incoming.decline_reason) == ("declined", "safety")


def test_the_page_asks_the_same_queries_however_many_referrals(
    shelter, fake_peer, as_persona, django_assert_max_num_queries, personas
):
    page = as_persona("caseworker_b")
    olga = client_create(by=personas["caseworker_b"].principal, name="Olga")
    peer_facility = PeerFacility.objects.create(
        peer=shelter_peer(fake_peer),
        remote_id=str(uuid.uuid4()),
        name="X",
        rules={},
        capacity={},
        availability="unknown",
    )

    def add():
        _post(fake_peer, kind="referral.offer", body=_offer(shelter.pk))
        referrals.federated_referral_send(
            by=personas["caseworker_b"].principal,
            client=olga,
            peer_facility=peer_facility,
            household=HOUSEHOLD,
        )

    for n in (1, 4):
        while IncomingReferral.objects.count() < n:
            add()
        # Signed in, the page's own reads (both lists with their peers, facilities, cases).
        with django_assert_max_num_queries(10):
            assert page.get("/federation/referrals/").status_code == 200


def shelter_peer(fake_peer):
    from refuge.federation.models import Peer

    return Peer.objects.get(public_key=fake_peer.public_key)


# --- withdrawal ----------------------------------------------------------------------------------


def test_the_sender_withdraws_and_the_peer_is_told(personas, olga, peer_facility, fake_peer):
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household=HOUSEHOLD,
    )
    with pytest.raises(ServiceError):
        referrals.federated_referral_withdraw(by=personas["operator_b"].principal, referral=row)
    referrals.federated_referral_withdraw(by=personas["caseworker_a"].principal, referral=row)
    run_worker()
    kinds = sorted(kind for kind, _body in fake_peer.received.values())
    assert kinds == ["referral.offer", "referral.withdraw"]
    withdraw = next(b for k, b in fake_peer.received.values() if k == "referral.withdraw")
    assert withdraw == {"referral": str(row.pk)}
    # Its answer, crossing the withdrawal, is received and changes nothing.
    assert _answer_from_peer(fake_peer, row, answer="accepted", reason="").status_code == 200
    row.refresh_from_db()
    assert row.status == "withdrawn"
    assert not Event.objects.filter(kind="federation.referral_answered").exists()


def test_a_withdrawn_offer_can_no_longer_be_answered(shelter, fake_peer, personas):
    incoming = _received(shelter, fake_peer)
    body = {"referral": str(incoming.remote_id)}
    assert _post(fake_peer, kind="referral.withdraw", body=body).status_code == 200
    incoming.refresh_from_db()
    assert incoming.status == "withdrawn"
    with pytest.raises(ServiceError):
        referrals.incoming_referral_answer(
            by=personas["caseworker_b"].principal, incoming=incoming, accept=True
        )
    unknown = _post(fake_peer, kind="referral.withdraw", body={"referral": str(uuid.uuid4())})
    assert unknown.status_code == 400
