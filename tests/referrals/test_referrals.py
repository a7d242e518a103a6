import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from refuge.cases.models import Client, Stay
from refuge.core.services import ServiceError, api_key_create
from refuge.referrals import services
from refuge.referrals.models import Referral, ReferralTarget, TurnAway
from tests.referrals.conftest import FAMILY


def _bearer(orgs, org="a", role="operator"):
    _key, text = api_key_create(by=None, organisation=orgs[org], role=role)
    return {"HTTP_AUTHORIZATION": f"Bearer {text}"}


def test_search_lists_every_facility_once_with_reasons(network, orgs):
    r = HttpClient().post(
        "/api/v1/placements/search", FAMILY, content_type="application/json", **_bearer(orgs)
    )
    assert r.status_code == 200, r.content
    body = r.json()
    ids = [x["facility_id"] for x in body["results"]] + [x["facility_id"] for x in body["excluded"]]
    assert sorted(ids) == sorted(str(f.pk) for f in network.values())
    assert [x["name"] for x in body["results"]] == ["Yaroslavl refuge", "Vladimir refuge"] or {
        x["name"] for x in body["results"]
    } == {"Yaroslavl refuge", "Vladimir refuge"}
    moscow = next(x for x in body["excluded"] if x["name"] == "Moscow refuge")
    assert {x["code"] for x in moscow["reasons"]} >= {"too_close"} and all(
        x["message"] for x in moscow["reasons"]
    )
    assert all(x["availability"] == "confirmed" and x["reasons"] for x in body["results"])


@pytest.mark.parametrize(
    "bad, code",
    [
        ({"woman_age": 34, "children": [{"age": -1, "sex": "male"}]}, 422),
        ({"woman_age": 34, "children": [{"age": 3, "sex": "male"}] * 40}, 422),
        ({"woman_age": 34, "avoid_regions": ["XX-NOPE"]}, 400),
        ({"woman_age": 34, "needs": ["teleportation"]}, 422),
        ({"children": []}, 422),
    ],
)
def test_impossible_households_get_a_clear_4xx(network, orgs, bad, code):
    r = HttpClient().post(
        "/api/v1/placements/search", bad, content_type="application/json", **_bearer(orgs)
    )
    assert r.status_code == code and set(r.json()) == {"code", "message", "details"}


def test_a_facilitator_key_cannot_search(network, orgs):
    r = HttpClient().post(
        "/api/v1/placements/search",
        FAMILY,
        content_type="application/json",
        **_bearer(orgs, role="facilitator"),
    )
    assert r.status_code == 403


def test_fan_out_holds_places_first_accept_wins_others_withdrawn(personas, network, client_a):
    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk, network["yar"].pk]
    )
    targets = {t.facility_id: t for t in ref.targets.all()}
    assert all(
        t.status == "holding" and t.hold_active and t.hold_room.kind == "family"
        for t in targets.values()
    )
    assert (
        "avoid_regions" not in ref.household and ref.avoid_regions == []
    )  # not kept without consent
    services.referral_accept(
        by=personas["caseworker_b"].principal, referral=ref, facility=network["yar"]
    )
    ref.refresh_from_db()
    assert ref.status == "accepted"
    states = {t.facility_id: (t.status, t.hold_active) for t in ref.targets.all()}
    assert states[network["yar"].pk] == ("accepted", True)
    assert states[network["vla"].pk] == ("withdrawn", False)
    with pytest.raises(ServiceError) as exc:
        services.referral_accept(
            by=personas["caseworker_b"].principal, referral=ref, facility=network["vla"]
        )
    assert exc.value.code == "conflict"


def test_a_held_place_is_not_held_twice(personas, network, orgs):
    from refuge.cases.services import client_create

    p = personas["operator_a"].principal
    single = {"woman_age": 30, "home_region": "RU-VLA"}
    refs = [
        services.referral_create(
            by=p, client=client_create(by=p), household=single, facility_ids=[network["mow"].pk]
        )
        for _ in range(3)
    ]
    held = [t for r in refs for t in r.targets.all() if t.hold_active]
    assert len(held) == 3 and len({t.hold_bed for t in held}) == 3
    # The holds count on the board: a fourth woman is not sent to a full shelter.
    with pytest.raises(ServiceError) as exc:
        services.referral_create(
            by=p, client=client_create(by=p), household=single, facility_ids=[network["mow"].pk]
        )
    assert exc.value.code == "cannot_take"


