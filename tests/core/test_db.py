"""refuge.core.db.retry_on_conflict: a transaction the database gave up on runs again, a few
times; then a clear refusal (code "busy"), never a 500 (issue 14, M1)."""

import pytest
from django.db import OperationalError, transaction

from refuge.core import db
from refuge.core.services import ServiceError


class _Cause(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failure(sqlstate=None, text="deadlock detected"):
    exc = OperationalError(text)
    exc.__cause__ = _Cause(sqlstate) if sqlstate else None
    return exc


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch):
    monkeypatch.setattr(db.time, "sleep", lambda seconds: None)


def _flaky(failures):
    calls = []

    @db.retry_on_conflict
    def service():
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return "done"

    return service, calls


@pytest.mark.parametrize(
    "failure",
    [
        _failure("40P01"),
        _failure("40001", "could not serialize access"),
        _failure(None, "database is locked"),
    ],
    ids=["deadlock", "serialization", "sqlite-locked"],
)
def test_a_conflict_is_retried_until_it_passes(failure):
    service, calls = _flaky([failure, failure])
    assert service() == "done" and len(calls) == 3


def test_a_conflict_that_does_not_pass_is_a_clear_refusal():
    service, calls = _flaky([_failure("40P01")] * db.ATTEMPTS)
    with pytest.raises(ServiceError) as exc:
        service()
    assert exc.value.code == "busy" and len(calls) == db.ATTEMPTS


def test_other_database_errors_are_not_retried():
    service, calls = _flaky([_failure("42P01", "relation does not exist")])
    with pytest.raises(OperationalError):
        service()
    assert len(calls) == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_caller_decides():
    # The caller's transaction is already aborted: running again inside it cannot help.
    service, calls = _flaky([_failure("40P01")])
    with pytest.raises(OperationalError), transaction.atomic():
        service()
    assert len(calls) == 1
