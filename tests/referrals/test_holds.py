"""Issue 14: hold flooding (M5), a failed referral's empty case (L2), a facility that was not
asked (L1). One key held every bed of the network for 24 hours with 16 requests in 2 seconds."""

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from refuge.cases.models import Client
from refuge.cases.services import client_create
from refuge.core.services import ServiceError, api_key_create
from refuge.referrals import services
from refuge.referrals.models import Referral, ReferralTarget
from tests.directory.factories import make_facility
from tests.referrals.conftest import system

ALONE = {"woman_age": 30}


def _bearer(org, role="operator"):
    _key, text = api_key_create(by=None, organisation=org, role=role)
    return {"HTTP_AUTHORIZATION": f"Bearer {text}"}


def _post(path, payload, headers, **extra):
    return HttpClient().post(
        f"/api/v1{path}", payload, content_type="application/json", **headers, **extra
    )


@pytest.fixture
def shelters(orgs):
    """Five shelters of org b, each with a shared room of two beds."""
    return [
        system(make_facility(orgs["b"], f"Shelter {i}", region="RU-YAR", rooms=[("dorm", 2)]))
        for i in range(5)
    ]


def _held(referral) -> list[str]:
    return sorted(
        t.status for t in ReferralTarget.objects.filter(referral=referral) if t.hold_active
    )


# --- how long a place is held --------------------------------------------------------------------


@override_settings(REFUGE_HOLD_MAX_MINUTES=240)
def test_a_place_is_held_at_most_the_network_maximum(personas, shelters):
    p = personas["operator_a"].principal
    with pytest.raises(ServiceError) as exc:
        services.referral_create(
            by=p,
            client=client_create(by=p),
            household=ALONE,
            facility_ids=[shelters[0].pk],
            hold_minutes=241,
        )
    assert exc.value.code == "invalid_hold" and "240" in exc.value.message
    ok = services.referral_create(
        by=p,
        client=client_create(by=p),
        household=ALONE,
        facility_ids=[shelters[0].pk],
        hold_minutes=240,
    )
    target = ok.targets.get()
    assert target.hold_expires_at - timezone.now() <= timedelta(minutes=240)


