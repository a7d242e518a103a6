"""SPEC.md R: no place promised twice in thousands of concurrent hold/accept attempts, on SQLite
(a real database file, WAL, IMMEDIATE transactions) and on PostgreSQL (row locks)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = int(os.environ.get("REFUGE_RACE_ROUNDS", "50"))  # 50 rounds = 1,000 concurrent attempts


def _run(env_extra: dict) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("REFUGE_") and k != "DATABASE_URL"
    }
    env.update({"PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT), **env_extra})
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("race_script.py")), str(ROUNDS)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(stats: dict) -> None:
    assert stats["errors"] == [], stats["errors"][:5]
    assert stats["double_promises"] == 0
    assert stats["holds_won"] == stats["rounds"] and stats["accepts_won"] == stats["rounds"]
    assert stats["hold_attempts"] + stats["accept_attempts"] == ROUNDS * 20


def test_no_place_is_promised_twice_on_sqlite(tmp_path):
    stats = _run({"REFUGE_MODE": "demo", "REFUGE_HOME": str(tmp_path)})
    assert stats["vendor"] == "sqlite"
    _check(stats)


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL"), reason="needs PostgreSQL (DATABASE_URL), as in CI"
)
def test_no_place_is_promised_twice_on_postgresql(tmp_path):
    import psycopg

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"refuge_race_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        stats = _run(
            {"REFUGE_MODE": "demo", "REFUGE_HOME": str(tmp_path), "DATABASE_URL": f"{base}/{name}"}
        )
        assert stats["vendor"] == "postgresql"
        _check(stats)
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
