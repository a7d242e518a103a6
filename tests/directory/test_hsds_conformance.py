"""The read API as a client that knows only the official HSDS 3.0 OpenAPI document sees it.

The endpoints, their parameters and the schema of every answer come from the official
``schema/openapi.json``, read in place; the schemas it refers to by URL are read from the same
copy of the specification (no network). For every endpoint it declares, the API is called bare
and once per declared parameter, and every body (each line of an NDJSON stream too) must
validate against the declared schema. Filters may only narrow a list, and every one is tried
with a value that finds something.
"""

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.test import Client
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from refuge.directory.hsds.schema import SchemasNotFound, find_hsds_dir
from refuge.directory.shipped import SHIPPED, load_file
from tests.directory.factories import make_facility

SPEC_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
DOCUMENT_URI = "urn:hsds-3.0:openapi.json"
BASE = "/api/v1/hsds"
# Errata of the official document, each with its source. The 3.0 document declares the body of
# GET /service_at_locations/{id} as a service; openreferral/specification pull request 574
# (merged 2026-01-16) corrects it to the compiled service_at_location schema.
ERRATA = {"/service_at_locations/{id}": "compiled/service_at_location.json"}
# Parameters that choose how results come, not which: they need not narrow the list.
SHAPE = {"page", "per_page", "format", "full", "minimal", "full_service"}
NO_ID = "00000000-0000-0000-0000-000000000000"
NOTHING = {
    "search": "zzqxj",
    "taxonomy_term_id": NO_ID,
    "taxonomy_id": NO_ID,
    "organization_id": NO_ID,
    "parent_id": NO_ID,
    "modified_after": "2999-01-01T00:00:00Z",
    "postcode": "000000",
}


def _official_document() -> dict | None:
    try:
        root = find_hsds_dir()
    except SchemasNotFound:
        return None
    return json.loads((root / "schema" / "openapi.json").read_text(encoding="utf-8"))


def pytest_generate_tests(metafunc):
    if "official_path" in metafunc.fixturenames:
        document = _official_document()
        paths = sorted(document["paths"]) if document else []
        metafunc.parametrize("official_path", paths or [pytest.param("-", marks=pytest.mark.skip)])


@pytest.fixture(scope="module")
def official(hsds_dir):
    document = json.loads((hsds_dir / "schema" / "openapi.json").read_text(encoding="utf-8"))

    def retrieve(uri: str) -> Resource:
        if not uri.startswith(SPEC_URL):
            raise LookupError(f"the official document refers to {uri}, outside the specification")
        path = Path(hsds_dir) / "schema" / uri[len(SPEC_URL) :]
        return Resource.from_contents(
            json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
        )

    registry = Registry(retrieve=retrieve).with_resource(
        DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    return document, registry


@pytest.fixture
def api(db, orgs):
    load_file(SHIPPED["kg"])
    # Something of every kind of field: a complete public address with a postcode and a point,
    # opening hours, published free beds, house rules and documents.
    from refuge.directory.hours import DAY, Window
    from refuge.directory.services import facility_hours_set
    from refuge.vacancies.models import FacilityAvailability

    shelter = make_facility(
        orgs["a"],
        "Open door shelter",
        address_visibility="public",
        address="Lenina 1",
        locality="Tula",
        postal_code="300041",
        region="RU-TUL",
        latitude=54.19,
        longitude=37.62,
        rooms=[("family", 4)],
        free=[4],
        services=["psychologist", "lawyer"],
        rules={"min_age": 18, "requires_passport": True, "staff_languages": ["ru"], "cost": "free"},
    )
    FacilityAvailability.objects.filter(facility=shelter).update(publish_availability=True)
    facility_hours_set(by=None, facility=shelter, windows=[Window((0, 1, 2, 3, 4, 5, 6), 0, DAY)])
    return Client()


def _parameters(document: dict, path: str) -> list[dict]:
    item = document["paths"][path]
    out = []
    for parameter in item.get("parameters", []) + item["get"].get("parameters", []):
        if "$ref" in parameter:
            name = parameter["$ref"].rsplit("/", 1)[1]
            parameter = document["components"]["parameters"][name]
        out.append(parameter)
    return out


def _validator(official, path: str) -> Draft202012Validator:
    document, registry = official
    if path in ERRATA:
        ref = SPEC_URL + ERRATA[path]
    else:
        pointer = path.replace("~", "~0").replace("/", "~1")
        ref = f"{DOCUMENT_URI}#/paths/{pointer}/get/responses/200/content/application~1json/schema"
    return Draft202012Validator({"$ref": ref}, registry=registry, format_checker=FormatChecker())


def _item_validator(official, path: str) -> Draft202012Validator:
    """The schema of one item of a list (the Page's ``contents``), for NDJSON lines."""
    document, registry = official
    schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    ref = schema["schema"]["properties"]["contents"]["items"]["$ref"]
    return Draft202012Validator({"$ref": ref}, registry=registry, format_checker=FormatChecker())


def _errors(validator, body) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(body)][:5]


