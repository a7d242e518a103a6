"""Backup and restore drill (issue 10): restore into a fresh database and decrypt."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE = """
import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'refuge.settings'); django.setup()
from django.core.management import call_command
call_command('migrate', verbosity=0)
from refuge.core.services import organisation_create, staff_create
from refuge.core.access import Principal
from refuge.cases.services import client_create
org = organisation_create(by=None, slug='kitezh', name='Kitezh', kind='shelter')
p = Principal.for_user(staff_create(by=None, organisation=org, username='cw', role='caseworker',
                                    password='drill-password-123').user)
print(client_create(by=p, name='Marfa Drill', phone='+7 916 111 22 33').case_code)
"""
READ = """
import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'refuge.settings'); django.setup()
from refuge.cases.models import Client
c = Client.objects.get(case_code=os.environ['CODE'])
print(c.name, c.phone)
"""


def py(code, env, *args):
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def refuge(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "refuge.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def base_env(home: Path) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("REFUGE_") and k != "DATABASE_URL"
    }
    env.update({"PYTHONPATH": str(ROOT / "src"), "REFUGE_MODE": "demo", "REFUGE_HOME": str(home)})
    return env


def drill(env, fresh_env, tmp_path):
    made = py(MAKE, env)
    assert made.returncode == 0, made.stderr[-2000:]
    code = made.stdout.strip().splitlines()[-1]
    dump = tmp_path / "refuge.backup"
    done = refuge(env, "backup", str(dump))
    assert done.returncode == 0, done.stderr[-2000:]
    raw = dump.read_bytes()
    for clear in (b"Marfa", b"+79161112233", b"916 111 22 33"):
        assert clear not in raw
    restored = refuge(fresh_env, "restore", str(dump))
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert "audit chain intact" in restored.stdout
    read = py(READ, {**fresh_env, "CODE": code})
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.strip() == "Marfa Drill +79161112233"
    # Without the keys the backup is unreadable, by design.
    other = {**fresh_env, "REFUGE_MASTER_KEY": "k9:" + "A" * 43 + "="}
    unreadable = py(READ, {**other, "CODE": code})
    assert unreadable.returncode != 0 and "REFUGE_MASTER_KEY" in unreadable.stderr


def test_sqlite_backup_restores_with_encrypted_data_intact(tmp_path):
    home, fresh = tmp_path / "a", tmp_path / "b"
    home.mkdir()
    fresh.mkdir()
    env = base_env(home)
    fresh_env = base_env(fresh)
    # The restored installation uses the same keys (they travel apart from the backup).
    (fresh / "secrets.env").write_text(
        (home / "secrets.env").read_text() if (home / "secrets.env").exists() else ""
    )
    py(
        "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','refuge.settings');django.setup()",
        env,
    )
    (fresh / "secrets.env").write_text((home / "secrets.env").read_text())
    drill(env, fresh_env, tmp_path)


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL), as in CI"
)
def test_postgresql_backup_restores_with_encrypted_data_intact(tmp_path):
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    names = [f"refuge_drill_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        home = tmp_path / "a"
        home.mkdir()
        env = {**base_env(home), "DATABASE_URL": f"{base}/{names[0]}"}
        py(
            "import django,os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','refuge.settings');django.setup()",
            env,
        )
        fresh_env = {**env, "DATABASE_URL": f"{base}/{names[1]}"}
        drill(env, fresh_env, tmp_path)
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- erasure survives a restore; private files (issue 14, L4 and M4) ------------------------------

MAKE_AND_ERASE_LATER = """
import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'refuge.settings'); django.setup()
from django.core.management import call_command
call_command('migrate', verbosity=0)
from refuge.core.services import organisation_create, staff_create
from refuge.core.access import Principal
from refuge.cases.services import client_create
org = organisation_create(by=None, slug='kitezh', name='Kitezh', kind='shelter')
for role in ('caseworker', 'manager'):
    staff_create(by=None, organisation=org, username=role, role=role, password='drill-password-123')
