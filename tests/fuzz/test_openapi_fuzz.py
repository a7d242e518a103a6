"""Fuzz every operation of /api/v1/openapi.json (schemathesis): no 5xx, and every answer one
the document declares (status, content type, schema), for an authenticated machine client."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
import django  # noqa: E402

django.setup()

from refuge.wsgi import application  # noqa: E402

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)

# PBX webhooks are authenticated by their signatures: fuzzing them only tests the 403 path,
# which tests/hotline covers; everything else is fuzzed with a valid operator key.


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The raw WSGI handler closes database connections when a request finishes, which would
    close the test's own transaction on PostgreSQL; Django's test client avoids it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def key(orgs):
    from refuge.core.services import api_key_create
    from tests.directory.factories import make_facility

    make_facility(orgs["a"], "Fuzz refuge", region="RU-YAR", rooms=[("dorm", 2)], free=[1])
    _key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    return text


# Every answer must be one the document declares: its status, its content type, its schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# One test per operation, named by it (schemathesis' own parametrize gives every operation the
# same test id, and pytest-xdist then ran only one of them).
OPERATIONS = {result.ok().label: result.ok() for result in schema.get_all_operations()}


def _cases(operation):
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    try:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: S110 - an operation with nothing that can be made invalid
        pass
    return st.one_of(strategies)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_operation_fails_on_any_input(label, key):
    # The in-process WSGI client does not undo gzip, as an HTTP client does: the answers are
    # asked for plain (the compression itself is tested in tests/referrals/test_referrals.py).
    headers = {"Authorization": f"Bearer {key}", "Accept-Encoding": "identity"}

    @given(case=_cases(OPERATIONS[label]))
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
        )
        case.validate_response(response, checks=CHECKS, headers=headers)
        if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            assert set(response.json()) == {"code", "message", "details"}

    run()
