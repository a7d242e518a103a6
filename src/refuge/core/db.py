"""Transactions that meet each other: a bounded retry when the database gives up on one.

Services that hold places lock few rows, in one order (rooms by primary key, see
refuge.vacancies.beds), so a deadlock should not happen; but PostgreSQL may still end a
transaction with a deadlock (40P01) or a serialization failure (40001), for example through the
row locks its foreign-key checks take, and SQLite may answer "database is locked" after its busy
timeout. Either way nothing was written, so the whole transaction can simply run again.

``retry_on_conflict`` runs the decorated service again, a few times, after a short random pause;
when it still fails it raises a ``ServiceError`` with code ``busy`` (409 in the API, a message on
a page): never a 500. It retries only at the outermost level: inside a caller's transaction the
failure is the caller's to handle (a nested retry would run against a transaction that
PostgreSQL has already aborted).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.utils.translation import gettext as _

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("refuge.db")

ATTEMPTS = 5
BASE_DELAY = 0.02  # seconds; doubled at each attempt, each pause drawn at random below it
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def is_conflict(exc: BaseException) -> bool:
    """Whether the database refused this transaction only because another one was in its way."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(exc) or "database table is locked" in str(exc)


def retry_on_conflict(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` (which opens its own transaction) again on a deadlock, serialization failure or
    locked SQLite database, up to ``ATTEMPTS`` times with jittered exponential backoff."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        connection = connections[DEFAULT_DB_ALIAS]
        if connection.in_atomic_block:
            return fn(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return fn(*args, **kwargs)
            except OperationalError as exc:
                if not is_conflict(exc):
                    raise
                log.warning("%s: %s (attempt %d of %d)", fn.__qualname__, exc, attempt, ATTEMPTS)
                if attempt == ATTEMPTS:
                    from refuge.core.services import ServiceError

                    raise ServiceError(
                        _("Many changes are being made at this moment; please try again."),
                        "busy",
                    ) from exc
                time.sleep(random.uniform(0, BASE_DELAY * 2**attempt))  # noqa: S311 - jitter only
        raise AssertionError("unreachable")

    return wrapper
