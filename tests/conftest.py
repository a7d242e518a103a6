"""Test base: personas (one user per role in two organisations), signed-in clients, factories."""

from __future__ import annotations

import os
import time

os.environ.setdefault("REFUGE_MODE", "test")

from dataclasses import dataclass  # noqa: E402
from importlib import import_module  # noqa: E402

import django.db.backends.sqlite3.base  # noqa: E402, F401  (import order: base before operations)
import pytest  # noqa: E402
from django.db.backends.sqlite3.operations import DatabaseOperations as SQLiteOps  # noqa: E402
from django.test import Client as HttpClient  # noqa: E402
from django_otp import DEVICE_ID_SESSION_KEY  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from refuge.core.access import Principal  # noqa: E402
from refuge.core.models import Organisation, User  # noqa: E402
from refuge.core.roles import OrgKind, Role, requires_second_factor  # noqa: E402
from refuge.core.services import organisation_create, staff_create  # noqa: E402

# The audit table refuses DELETE by trigger. Django's flush (between transactional tests on
# SQLite) deletes every row, so in tests only, flush lifts the trigger and puts it back.
_original_sql_flush = SQLiteOps.sql_flush


def _sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    m = import_module("refuge.core.migrations.0002_audit_append_only")
    statements = _original_sql_flush(
        self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
    )
    if "core_auditevent" not in tables:
        return statements
    return [*m.SQLITE_DROP, *statements, *m.SQLITE]


SQLiteOps.sql_flush = _sql_flush

try:  # PostgreSQL's flush is one TRUNCATE, which the statement-level guard of 0004 refuses
    from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOps
except ImportError:  # pragma: no cover - psycopg is installed with the project
    PostgresOps = None

if PostgresOps is not None:
    _original_pg_flush = PostgresOps.sql_flush

    def _pg_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        m = import_module("refuge.core.migrations.0004_audit_head_seal_and_truncate_guard")
        statements = _original_pg_flush(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if "core_auditevent" not in tables:
            return statements
        return [*m.POSTGRES_TRUNCATE_GUARD_DROP, *statements, *m.POSTGRES_TRUNCATE_GUARD]

    PostgresOps.sql_flush = _pg_flush

# Query counts are taken with nothing kept between searches (refuge.vacancies.facts keeps the
# directory's facts and the rooms per process): what is kept only takes queries away, so a count
# taken after a write (which takes back what was kept) would differ from one taken before it
# by the reads a kept search skips. Counting from the same start keeps "no N+1" comparable.
from django.test.utils import CaptureQueriesContext  # noqa: E402

_original_capture_enter = CaptureQueriesContext.__enter__


def _capture_enter(self):
    from refuge.vacancies.facts import clear_kept

    clear_kept()
    return _original_capture_enter(self)


CaptureQueriesContext.__enter__ = _capture_enter  # type: ignore[method-assign]

PASSWORD = "correct horse battery staple"


@dataclass
class Persona:
    user: User
    role: str
    org: Organisation

    @property
    def principal(self) -> Principal:
        return Principal.for_user(self.user)


def make_org(slug: str, kind: str = OrgKind.SHELTER) -> Organisation:
    return organisation_create(by=None, slug=slug, name=slug.replace("-", " ").title(), kind=kind)


def make_user(org: Organisation, role: str, username: str) -> User:
    return staff_create(
        by=None, organisation=org, username=username, role=role, password=PASSWORD
    ).user


@pytest.fixture
def orgs(db) -> dict[str, Organisation]:
    return {"a": make_org("org-a", OrgKind.HUB), "b": make_org("org-b", OrgKind.SHELTER)}


@pytest.fixture
def personas(orgs) -> dict[str, Persona]:
    """``personas["caseworker_a"]``: every role, in organisation a and in organisation b."""
    out = {}
    for key, org in orgs.items():
        for role in Role:
            user = make_user(org, role, f"{role.value}-{key}")
            out[f"{role.value}_{key}"] = Persona(user=user, role=role, org=org)
    return out


def sign_in(client: HttpClient, user: User) -> HttpClient:
    """Signed in as the user would be after both steps (password and, if needed, TOTP)."""
    client.force_login(user)
    session = client.session
    session["last_activity"] = time.time()  # as the sign-in view sets it
    session.save()
    if requires_second_factor(user.role):
        device = TOTPDevice.objects.filter(
            user=user, confirmed=True
        ).first() or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def as_persona(personas):
    """``as_persona("manager_a")`` gives a test client signed in as that persona."""

    def make(key: str) -> HttpClient:
        return sign_in(HttpClient(), personas[key].user)

    return make


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path_factory):
    """The audit checkpoints and the shred ledger live outside the database: one fresh
    directory per test, never the working tree's var/."""
    home = tmp_path_factory.mktemp("var")
    settings.REFUGE_AUDIT_CHECKPOINT_FILE = home / "audit-checkpoints.jsonl"
    settings.REFUGE_SHRED_LEDGER_FILE = home / "shred-ledger.jsonl"


@pytest.fixture(autouse=True)
def _reference_data(request, django_db_blocker):
    """Reference data loaded by data migrations (the regions) is wiped by the flush that ends a
    transactional test (browser tests, race tests); put it back for the tests that follow."""
    uses_db = {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    ) or request.node.get_closest_marker("django_db")
    if uses_db:
        from refuge.directory.models import Region
        from refuge.directory.regions import load_regions

        request.getfixturevalue("django_db_setup")  # the test database exists before we look
        with django_db_blocker.unblock():
            if not Region.objects.exists():
                load_regions(Region)
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language: LocaleMiddleware leaves a request's language
    active in the thread, which would leak into the next test on the same worker."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    from refuge.core import crypto

    crypto.key_cache.clear()
    yield
    crypto.key_cache.clear()
