"""The public HSDS 3.0 read API (SPEC Contracts): no authentication, the public profile only,
paginated as the HSDS API protocol says, every filter of the official OpenAPI document honoured,
readable from any origin. (test_hsds_conformance.py walks it from the official document.)"""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refuge.directory.hsds import feed
from refuge.directory.hsds.schema import errors_of
from refuge.directory.hsds.taxonomy import TAXONOMY, TERMS
from refuge.directory.models import Facility, HouseRules, OrganisationProfile
from refuge.directory.services import house_rules_update, phone_add
from refuge.directory.shipped import SHIPPED, load_file
from tests.directory.factories import make_facility

PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}
HSDS = "/api/v1/hsds"
# Shipped Kyrgyz directory: 16 facilities of 15 organisations, of which two shelters (Ayalzat,
# Sezim) keep their address confidential and so are not in the public feed.
KG_SERVICES, KG_ORGANISATIONS = 14, 13


@pytest.fixture
def api(db):
    load_file(SHIPPED["kg"])
    return Client()


def _get(api, url, status=200):
    response = api.get(url)
    assert response.status_code == status, (url, response.content[:300])
    return response.json()


def _ids(api, url):
    body = _get(api, url)
    assert body["total_items"] == len(body["contents"]), url
    return {item["id"] for item in body["contents"]}


def _check_page(schemas, body, item_schema):
    assert PAGE_KEYS <= set(body)
    validator = schemas.compiled(item_schema)
    for i, item in enumerate(body["contents"]):
        assert errors_of(validator, item, f"$.contents[{i}]") == []


# --- pages ----------------------------------------------------------------------------------


def test_services_are_paginated_as_the_protocol_says(api, schemas):
    first = _get(api, f"{HSDS}/services?per_page=5")
    _check_page(schemas, first, "service_list")
    assert (first["total_items"], first["total_pages"], first["page_number"], first["size"]) == (
        KG_SERVICES,
        3,
        1,
        5,
    )
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    assert "per_page_capped" not in first
    last = _get(api, f"{HSDS}/services?per_page=5&page=3")
    assert last["size"] == 4 and last["last_page"] and not last["first_page"]
    beyond = _get(api, f"{HSDS}/services?per_page=5&page=9")
    assert beyond["empty"] and beyond["contents"] == []
    names = [
        s["name"]
        for p in (1, 2, 3)
        for s in _get(api, f"{HSDS}/services?per_page=5&page={p}")["contents"]
    ]
    assert len(names) == len(set(names)) == KG_SERVICES


def test_per_page_over_the_cap_is_capped_and_the_page_says_so(api):
    body = _get(api, f"{HSDS}/services?per_page=100000")
    assert body["per_page"] == feed.MAX_PER_PAGE
    assert body["per_page_capped"] is True and body["per_page_requested"] == 100000
    assert body["size"] == KG_SERVICES
    minimal = _get(api, f"{HSDS}/services?minimal=true&per_page=100000")
    assert minimal["per_page"] == feed.MAX_PER_PAGE_MINIMAL and minimal["per_page_capped"]


@pytest.mark.parametrize("query", ["per_page=0", "page=0", "page=x", "format=xml", "full=maybe"])
def test_bad_paging_and_bad_values_are_json_errors(api, query):
    body = _get(api, f"{HSDS}/services?{query}", status=422)
    assert body["code"] == "validation_error" and set(body) == {"code", "message", "details"}


def test_a_nul_byte_is_refused_not_a_server_error(api):
    # Refused before the API by refuge.core.middleware.NulByteMiddleware (tests/core/test_nul_bytes.py).
    for url in (
        f"{HSDS}/services?search=%00",
        f"{HSDS}/organizations?search=a%00b",
        f"{HSDS}/service_at_locations?postcode=%00",
        f"{HSDS}/taxonomy_terms?parent_id=%00",
    ):
        assert _get(api, url, status=400)["code"] == "bad_request"


