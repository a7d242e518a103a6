"""A peer's referral accepted here holds a place for her household, as a local accept does
(issue 20): no local referral can take it while she crosses the border; it is given up when
the sender withdraws or the staff here say she is not coming, and becomes her stay when she
arrives, whether her record came before her or after."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.utils import timezone

from refuge.cases.models import Stay
from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.federation import referrals, travel
from refuge.federation.models import IncomingReferral, OutboxMessage, OutgoingReferral
from refuge.notifications.models import Event
from refuge.notifications.recipients import RULES
from refuge.referrals import services as local
from refuge.referrals.hooks import beds_held, holds_occupancy
from refuge.referrals.models import ReferralTarget
from refuge.vacancies import beds
from refuge.vacancies.free import free_places
from tests.federation.conftest import post_signed, run_worker
from tests.federation.test_handover import _incoming, _record, _sealed_body

MOTHER_AND_CHILD = {"woman_age": 30, "children": [{"age": 5, "sex": "male"}]}


def _family_room(shelter):
    return shelter.rooms.get(kind="family")


def _free_family_beds(shelter) -> int:
    return free_places([shelter.pk], timezone.now())[str(shelter.pk)].rooms[
        _family_room(shelter).pk
    ]


def _accept(personas, incoming):
    return referrals.incoming_referral_answer(
        by=personas["caseworker_b"].principal, incoming=incoming, accept=True
    )


def test_accepting_holds_the_family_room_and_a_local_referral_cannot_take_it(
    shelter, fake_peer, personas
):
    assert _free_family_beds(shelter) == 3
    incoming = _incoming(fake_peer, shelter, personas)
    incoming.refresh_from_db()
    room = _family_room(shelter)
    assert (incoming.hold_active, incoming.hold_room_id, incoming.hold_bed) == (True, room.pk, 0)
    # The one derivation of free places sees it: the board, the search and the services.
    assert _free_family_beds(shelter) == 0
    assert beds_held(room.pk, timezone.now()) == {0}
    assert holds_occupancy([shelter.pk], timezone.now())[room.pk].now == 1
    # A local referral for a mother and child is refused: the search no longer offers it.
    with pytest.raises(ServiceError) as exc:
        local.referral_create(
            by=personas["operator_a"].principal,
            client=None,
            household=MOTHER_AND_CHILD,
            facility_ids=[shelter.pk],
        )
    assert exc.value.code == "cannot_take"
    audit = AuditEvent.objects.get(action="federation.referral_answer")
    assert audit.details["room"] == str(room.pk) and audit.details["bed"] == 0


def test_accepting_with_no_free_place_is_refused_and_nothing_is_answered(
    shelter, fake_peer, personas
):
    # A local referral holds the family room first.
    local.referral_create(
        by=personas["operator_a"].principal,
        client=None,
        household=MOTHER_AND_CHILD,
        facility_ids=[shelter.pk],
    )
    incoming = _incoming(fake_peer, shelter, personas, accept=False)
    with pytest.raises(ServiceError) as exc:
        _accept(personas, incoming)
    assert exc.value.code == "no_place"
    assert "every room that fits her is taken or held" in exc.value.message
    incoming.refresh_from_db()
    assert incoming.status == "open" and not incoming.hold_active
    assert not OutboxMessage.objects.filter(kind="referral.answer").exists()
    # Declining still works, with its reason.
    referrals.incoming_referral_answer(
        by=personas["caseworker_b"].principal, incoming=incoming, accept=False, reason="no_place"
    )


def test_a_peer_accept_picks_the_unit_a_local_accept_would(shelter, fake_peer, personas):
    offer = {"referral": str(uuid.uuid4()), "facility": str(shelter.pk), "woman_age": 40}
    assert post_signed(fake_peer, kind="referral.offer", body=offer).status_code == 200
    incoming = _accept(personas, IncomingReferral.objects.get())
    # The local rule (refuge.referrals.services.find_place): the smallest unit that fits.
    local_referral = local.referral_create(
        by=personas["operator_a"].principal,
        client=None,
        household={"woman_age": 40},
        facility_ids=[shelter.pk],
    )
    target = local_referral.targets.get()
    assert incoming.hold_active and target.hold_active
    assert (target.hold_room_id, target.hold_bed) != (incoming.hold_room_id, incoming.hold_bed)


def test_the_senders_withdrawal_after_acceptance_gives_the_place_back(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    response = post_signed(
        fake_peer, kind="referral.withdraw", body={"referral": str(incoming.remote_id)}
    )
    assert response.status_code == 200, response.content
    incoming.refresh_from_db()
    assert incoming.status == "withdrawn" and not incoming.hold_active
    assert _free_family_beds(shelter) == 3
    event = Event.objects.get(kind="federation.referral_withdrawn")
    told = RULES["federation.referral_withdrawn"](event)
    assert personas["caseworker_b"].user.pk in told
    assert personas["caseworker_a"].user.pk not in told


def test_a_withdrawal_after_she_arrived_changes_nothing(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    travel.journey_arrive(by=personas["caseworker_b"].principal, incoming=incoming)
    response = post_signed(
        fake_peer, kind="referral.withdraw", body={"referral": str(incoming.remote_id)}
    )
    assert response.status_code == 200
    incoming.refresh_from_db()
    assert incoming.status == "accepted" and incoming.hold_active  # still held: no record yet
    assert AuditEvent.objects.filter(action="federation.referral_withdraw_late").count() == 1


def test_the_staff_here_give_up_the_place_and_the_sender_is_told(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    with pytest.raises(ServiceError) as exc:
        referrals.incoming_referral_release(
            by=personas["caseworker_a"].principal, incoming=incoming
        )
    assert exc.value.code == "forbidden"
    referrals.incoming_referral_release(by=personas["caseworker_b"].principal, incoming=incoming)
    incoming.refresh_from_db()
    assert incoming.status == "released" and not incoming.hold_active
    assert incoming.released_by == personas["caseworker_b"].user.username
    assert _free_family_beds(shelter) == 3
    with pytest.raises(ServiceError) as exc:
        referrals.incoming_referral_release(
            by=personas["caseworker_b"].principal, incoming=incoming
        )
    assert exc.value.code == "conflict"
    run_worker()
    sent = [body for kind, body in fake_peer.received.values() if kind == "referral.release"]
    assert sent == [{"referral": str(incoming.remote_id)}]


def test_no_release_once_she_has_arrived(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    travel.journey_arrive(by=personas["caseworker_b"].principal, incoming=incoming)
    with pytest.raises(ServiceError) as exc:
        referrals.incoming_referral_release(
            by=personas["caseworker_b"].principal, incoming=incoming
        )
    assert exc.value.code == "conflict"


def test_arrival_with_her_record_here_makes_the_held_place_her_stay(shelter, fake_peer, personas):
    incoming = _incoming(fake_peer, shelter, personas)
    rid = str(incoming.remote_id)
    assert post_signed(fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid)))
    incoming.refresh_from_db()
    assert incoming.client_id is not None and incoming.hold_active  # the record, not her yet
    travel.journey_arrive(by=personas["caseworker_b"].principal, incoming=incoming)
    incoming.refresh_from_db()
    stay = Stay.objects.get(client_id=incoming.client_id)
    assert incoming.stay_id == stay.pk and not incoming.hold_active
    assert (stay.room_id, stay.bed, stay.household_size) == (_family_room(shelter).pk, 0, 2)
    assert _free_family_beds(shelter) == 0  # held, then hers: never free in between


def test_arrival_before_her_record_keeps_the_place_until_the_record_comes(
    shelter, fake_peer, personas
):
    incoming = _incoming(fake_peer, shelter, personas)
    travel.journey_arrive(by=personas["caseworker_b"].principal, incoming=incoming)
    incoming.refresh_from_db()
    assert incoming.hold_active and incoming.stay_id is None
    assert _free_family_beds(shelter) == 0
    rid = str(incoming.remote_id)
    response = post_signed(fake_peer, kind="referral.record", body=_sealed_body(rid, _record(rid)))
    assert response.status_code == 200, response.content
    incoming.refresh_from_db()
    stay = Stay.objects.get(client_id=incoming.client_id)
    assert incoming.stay_id == stay.pk and not incoming.hold_active and stay.bed == 0
    assert _free_family_beds(shelter) == 0


# --- the sending side ---------------------------------------------------------------------------


@pytest.fixture
def accepted(personas, fake_peer, trusted):
    from refuge.cases.services import client_create
    from refuge.federation.models import PeerFacility

    facility = PeerFacility.objects.create(
        peer=trusted,
        remote_id=str(uuid.uuid4()),
        name="Bishkek house",
        region="KG-C",
        country="KG",
        availability="unknown",
    )
    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=client_create(by=personas["operator_a"].principal, name="Olga"),
        peer_facility=facility,
        household={"woman_age": 30},
    )
    body = {"referral": str(row.pk), "answer": "accepted", "reason": ""}
    assert post_signed(fake_peer, kind="referral.answer", body=body).status_code == 200
    row.refresh_from_db()
    return row


def test_the_sender_hears_that_the_place_was_given_up(accepted, fake_peer, personas):
    response = post_signed(fake_peer, kind="referral.release", body={"referral": str(accepted.pk)})
    assert response.status_code == 200, response.content
    accepted.refresh_from_db()
    assert accepted.status == "released"
    event = Event.objects.get(kind="federation.referral_released")
    assert RULES["federation.referral_released"](event) == [personas["operator_a"].user.pk]
    # A release carrying anything more is refused whole.
    extra = post_signed(
        fake_peer,
        kind="referral.release",
        body={"referral": str(accepted.pk), "why": "she went home"},
    )
    assert extra.status_code == 400


def test_the_sender_withdraws_an_accepted_referral_until_she_arrives(accepted, fake_peer, personas):
    row = referrals.federated_referral_withdraw(
        by=personas["operator_a"].principal, referral=accepted
    )
    assert row.status == "withdrawn"
    # The peer's release crossing our withdrawal changes nothing.
    response = post_signed(fake_peer, kind="referral.release", body={"referral": str(accepted.pk)})
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == "withdrawn"
    assert AuditEvent.objects.filter(action="federation.referral_release_late").count() == 1


def test_no_withdrawal_after_her_arrival(accepted, personas):
    OutgoingReferral.objects.filter(pk=accepted.pk).update(arrived_at=timezone.now())
    with pytest.raises(ServiceError) as exc:
        referrals.federated_referral_withdraw(
            by=personas["operator_a"].principal, referral=accepted
        )
    assert exc.value.code == "conflict"


# --- no place promised twice (PostgreSQL row locks) ---------------------------------------------


def test_a_peer_accept_and_a_local_hold_racing_for_the_last_family_room(
    transactional_db, orgs, personas, trusted, fake_peer
):
    """The peer's accept waits for the room's lock that a local referral holds; when the local
    hold commits, the accept reads the free places again and refuses: one household per room."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (DATABASE_URL); SQLite locks the database")
    from refuge.federation import services as fed
    from tests.directory.factories import make_facility
    from tests.referrals.conftest import system
    from tests.referrals.test_locks import _wait_for_a_lock_wait, in_a_thread

    fed.sharing_set(by=None, organisation=orgs["b"], share=True)
    shelter = system(make_facility(orgs["b"], "Last room", region="RU-VLA", rooms=[("family", 3)]))
    room = shelter.rooms.get()
    incoming = _incoming(fake_peer, shelter, personas, accept=False)
    waiting, outcome = in_a_thread(lambda: _accept(personas, incoming))
    with transaction.atomic():
        beds.lock_room(room.pk)
        waiting.start()
        _wait_for_a_lock_wait()
        local.referral_create(
            by=personas["operator_a"].principal,
            client=None,
            household=MOTHER_AND_CHILD,
            facility_ids=[shelter.pk],
        )
    waiting.join(timeout=60)
    assert outcome == {"code": "no_place"}
    local_holds = ReferralTarget.objects.filter(hold_room=room, hold_active=True).count()
    peer_holds = IncomingReferral.objects.filter(hold_room=room, hold_active=True).count()
    assert (local_holds, peer_holds) == (1, 0)


