"""The same code on both backends (SPEC C11): the database queue and RQ on the machine's Redis.
The same notifications go through each, with real `refuge worker` processes, to a real SMTP
server; each arrives once, with the same neutral words."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.notifications.peers import SMTPPeer
from tests.notifications.test_kill import _env, _run, _stop, _worker

USERS, EVENTS = 5, 4


def _send_through(env: dict, smtp: SMTPPeer) -> list[str]:
    _run(env, "setup", str(USERS), str(EVENTS))
    worker = _worker(env, f"w-{uuid.uuid4().hex[:6]}")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if _run(env, "status")["by_status"] == {"sent": USERS * EVENTS}:
                break
            time.sleep(0.5)
    finally:
        _stop(worker)
    assert _run(env, "status")["by_status"] == {"sent": USERS * EVENTS}
    return sorted(m["To"] + " " + m.get_payload().strip() for m in smtp.messages)


def test_the_same_notifications_go_through_the_database_queue_and_rq(tmp_path):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/11"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    results = {}
    for backend in ("database", "rq"):
        smtp = SMTPPeer().start()
        queue_name = f"refuge-test-{uuid.uuid4().hex[:10]}"  # helpers share the Redis server
        home = tmp_path / backend
        home.mkdir()
        env = _env(
            {
                "REFUGE_HOME": str(home),
                "REFUGE_EMAIL_URL": smtp.url,
                "REFUGE_TASKS_BACKEND": backend,
                "REFUGE_REDIS_URL": url,
                "REFUGE_TASKS_QUEUE": queue_name,
            }
        )
        try:
            results[backend] = _send_through(env, smtp)
            assert len(set(smtp.ids())) == len(smtp.ids()) == USERS * EVENTS
        finally:
            smtp.stop()
            client = redis.Redis.from_url(url)
            for key in client.scan_iter(f"*{queue_name}*"):
                client.delete(key)
    assert results["database"] == results["rq"]
    assert all("Refuge: 1 new item is waiting for you" in line for line in results["rq"])
