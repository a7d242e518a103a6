"""The browser tests' live server shares the test's SQLite connection between threads; the
harness (conftest.shared_sqlite_connection_patch) keeps that from freezing the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run apart: when the deadlock happens no Python thread runs again, so the test that meets it
# could not even fail. Without the patch this script stopped for good in two runs of three
# (Python 3.11.7, SQLite 3.40).
SCRIPT = """
import sqlite3, sys, threading
sys.path.insert(0, {root!r})
from tests.browser.conftest import shared_sqlite_connection_patch
shared_sqlite_connection_patch()
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

con = sqlite3.connect("file:shared?mode=memory&cache=shared", uri=True, check_same_thread=False)
con.create_function("same", 1, lambda x: x, deterministic=True)  # as Django's SQL functions
con.execute("create table t (x)")
con.executemany("insert into t values (?)", [(i,) for i in range(5000)])

def run(query):
    for _ in range(20):
        cursor = con.cursor(factory=SQLiteCursorWrapper)
        cursor.execute(query)
        cursor.fetchall()
        cursor.close()

threads = [
    threading.Thread(target=run, args=("select sum(same(x)) from t",)),
    threading.Thread(target=run, args=("select x from t",)),
]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("both finished")
"""


def test_two_threads_on_one_connection_do_not_deadlock():
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT.format(root=str(ROOT))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    assert "both finished" in out.stdout