# --- the page ------------------------------------------------------------------------------------


def test_the_page_shows_the_held_place_and_gives_it_up(shelter, fake_peer, personas, as_persona):
    incoming = _incoming(fake_peer, shelter, personas)
    room = _family_room(shelter)
    staff = as_persona("caseworker_b")
    html = staff.get("/federation/referrals/").content.decode()
    assert f"{room.name} is held for her until she arrives." in html
    assert "She is not coming: give up the place" in html
    russian = as_persona("manager_b")
    russian.cookies["django_language"] = "ru"
    ru = russian.get("/federation/referrals/").content.decode()
    assert f"До её приезда за ней забронировано: {room.name}." in ru and "снять бронь" in ru
    url = f"/federation/referrals/{incoming.pk}/release/"
    assert as_persona("caseworker_a").post(url).status_code == 404  # another organisation
    assert staff.get(url).status_code == 405
    assert staff.post(url).status_code == 302
    assert staff.post(url).status_code == 302  # twice: refused with a message, nothing more
    incoming.refresh_from_db()
    assert incoming.status == "released"
    assert OutboxMessage.objects.filter(kind="referral.release").count() == 1
    html = staff.get("/federation/referrals/").content.decode()
    assert "place given up" in html and "She is not coming" not in html
    assert staff.post(f"/federation/referrals/{uuid.uuid4()}/release/").status_code == 404


def test_the_release_is_for_case_staff_only(shelter, fake_peer, personas, as_persona):
    from refuge.core.roles import CASE_ROLES

    incoming = _incoming(fake_peer, shelter, personas)
    url = f"/federation/referrals/{incoming.pk}/release/"
    for name, persona in sorted(personas.items()):
        if persona.role in CASE_ROLES and name.endswith("_b"):
            continue  # the facility's case staff may (the test above)
        response = as_persona(name).post(url)
        assert response.status_code in (403, 404), (name, response.status_code)
    incoming.refresh_from_db()
    assert incoming.status == "accepted" and incoming.hold_active


def test_the_referral_and_the_search_name_the_network_as_staff_read_it(
    shelter, fake_peer, personas, as_persona, trusted
):
    trusted.title = "Crisis centres of Kyrgyzstan"
    trusted.save(update_fields=["title"])
    _incoming(fake_peer, shelter, personas)
    html = as_persona("caseworker_b").get("/federation/referrals/").content.decode()
    assert "from the network Crisis centres of Kyrgyzstan" in html
    assert "kyrgyz-centres" not in html