from refuge.core.models import User
p = Principal.for_user(User.objects.get(username='caseworker'))
print(client_create(by=p, name='Marfa Drill', phone='+7 916 111 22 33').case_code)
"""
ERASE = """
import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'refuge.settings'); django.setup()
from refuge.core.access import Principal
from refuge.core.models import User
from refuge.cases.models import Client
from refuge.cases.retention import client_erase
by = Principal.for_user(User.objects.get(username='manager'), reauthenticated=True)
c = Client.objects.select_related('data_key').get(case_code=os.environ['CODE'])
wrapped = bytes(c.data_key.wrapped)
client_erase(by=by, client=c, reason='her_request')
from django.db import connection
if connection.vendor == 'sqlite':  # while the server still runs, before any exit checkpoint
    from pathlib import Path
    home = Path(os.environ['REFUGE_HOME'])
    print(sorted(f.name for f in home.glob('refuge.sqlite3*') if wrapped in f.read_bytes()))
"""
READ_ERASED = """
import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'refuge.settings'); django.setup()
from refuge.cases.models import Client
from refuge.core.fields import Erased
c = Client.objects.get(case_code=os.environ['CODE'])
print(isinstance(c.name, Erased), isinstance(c.phone, Erased), repr(c.phone_index))
"""


def mode(path: Path) -> str:
    return oct(path.stat().st_mode & 0o777)


def erasure_drill(env, home: Path, tmp_path: Path) -> None:
    """Back up, erase her, restore the backup taken before: she stays erased."""
    made = py(MAKE_AND_ERASE_LATER, env)
    assert made.returncode == 0, made.stderr[-2000:]
    code = made.stdout.strip().splitlines()[-1]
    dump = tmp_path / "before-erasure.backup"
    done = refuge(env, "backup", str(dump))
    assert done.returncode == 0, done.stderr[-2000:]
    assert mode(dump) == "0o600"
    erased = py(ERASE, {**env, "CODE": code})
    assert erased.returncode == 0, erased.stderr[-2000:]
    if "DATABASE_URL" not in env:
        # No copy of her wrapped key is left in the SQLite files (an old page, free space, the
        # WAL) once the erasure has committed: only the backup taken before holds it.
        assert erased.stdout.strip().splitlines()[-1] == "[]"
    restored = refuge(env, "restore", "--force", str(dump))
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert "1 data keys in the backup destroyed again" in restored.stdout
    read = py(READ_ERASED, {**env, "CODE": code})
    assert read.returncode == 0, read.stderr[-2000:]
    assert read.stdout.strip() == "True True ''"
    # The restored log ends before the erasure's events; the restore's checkpoint says so.
    verified = refuge(env, "audit-verify")
    assert verified.returncode == 0, verified.stderr[-2000:] + verified.stdout
    for name in ("audit-checkpoints.jsonl", "shred-ledger.jsonl"):
        assert mode(home / name) == "0o600"
        assert b"Marfa" not in (home / name).read_bytes()


def test_sqlite_a_restored_backup_does_not_bring_an_erased_woman_back(tmp_path):
    home = tmp_path / "a"
    env = base_env(home)
    erasure_drill(env, home, tmp_path)
    # The database and its WAL files are created 0600 (they were 0644), the folder 0700.
    assert mode(home / "refuge.sqlite3") == "0o600"
    assert mode(home) == "0o700"
    for extra in ("refuge.sqlite3-wal", "refuge.sqlite3-shm", "secrets.env"):
        if (home / extra).exists():
            assert mode(home / extra) == "0o600", extra


def test_an_old_world_readable_database_is_narrowed_at_start(tmp_path):
    home = tmp_path / "a"
    home.mkdir()
    (home / "refuge.sqlite3").touch(mode=0o644)
    (home / "refuge.sqlite3").chmod(0o644)
    done = refuge(base_env(home), "check")
    assert done.returncode == 0, done.stderr[-2000:]
    assert mode(home / "refuge.sqlite3") == "0o600"


def test_a_backup_never_overwrites_a_file(tmp_path):
    home = tmp_path / "a"
    env = base_env(home)
    assert refuge(env, "migrate", "-v", "0").returncode == 0
    taken = tmp_path / "taken.backup"
    taken.write_text("precious")
    done = refuge(env, "backup", str(taken))
    assert done.returncode != 0 and "exists already" in done.stderr
    assert taken.read_text() == "precious"


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL), as in CI"
)
def test_postgresql_a_restored_backup_does_not_bring_an_erased_woman_back(tmp_path):
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"refuge_drill_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        home = tmp_path / "a"
        env = {**base_env(home), "DATABASE_URL": f"{base}/{name}"}
        erasure_drill(env, home, tmp_path)
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
