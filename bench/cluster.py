"""Two app servers behind HAProxy against one app server alone, in the same run (issue 18,
item 5): what the balancer costs and what the topology carries on this machine.

Starts `deploy/cluster.py`'s topology (HAProxy with TLS, two gunicorn app servers with two
sync workers each, two task workers, one PostgreSQL, production mode) and measures, from a
load generator in this process (threads, closed loop):

1. ``/healthz`` (the whole middleware and ``SELECT 1``) through HAProxy (TLS, both servers)
   and straight to one app server (plain HTTP on loopback): requests/s, median and p95;
2. the mixed referral traffic of the race test (search, refer with holds, accept, decline,
   arrive, withdraw through the JSON API) through HAProxy: requests/s, p95, and no 5xx.

CPU time of every process of the topology (from /proc) is given beside the wall time.
Needs PostgreSQL (DATABASE_URL, or postgres://postgres@127.0.0.1:5432 as bench/telephony.py)
and haproxy. Usage: ``.venv/bin/python bench/cluster.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from _report import result  # noqa: E402  (bench/ is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
sys.path.insert(0, str(ROOT))
from cluster import Cluster  # noqa: E402

THREADS = 8
SECONDS = 10
TICK = os.sysconf("SC_CLK_TCK")


def _tree_cpu(root_pids: list[int]) -> float:
    """CPU seconds (user + system) of these processes and all their descendants."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK
    wanted, total = set(root_pids), 0.0
    changed = True
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += cpu.get(pid, 0.0)
    return total


def _load(opener_for, url: str, headers: dict, seconds: float) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def work() -> None:
        nonlocal errors
        opener = opener_for()
        mine, bad = [], 0
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
                with opener.open(request, timeout=30) as r:
                    r.read()
                    ok = r.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            mine.append(time.perf_counter() - start)
            bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return len(latencies), latencies, errors


def _p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))] if xs else float("nan")


def main() -> None:
    url = os.environ.get("DATABASE_URL") or ""
    if not url.startswith("postgres"):  # as bench/telephony.py: the local PostgreSQL
        url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432") + "/postgres"
    with Cluster(url) as c:
        pids = [p.pid for _name, p in c.procs]

        def tls():
            return urllib.request.build_opener(urllib.request.HTTPSHandler(context=c.ssl_context()))

        def plain():
            return urllib.request.build_opener()

        rows = []
        for label, opener, target, headers in (
            ("/healthz through HAProxy (TLS, 2 app servers)", tls, f"{c.url}/healthz", {}),
            ("/healthz straight to 1 app server (plain HTTP)", plain,
             f"http://127.0.0.1:{c.app_ports[0]}/healthz",
             {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}),
        ):  # fmt: skip
            cpu0, t0 = _tree_cpu(pids), time.perf_counter()
            n, lat, errors = _load(opener, target, headers, SECONDS)
            wall, cpu = time.perf_counter() - t0, _tree_cpu(pids) - cpu0
            rows.append((label, n / wall, statistics.median(lat), _p95(lat), errors, cpu / n))

        world = json.loads(c.python(f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
            "import json\nfrom tests.referrals.race_http_script import build_world\n"
            "print(json.dumps(build_world()))"))  # fmt: skip
        from tests.referrals.race_http_script import run_traffic

        local, lat, lock = threading.local(), [], threading.Lock()

        def post(key, path, body):
            if not hasattr(local, "opener"):
                local.opener = tls()
            request = urllib.request.Request(  # noqa: S310 - loopback
                f"{c.url}{path}", data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
            )  # fmt: skip
            start = time.perf_counter()
            try:
                with local.opener.open(request, timeout=60) as r:
                    status, raw = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, raw = e.code, e.read()
            with lock:
                lat.append(time.perf_counter() - start)
            try:
                return status, json.loads(raw or b"{}")
            except ValueError:
                return status, {}

        cpu0, t0 = _tree_cpu(pids), time.perf_counter()
        stats = run_traffic(post, world, threads=THREADS, ops=60)
        wall, cpu = time.perf_counter() - t0, _tree_cpu(pids) - cpu0
        n = stats["requests"]
        rows.append(("referral traffic through HAProxy (JSON API, 8 threads)", n / wall,
                     statistics.median(lat), _p95(lat), stats["server_errors"], cpu / n))  # fmt: skip

    print(f"load average at the end: {Path('/proc/loadavg').read_text().split()[:3]}")
    print("| what | requests/s | median ms | p95 ms | errors | CPU ms per request |")
    print("|---|---|---|---|---|---|")
    for label, rate, med, p95, errors, cpu in rows:
        print(f"| {label} | {rate:.0f} | {med * 1000:.1f} | {p95 * 1000:.1f} | {errors} | "
              f"{cpu * 1000:.1f} |")  # fmt: skip
    balanced, direct = rows[0][1], rows[1][1]
    result(
        target="Two app servers behind HAProxy: no error under the mixed referral traffic; "
        "the balancer's cost measured against one app server in the same run",
        measured=f"healthz {balanced:.0f}/s through HAProxy vs {direct:.0f}/s to one server; "
        f"referral traffic {rows[2][1]:.0f} requests/s, p95 {rows[2][3] * 1000:.0f} ms, "
        f"{rows[2][4]} errors",
        met=rows[2][4] == 0 and rows[0][4] == 0,
    )


if __name__ == "__main__":
    main()
