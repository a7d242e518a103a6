"""Fuzz every operation of /api/v1/openapi.json (schemathesis): no 5xx, and responses that
match the documented schema, for an authenticated machine client."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

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


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_fails_on_any_input(case, key):
    response = case.call(headers={"Authorization": f"Bearer {key}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    if response.status_code < 400 or response.status_code in (400, 401, 403, 404, 409, 413, 422):
        body = (
            response.json()
            if response.headers.get("Content-Type", "").startswith("application/json")
            else None
        )
        if response.status_code >= 400 and body is not None:
            assert set(body) == {"code", "message", "details"}
