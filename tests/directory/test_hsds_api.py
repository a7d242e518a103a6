"""The public HSDS 3.0 read API (SPEC Contracts): no authentication, the public profile only,
paginated as the HSDS API protocol says."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from refuge.directory.hsds.schema import errors_of
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


@pytest.fixture
def api(db):
    load_file(SHIPPED["kg"])
    return Client()


def _check_page(schemas, body, item_schema):
    assert PAGE_KEYS <= set(body)
    validator = schemas.compiled(item_schema)
    for i, item in enumerate(body["contents"]):
        assert errors_of(validator, item, f"$.contents[{i}]") == []


def test_services_are_paginated_as_the_protocol_says(api, schemas):
    first = api.get("/api/v1/hsds/services?per_page=5").json()
    _check_page(schemas, first, "service_list")
    assert (first["total_items"], first["total_pages"], first["page_number"], first["size"]) == (
        16,
        4,
        1,
        5,
    )
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    last = api.get("/api/v1/hsds/services?per_page=5&page=4").json()
    assert last["size"] == 1 and last["last_page"] and not last["first_page"]
    beyond = api.get("/api/v1/hsds/services?per_page=5&page=9").json()
    assert beyond["empty"] and beyond["contents"] == []
    names = [
        s["name"]
        for p in (1, 2, 3, 4)
        for s in api.get(f"/api/v1/hsds/services?per_page=5&page={p}").json()["contents"]
    ]
    assert len(names) == len(set(names)) == 16


def test_bad_paging_is_a_json_error(api):
    response = api.get("/api/v1/hsds/services?per_page=0")
    assert response.status_code == 422 and response.json()["code"] == "validation_error"
    assert api.get("/api/v1/hsds/services?per_page=100000").status_code == 422


def test_full_services_and_one_service_validate(api, schemas):
    body = api.get("/api/v1/hsds/services?full=true&per_page=50").json()
    _check_page(schemas, body, "service")
    one = body["contents"][0]
    response = api.get(f"/api/v1/hsds/services/{one['id']}")
    assert response.status_code == 200
    assert errors_of(schemas.compiled("service"), response.json()) == []
    assert response.json()["id"] == one["id"]


def test_search_and_organization_filter(api):
    body = api.get("/api/v1/hsds/services?search=Tendesh").json()
    assert body["total_items"] == 2
    org_id = body["contents"][0]["organization_id"]
    assert api.get(f"/api/v1/hsds/services?organization_id={org_id}").json()["total_items"] == 2


def test_organizations(api, schemas):
    body = api.get("/api/v1/hsds/organizations?per_page=100").json()
    _check_page(schemas, body, "organization_list")
    assert body["total_items"] == 15
    org = next(o for o in body["contents"] if o["name"] == "Crisis Center “Tendesh”")
    full = api.get(f"/api/v1/hsds/organizations/{org['id']}").json()
    assert errors_of(schemas.compiled("organization"), full) == []
    assert len(full["services"]) == 2
    nested = api.get(f"/api/v1/hsds/organizations/{org['id']}?full_service=true").json()
    assert errors_of(schemas.compiled("organization"), nested) == []
    assert "attributes" in nested["services"][0]


def test_service_at_locations_are_only_the_public_ones(api, schemas, orgs):
    make_facility(orgs["a"], "Secret place", address="Hidden 1", locality="Hideaway")
    body = api.get("/api/v1/hsds/service_at_locations?per_page=100").json()
    _check_page(schemas, body, "service_at_location_list")
    names = {item["service"]["name"] for item in body["contents"]}
    assert body["total_items"] == len(body["contents"]) == 9
    assert "Secret place" not in names and "“Ayalzat” Municipal Crisis Center" not in names
    one = body["contents"][0]
    full = api.get(f"/api/v1/hsds/service_at_locations/{one['id']}").json()
    assert errors_of(schemas.compiled("service_at_location"), full) == []


def test_unknown_unlisted_and_confidential_things_are_not_found(api, orgs):
    hidden = make_facility(
        orgs["a"], "Unlisted", listed_publicly=False, address_visibility="public", locality="X"
    )
    secret = make_facility(orgs["a"], "Secret", address="Hidden 1")
    for url in (
        "/api/v1/hsds/services/not-a-uuid",
        "/api/v1/hsds/services/00000000-0000-0000-0000-000000000000",
        f"/api/v1/hsds/services/{hidden.hsds_id}",
        f"/api/v1/hsds/service_at_locations/{secret.hsds_sal_id}",
        "/api/v1/hsds/organizations/00000000-0000-0000-0000-000000000000",
    ):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    body = api.get(f"/api/v1/hsds/services/{secret.hsds_id}").content.decode()
    assert "Hidden 1" not in body


def test_the_api_sets_no_cookie_and_needs_no_key(api):
    response = api.get("/api/v1/hsds/services")
    assert response.status_code == 200 and not response.cookies


def test_a_page_takes_a_constant_number_of_queries(api, orgs):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/hsds/services?full=true&per_page=200").status_code == 200
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
        )
    assert count() == small