def test_full_services_and_one_service_validate(api, schemas):
    body = _get(api, f"{HSDS}/services?full=true&per_page=50")
    _check_page(schemas, body, "service")
    assert all("attributes" in s for s in body["contents"])
    one = body["contents"][0]
    doc = _get(api, f"{HSDS}/services/{one['id']}")
    assert errors_of(schemas.compiled("service"), doc) == []
    assert doc == one


def test_minimal_is_what_identifies_each_service_all_in_one_page(api, schemas):
    body = _get(api, f"{HSDS}/services?minimal=true")
    _check_page(schemas, body, "service_list")
    assert body["size"] == body["total_items"] == KG_SERVICES and body["total_pages"] == 1
    assert {tuple(sorted(s)) for s in body["contents"]} == {
        ("id", "last_modified", "name", "status")
    }


# --- filters --------------------------------------------------------------------------------


def test_search_matches_every_word_in_name_description_or_organisation(api):
    assert len(_ids(api, f"{HSDS}/services?search=Tendesh")) == 2
    assert len(_ids(api, f"{HSDS}/services?search=tendesh%20naryn")) == 1
    assert _ids(api, f"{HSDS}/services?search=Tendesh%20Nowhere") == set()
    orgs = _get(api, f"{HSDS}/organizations?search=Tendesh")
    assert [o["name"] for o in orgs["contents"]] == ["Crisis Center “Tendesh”"]


def test_organization_id_filter(api):
    body = _get(api, f"{HSDS}/services?search=Tendesh")
    org_id = body["contents"][0]["organization_id"]
    assert len(_ids(api, f"{HSDS}/services?organization_id={org_id}")) == 2
    for other in ("00000000-0000-0000-0000-000000000000", "not-an-id"):
        assert _ids(api, f"{HSDS}/services?organization_id={other}") == set()
        assert _ids(api, f"{HSDS}/service_at_locations?organization_id={other}") == set()


def test_modified_after_returns_what_changed_since(api, orgs):
    long_ago = timezone.now() - timedelta(days=30)
    Facility.objects.update(updated_at=long_ago)
    HouseRules.objects.update(updated_at=long_ago)
    OrganisationProfile.objects.update(updated_at=long_ago)
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _ids(api, f"{HSDS}/services?modified_after=2099-01-01T00:00:00Z") == set()
    assert _ids(api, f"{HSDS}/services?modified_after={since}") == set()
    assert len(_ids(api, f"{HSDS}/services?modified_after=2000-01-01")) == KG_SERVICES
    tendesh = Facility.objects.filter(name__contains="Naryn").get()
    house_rules_update(by=None, facility=tendesh, max_stay_days=45)
    maana = Facility.objects.filter(name__startswith="Maana").get()
    phone_add(by=None, organisation=maana.organisation, facility=maana, number="+996312000111")
    found = _get(api, f"{HSDS}/services?modified_after={since}")
    assert {s["id"] for s in found["contents"]} == {str(tendesh.hsds_id), str(maana.hsds_id)}
    assert all(s["last_modified"] >= since for s in found["contents"])
    # An organisation's profile is part of each of its services.
    OrganisationProfile.objects.filter(organisation=tendesh.organisation).update(
        updated_at=timezone.now()
    )
    assert len(_ids(api, f"{HSDS}/services?modified_after={since}")) == 3
    # Naive times are UTC; the same filter applies to services at locations.
    assert len(_ids(api, f"{HSDS}/services?modified_after=2099-01-01T00:00:00")) == 0
    assert _ids(api, f"{HSDS}/service_at_locations?modified_after=2099-01-01T00:00:00Z") == set()


def _attributes(service):
    return {a["taxonomy_term_id"] for a in service["attributes"]}


def _under(term_id):
    """The term and every term below it."""
    code = next(t.code for t in TERMS.values() if t.id == term_id)
    out = {term_id}
    for t in TERMS.values():
        if t.parent == code:
            out |= _under(t.id)
    return out


