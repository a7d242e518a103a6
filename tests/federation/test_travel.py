"""Her journey across the border (issue 20, item 5): the receiving network plans it under its
own rules; its carriers see the address until she arrives, each display audited; the sending
network is told only the whitelist (way of travel, times, a meeting point, the escort's role)
and that she arrived."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refuge.cases.services import client_create
from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.federation import services, travel
from refuge.federation.models import (
    IncomingReferral,
    Journey,
    OutboxMessage,
    OutgoingReferral,
    PeerFacility,
)
from refuge.notifications.models import Event
from refuge.notifications.recipients import RULES
from tests.directory.factories import make_facility
from tests.federation.conftest import run_worker
from tests.federation.test_handover import _accepted, _incoming, _post
from tests.referrals.conftest import system

ADDRESS = "Ulitsa Lenina 12"
POSTAL = "600017"
POINT = "Kazansky station, under the clock"
ESCORT = "Marina Escortova"


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


@pytest.fixture
def house(orgs, trusted):
    services.sharing_set(by=None, organisation=orgs["b"], share=True)
    return system(
        make_facility(
            orgs["b"],
            "Vladimir refuge",
            region="RU-VLA",
            rooms=[("dorm", 4), ("family", 3)],
            address=ADDRESS,
            postal_code=POSTAL,
            locality="Vladimir",
        )
    )


@pytest.fixture
def incoming(fake_peer, house, personas) -> IncomingReferral:
    return _incoming(fake_peer, house, personas)


def _plan(personas, incoming, *, by="caseworker_b", carriers=("caseworker_b",), **extra):
    values = {
        "mode": "train",
        "departs_at": timezone.now() + timedelta(hours=2),
        "arrives_at": timezone.now() + timedelta(hours=8),
        "meeting_point": POINT,
        "escort": ESCORT,
        "escort_role": "caseworker",
        **extra,
    }
    return travel.journey_plan(
        by=personas[by].principal,
        incoming=incoming,
        carriers=[personas[c].user for c in carriers],
        **values,
    )


# --- the receiving side -------------------------------------------------------------------------


def test_the_plan_reaches_the_sender_with_the_whitelist_only(personas, incoming, fake_peer):
    journey = _plan(personas, incoming)
    outbox = OutboxMessage.objects.get(kind="journey.plan")
    assert outbox.subject_id == str(incoming.pk)
    # Nothing of the meeting point or the escort in an outbox row, a job or the audit trail.
    clear = (
        json.dumps(list(OutboxMessage.objects.values()), default=str)
        + json.dumps(list(DBTaskResult.objects.values()), default=str)
        + json.dumps(list(AuditEvent.objects.values()), default=str)
    )
    for secret in ("Kazansky", "Escortova", "Lenina", POSTAL):
        assert secret not in clear
    with connection.cursor() as cursor:  # the escort's name is encrypted at rest
        cursor.execute(
            f"SELECT escort FROM {Journey._meta.db_table} WHERE id = %s",  # noqa: S608
            [Journey._meta.pk.get_db_prep_value(journey.pk, connection)],
        )
        assert "Escortova" not in cursor.fetchone()[0]
    assert Journey.objects.get(pk=journey.pk).escort == ESCORT
    run_worker()
    outbox.refresh_from_db()
    assert outbox.status == "delivered"
    kind, body = fake_peer.received[str(outbox.pk)]
    assert kind == "journey.plan" and set(body) == travel.PLAN_FIELDS
    assert body["referral"] == str(incoming.remote_id)
    assert body["meeting_point"] == POINT and body["escort_role"] == "caseworker"
    for secret in ("Escortova", "Lenina", POSTAL, "Vladimir", str(incoming.facility_id)):
        assert secret not in json.dumps(body)


def test_a_meeting_point_that_gives_the_place_away_is_refused(personas, incoming):
    for point in (f"at {ADDRESS.upper()}, the gate", f"postcode {POSTAL}"):
        with pytest.raises(ServiceError) as exc:
            _plan(personas, incoming, meeting_point=point)
        assert exc.value.code == "meeting_point_is_address"
    assert not Journey.objects.exists()
    assert not OutboxMessage.objects.filter(kind="journey.plan").exists()


def test_only_the_receiving_organisations_case_staff_plan_and_carry_it_out(personas, incoming):
    for other in ("caseworker_a", "operator_a"):  # the sending side is never a carrier
        with pytest.raises(ServiceError) as exc:
            _plan(personas, incoming, carriers=(other,))
        assert exc.value.code == "forbidden"
    for role in ("facilitator_b", "partner_b", "analyst_b", "admin_b"):
        with pytest.raises(ServiceError) as exc:
            _plan(personas, incoming, carriers=(role,))
        assert exc.value.code == "forbidden"
    with pytest.raises(ServiceError) as exc:
        _plan(personas, incoming, by="caseworker_a")
    assert exc.value.code == "forbidden"
    assert not Journey.objects.exists()


def test_no_plan_before_the_referral_is_accepted(personas, fake_peer, house):
    pending = _incoming(fake_peer, house, personas, accept=False)
    with pytest.raises(ServiceError) as exc:
        _plan(personas, pending)
    assert exc.value.code == "conflict"


def test_the_journey_page_per_role(personas, incoming, as_persona):
    url = f"/federation/referrals/{incoming.pk}/journey/"
    for role in ("caseworker_b", "manager_b", "operator_b", "coordinator_b"):
        assert as_persona(role).get(url).status_code == 200, role
    for role in ("analyst_b", "facilitator_b", "partner_b", "admin_b"):
        assert as_persona(role).get(url).status_code == 403, role
        assert as_persona(role).post(url, {"mode": "bus"}).status_code == 403, role
        assert as_persona(role).post(url + "arrived/").status_code == 403, role
    for role in ("caseworker_a", "manager_a", "coordinator_a"):
        assert as_persona(role).get(url).status_code == 404, role
        assert as_persona(role).post(url + "arrived/").status_code == 404, role
    assert not Journey.objects.exists()
    assert IncomingReferral.objects.get(pk=incoming.pk).arrived_at is None
    assert (
        as_persona("caseworker_b").get(f"/federation/referrals/{uuid.uuid4()}/journey/").status_code
        == 404
    )


def test_the_plan_form_saves_and_tells_the_other_network(personas, incoming, as_persona):
    url = f"/federation/referrals/{incoming.pk}/journey/"
    when = (timezone.localtime() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = as_persona("manager_b").post(
        url,
        {
            "mode": "bus",
            "arrives_at": when,
            "meeting_point": POINT,
            "escort": ESCORT,
            "escort_role": "volunteer",
            "carriers": [personas["caseworker_b"].user.pk],
        },
    )
    assert response.status_code == 302, response.content
    journey = Journey.objects.get(incoming=incoming)
    assert journey.mode == "bus" and journey.escort == ESCORT
    assert list(journey.carriers.all()) == [personas["caseworker_b"].user]
    assert OutboxMessage.objects.filter(kind="journey.plan").count() == 1
    bad = as_persona("manager_b").post(
        url,
        {"mode": "bus", "meeting_point": ADDRESS, "escort_role": "none"},
    )
    assert bad.status_code == 200 and "cannot be the facility" in bad.content.decode()
    stranger = as_persona("manager_b").post(
        url,
        {"mode": "bus", "escort_role": "none", "carriers": [personas["caseworker_a"].user.pk]},
    )
    assert stranger.status_code == 200  # not a choice: the form refuses it
    assert OutboxMessage.objects.filter(kind="journey.plan").count() == 1


def _address_reads(facility) -> int:
    return AuditEvent.objects.filter(
        action="facility.address_read", target_id=str(facility.pk), details__what="journey"
    ).count()


def test_the_carriers_see_the_address_each_display_audited_until_she_arrives(
    personas, incoming, as_persona, fake_peer
):
    _plan(personas, incoming)
    url = f"/federation/referrals/{incoming.pk}/journey/"
    carrier = as_persona("caseworker_b")
    for n in (1, 2):
        page = carrier.get(url).content.decode()
        assert ADDRESS in page and _address_reads(incoming.facility) == n
    # A colleague of the facility who does not carry it out: not on this page.
    assert ADDRESS not in as_persona("manager_b").get(url).content.decode()
    assert _address_reads(incoming.facility) == 2
    # She arrives: the carriers lose it; the sending network is told (the referral's id only).
    assert carrier.post(url + "arrived/").status_code == 302
    incoming.refresh_from_db()
    assert incoming.arrived_at is not None and incoming.arrived_by == "caseworker-b"
    page = carrier.get(url).content.decode()
    assert ADDRESS not in page and _address_reads(incoming.facility) == 2
    assert not travel.carries_out_journey(personas["caseworker_b"].principal, incoming)
    outbox = OutboxMessage.objects.get(kind="journey.arrived")
    run_worker()
    assert fake_peer.received[str(outbox.pk)] == (
        "journey.arrived",
        {"referral": str(incoming.remote_id)},
    )
    with pytest.raises(ServiceError) as exc:
        travel.journey_arrive(by=personas["caseworker_b"].principal, incoming=incoming)
    assert exc.value.code == "conflict"
    with pytest.raises(ServiceError) as exc:
        _plan(personas, incoming)
    assert exc.value.code == "conflict"


def test_the_carriers_sight_of_the_address_ends_with_the_window(personas, incoming, settings):
    past = timezone.now() - timedelta(hours=settings.REFUGE_CARRIER_ADDRESS_HOURS + 1)
    _plan(personas, incoming, departs_at=past - timedelta(hours=3), arrives_at=past)
    incoming.refresh_from_db()
    p = personas["caseworker_b"].principal
    assert not travel.carries_out_journey(p, incoming)
    assert travel.journey_address_for(p, incoming) is None
    Journey.objects.update(arrives_at=timezone.now() + timedelta(hours=1))  # inside the window
    assert travel.carries_out_journey(p, incoming)
    assert not travel.carries_out_journey(personas["manager_b"].principal, incoming)


# --- the sending side ---------------------------------------------------------------------------


def _plan_body(row, **extra) -> dict:
    return {
        "referral": str(row.pk),
        "mode": "train",
        "departs_at": (timezone.now() + timedelta(hours=2)).isoformat(),
        "arrives_at": (timezone.now() + timedelta(hours=9)).isoformat(),
        "meeting_point": POINT,
        "escort_role": "caseworker",
        "planned_at": timezone.now().isoformat(),
        **extra,
    }


def test_the_sender_sees_the_plan_and_her_arrival(
    personas, olga, peer_facility, fake_peer, as_persona
):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    assert _post(fake_peer, kind="journey.plan", body=_plan_body(row)).status_code == 200
    row.refresh_from_db()
    assert row.journey["meeting_point"] == POINT and row.journey["mode"] == "train"
    assert AuditEvent.objects.filter(action="federation.journey_received").count() == 1
    assert POINT not in json.dumps(list(AuditEvent.objects.values("details")), default=str)
    event = Event.objects.get(kind="federation.journey_planned")
    assert personas["operator_a"].user.pk in set(RULES["federation.journey_planned"](event))
    assert POINT not in json.dumps(event.context)
    url = f"/federation/referrals/sent/{row.pk}/journey/"
    page = as_persona("caseworker_a").get(url).content.decode()
    assert POINT in page and "train" in page and "caseworker" in page
    listing = as_persona("caseworker_a").get("/federation/referrals/").content.decode()
    assert url in listing and "journey planned" in listing
    for role in ("analyst_a", "facilitator_a", "partner_a", "admin_a"):
        assert as_persona(role).get(url).status_code == 403, role
    for role in ("caseworker_b", "manager_b"):
        assert as_persona(role).get(url).status_code == 404, role
    # An older plan arriving late does not replace the newer one.
    older = _plan_body(
        row,
        meeting_point="Old station",
        planned_at=(timezone.now() - timedelta(hours=1)).isoformat(),
    )
    assert _post(fake_peer, kind="journey.plan", body=older).status_code == 200
    row.refresh_from_db()
    assert row.journey["meeting_point"] == POINT
    arrived = {"referral": str(row.pk)}
    assert _post(fake_peer, kind="journey.arrived", body=arrived).status_code == 200
    row.refresh_from_db()
    assert row.arrived_at is not None
    assert Event.objects.filter(kind="federation.journey_arrived").count() == 1
    page = as_persona("caseworker_a").get(url).content.decode()
    assert "she arrived" in page
    russian = as_persona("caseworker_a")
    russian.cookies["django_language"] = "ru"
    ru = russian.get(url).content.decode()
    assert "Место встречи" in ru and "прибыла" in ru


def test_a_plan_carrying_an_address_is_refused_and_nothing_kept(
    personas, olga, peer_facility, fake_peer
):
    row = _accepted(personas, olga, peer_facility, fake_peer)
    for extra in ({"address": ADDRESS}, {"escort": ESCORT, "phone": "+7999"}):
        response = _post(fake_peer, kind="journey.plan", body=_plan_body(row, **extra))
        assert response.status_code == 400 and response.json()["code"] == "extra_fields"
        refusal = AuditEvent.objects.filter(action="federation.message_refused").last()
        assert refusal.details["kind"] == "journey.plan"
        assert refusal.details["fields"] == sorted(extra)
        assert ADDRESS not in json.dumps(refusal.details) and "Escortova" not in json.dumps(
            refusal.details
        )
    extra_arrival = {"referral": str(row.pk), "address": ADDRESS}
    response = _post(fake_peer, kind="journey.arrived", body=extra_arrival)
    assert response.status_code == 400
    row.refresh_from_db()
    assert row.journey is None and row.arrived_at is None


def test_a_plan_for_a_referral_not_accepted_or_unknown_is_refused(
    personas, olga, peer_facility, fake_peer
):
    from refuge.federation import referrals

    row = referrals.federated_referral_send(
        by=personas["operator_a"].principal,
        client=olga,
        peer_facility=peer_facility,
        household={"woman_age": 30},
    )
    response = _post(fake_peer, kind="journey.plan", body=_plan_body(row))
    assert response.status_code == 409 and response.json()["code"] == "not_accepted"
    unknown = _plan_body(row, referral=str(uuid.uuid4()))
    assert _post(fake_peer, kind="journey.plan", body=unknown).status_code == 404
    bad = _plan_body(row, mode="teleport")
    assert _post(fake_peer, kind="journey.plan", body=bad).status_code == 400
    assert OutgoingReferral.objects.get(pk=row.pk).journey is None


def test_bad_values_in_the_plan_form_give_no_5xx_and_save_nothing(personas, incoming, as_persona):
    url = f"/federation/referrals/{incoming.pk}/journey/"
    page = as_persona("caseworker_b")
    for bad in (
        {"mode": "teleport", "escort_role": "none"},
        {"mode": "bus", "escort_role": "king"},
        {"mode": "bus", "escort_role": "none", "meeting_point": "x" * 10_000},
        {"mode": "bus", "escort_role": "none", "departs_at": "9999-99-99"},
        {"mode": "bus", "escort_role": "none", "arrives_at": "1900-01-01T00:00"},
        {"mode": "bus", "escort_role": "none", "escort": "\u202eevil" * 1000},
        {"mode": "bus", "escort_role": "none", "carriers": ["abc", str(uuid.uuid4())]},
    ):
        assert page.post(url, bad).status_code == 200, bad
    assert not Journey.objects.exists()
    assert page.get(f"/federation/referrals/sent/{uuid.uuid4()}/journey/").status_code == 404
    assert page.post(f"/federation/referrals/{uuid.uuid4()}/journey/arrived/").status_code == 404


def test_a_withdrawal_by_the_sending_network_ends_the_carriers_sight(
    personas, incoming, fake_peer, as_persona
):
    _plan(personas, incoming)
    incoming.refresh_from_db()
    p = personas["caseworker_b"].principal
    assert travel.carries_out_journey(p, incoming)
    withdraw = {"referral": str(incoming.remote_id)}
    assert _post(fake_peer, kind="referral.withdraw", body=withdraw).status_code == 200
    incoming.refresh_from_db()
    assert not travel.carries_out_journey(p, incoming)
    url = f"/federation/referrals/{incoming.pk}/journey/"
    assert as_persona("caseworker_b").get(url).status_code == 404
