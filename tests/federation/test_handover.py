"""Her record handed over to the network that accepted her (issue 20, item 4): sealed so that
only that network opens it, after her consent, exactly once; on the receiving side it becomes
a case of the facility's organisation, or is refused whole."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client as HttpClient
from django_tasks_db.models import DBTaskResult

from refuge.cases.models import Client
from refuge.cases.services import client_create, household_member_add
from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.federation import conf, handover, referrals, sealing, services, signing
from refuge.federation.models import (
    IncomingReferral,
    OutboxMessage,
    OutgoingReferral,
    Peer,
    PeerFacility,
)
from refuge.notifications.models import Event
from refuge.notifications.recipients import RULES
from tests.federation.conftest import me, post_signed, run_worker

URL = "/api/v1/federation/inbox"
SECRET = "Olga Secretname"


def _key():
    return sealing.private_key(signing.new_seed())


# --- sealing, pure ------------------------------------------------------------------------------


def test_a_sealed_record_opens_with_its_key_only():
    mine, other = _key(), _key()
    aad = handover.aad("r1", sealing.public_key_text(mine))
    sealed = sealing.seal(b"her record", recipient_key=sealing.public_key_text(mine), aad=aad)
    assert sealing.open_sealed(sealed, key=mine, aad=aad) == b"her record"
    assert b"her record" not in json.dumps(sealed).encode()
    with pytest.raises(sealing.SealError):
        sealing.open_sealed(sealed, key=other, aad=aad)  # a third instance's key


def test_a_sealed_record_moved_or_altered_does_not_open():
    mine = _key()
    pub = sealing.public_key_text(mine)
    sealed = sealing.seal(b"her record", recipient_key=pub, aad=handover.aad("r1", pub))
    with pytest.raises(sealing.SealError):  # presented as another referral's record
        sealing.open_sealed(sealed, key=mine, aad=handover.aad("r2", pub))
    for field in ("ciphertext", "wrapped_key", "epk"):
        raw = bytearray(signing.unb64(sealed[field]))
        raw[-1] ^= 1
        tampered = {**sealed, field: signing.b64(bytes(raw))}
        with pytest.raises(sealing.SealError):
            sealing.open_sealed(tampered, key=mine, aad=handover.aad("r1", pub))
    for broken in ({**sealed, "alg": "none"}, {**sealed, "extra": 1}, "x", {**sealed, "epk": "!"}):
        with pytest.raises(sealing.SealError):
            sealing.open_sealed(broken, key=mine, aad=handover.aad("r1", pub))


def test_each_sealing_uses_a_fresh_key():
    pub = sealing.public_key_text(_key())
    one = sealing.seal(b"x", recipient_key=pub, aad=b"a")
    two = sealing.seal(b"x", recipient_key=pub, aad=b"a")
    assert one["epk"] != two["epk"] and one["ciphertext"] != two["ciphertext"]


# --- the sending side ---------------------------------------------------------------------------


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
    by = personas["operator_a"].principal
    client = client_create(
        by=by,
        name=SECRET,
        phone="+79990001122",
        languages=["ru", "ky"],
        documents=["passport"],
        health_notes="needs insulin",
        safe_contact="sister Aigul",
    )
    household_member_add(by=by, client=client, age=5, sex="male", name="Timur Secretname")
    return client


_post = post_signed


def _accepted(personas, olga, peer_facility, fake_peer) -> OutgoingReferral:
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household={"woman_age": 30, "children": [{"age": 5, "sex": "male"}]},
        risk_level="high",
    )
    answer = {"referral": str(row.pk), "answer": "accepted", "reason": ""}
    assert _post(fake_peer, kind="referral.answer", body=answer).status_code == 200
    row.refresh_from_db()
    assert row.status == "accepted"
    return row


def test_after_consent_her_record_reaches_the_peer_sealed(personas, olga, peer_facility, fake_peer):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    handover.federated_record_consent(by=personas["caseworker_a"].principal, referral=row)
    row.refresh_from_db()
    assert row.consent_by == "caseworker-a" and row.sealed_record is not None
    outbox = OutboxMessage.objects.get(kind="referral.record")
    assert outbox.subject_id == str(row.pk)
    # Before and after delivery: nothing of her in clear in the outbox, the jobs or the audit.
    clear = (
        json.dumps(list(OutboxMessage.objects.values()), default=str)
        + json.dumps(list(DBTaskResult.objects.values()), default=str)
        + json.dumps(list(AuditEvent.objects.values()), default=str)
        + json.dumps(list(OutgoingReferral.objects.values()), default=str)
    )
    for secret in ("Secretname", "Olga", "insulin", "+7999", "Aigul"):
        assert secret not in clear
    run_worker()
    outbox.refresh_from_db()
    assert outbox.status == "delivered"
    kind, body = fake_peer.received[str(outbox.pk)]
    assert kind == "referral.record" and set(body) == {"referral", "sealed"}
    assert "Secretname" not in json.dumps(body)
    with pytest.raises(sealing.SealError):  # not even the sender opens it
        sealing.open_sealed(
            body["sealed"],
            key=_key(),
            aad=handover.aad(str(row.pk), fake_peer.sealing_public_key),
        )
    record = json.loads(
        sealing.open_sealed(
            body["sealed"],
            key=fake_peer.sealing_key,
            aad=handover.aad(str(row.pk), fake_peer.sealing_public_key),
        )
    )
    assert set(record) == handover.RECORD_FIELDS
    assert record["name"] == SECRET and record["health_notes"] == "needs insulin"
    assert record["household"] == [
        {"relation": "child", "age": 5, "sex": "male", "name": "Timur Secretname"}
    ]
    assert record["risk_level"] == "high" and record["documents"] == ["passport"]
    assert "+7999" not in json.dumps(record) and "Aigul" not in json.dumps(record)
    # The peer confirmed receipt: the sealed copy is gone, the hand-over is on her case.
    row.refresh_from_db()
    assert row.sealed_record is None and row.record_received_at is not None
    event = AuditEvent.objects.get(action="federation.record_handed_over")
    assert event.target_type == "cases.client" and event.target_id == str(olga.pk)
    assert AuditEvent.objects.filter(
        action="federation.record_consent", target_id=str(olga.pk)
    ).exists()


def test_consent_needs_an_accepted_referral_and_is_given_once(
    personas, olga, peer_facility, fake_peer
):
    by = personas["caseworker_a"].principal
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household={"woman_age": 30},
    )
    with pytest.raises(ServiceError) as exc:
        handover.federated_record_consent(by=by, referral=row)
    assert exc.value.code == "not_accepted"
    assert not OutboxMessage.objects.filter(kind="referral.record").exists()
    answer = {"referral": str(row.pk), "answer": "accepted", "reason": ""}
    _post(fake_peer, kind="referral.answer", body=answer)
    handover.federated_record_consent(by=by, referral=row)
    with pytest.raises(ServiceError) as exc:
        handover.federated_record_consent(by=by, referral=row)
    assert exc.value.code == "conflict"
    assert OutboxMessage.objects.filter(kind="referral.record").count() == 1


def test_a_peer_trusted_without_a_sealing_key_cannot_receive_her_record(
    personas, olga, peer_facility, fake_peer, trusted, as_persona
):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    Peer.objects.filter(pk=trusted.pk).update(sealing_key="")  # an old trust record
    with pytest.raises(ServiceError) as exc:
        handover.federated_record_consent(by=personas["caseworker_a"].principal, referral=row)
    assert exc.value.code == "no_sealing_key" and "sealing key" in exc.value.message
    row.refresh_from_db()
    assert row.consent_at is None and row.sealed_record is None
    page = as_persona("caseworker_a").get("/federation/referrals/").content.decode()
    assert "has not given its sealing key" in page and f"{row.pk}/consent/" not in page


def test_only_her_organisations_case_staff_record_consent(personas, olga, peer_facility, fake_peer):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    with pytest.raises(ServiceError) as exc:
        handover.federated_record_consent(by=personas["caseworker_b"].principal, referral=row)
    assert exc.value.code == "forbidden"
    for role in ("analyst_a", "facilitator_a", "partner_a", "admin_a"):
        with pytest.raises(PermissionDenied):
            handover.federated_record_consent(by=personas[role].principal, referral=row)
    assert not OutboxMessage.objects.filter(kind="referral.record").exists()


def test_the_consent_form_works_for_case_staff_and_refuses_the_others(
    personas, olga, peer_facility, fake_peer, as_persona
):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    url = f"/federation/referrals/{row.pk}/consent/"
    page = as_persona("caseworker_a").get("/federation/referrals/").content.decode()
    assert url in page and "She agrees that her record is handed over" in page
    for role in ("analyst_a", "facilitator_a", "partner_a", "admin_a"):
        assert as_persona(role).post(url, {"consent": "on"}).status_code == 403
    for role in ("caseworker_b", "operator_b", "manager_b"):
        assert as_persona(role).post(url, {"consent": "on"}).status_code == 404
    unticked = as_persona("caseworker_a").post(url, {})
    assert unticked.status_code == 302
    row.refresh_from_db()
    assert row.consent_at is None
    assert as_persona("operator_a").post(url, {"consent": "on"}).status_code == 302
    row.refresh_from_db()
    assert row.consent_by == "operator-a" and row.record_sent_at is not None
    russian = as_persona("caseworker_a")
    russian.cookies["django_language"] = "ru"
    ru = russian.get("/federation/referrals/").content.decode()
    assert "Её дело зашифровано для этой сети" in ru


# --- the receiving side -------------------------------------------------------------------------


def _incoming(fake_peer, shelter, personas, *, accept=True) -> IncomingReferral:
    offer = {
        "referral": str(uuid.uuid4()),
        "facility": str(shelter.pk),
        "woman_age": 30,
        "children": [{"age": 5, "sex": "male"}],
        "risk_level": "high",
    }
    assert _post(fake_peer, kind="referral.offer", body=offer).status_code == 200
    incoming = IncomingReferral.objects.get(remote_id=offer["referral"])
    if accept:
        referrals.incoming_referral_answer(
            by=personas["caseworker_b"].principal, incoming=incoming, accept=True
        )
    return incoming


def _record(rid: str, **extra) -> dict:
    return {
        "v": 1,
        "referral": rid,
        "name": SECRET,
        "birth_date": "1994-03-02",
        "age_band": "25-34",
        "languages": ["ru"],
        "citizenship": "kg",
        "documents": ["passport"],
        "needs": [],
        "pets": 0,
        "health_notes": "needs insulin",
        "household": [{"relation": "child", "age": 5, "sex": "male", "name": "Timur"}],
        "risk_level": "high",
        **extra,
    }


def _sealed_body(rid: str, record: dict, *, to: str | None = None) -> dict:
    to = to or conf.identity().sealing_public_key
    return {
        "referral": rid,
        "sealed": sealing.seal(
            signing.canonical(record), recipient_key=to, aad=handover.aad(rid, to)
        ),
    }


def test_a_record_becomes_her_case_in_the_facilitys_organisation(
    shelter, fake_peer, personas, as_persona
):
    incoming = _incoming(fake_peer, shelter, personas)
    rid = str(incoming.remote_id)
    response = _post(fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid)))
    assert response.status_code == 200, response.content
    incoming.refresh_from_db()
    client = Client.objects.get(pk=incoming.client_id)
    assert client.organisation == shelter.organisation and incoming.record_received_at
    assert client.name == SECRET and client.birth_date == "1994-03-02"
    assert client.health_notes == "needs insulin" and client.citizenship == "KG"
    assert client.data_key_id is not None  # her own data key, wrapped by our master key
    assert [(m.age, m.name) for m in client.household.all()] == [(5, "Timur")]
    assert "high" in client.notes.get().body
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute(
            f"SELECT name FROM {Client._meta.db_table} WHERE id = %s",  # noqa: S608
            [Client._meta.pk.get_db_prep_value(client.pk, connection)],
        )
        assert "Secretname" not in cursor.fetchone()[0]
    assert AuditEvent.objects.filter(action="federation.record_received").count() == 1
    event = Event.objects.get(kind="federation.record_received")
    heard = set(RULES["federation.record_received"](event))
    assert heard == {personas["caseworker_b"].user.pk, personas["manager_b"].user.pk}
    assert "Secretname" not in json.dumps(event.context)
    page = as_persona("caseworker_b").get("/federation/referrals/").content.decode()
    assert "her case is in your list of cases" in page
    again = _post(fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid)))
    assert (
        again.status_code == 409
        and Client.objects.filter(name_index=client.name_index).count() == 1
    )


def _refused(response, code, status):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not Client.objects.filter(organisation__slug="org-b").exists()
    refusal = AuditEvent.objects.filter(action="federation.message_refused").last()
    assert refusal.details["code"] == code and refusal.details["kind"] == "referral.record"
    assert "Secretname" not in json.dumps(refusal.details)


def test_a_record_for_an_unknown_referral_is_refused(shelter, fake_peer, personas):
    rid = str(uuid.uuid4())
    response = _post(fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid)))
    _refused(response, "unknown_referral", 404)


def test_a_record_before_the_referral_is_accepted_is_refused(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas, accept=False)
    rid = str(incoming.remote_id)
    response = _post(fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid)))
    _refused(response, "not_accepted", 409)
    incoming.refresh_from_db()
    assert incoming.client_id is None


def test_a_record_sealed_for_another_instance_is_refused_whole(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    rid = str(incoming.remote_id)
    third = sealing.public_key_text(_key())
    response = _post(
        fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid), to=third)
    )
    _refused(response, "unsealable", 422)
    other = str(uuid.uuid4())  # sealed for us, but for another referral
    body = {**_sealed_body(other, _record(other)), "referral": rid}
    _refused(_post(fake_peer, kind="referral.record", body=body), "unsealable", 422)
    incoming.refresh_from_db()
    assert incoming.client_id is None


def test_a_record_with_more_than_the_minimum_is_refused(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    rid = str(incoming.remote_id)
    record = _record(rid, notes="the other party lives at ...", phone="+7999")
    response = _post(fake_peer, kind="referral.record", body=_sealed_body(rid, record))
    _refused(response, "extra_fields", 400)
    refusal = AuditEvent.objects.filter(action="federation.message_refused").last()
    assert refusal.details["fields"] == ["notes", "phone"]
    clear = {**_sealed_body(rid, _record(rid)), "name": SECRET}  # a name beside the seal
    _refused(_post(fake_peer, kind="referral.record", body=clear), "extra_fields", 400)


def test_a_forged_or_replayed_record_is_refused(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    rid = str(incoming.remote_id)
    body = _sealed_body(rid, _record(rid))
    forged = _post(
        fake_peer, kind="referral.record", body=body, key=signing.private_key(signing.new_seed())
    )
    assert forged.status_code == 403
    message = signing.seal(
        fake_peer.key,
        sender="fake",
        recipient_key=me().public_key,
        kind="referral.record",
        body=body,
    )
    first = HttpClient().post(URL, data=json.dumps(message), content_type="application/json")
    assert first.status_code == 200
    replayed = HttpClient().post(URL, data=json.dumps(message), content_type="application/json")
    assert replayed.status_code == 409
    assert Client.objects.filter(organisation__slug="org-b").count() == 1


def test_an_instance_without_a_sealing_key_refuses_records(shelter, fake_peer, personas, settings):
    incoming = _incoming(fake_peer, shelter, personas)
    rid = str(incoming.remote_id)
    body = _sealed_body(rid, _record(rid))
    settings.REFUGE_FEDERATION_SEALING_KEY = ""
    assert conf.identity().sealing_public_key == ""
    _refused(_post(fake_peer, kind="referral.record", body=body), "no_sealing_key", 409)


def test_a_record_never_confirmed_or_for_an_untrusted_peer_is_not_kept(
    personas, olga, peer_facility, fake_peer, trusted
):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    fake_peer.down = True
    handover.federated_record_consent(by=personas["caseworker_a"].principal, referral=row)
    outbox = OutboxMessage.objects.get(kind="referral.record")
    OutboxMessage.objects.filter(pk=outbox.pk).update(attempts=services.MAX_ATTEMPTS - 1)
    assert services.outbox_send(message_id=str(outbox.pk)) == "failed"
    row.refresh_from_db()
    assert row.sealed_record is None and row.record_received_at is None
    # Untrusting the peer empties a sealed record still waiting for it.
    OutgoingReferral.objects.filter(pk=row.pk).update(sealed_record={"alg": "x"})
    services.peer_untrust(by=None, peer=trusted)
    row.refresh_from_db()
    assert row.sealed_record is None


def test_an_erased_record_is_not_handed_over(personas, olga, peer_facility, fake_peer):
    from refuge.cases.services import client_shred

    row = _accepted(personas, olga, peer_facility, fake_peer)
    client_shred(by=None, client=olga, reason="erasure: her_request")
    with pytest.raises(ServiceError) as exc:
        handover.federated_record_consent(by=personas["caseworker_a"].principal, referral=row)
    assert exc.value.code == "erased"
    row.refresh_from_db()
    assert row.consent_at is None and row.sealed_record is None
    assert not OutboxMessage.objects.filter(kind="referral.record").exists()
