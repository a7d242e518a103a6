"""Anonymised availability: what a peer is sent, what we keep of a peer's, and peers'
facilities in the placement search with their network's name and the same reasons."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.federation import directory, services
from refuge.federation.models import PeerFacility
from refuge.vacancies.free import free_places
from tests.directory.factories import make_facility
from tests.referrals.conftest import system

SECRET_POINT = (55.123456, 37.654321)


@pytest.fixture
def shared(orgs):
    """Org b shares; org a does not."""
    services.sharing_set(by=None, organisation=orgs["b"], share=True)
    vla = system(
        make_facility(
            orgs["b"],
            "Vladimir refuge",
            region="RU-VLA",
            rooms=[("family", 4), ("dorm", 2)],
            latitude=SECRET_POINT[0],
            longitude=SECRET_POINT[1],
            address="Secret street 1",
            email="secret-house@example.org",
        )
    )
    own = make_facility(orgs["a"], "Not shared", region="RU-YAR", rooms=[("dorm", 1)])
    return {"vla": vla, "own": own}


def test_only_opted_in_organisations_are_in_the_snapshot(shared):
    body = directory.snapshot()
    assert [f["name"] for f in body["facilities"]] == ["Vladimir refuge"]


def test_the_snapshot_has_no_address_point_or_phone(shared):
    text = json.dumps(directory.snapshot())
    for secret in ("Secret street", "55.12", "37.65", "secret-house", "latitude", "address"):
        assert secret not in text


def test_free_places_come_from_the_vacancies_derivation(shared):
    item = directory.snapshot()["facilities"][0]
    derived = free_places([shared["vla"].pk], timezone.now())[str(shared["vla"].pk)].availability
    assert item["availability"] == derived.status
    free = sum(item["capacity"]["free_family_rooms"]) + item["capacity"]["free_dorm_beds"]
    assert free == derived.free_beds


def test_pulling_stores_the_peers_snapshot_with_its_age(trusted, fake_peer, shared):
    fake_peer.snapshot = directory.snapshot()  # a peer sharing what we would share
    n = services.snapshot_pull(peer=trusted)
    assert n == 1
    row = PeerFacility.objects.get(peer=trusted)
    assert row.region == "RU-VLA" and row.figure_at is not None
    assert row.kind == shared["vla"].kind
    assert trusted.snapshot.fetched_at <= timezone.now()
    assert AuditEvent.objects.filter(action="federation.snapshot_stored").count() == 1


def test_an_answer_signed_by_another_key_is_refused(trusted, fake_peer, shared):
    from refuge.federation import signing

    fake_peer.key = signing.private_key(signing.new_seed())  # an impostor answers
    with pytest.raises(ServiceError) as exc:
        services.snapshot_pull(peer=trusted)
    assert exc.value.code == "bad_answer"
    assert not PeerFacility.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "not-a-uuid"},
        {"capacity": {"free_dorm_beds": -1, "free_family_rooms": []}},
        {"availability": "plenty"},
        {"rules": {"min_age": "eighteen"}},
        {"name": "x" * 500},
    ],
)
def test_a_malformed_snapshot_is_refused_whole(trusted, shared, bad):
    item = {**directory.snapshot()["facilities"][0], **bad}
    with pytest.raises(directory.BadSnapshot):
        directory.store_snapshot(peer=trusted, body={"facilities": [item]})


def _peer_world(trusted, shared, orgs):
    """The peer's snapshot (org b's Vladimir refuge), then org b leaves our own search."""
    directory.store_snapshot(peer=trusted, body=directory.snapshot())
    shared["vla"].is_active = False
    shared["vla"].save()


@pytest.fixture
def operator_key(orgs):
    from refuge.core.services import api_key_create

    _key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    return text


def _search(key, **household):
    response = Client().post(
        "/api/v1/placements/search",
        data=json.dumps({"woman_age": 30, **household}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_the_search_shows_peers_facilities_with_the_network_name(
    trusted, shared, orgs, operator_key
):
    _peer_world(trusted, shared, orgs)
    body = _search(operator_key)
    peer = [r for r in body["results"] if r["network"] == "kyrgyz-centres"]
    assert len(peer) == 1
    assert peer[0]["name"] == "Vladimir refuge"
    assert peer[0]["availability"] == "confirmed"
    assert peer[0]["free_beds"] == 6
    assert peer[0]["figure_age_seconds"] is not None
    assert peer[0]["facility_id"] == f"kyrgyz-centres:{shared['vla'].pk}"
    local = [r for r in body["results"] if r["network"] is None]
    assert [r["name"] for r in local] == ["Not shared"]


def test_peer_facilities_get_the_same_reasons(trusted, shared, orgs, operator_key):
    _peer_world(trusted, shared, orgs)
    body = _search(
        operator_key,
        children=[{"age": 3, "sex": "female"}] * 5,
        avoid_regions=["RU-VLA"],
    )
    (peer,) = [e for e in body["excluded"] if e["network"] == "kyrgyz-centres"]
    codes = {r["code"] for r in peer["reasons"]}
    assert {"too_close", "household_too_large"} <= codes


def test_a_distance_rule_is_judged_from_the_region_and_shown_coarse(
    trusted, shared, orgs, operator_key
):
    _peer_world(trusted, shared, orgs)
    body = _search(
        operator_key,
        avoid_regions=["RU-MOW"],
        min_distance_km=500,
    )
    (peer,) = [e for e in body["excluded"] if e["network"] == "kyrgyz-centres"]
    (reason,) = [r for r in peer["reasons"] if r["code"] == "too_close"]
    assert "km" in reason["message"]
    assert "180" not in json.dumps(peer)  # no exact distance from a point we do not have


def test_an_old_snapshot_is_unknown_not_free(trusted, shared, orgs, operator_key):
    _peer_world(trusted, shared, orgs)
    trusted.snapshot.fetched_at = timezone.now() - timedelta(hours=25)
    trusted.snapshot.save()
    body = _search(operator_key)
    (peer,) = [r for r in body["results"] if r["network"]]
    assert (peer["availability"], peer["free_beds"], peer["figure_age_seconds"]) == (
        "unknown",
        None,
        None,
    )


def test_an_untrusted_peers_facilities_leave_the_search(trusted, shared, orgs, operator_key):
    _peer_world(trusted, shared, orgs)
    services.peer_untrust(by=None, peer=trusted)
    body = _search(operator_key)
    assert not [r for r in body["results"] + body["excluded"] if r["network"]]


def test_with_federation_off_the_search_lists_no_peer_and_asks_nothing(
    trusted, shared, orgs, operator_key, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from refuge.federation.directory import peer_candidates

    _peer_world(trusted, shared, orgs)
    settings.REFUGE_FEDERATION_KEY = ""
    body = _search(operator_key)
    assert not [r for r in body["results"] + body["excluded"] if r["network"]]
    with CaptureQueriesContext(connection) as queries:
        assert list(peer_candidates(None, timezone.now())) == []
    assert len(queries) == 0


def test_the_turn_away_check_judges_this_network_alone(trusted, shared, orgs, personas):
    from refuge.referrals import search

    _peer_world(trusted, shared, orgs)
    asked = search.household_from({"woman_age": 30})
    ids = search.could_take_now(personas["operator_a"].principal, asked)
    assert not [i for i in ids if ":" in i]


def test_a_trusted_peer_asks_us_and_gets_a_signed_snapshot(trusted, fake_peer, shared):
    from datetime import UTC, datetime

    from refuge.federation import signing
    from tests.federation.conftest import me

    question = signing.seal(
        fake_peer.key,
        sender="fake",
        recipient_key=me().public_key,
        kind="availability.request",
        body={},
    )
    response = Client().post(
        "/api/v1/federation/availability",
        data=json.dumps(question),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    env = signing.open_sealed(
        response.json(),
        public_key=me().public_key,
        recipient_key=fake_peer.public_key,
        now=datetime.now(UTC),
        skew_seconds=300,
    )
    assert env.kind == "availability.snapshot"
    assert env.body["in_reply_to"] == question["envelope"]["id"]
    assert [f["name"] for f in env.body["facilities"]] == ["Vladimir refuge"]
    assert AuditEvent.objects.filter(action="federation.snapshot_sent").count() == 1


def test_an_untrusted_instance_gets_no_snapshot(db, fake_peer, shared):
    from refuge.federation import signing
    from tests.federation.conftest import me

    question = signing.seal(
        fake_peer.key,
        sender="x",
        recipient_key=me().public_key,
        kind="availability.request",
        body={},
    )
    response = Client().post(
        "/api/v1/federation/availability",
        data=json.dumps(question),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "Vladimir" not in response.content.decode()


def test_the_search_page_names_the_network_and_refers_there(
    trusted, shared, orgs, personas, client
):
    from refuge.cases.services import client_create
    from refuge.federation.models import OutgoingReferral
    from tests.conftest import sign_in

    _peer_world(trusted, shared, orgs)
    case = client_create(by=personas["operator_a"].principal, name="Olga")
    signed_in = sign_in(client, personas["operator_a"].user)
    page = signed_in.get(
        "/referrals/search/",
        {"woman_age": 30, "case": case.case_code},
        headers={"Accept-Language": "ru"},
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "сеть kyrgyz-centres" in text
    assert 'name="facility"' in text  # local ones are chosen together, with holds
    trusted.title = "Кризисные центры Кыргызстана"
    trusted.save(update_fields=["title"])
    titled = signed_in.get(
        "/referrals/search/",
        {"woman_age": 30, "case": case.case_code},
        headers={"Accept-Language": "ru"},
    ).content.decode()
    assert "сеть Кризисные центры Кыргызстана" in titled and "сеть kyrgyz-centres" not in titled
    # A peer's facility is not one of them: it is referred to on its own, by its button.
    assert f'name="facility" value="kyrgyz-centres:{shared["vla"].pk}"' not in text
    assert f'name="peer_facility" value="kyrgyz-centres:{shared["vla"].pk}"' in text
    response = signed_in.post(
        "/federation/referrals/send/",
        {
            "woman_age": 30,
            "case": case.case_code,
            "peer_facility": f"kyrgyz-centres:{shared['vla'].pk}",
        },
    )
    assert response.status_code == 302, response.content
    sent = OutgoingReferral.objects.get()
    assert (sent.client, sent.peer, sent.remote_facility_id) == (
        case,
        trusted,
        str(shared["vla"].pk),
    )
    # Another organisation's case cannot be referred this way.
    other = sign_in(client.__class__(), personas["operator_b"].user).post(
        "/federation/referrals/send/",
        {
            "woman_age": 30,
            "case": case.case_code,
            "peer_facility": f"kyrgyz-centres:{shared['vla'].pk}",
        },
    )
    assert other.status_code == 404
    assert OutgoingReferral.objects.count() == 1


def test_a_failed_pull_is_audited(trusted, fake_peer, shared):
    fake_peer.down = True
    with pytest.raises(ServiceError):
        services.snapshot_pull(peer=trusted)
    assert AuditEvent.objects.filter(
        action="federation.snapshot_failed", details__code="http_503"
    ).exists()


def test_an_answer_arriving_after_untrust_is_not_kept(trusted, shared):
    trusted.trusted = False
    trusted.save()
    with pytest.raises(directory.BadSnapshot):
        directory.store_snapshot(peer=trusted, body=directory.snapshot())
    assert not PeerFacility.objects.exists()