@pytest.mark.parametrize("minutes", [241, 1440, 100000])
def test_the_api_refuses_a_long_hold_with_a_400_in_her_language(orgs, shelters, minutes):
    before = Client.objects.count()
    r = _post(
        "/referrals",
        {**ALONE, "facility_ids": [str(shelters[0].pk)], "hold_minutes": minutes},
        _bearer(orgs["a"]),
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "invalid_hold" and "минут" in r.json()["message"]
    assert Referral.objects.count() == 0 and Client.objects.count() == before


def test_the_form_refuses_a_long_hold_with_a_message(personas, shelters, as_persona):
    p = personas["operator_a"].principal
    case = client_create(by=p)
    page = as_persona("operator_a")
    r = page.post(
        reverse("referrals:send"),
        {**ALONE, "case": case.case_code, "facility": [str(shelters[0].pk)], "hold_minutes": "600"},
        follow=True,
    )
    assert r.status_code == 200
    assert "from 5 to 240 minutes" in r.content.decode()
    assert Referral.objects.count() == 0


# --- how many places one sender holds at once ----------------------------------------------------


@override_settings(REFUGE_HOLDS_PER_CASE=3)
def test_at_most_three_places_are_held_for_one_case(personas, shelters):
    p = personas["operator_a"].principal
    case = client_create(by=p)
    first = services.referral_create(
        by=p, client=case, household=ALONE, facility_ids=[f.pk for f in shelters[:4]]
    )
    assert _held(first) == ["holding"] * 3 and first.not_held_by_cap == 1
    # The fourth shelter is still asked; it answers without a place held for her.
    assert first.targets.filter(status="pending").count() == 1
    second = services.referral_create(
        by=p, client=case, household=ALONE, facility_ids=[shelters[4].pk]
    )
    assert _held(second) == [] and second.not_held_by_cap == 1
    # Another woman's referral holds as before.
    other = services.referral_create(
        by=p, client=client_create(by=p), household=ALONE, facility_ids=[shelters[4].pk]
    )
    assert _held(other) == ["holding"]


@override_settings(REFUGE_HOLDS_PER_CASE=10, REFUGE_HOLDS_PER_SENDER=2)
def test_one_sender_holds_at_most_its_share(personas, shelters):
    operator, caseworker = personas["operator_a"].principal, personas["caseworker_a"].principal
    refs = [
        services.referral_create(
            by=operator, client=client_create(by=operator), household=ALONE, facility_ids=[f.pk]
        )
        for f in shelters[:3]
    ]
    assert [len(_held(r)) for r in refs] == [1, 1, 0]
    # A colleague in the same organisation is another sender.
    theirs = services.referral_create(
        by=caseworker,
        client=client_create(by=caseworker),
        household=ALONE,
        facility_ids=[shelters[3].pk],
    )
    assert len(_held(theirs)) == 1


@override_settings(
    REFUGE_HOLDS_PER_CASE=10, REFUGE_HOLDS_PER_SENDER=10, REFUGE_HOLDS_PER_ORGANISATION=2
)
def test_one_organisation_holds_at_most_its_share(personas, shelters):
    held = []
    for who, f in zip(("operator_a", "caseworker_a", "manager_a"), shelters, strict=False):
        p = personas[who].principal
        ref = services.referral_create(
            by=p, client=client_create(by=p), household=ALONE, facility_ids=[f.pk]
        )
        held.append(len(_held(ref)))
    assert held == [1, 1, 0]


@override_settings(REFUGE_HOLDS_PER_CASE=1)
def test_lapsed_answered_and_withdrawn_holds_do_not_count(personas, shelters):
    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    case = client_create(by=p)
    first = services.referral_create(
        by=p, client=case, household=ALONE, facility_ids=[shelters[0].pk]
    )
    ReferralTarget.objects.filter(referral=first).update(
        hold_expires_at=timezone.now() - timedelta(minutes=1)
    )
    second = services.referral_create(
        by=p, client=case, household=ALONE, facility_ids=[shelters[1].pk]
    )
    assert _held(second) == ["holding"]
    services.referral_decline(by=b, referral=second, facility=shelters[1], reason="safety")
    third = services.referral_create(
        by=p, client=case, household=ALONE, facility_ids=[shelters[2].pk]
    )
    assert _held(third) == ["holding"]
    services.referral_withdraw(by=p, referral=third)
    fourth = services.referral_create(
        by=p, client=case, household=ALONE, facility_ids=[shelters[3].pk]
    )
    assert _held(fourth) == ["holding"]


@override_settings(REFUGE_HOLDS_PER_CASE=1)
def test_the_form_says_when_a_place_was_not_held(personas, shelters, as_persona):
    case = client_create(by=personas["operator_a"].principal)
    r = as_persona("operator_a").post(
        reverse("referrals:send"),
        {**ALONE, "case": case.case_code, "facility": [str(f.pk) for f in shelters[:2]]},
        follow=True,
    )
    body = r.content.decode()
    assert r.status_code == 200 and "asked without a place held" in body
    assert _held(Referral.objects.get()) == ["holding"]


# --- how many requests ----------------------------------------------------------------------------


@pytest.fixture
def one_window(monkeypatch):
    """Every request of the test falls in one rate window, whatever the clock does."""
    from refuge.core import limits

    start = timezone.now()
    monkeypatch.setattr(limits, "_window_start", lambda now, seconds: start)


@override_settings(REFUGE_RATE_REFERRALS_PER_HOUR=2)
def test_a_key_that_sends_too_many_referrals_gets_429(orgs, shelters, one_window):
    key, other_key = _bearer(orgs["a"]), _bearer(orgs["a"])

    def payload(i):
        return {**ALONE, "facility_ids": [str(shelters[i].pk)], "hold_minutes": 60}

    assert [_post("/referrals", payload(i), key).status_code for i in range(2)] == [201, 201]
    cases = Client.objects.count()
    r = _post("/referrals", payload(2), key, HTTP_ACCEPT_LANGUAGE="ru")
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r["Retry-After"]) <= 3600
    assert "направлений" in r.json()["message"]
    assert Referral.objects.count() == 2 and Client.objects.count() == cases
    assert _post("/referrals", payload(2), other_key).status_code == 201