def test_taxonomy_term_id_finds_exactly_the_services_with_that_term_or_one_under_it(api, orgs):
    """Oracle: the attributes of the fully nested services themselves, for every term."""
    make_facility(
        orgs["a"],
        "Faith house",
        kind="faith_based_shelter",
        faith="orthodox",
        address_visibility="public",
        locality="Tula",
        region="RU-TUL",
        rooms=[("dorm", 3)],
        stated_capacity=4,
        rules={"women_only": True, "pets_accepted": True, "cost": "paid"},
    )
    make_facility(orgs["b"], "Bare centre", kind="crisis_centre", region=None, rules={})
    full = _get(api, f"{HSDS}/services?full=true&per_page=200")["contents"]
    for term in TERMS.values():
        wanted = {s["id"] for s in full if _attributes(s) & _under(term.id)}
        got = _ids(api, f"{HSDS}/services?taxonomy_term_id={term.id}&per_page=200")
        assert got == wanted, term.code
    assert _ids(api, f"{HSDS}/services?taxonomy_term_id={TERMS['rule.pets_accepted'].id}")
    assert (
        _ids(api, f"{HSDS}/services?taxonomy_term_id=00000000-0000-0000-0000-000000000000") == set()
    )
    assert _ids(api, f"{HSDS}/services?taxonomy_term_id=psychologist") == set()
    everyone = {s["id"] for s in full}
    assert _ids(api, f"{HSDS}/services?taxonomy_id={TAXONOMY['id']}&per_page=200") == everyone
    assert _ids(api, f"{HSDS}/services?taxonomy_id=00000000-0000-0000-0000-000000000000") == set()


def test_format_ndjson_streams_every_result_without_pages(api, schemas):
    response = api.get(f"{HSDS}/services?format=ndjson&per_page=2&full=true")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Access-Control-Allow-Origin"] == "*"
    lines = b"".join(response.streaming_content).decode().splitlines()
    docs = [json.loads(line) for line in lines]
    assert len(docs) == KG_SERVICES
    assert [d["id"] for d in docs] == [
        s["id"] for s in _get(api, f"{HSDS}/services?full=true")["contents"]
    ]
    for doc in docs:
        assert errors_of(schemas.compiled("service"), doc) == []
    filtered = api.get(f"{HSDS}/services?format=ndjson&search=Tendesh")
    assert len(b"".join(filtered.streaming_content).splitlines()) == 2
    for path in ("organizations", "service_at_locations", "taxonomies", "taxonomy_terms"):
        response = api.get(f"{HSDS}/{path}?format=ndjson")
        lines = b"".join(response.streaming_content).splitlines()
        assert len(lines) == _get(api, f"{HSDS}/{path}")["total_items"], path


# --- organizations ---------------------------------------------------------------------------


def test_organizations(api, schemas):
    body = _get(api, f"{HSDS}/organizations?per_page=100")
    _check_page(schemas, body, "organization_list")
    assert body["total_items"] == KG_ORGANISATIONS
    org = next(o for o in body["contents"] if o["name"] == "Crisis Center “Tendesh”")
    full = _get(api, f"{HSDS}/organizations/{org['id']}")
    assert errors_of(schemas.compiled("organization"), full) == []
    assert len(full["services"]) == 2 and "attributes" not in full["services"][0]
    nested = _get(api, f"{HSDS}/organizations/{org['id']}?full_service=true")
    assert errors_of(schemas.compiled("organization"), nested) == []
    assert "attributes" in nested["services"][0]
    listed = _get(api, f"{HSDS}/organizations?full=true&per_page=100")
    _check_page(schemas, listed, "organization")
    assert next(o for o in listed["contents"] if o["id"] == org["id"]) == full
    listed = _get(api, f"{HSDS}/organizations?full_service=true&per_page=100")
    assert next(o for o in listed["contents"] if o["id"] == org["id"]) == nested


# --- services at locations: public points only ------------------------------------------------


