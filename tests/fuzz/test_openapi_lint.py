"""The OpenAPI documents as tools the project did not write see them: openapi-spec-validator
and Redocly's recommended rules, 0 errors, over the whole of /api/v1/openapi.json (so every
app's endpoints, including ones added later) and over the HSDS-only document; then the rules
of docs/architecture.md ("The API") that no linter knows: security on every operation, every
refusal with the error schema, 401 and 422 wherever they can happen.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import Client
from openapi_spec_validator import validate

REPO = Path(__file__).resolve().parents[2]
REDOCLY = REPO / ".tools" / "redocly" / "node_modules" / ".bin" / "redocly"
ERROR_REF = "#/components/schemas/ErrorOut"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
DOCUMENTS = ["/api/v1/openapi.json", "/api/v1/hsds/openapi.json"]


@pytest.fixture
def documents(db):
    client = Client()
    out = {}
    for url in DOCUMENTS:
        response = client.get(url)
        assert response.status_code == 200, url
        out[url] = response.json()
    return out


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.mark.parametrize("url", DOCUMENTS)
def test_openapi_spec_validator_finds_no_error(documents, url):
    validate(documents[url])


def _redocly() -> Path:
    if REDOCLY.exists():
        return REDOCLY
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed, so Redocly CLI cannot be (make redocly needs it)")
    subprocess.run(["make", "-C", str(REPO), "redocly"], check=True, capture_output=True)
    assert REDOCLY.exists(), "make redocly did not install Redocly CLI"
    return REDOCLY


def _cannot_fail(operation) -> bool:
    """An operation with no input and no security has no 4xx to declare."""
    return not (
        operation.get("parameters") or operation.get("requestBody") or operation.get("security")
    )


def _lint(document, directory: Path) -> dict:
    redocly = _redocly()
    path = directory / "openapi.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    env = {
        **os.environ,
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [str(redocly), "lint", str(path), "--format=json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=directory,
        timeout=300,
    )
    return json.loads(result.stdout)


def test_redocly_does_find_what_the_issue_found(documents, tmp_path):
    """The lint can fail: no servers, a trailing slash, an operation without security."""
    broken = json.loads(json.dumps(documents["/api/v1/openapi.json"]))
    broken["servers"] = []
    path, item = next(iter(broken["paths"].items()))
    broken["paths"][path + "/"] = broken["paths"].pop(path)
    next(iter(item.values())).pop("security")
    rules = {p["ruleId"] for p in _lint(broken, tmp_path)["problems"] if p["severity"] == "error"}
    assert {"no-empty-servers", "no-path-trailing-slash", "security-defined"} <= rules


@pytest.mark.parametrize("url", DOCUMENTS)
def test_redocly_recommended_rules_find_no_error(documents, url, tmp_path):
    report = _lint(documents[url], tmp_path)
    problems = [
        (p["severity"], p["ruleId"], p["location"][0]["pointer"], p["message"])
        for p in report["problems"]
    ]
    assert report["totals"]["errors"] == 0, problems
    # Warnings: only "no 4XX response" on an operation that cannot fail.
    by_pointer = {
        f"#/paths/{p.replace('~', '~0').replace('/', '~1')}/{m}/responses": op
        for p, m, op in _operations(documents[url])
    }
    for _severity, rule, pointer, message in problems:
        assert rule == "operation-4xx-response", (rule, pointer, message)
        assert _cannot_fail(by_pointer[pointer]), pointer


@pytest.mark.parametrize("url", DOCUMENTS)
def test_every_operation_says_its_security_and_its_refusals(documents, url):
    document = documents[url]
    assert document["servers"] and document["info"].get("license")
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        assert path == "/" or not path.endswith("/"), where
        assert "security" in operation, f"{where}: no security (public ones say [])"
        responses = {str(code): r for code, r in operation["responses"].items()}
        for code, response in responses.items():
            if code[0] in "45":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, f"{where} {code}: not the error schema"
        if operation["security"]:
            assert "401" in responses, f"{where}: takes a key but declares no 401"
        if operation.get("requestBody") or any(
            p.get("required") and p["in"] != "path" for p in operation.get("parameters", [])
        ):
            assert "422" in responses, f"{where}: validates input but declares no 422"


@pytest.mark.parametrize("url", DOCUMENTS)
def test_every_component_is_used(documents, url):
    document = documents[url]
    text = json.dumps({k: v for k, v in document.items() if k != "components"})
    schemas = document["components"].get("schemas", {})
    used, todo = set(), {n for n in schemas if f'"#/components/schemas/{n}"' in text}
    while todo:
        name = todo.pop()
        used.add(name)
        inner = json.dumps(schemas[name])
        todo |= {n for n in schemas if f'"#/components/schemas/{n}"' in inner} - used
    assert set(schemas) == used
    schemes = set(document["components"].get("securitySchemes", {}))
    named = {name for _p, _m, op in _operations(document) for req in op["security"] for name in req}
    assert schemes == named


def test_the_staff_session_is_offered_only_where_it_is_accepted(documents):
    """VerifiedSessionAuth serves pages that fetch JSON: GET only."""
    for path, method, operation in _operations(documents["/api/v1/openapi.json"]):
        names = {name for req in operation["security"] for name in req}
        if "VerifiedSessionAuth" in names:
            assert method == "get", f"{method.upper()} {path}"