def _get(api: Client, path: str, query: dict | None = None):
    url = BASE + path + ("?" + urlencode(query) if query else "")
    response = api.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return url, response


def _json(api: Client, path: str, query: dict | None = None):
    return _get(api, path, query)[1].json()


def _sample_values(api: Client) -> dict[str, list]:
    """For each parameter name of the official document, values that find something here,
    taken from the API's own answers."""
    service = _json(api, "/services", {"search": "Open door"})["contents"][0]
    full = _json(api, f"/services/{service['id']}")
    terms = _json(api, "/taxonomy_terms", {"per_page": 200})["contents"]
    parents = {t["parent_id"] for t in terms if t.get("parent_id")}
    sal = _json(api, "/service_at_locations", {"full": "true", "search": "Open door"})
    postcode = sal["contents"][0]["location"]["addresses"][0]["postal_code"]
    return {
        "page": [1, 2],
        "per_page": [1, 1000],
        "format": ["json", "ndjson"],
        "taxonomy_term_id": [full["attributes"][0]["taxonomy_term_id"]],
        "taxonomy_id": [_json(api, "/taxonomies")["contents"][0]["id"]],
        "organization_id": [service["organization_id"]],
        "modified_after": ["2000-01-01T00:00:00Z"],
        "minimal": ["true", "false"],
        "full": ["true", "false"],
        "full_service": ["true", "false"],
        "top_only": ["true", "false"],
        "parent_id": sorted(parents)[:1],
        "postcode": [postcode],
        "proximity": ["100000"],
    }


def _ids_of(response) -> list[str]:
    if response["Content-Type"] == "application/x-ndjson":
        return [
            json.loads(line)["id"] for line in b"".join(response.streaming_content).splitlines()
        ]
    return [item["id"] for item in response.json()["contents"]]


def test_every_official_endpoint_and_parameter_answers_with_valid_documents(
    api, official, official_path
):
    document, _registry = official
    path = official_path
    validator = _validator(official, path)
    if "{id}" in path:
        listing = path.replace("/{id}", "")
        ids = _ids_of(_get(api, listing, {"format": "ndjson"})[1])
        assert ids, listing
        for parameter in _parameters(document, path):
            assert parameter["in"] == "path" or parameter["schema"]["type"] == "boolean"
        optional = [p["name"] for p in _parameters(document, path) if p["in"] == "query"]
        for id_ in ids:
            for query in [{}] + [{name: "true"} for name in optional]:
                url, response = _get(api, path.replace("{id}", id_), query)
                assert _errors(validator, response.json()) == [], url
        return
    url, response = _get(api, path)
    body = response.json()
    assert _errors(validator, body) == [], url
    if path == "/":
        return
    everything = set(_ids_of(_get(api, path, {"format": "ndjson"})[1]))
    assert everything, path
    samples = _sample_values(api)
    first = body["contents"][0]
    named = first.get("service", first)  # a service at a location is found by its service
    samples["search"] = [named["name"].split()[0]]  # something of this list
    for parameter in _parameters(document, path):
        name = parameter["name"]
        assert name in samples, f"{path}: no sample for the official parameter {name}"
        for value in samples[name]:
            query = {name: value}
            if name == "proximity":
                query["postcode"] = samples["postcode"][0]
            url, response = _get(api, path, query)
            if response["Content-Type"] == "application/x-ndjson":
                items = _item_validator(official, path)
                lines = b"".join(response.streaming_content).splitlines()
                assert len(lines) == len(everything), url
                for line in lines:
                    assert _errors(items, json.loads(line)) == [], url
                continue
            body = response.json()
            assert _errors(validator, body) == [], url
            if name not in SHAPE:
                found = {item["id"] for item in body["contents"]}
                assert found and found <= everything, url
        # A filter is honoured, not ignored: a value that matches nothing finds nothing.
        if name in NOTHING:
            url, response = _get(api, path, {name: NOTHING[name]})
            assert response.json()["contents"] == [], url


def test_the_root_document_points_at_an_openapi_document_with_every_official_operation(
    api, official
):
    document, _registry = official
    root = _json(api, "/")
    served = api.get(root["openapi_url"].replace("http://testserver", ""))
    assert served.status_code == 200 and served["Access-Control-Allow-Origin"] == "*"
    ours = served.json()
    assert set(ours["paths"]) == set(document["paths"])
    for path in document["paths"]:
        declared = {(p["name"], p["in"]) for p in ours["paths"][path]["get"].get("parameters", [])}
        wanted = {(p["name"], p["in"]) for p in _parameters(document, path)}
        assert wanted <= declared, path