def test_service_at_locations_are_only_the_public_ones(api, schemas, orgs):
    make_facility(orgs["a"], "Secret place", address="Hidden 1", locality="Hideaway")
    body = _get(api, f"{HSDS}/service_at_locations?per_page=100")
    _check_page(schemas, body, "service_at_location_list")
    names = {item["service"]["name"] for item in body["contents"]}
    assert body["total_items"] == len(body["contents"]) == 9
    assert "Secret place" not in names and "“Ayalzat” Municipal Crisis Center" not in names
    one = body["contents"][0]
    full = _get(api, f"{HSDS}/service_at_locations/{one['id']}")
    assert errors_of(schemas.compiled("service_at_location"), full) == []
    listed_full = _get(api, f"{HSDS}/service_at_locations?full=true&per_page=100")
    _check_page(schemas, listed_full, "service_at_location")
    assert next(s for s in listed_full["contents"] if s["id"] == one["id"]) == full


@pytest.fixture
def points(api, orgs):
    tula = {"region": "RU-TUL", "address_visibility": "public", "locality": "Tula"}
    a = make_facility(
        orgs["a"], "A centre", postal_code="300 041", latitude=54.19, longitude=37.62, **tula
    )
    b = make_facility(orgs["a"], "B centre", latitude=54.28, longitude=37.62, **tula)  # 10 km
    c = make_facility(orgs["a"], "C centre", latitude=54.19, longitude=38.30, **tula)  # 44 km
    d = make_facility(orgs["b"], "D centre", postal_code="300041", **tula)  # no point
    # Same postcode, points nearby, but not public: never used, never found.
    make_facility(
        orgs["b"],
        "Secret point",
        kind="crisis_centre",
        region="RU-TUL",
        postal_code="300041",
        latitude=54.50,
        longitude=37.62,
    )
    make_facility(
        orgs["b"],
        "Pro point",
        region="RU-TUL",
        address_visibility="professionals",
        postal_code="300041",
        latitude=54.60,
        longitude=37.62,
    )
    return {f.name: str(f.hsds_sal_id) for f in (a, b, c, d)}


def test_postcode_finds_the_services_whose_area_holds_it(api, points):
    found = _ids(api, f"{HSDS}/service_at_locations?postcode=300041")
    assert found == set(points.values())
    assert _ids(api, f"{HSDS}/service_at_locations?postcode=999999") == set()


def test_proximity_is_measured_from_public_points_only_nearest_first(api, points):
    centre, _regions = feed.postcode_area("300041")
    assert (centre.latitude, centre.longitude) == (54.19, 37.62)  # A alone: D has no point
    url = f"{HSDS}/service_at_locations?postcode=300041&proximity="
    body = _get(api, url + "20000")
    assert [s["id"] for s in body["contents"]] == [points["A centre"], points["B centre"]]
    assert _ids(api, url + "1000") == {points["A centre"]}
    assert _ids(api, url + "50000") == {points[n] for n in ("A centre", "B centre", "C centre")}
    assert _ids(api, f"{HSDS}/service_at_locations?postcode=999999&proximity=50000") == set()
    body = _get(api, f"{HSDS}/service_at_locations?proximity=1000", status=422)
    assert "postcode" in body["message"]


# --- taxonomies -------------------------------------------------------------------------------


def test_taxonomies_and_terms(api, schemas):
    body = _get(api, f"{HSDS}/taxonomies")
    assert body["total_items"] == 1 and body["contents"] == [TAXONOMY]
    assert errors_of(schemas.entity("taxonomy"), body["contents"][0]) == []
    assert _get(api, f"{HSDS}/taxonomies/{TAXONOMY['id']}") == TAXONOMY
    assert _get(api, f"{HSDS}/taxonomies?search=nothing-like-this")["total_items"] == 0
    terms = _get(api, f"{HSDS}/taxonomy_terms?per_page=200")
    assert terms["total_items"] == len(TERMS)
    for term in terms["contents"]:
        assert errors_of(schemas.entity("taxonomy_term"), term) == []
    service = TERMS["service"]
    assert _get(api, f"{HSDS}/taxonomy_terms/{service.id}")["code"] == "service"
    top = _get(api, f"{HSDS}/taxonomy_terms?top_only=true")
    assert {t["code"] for t in top["contents"]} == {
        "facility_kind",
        "service",
        "house_rule",
        "location",
    }
    children = _get(api, f"{HSDS}/taxonomy_terms?parent_id={service.id}&per_page=200")
    assert {t["code"] for t in children["contents"]} == {
        t.code for t in TERMS.values() if t.parent == "service"
    }
    found = _get(api, f"{HSDS}/taxonomy_terms?search=psychologist")
    assert {t["code"] for t in found["contents"]} >= {"service.psychologist"}
    assert _get(api, f"{HSDS}/taxonomy_terms?taxonomy_id={TAXONOMY['id']}")["total_items"] == len(
        TERMS
    )
    assert _get(api, f"{HSDS}/taxonomy_terms?taxonomy_id=x")["total_items"] == 0


