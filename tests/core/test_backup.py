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