def test_an_expired_hold_is_released_and_cannot_be_accepted_without_a_bed(
    personas, network, client_a
):
    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["yar"].pk]
    )
    ReferralTarget.objects.filter(referral=ref).update(
        hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    # Someone else takes the only family room in the meantime.
    from refuge.cases.services import client_create

    other = services.referral_create(
        by=p, client=client_create(by=p), household=FAMILY, facility_ids=[network["yar"].pk]
    )
    assert other.targets.get().hold_active
    with pytest.raises(ServiceError) as exc:
        services.referral_accept(
            by=personas["caseworker_b"].principal, referral=ref, facility=network["yar"]
        )
    assert exc.value.code == "no_place"


def test_decline_needs_a_coded_reason_and_the_last_decline_ends_it(personas, network, client_a):
    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    with pytest.raises(ServiceError):
        services.referral_decline(by=b, referral=ref, facility=network["vla"], reason="")
    services.referral_decline(by=b, referral=ref, facility=network["vla"], reason="safety")
    ref.refresh_from_db()
    assert ref.status == "ended"


def test_withdrawn_referrals_cannot_be_accepted(personas, network, client_a):
    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    services.referral_withdraw(by=p, referral=ref)
    with pytest.raises(ServiceError):
        services.referral_accept(
            by=personas["caseworker_b"].principal, referral=ref, facility=network["vla"]
        )


def test_arrival_turns_the_hold_into_a_stay_and_moves_the_case(personas, network, client_a):
    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    services.referral_accept(by=b, referral=ref, facility=network["vla"])
    target = ReferralTarget.objects.get(referral=ref)
    stay = services.referral_arrive(by=b, referral=ref)
    assert (stay.room_id, stay.bed) == (target.hold_room_id, target.hold_bed)
    client = Client.objects.get(pk=client_a.pk)
    assert client.organisation == personas["caseworker_b"].org
    target.refresh_from_db()
    assert target.status == "arrived" and not target.hold_active
    assert Referral.objects.get(pk=ref.pk).status == "arrived"


def test_the_receiving_side_sees_the_client_only_once_it_accepts(
    personas, network, client_a, as_persona
):
    from django.urls import reverse

    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    url = reverse("cases:detail", args=[client_a.case_code])
    assert as_persona("caseworker_b").get(url).status_code == 404
    services.referral_accept(by=b, referral=ref, facility=network["vla"])
    assert as_persona("caseworker_b").get(url).status_code == 200


def test_the_api_walks_the_whole_referral(personas, network, orgs):
    sender, receiver = _bearer(orgs, "a", "operator"), _bearer(orgs, "b", "caseworker")
    c = HttpClient()
    payload = {
        **FAMILY,
        "facility_ids": [str(network["vla"].pk), str(network["yar"].pk)],
        "hold_minutes": 60,
    }
    r = c.post("/api/v1/referrals", payload, content_type="application/json", **sender)
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert all(t["held"] for t in r.json()["targets"])
    r = c.post(
        f"/api/v1/referrals/{rid}/targets/{network['vla'].pk}/decline",
        {"reason": "no_place"},
        content_type="application/json",
        **receiver,
    )
    assert r.status_code == 200 and r.json()["targets"][0]["status"] == "declined"
    r = c.post(f"/api/v1/referrals/{rid}/targets/{network['yar'].pk}/accept", **receiver)
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert (
        c.post(
            f"/api/v1/referrals/{rid}/targets/{network['yar'].pk}/accept", **receiver
        ).status_code
        == 409
    )
    r = c.post(f"/api/v1/referrals/{rid}/arrive", **receiver)
    assert r.status_code == 200 and r.json()["status"] == "arrived"
    assert Stay.objects.filter(facility=network["yar"], discharged_at__isnull=True).count() == 1
    assert c.get(f"/api/v1/referrals/{rid}", **_bearer(orgs, "b", "partner")).status_code == 403


def test_turn_aways_know_when_they_were_unnecessary(personas, network):
    p = personas["operator_a"].principal
    row = services.turn_away_record(by=p, household=FAMILY, reasons=["declined_by_her"])
    assert row.unnecessary and set(row.could_have) == {
        str(network["vla"].pk),
        str(network["yar"].pk),
    }
    huge = {"woman_age": 30, "children": [{"age": 3, "sex": "female"}] * 6}
    row = services.turn_away_record(by=p, household=huge, reasons=["no_place_anywhere"])
    assert not row.unnecessary and TurnAway.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_many_facilities_accepting_at_once_yield_one_winner(orgs):
    if connection.vendor != "postgresql":
        pytest.skip("runs on PostgreSQL in CI; SQLite is covered by test_sqlite_race.py")
    from refuge.cases.services import client_create
    from refuge.core.access import Principal
    from refuge.core.roles import OrgKind
    from tests.conftest import make_org, make_user
    from tests.directory.factories import make_facility
    from tests.referrals.conftest import system

    sender = Principal.for_user(make_user(orgs["a"], "operator", "op"))
    facilities, workers = [], []
    for i in range(8):
        org = make_org(f"shelter-{i}", OrgKind.SHELTER)
        facilities.append(system(make_facility(org, f"S{i}", region="RU-YAR", rooms=[("dorm", 1)])))
        workers.append(Principal.for_user(make_user(org, "caseworker", f"cw{i}")))
    ref = services.referral_create(
        by=sender,
        client=client_create(by=sender),
        household={"woman_age": 30},
        facility_ids=[f.pk for f in facilities],
    )
    results, barrier = [], threading.Barrier(len(facilities))

    def accept(i):
        try:
            barrier.wait()
            services.referral_accept(by=workers[i], referral=ref, facility=facilities[i])
            results.append("ok")
        except ServiceError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(len(facilities))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1 and results.count("conflict") == len(facilities) - 1
    assert ReferralTarget.objects.filter(referral=ref, status="accepted").count() == 1
    assert ReferralTarget.objects.filter(referral=ref, hold_active=True).count() == 1


def test_withdrawing_on_the_page_asks_for_the_tick(personas, network, client_a, as_persona):
    from django.urls import reverse

    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    url = reverse("referrals:act", args=[ref.pk, "withdraw"])
    c = as_persona("operator_a")
    assert 'name="sure"' in c.get(reverse("referrals:detail", args=[ref.pk])).content.decode()
    r = c.post(url, {}, follow=True)
    ref.refresh_from_db()
    assert ref.status == "open" and "Tick the box to confirm." in r.content.decode()
    c.cookies["django_language"] = "ru"
    r = c.post(url, {}, follow=True)
    ref.refresh_from_db()
    assert ref.status == "open" and "Отметьте флажок, чтобы подтвердить." in r.content.decode()
    c.post(url, {"sure": "1"})
    ref.refresh_from_db()
    assert ref.status == "withdrawn"


def test_a_receiving_shelter_cannot_withdraw_even_with_the_tick(
    personas, network, client_a, as_persona
):
    from django.urls import reverse

    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    r = as_persona("caseworker_b").post(
        reverse("referrals:act", args=[ref.pk, "withdraw"]), {"sure": "1"}, follow=True
    )
    ref.refresh_from_db()
    assert ref.status == "open" and "Only the sender can withdraw" in r.content.decode()


def test_search_answers_are_gzipped_when_asked_and_say_the_same(network, orgs):
    headers = _bearer(orgs)
    plain = HttpClient().post(
        "/api/v1/placements/search", FAMILY, content_type="application/json", **headers
    )
    packed = HttpClient().post(
        "/api/v1/placements/search",
        FAMILY,
        content_type="application/json",
        HTTP_ACCEPT_ENCODING="gzip",
        **headers,
    )
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    import gzip
    import json

    assert json.loads(gzip.decompress(packed.content)) == plain.json()


def test_pages_and_other_api_answers_are_not_gzipped(personas, network, orgs, as_persona):
    r = HttpClient().get("/api/v1/openapi.json", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in r
    page = as_persona(next(iter(personas))).get("/", HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in page


def test_the_search_answer_is_what_its_schema_would_write(network, orgs):
    """The endpoint writes its JSON itself (ninja's validation of thousands of items cost more
    than the search): the bytes are those the schema's validation and ninja's renderer give."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from refuge.referrals.api import SearchOut

    r = HttpClient().post(
        "/api/v1/placements/search", FAMILY, content_type="application/json", **_bearer(orgs)
    )
    assert r.status_code == 200 and r["Content-Type"] == "application/json; charset=utf-8"
    validated = SearchOut.model_validate(r.json()).model_dump()
    assert r.content == json.dumps(validated, cls=NinjaJSONEncoder).encode()
    assert r.json()["excluded"] and r.json()["results"]