# --- what is not there ------------------------------------------------------------------------


def test_unknown_unlisted_and_confidential_things_are_not_found(api, orgs):
    hidden = make_facility(
        orgs["a"], "Unlisted", listed_publicly=False, address_visibility="public", locality="X"
    )
    secret = make_facility(orgs["a"], "Secret", kind="crisis_centre", address="Hidden 1")
    for url in (
        f"{HSDS}/services/not-a-uuid",
        f"{HSDS}/services/00000000-0000-0000-0000-000000000000",
        f"{HSDS}/services/{hidden.hsds_id}",
        f"{HSDS}/service_at_locations/{secret.hsds_sal_id}",
        f"{HSDS}/organizations/00000000-0000-0000-0000-000000000000",
        f"{HSDS}/taxonomies/00000000-0000-0000-0000-000000000000",
        f"{HSDS}/taxonomy_terms/not-a-term",
    ):
        body = _get(api, url, status=404)
        assert body["code"] == "not_found"
    body = api.get(f"{HSDS}/services/{secret.hsds_id}").content.decode()
    assert "Hidden 1" not in body and "Secret" in body  # named, without its address


def test_a_confidential_shelter_is_never_named_by_the_api(api, orgs):
    """Issue 14 (L5): not in a list, a search, a filter, a stream or by its id; an organisation
    with nothing else public is not listed either."""
    from refuge.core.services import organisation_create

    alone = organisation_create(by=None, slug="safe-ryazan", name="Safe Ryazan", kind="shelter")
    shelter = make_facility(
        alone,
        "Safe house for trafficking victims, Ryazan",
        kind="trafficking_safe_house",
        region="RU-RYA",
        rooms=[("dorm", 2)],
        free=[2],
    )
    profile = OrganisationProfile.objects.get(organisation=alone)
    for url in (
        f"{HSDS}/services/{shelter.hsds_id}",
        f"{HSDS}/service_at_locations/{shelter.hsds_sal_id}",
        f"{HSDS}/organizations/{profile.hsds_id}",
    ):
        _get(api, url, status=404)
    for url in (
        f"{HSDS}/services?per_page=200&full=true",
        f"{HSDS}/services?search=Ryazan",
        f"{HSDS}/services?taxonomy_term_id={TERMS['facility_kind.trafficking_safe_house'].id}",
        f"{HSDS}/services?organization_id={profile.hsds_id}",
        f"{HSDS}/organizations?per_page=200&full_service=true",
        f"{HSDS}/service_at_locations?per_page=200",
    ):
        text = api.get(url).content.decode()
        assert "Ryazan" not in text and str(shelter.hsds_id) not in text, url
    stream = b"".join(api.get(f"{HSDS}/services?format=ndjson").streaming_content).decode()
    assert "Ryazan" not in stream


# --- who may read it: anyone, from anywhere ----------------------------------------------------


HSDS_URLS = [
    f"{HSDS}",
    f"{HSDS}/",
    f"{HSDS}/openapi.json",
    f"{HSDS}/services",
    f"{HSDS}/services/00000000-0000-0000-0000-000000000000",  # 404
    f"{HSDS}/services?per_page=0",  # 422
    f"{HSDS}/organizations",
    f"{HSDS}/service_at_locations",
    f"{HSDS}/taxonomies",
    f"{HSDS}/taxonomy_terms",
]