@override_settings(REFUGE_RATE_SEARCHES_PER_MINUTE=2)
def test_a_key_that_searches_too_often_gets_429(orgs, shelters, one_window):
    key = _bearer(orgs["a"])
    codes = [_post("/placements/search", ALONE, key).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    r = _post("/placements/search", ALONE, key)
    assert r.status_code == 429 and 1 <= int(r["Retry-After"]) <= 60


@override_settings(REFUGE_RATE_SEARCHES_PER_MINUTE=2)
def test_a_person_who_searches_too_often_is_told_in_her_language(
    personas, shelters, as_persona, one_window
):
    page = as_persona("operator_a")
    page.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    url = reverse("referrals:search")
    assert [page.get(url, ALONE).status_code for _ in range(2)] == [200, 200]
    r = page.get(url, ALONE)
    assert r.status_code == 429 and int(r["Retry-After"]) >= 1
    assert "Слишком много поисков" in r.content.decode()
    # Another person is not slowed by her.
    assert as_persona("caseworker_a").get(url, ALONE).status_code == 200


@override_settings(REFUGE_RATE_REFERRALS_PER_HOUR=1)
def test_a_person_who_sends_too_many_referrals_is_told(personas, shelters, as_persona, one_window):
    p = personas["operator_a"].principal
    page = as_persona("operator_a")
    for f in shelters[:2]:
        r = page.post(
            reverse("referrals:send"),
            {**ALONE, "case": client_create(by=p).case_code, "facility": [str(f.pk)]},
            follow=True,
        )
    assert "Too many referrals" in r.content.decode()
    assert Referral.objects.count() == 1


def test_refused_requests_count_and_each_principal_has_its_own_count(personas, one_window):
    from refuge.core import limits
    from refuge.core.models import RateCounter

    a, b = personas["operator_a"].principal, personas["caseworker_a"].principal
    with override_settings(REFUGE_RATE_SEARCHES_PER_MINUTE=1):
        limits.check(a, "search")
        for _ in range(3):
            with pytest.raises(limits.RateLimited):
                limits.check(a, "search")
        limits.check(b, "search")
    assert sorted(RateCounter.objects.values_list("hits", flat=True)) == [1, 4]
    with override_settings(REFUGE_RATE_SEARCHES_PER_MINUTE=0):  # 0: no limit
        limits.check(a, "search")


# --- a failed referral leaves nothing behind (L2) ---------------------------------------------------


@pytest.mark.parametrize(
    "facility_ids, code",
    [
        (["00000000-0000-0000-0000-000000000000"], "unknown_facility"),
        (["not-a-uuid"], "unknown_facility"),
        ("full", "cannot_take"),
    ],
)
def test_a_failed_api_referral_opens_no_case(orgs, shelters, facility_ids, code):
    key = _bearer(orgs["a"])
    if facility_ids == "full":
        # A facility with no free place: the search refuses her there.
        full = system(make_facility(orgs["b"], "Full", region="RU-YAR", rooms=[("dorm", 1)]))
        ok = _post("/referrals", {**ALONE, "facility_ids": [str(full.pk)]}, key)
        assert ok.status_code == 201
        facility_ids = [str(full.pk)]
    before = Client.objects.count()
    r = _post("/referrals", {**ALONE, "facility_ids": facility_ids}, key)
    assert r.status_code == 400 and r.json()["code"] == code
    assert Client.objects.count() == before


def test_an_api_referral_opens_her_case_with_it(orgs, shelters):
    r = _post("/referrals", {**ALONE, "facility_ids": [str(shelters[0].pk)]}, _bearer(orgs["a"]))
    assert r.status_code == 201
    case = Client.objects.get(case_code=r.json()["case_code"])
    assert case.organisation == orgs["a"] and case.referrals.count() == 1


# --- answering for a facility that was not asked (L1) ------------------------------------------------


def test_the_api_refuses_an_answer_for_a_facility_that_was_not_asked(personas, orgs, shelters):
    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_create(by=p), household=ALONE, facility_ids=[shelters[0].pk]
    )
    receiver = _bearer(orgs["b"], "caseworker")
    other = shelters[1].pk
    r = _post(f"/referrals/{ref.pk}/targets/{other}/accept", {}, receiver)
    assert r.status_code == 400 and r.json()["code"] == "unknown_target"
    r = _post(f"/referrals/{ref.pk}/targets/{other}/decline", {"reason": "safety"}, receiver)
    assert r.status_code == 400 and r.json()["code"] == "unknown_target"
    r = _post(f"/referrals/{ref.pk}/targets/not-a-uuid/accept", {}, receiver)
    assert r.status_code in (400, 404)
    assert ReferralTarget.objects.get(referral=ref).status == "holding"


@pytest.mark.parametrize("facility", ["other", "not-a-uuid", ""])
@pytest.mark.parametrize("action", ["accept", "decline"])
def test_the_page_refuses_an_answer_for_a_facility_that_was_not_asked(
    personas, shelters, as_persona, facility, action
):
    p = personas["operator_a"].principal
    ref = services.referral_create(
        by=p, client=client_create(by=p), household=ALONE, facility_ids=[shelters[0].pk]
    )
    page = as_persona("caseworker_b")
    page.raise_request_exception = False
    value = str(shelters[1].pk) if facility == "other" else facility
    url = reverse("referrals:act", args=[ref.pk, action])
    r = page.post(url, {"facility": value, "reason": "safety"})
    assert r.status_code == 302
    body = page.get(r["Location"]).content.decode()
    assert "not asked in this referral" in body or "Unknown facility" in body
    assert ReferralTarget.objects.get(referral=ref).status == "holding"


def test_an_accept_refused_for_want_of_a_place_keeps_its_reason(personas, orgs):
    """The refusal is raised after the transaction, so what the referral page shows (why no
    place is held, the hold that lapsed now pending) is kept, not rolled back with it."""
    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    shelter = system(make_facility(orgs["b"], "S", region="RU-YAR", rooms=[("family", 3)]))
    first = services.referral_create(by=p, client=None, household=ALONE, facility_ids=[shelter.pk])
    first.targets.update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    second = services.referral_create(by=p, client=None, household=ALONE, facility_ids=[shelter.pk])
    assert second.targets.get().hold_active  # the lapsed hold's room went to the second
    with pytest.raises(ServiceError) as exc:
        services.referral_accept(by=b, referral=first, facility=shelter)
    assert exc.value.code == "no_place"
    target = first.targets.get()
    assert (target.status, target.hold_active, target.no_hold_reason) == (
        "pending",
        False,
        "taken",
    )
    first.refresh_from_db()
    assert first.status == "open"  # nothing else of the accept was kept
