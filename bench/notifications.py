"""SPEC P, notifications: commit-to-handoff latency with one worker (p95 < 5 s), and N
notifications through two `refuge worker` processes on PostgreSQL, each delivered exactly once
(counted by Message-ID at a real SMTP server on loopback), for the database queue and RQ.

Baseline of the same run: the same number of emails handed to the same SMTP server directly from
one process (Django's SMTP backend, no queue, no outbox). CPU time (user + system, workers
included) beside wall time.

Usage: python bench/notifications.py [N]   (default 10,000; PostgreSQL on 127.0.0.1:5432,
Redis on 127.0.0.1:6379 for the RQ part)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
from bench._report import result  # noqa: E402
from tests.notifications.peers import SMTPPeer  # noqa: E402

SCRIPT = ROOT / "tests" / "notifications" / "worker_script.py"
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/11"  # as tests/notifications/test_backends.py, own queue name


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _db() -> str:
    import psycopg

    name = f"refuge_bench_notify_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _env(db: str, smtp: SMTPPeer, backend: str, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFUGE_")}
    env.update(
        {
            "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            "REFUGE_MODE": "demo",
            "REFUGE_HOME": str(home),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
            "REFUGE_EMAIL_URL": smtp.url,
            "REFUGE_TASKS_BACKEND": backend,
            "REFUGE_REDIS_URL": REDIS,
            "REFUGE_TASKS_QUEUE": f"bench-{uuid.uuid4().hex[:8]}",
        }
    )
    return env


def _script(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _workers(env: dict, n: int) -> list[subprocess.Popen]:
    return [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), "work", f"bench{i}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(n)
    ]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=60)


def throughput(backend: str, total: int, home: Path) -> dict:
    users = 100
    events = max(1, total // users)
    smtp = SMTPPeer().start()
    db = _db()
    try:
        env = _env(db, smtp, backend, home / backend)
        (home / backend).mkdir(parents=True, exist_ok=True)
        _script(env, "setup", str(users), str(events))
        cpu0, t0 = _cpu_children(), time.perf_counter()
        procs = _workers(env, 2)
        try:
            while len(smtp.messages) < users * events and time.perf_counter() - t0 < 1800:
                time.sleep(0.2)
            wall = time.perf_counter() - t0
        finally:
            _stop(procs)
        state = _script(env, "status")
        ids = smtp.ids()
        return {
            "n": users * events,
            "wall": wall,
            "cpu": _cpu_children() - cpu0,
            "received": len(ids),
            "distinct": len(set(ids)),
            "sent_rows": state["by_status"].get("sent", 0),
        }
    finally:
        smtp.stop()
        _drop(db)
        if backend == "rq":
            import redis

            client = redis.Redis.from_url(REDIS)
            for key in client.scan_iter(f"*{env['REFUGE_TASKS_QUEUE']}*"):
                client.delete(key)


def baseline(total: int) -> dict:
    """The same emails straight to the SMTP server, one process, no queue."""
    import smtplib
    from email.message import EmailMessage

    smtp = SMTPPeer().start()
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(total):
            msg = EmailMessage()
            msg["Subject"], msg["From"], msg["To"] = "Refuge", "r@example.org", f"u{i}@example.org"
            msg["Message-ID"] = f"<{i}@example.org>"
            msg.set_content("Refuge: 1 new item is waiting for you. Sign in to see it.")
            with smtplib.SMTP("127.0.0.1", smtp.port) as s:
                s.send_message(msg)
        return {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    finally:
        smtp.stop()


LATENCY_CODE = r"""
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
import django; django.setup()
from django.db import transaction
from refuge.notifications.models import Delivery
from refuge.notifications.services import notify
commits = {}
for i in range(int(sys.argv[1])):
    with transaction.atomic():
        e = notify(event="partner_request.created", about=("referrals.partnerrequest", f"lat{i}"))
    commits[str(e.pk)] = time.time()
    time.sleep(0.2)
deadline = time.time() + 60
while time.time() < deadline and Delivery.objects.filter(channel="email", status="sent").count() < len(commits):
    time.sleep(0.2)
lat = sorted(d.sent_at.timestamp() - commits[str(d.event_id)]
             for d in Delivery.objects.filter(channel="email", status="sent", event_id__in=list(commits)))
print(json.dumps(lat))
"""


def latency(home: Path, n: int = 100) -> list[float]:
    smtp = SMTPPeer().start()
    db = _db()
    try:
        env = _env(db, smtp, "database", home / "latency")
        (home / "latency").mkdir(parents=True, exist_ok=True)
        _script(env, "setup", "1", "0")
        procs = _workers(env, 1)
        try:
            time.sleep(2)
            out = subprocess.run(
                [sys.executable, "-c", LATENCY_CODE, str(n)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            _stop(procs)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        smtp.stop()
        _drop(db)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> None:
    import tempfile

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    home = Path(tempfile.mkdtemp(prefix="refuge-bench-notify-"))
    lat = latency(home)
    p50, p95 = pct(lat, 0.5), pct(lat, 0.95)
    print(
        f"commit-to-handoff, one worker, {len(lat)} notifications: p50 {p50:.2f} s, p95 {p95:.2f} s"
    )
    base = baseline(total)
    print(
        f"baseline: {total} emails straight to SMTP: {base['wall']:.1f} s wall, {base['cpu']:.1f} s CPU"
    )
    runs = {}
    for backend in ("database", "rq"):
        r = throughput(backend, total, home)
        runs[backend] = r
        print(
            f"{backend}: {r['n']} notifications, two workers: {r['wall']:.1f} s wall "
            f"({r['wall'] / base['wall']:.1f}x baseline), {r['cpu']:.1f} s CPU of the workers "
            f"({r['cpu'] / max(base['cpu'], 1e-9):.1f}x); received {r['received']}, "
            f"distinct {r['distinct']}, rows sent {r['sent_rows']}"
        )
    once = all(r["received"] == r["distinct"] == r["n"] == r["sent_rows"] for r in runs.values())
    result(
        target="Notifications: commit to hand-off p95 < 5 s with one worker; 10,000 with two workers, each sent exactly once",
        measured=(
            f"p50 {p50:.2f} s, p95 {p95:.2f} s; "
            + "; ".join(
                f"{b}: {r['n']} in {r['wall']:.0f} s wall ({r['wall'] / base['wall']:.1f}x direct SMTP), "
                f"{r['distinct']} distinct of {r['received']} received"
                for b, r in runs.items()
            )
        ),
        met=p95 < 5 and once,
    )


if __name__ == "__main__":
    main()