@pytest.mark.parametrize("url", HSDS_URLS)
def test_the_public_feed_is_readable_from_any_origin_without_credentials(api, url):
    response = api.get(url, HTTP_ORIGIN="https://directory.example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "Access-Control-Allow-Credentials" not in response
    assert not response.cookies


@pytest.mark.parametrize("url", [f"{HSDS}/services", f"{HSDS}/services/x", f"{HSDS}"])
def test_a_preflight_is_answered_without_credentials(api, url):
    response = api.options(
        url,
        HTTP_ORIGIN="https://directory.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="accept-language",
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "*"  # never Authorization (Fetch)
    assert "Access-Control-Allow-Credentials" not in response


STAFF_URLS = [
    "/api/v1/me",
    "/api/v1/openapi.json",
    "/api/v1/hotline/stats?from=2024-01-01&to=2024-01-31",
    "/api/v1/referrals/00000000-0000-0000-0000-000000000000",
    "/api/v1/hsdsx",  # not the feed, though it starts alike
    "/directory/",
    "/help/en/",
]


@pytest.mark.parametrize("url", STAFF_URLS)
def test_nothing_else_is_shared_with_other_origins(api, url, orgs):
    from refuge.core.services import api_key_create

    _key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    for headers in ({}, {"HTTP_AUTHORIZATION": f"Bearer {text}"}):
        response = api.get(url, HTTP_ORIGIN="https://evil.example.org", **headers)
        assert "Access-Control-Allow-Origin" not in response, url
        assert response["Cross-Origin-Resource-Policy"] == "same-origin", url
    preflight = api.options(
        url,
        HTTP_ORIGIN="https://evil.example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )
    assert "Access-Control-Allow-Origin" not in preflight, url


def test_the_root_points_at_an_openapi_document_of_the_hsds_part_alone(api):
    root = _get(api, f"{HSDS}")
    assert root["version"] == "3.0"
    assert root == _get(api, f"{HSDS}/")
    assert root["openapi_url"] == "http://testserver/api/v1/hsds/openapi.json"
    document = _get(api, f"{HSDS}/openapi.json")
    assert document["servers"] == [{"url": "http://testserver/api/v1/hsds"}]
    assert set(document["paths"]) == {
        "/",
        "/services",
        "/services/{id}",
        "/organizations",
        "/organizations/{id}",
        "/service_at_locations",
        "/service_at_locations/{id}",
        "/taxonomies",
        "/taxonomies/{id}",
        "/taxonomy_terms",
        "/taxonomy_terms/{id}",
    }
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert all(op["security"] == [] for op in operations)
    assert "securitySchemes" not in document["components"]


def test_the_api_sets_no_cookie_and_needs_no_key(api):
    response = api.get(f"{HSDS}/services")
    assert response.status_code == 200 and not response.cookies


# --- cost -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"{HSDS}/services?full=true&per_page=200",
        f"{HSDS}/services?per_page=200&taxonomy_term_id={TERMS['service'].id}",
        f"{HSDS}/service_at_locations?full=true&per_page=200",
        f"{HSDS}/organizations?full_service=true&per_page=200",
    ],
)
def test_a_page_takes_a_constant_number_of_queries(api, orgs, url):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        return len(queries)

    small = count()
    for i in range(25):
        make_facility(
            orgs["b"],
            f"Public {i}",
            address_visibility="public",
            locality="Tula",
            region="RU-TUL",
            rooms=[("family", 2)],
            free=[2],
            services=["psychologist"],
        )
    assert count() == small


@pytest.mark.parametrize(
    ("moment", "everything"),
    [
        ("0731-02-17T04:39:14+23:56", True),  # found by schemathesis: PostgreSQL's limit is 15:59
        ("2000-01-01T00:00:00-23:59", True),
        ("0001-01-01T00:00:00+23:00", True),  # shifted before the calendar's first day
        ("9999-12-31T23:00:00-23:00", False),  # and after its last
    ],
)
def test_modified_after_with_any_offset_iso_8601_allows(api, moment, everything):
    url = f"{HSDS}/service_at_locations?" + urlencode({"modified_after": moment})
    response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    assert bool(response.json()["contents"]) is everything
