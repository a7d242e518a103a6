"""Telephony benchmark (SPEC.md P): PBX webhooks at a fixed rate by wall clock, every event
accounted for, with the p95 latency a PBX sees.

What it does, on loopback only (127.0.0.1), bounded in count and time:
1. creates the PostgreSQL database ``refuge_bench_tel`` (``BENCH_DB``) afresh and migrates it;
2. starts gunicorn (production settings, throw-away keys, 2 × cores + 1 sync workers as
   docs/deployment.md recommends) on a free local port;
3. measures a bare Django endpoint (``/healthz``: one ``SELECT 1`` through the full
   middleware) at its maximum rate, from the same load generator: the baseline of this run;
4. sends signed Mango Office webhooks (calls routed from the IVR to an operator, as Mango's
   API v1.9 documents them, with a summary; 10 % repeats; the events of neighbouring calls
   interleaved and out of order) at 100, 250, 500 and 750 events/s, 30 s each. The load
   generator is a separate process, open loop: request i is due at start + i/rate and its
   latency runs from then (a slow server cannot slow the load down and hide its queue);
5. accounts for every event after each stage: every response 200, recorded + duplicate =
   sent, one CallEvent per distinct event, every call in its expected final state;
6. reports, per stage: the rate reached, p50/p95/p99, CPU per event (gunicorn, the
   merger, the PostgreSQL backends serving them, the generator) beside the wall time, and the
   load average (other jobs share this machine's two cores).

``--ingest batched`` (the default) runs gunicorn with ``REFUGE_HOTLINE_INGEST=batched`` and
`refuge hotline-merge` beside it: every answer must be ``accepted``, a stage ends when nothing
is pending any more, and it also reports how far behind the merge was (the age of the oldest
pending event, sampled four times a second: how stale the live queue could be without its own
merge). ``--ingest direct`` measures each request merging its own event.

Usage: ``.venv/bin/python bench/telephony.py [--rates 100,250,500,750] [--seconds 30]
[--workers 5] [--ingest batched|direct] [--profile DIR]`` with PostgreSQL at ``postgres://postgres@127.0.0.1:5432``
(``BENCH_PG`` overrides). ``--profile DIR`` runs each worker under cProfile and writes one
``.prof`` per worker (it slows them down: figures from such a run are not the benchmark's).
To measure another version of the code in the same conditions (a "before"), point
``BENCH_SRC`` at its ``src`` directory (e.g. from ``git archive main``) with ``--ingest direct``;
``--short-sip`` then
sends an operator address under 40 characters, which versions before issue 17 refused.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from _report import result  # noqa: E402  (bench/ is on sys.path)

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_DB", "refuge_bench_tel")
HOST = "127.0.0.1"
KEY, SALT = "bench-mango-key", "bench-mango-salt"
T0 = 1_741_000_000  # 2025-03-03
TARGET_RATE, TARGET_P95_MS = 500, 100.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _env(ingest: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REFUGE_MODE="production",
        DATABASE_URL=f"{PG}/{DB}",
        REFUGE_SECRET_KEY=base64.b64encode(os.urandom(40)).decode(),
        REFUGE_MASTER_KEY="k1:" + base64.b64encode(os.urandom(32)).decode(),
        REFUGE_BLIND_INDEX_KEY=base64.b64encode(os.urandom(32)).decode(),
        REFUGE_MANGO_API_KEY=KEY,
        REFUGE_MANGO_API_SALT=SALT,
        REFUGE_ALLOWED_HOSTS=HOST,
        REFUGE_SSL_REDIRECT="0",
        REFUGE_HOME=str(ROOT / "var" / "bench"),
        DJANGO_SETTINGS_MODULE="refuge.settings",
        REFUGE_HOTLINE_INGEST=ingest,
    )
    if os.environ.get("BENCH_SRC"):
        env["PYTHONPATH"] = os.environ["BENCH_SRC"]
    return env


def _fresh_database(env: dict[str, str]) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    subprocess.run([str(BIN / "refuge"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)


# --- the script of events --------------------------------------------------------------------


def _form(path: str, payload: dict) -> bytes:
    text = json.dumps(payload, separators=(",", ":"))
    sign = hashlib.sha256((KEY + text + SALT).encode()).hexdigest()
    body = urlencode({"vpbx_api_key": KEY, "sign": sign, "json": text}).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    return head + body


CALL, SUMMARY = "/api/v1/telephony/mango/events/call", "/api/v1/telephony/mango/events/summary"


OPERATOR = "sip:hotline.operator02@vpbx400212345.mangosip.ru"  # 48 characters


def _call_events(entry: str, t: int, rng: random.Random) -> tuple[list[bytes], bool]:
    """One call as Mango's "Маршрутизация вызова" example (API v1.9, pp. 331-333) reports it:
    the IVR leg, the operator's leg taken from it (her SIP address in to.number), the summary.
    80 % are answered."""
    caller = f"7495{rng.randrange(10**6, 10**7)}"
    line = "74950000001"
    ivr, op = f"{entry}-ivr", f"{entry}-op"
    answered = rng.random() < 0.8
    wait, talk = rng.randint(3, 60), rng.randint(30, 900)
    end = t + wait + (talk if answered else 0)
    frm = {"number": caller}
    taken = {"number": caller, "taken_from_call_id": ivr}
    to = {"extension": "101", "number": OPERATOR, "line_number": line}

    def ev(leg, seq, state, at, location, **extra):
        body = {"entry_id": entry, "call_id": leg, "timestamp": at, "seq": seq,
                "call_state": state, "location": location, **extra}  # fmt: skip
        return _form(CALL, body)

    events = [
        ev(ivr, 1, "Appeared", t, "ivr", **{"from": frm, "to": {"line_number": line}}),
        ev(
            ivr,
            2,
            "Disconnected",
            t + 2,
            "ivr",
            disconnect_reason=1100,
            **{"from": frm, "to": {"line_number": line}},
        ),  # fmt: skip
        ev(op, 1, "Appeared", t + 3, "abonent", **{"from": taken, "to": to}),
    ]
    if answered:
        events.append(ev(op, 2, "Connected", t + wait, "abonent", **{"from": taken, "to": to}))
    events.append(ev(op, 3, "Disconnected", end, "abonent", disconnect_reason=1110,
                     **{"from": taken, "to": to}))  # fmt: skip
    summary = {"entry_id": entry, "call_direction": 1, "from": frm,
               "to": {"extension": "101"}, "line_number": line, "create_time": t,
               "forward_time": t + 3, "talk_time": t + wait if answered else 0,
               "end_time": end, "entry_result": int(answered), "disconnect_reason": 1110}  # fmt: skip
    events.append(_form(SUMMARY, summary))
    return events, answered


def script(n_events: int, prefix: str, seed: int) -> tuple[list[bytes], list[str], dict]:
    """(requests, the entry of each request, expected {entry_id: answered})."""
    rng = random.Random(seed)
    calls, distinct, expected, i = [], 0, {}, 0
    while distinct < int(n_events / 1.1):
        entry = f"{prefix}-{i:06d}"
        events, answered = _call_events(entry, T0 + i * 7, rng)
        distinct += len(events)
        expected[entry] = answered
        calls.append([(entry, e) for e in events])
        i += 1
    # Calls overlap as on a busy PBX: the events of 32 neighbouring calls interleave and
    # arrive out of order; 10 % come twice.
    stream: list[tuple[str, bytes]] = []
    for k in range(0, len(calls), 32):
        chunk = [e for call in calls[k : k + 32] for e in call]
        chunk += [rng.choice(chunk) for _ in range(len(chunk) // 10)]
        rng.shuffle(chunk)
        stream += chunk
    return [raw for _e, raw in stream], [e for e, _raw in stream], expected


# --- the load generator (a process of its own) -----------------------------------------------


async def _one(raw: bytes, port: int) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(raw)
        await writer.drain()
        data = await reader.read()  # Connection: close: the server ends the response
    finally:
        writer.close()
    head, _sep, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return status, body


MAX_LAG = 10.0  # seconds behind schedule after which the generator stops sending


async def _open_loop(port: int, requests: list[bytes], rate: float, max_in_flight: int):
    """Request i is due at start + i/rate; its latency counts from then. A request the
    generator could not send within MAX_LAG of its time is not sent (status -1): the stage
    then ends in bounded time, and the server did not sustain the rate."""
    results: list[tuple[int, bytes, float]] = [(0, b"", 0.0)] * len(requests)
    gate = asyncio.Semaphore(max_in_flight)
    start = time.perf_counter() + 0.05

    async def fire(i: int, raw: bytes) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        async with gate:
            if time.perf_counter() - due > MAX_LAG:
                results[i] = (-1, b"", 0.0)
                return
            try:
                status, body = await _one(raw, port)
            except OSError:
                status, body = 0, b""
        results[i] = (status, body, time.perf_counter() - due)

    await asyncio.gather(*(fire(i, raw) for i, raw in enumerate(requests)))
    return results, time.perf_counter() - start


async def _closed_loop(port: int, requests: list[bytes], concurrency: int):
    it = iter(enumerate(requests))
    results: list[tuple[int, bytes, float]] = [(0, b"", 0.0)] * len(requests)

    async def worker() -> None:
        for i, raw in it:
            t = time.perf_counter()
            try:
                status, body = await _one(raw, port)
            except OSError:
                status, body = 0, b""
            results[i] = (status, body, time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results, time.perf_counter() - start


def _generator(conn, port: int) -> None:
    """The load generator's process: runs what it is sent, returns results and its CPU."""
    while True:
        job = conn.recv()
        if job is None:
            return
        kind, requests, arg = job
        cpu = time.process_time()
        if kind == "open":
            results, secs = asyncio.run(_open_loop(port, requests, arg, 512))
        else:
            results, secs = asyncio.run(_closed_loop(port, requests, arg))
        conn.send((results, secs, time.process_time() - cpu))


# --- CPU accounting --------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pids: set[int]) -> dict[int, float]:
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return out


def _server_pids(group: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group:  # process group: gunicorn's master and workers
                pids.add(int(entry.name))
    return pids


def _pg_backends() -> set[int]:
    with psycopg.connect(f"{PG}/postgres") as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND application_name <> %s",
            [DB, LAG_APP],
        ).fetchall()
    return {r[0] for r in rows}


LAG_APP = "bench-lag"


def _pending_age(conn) -> float:
    """Seconds since the oldest event still waiting to be merged arrived (0: none waits)."""
    row = conn.execute(
        "SELECT coalesce(extract(epoch FROM clock_timestamp() - min(received_at)), 0) "
        "FROM hotline_pendingevent"
    ).fetchone()
    return float(row[0])


def _pending(conn) -> int:
    return conn.execute("SELECT count(*) FROM hotline_pendingevent").fetchone()[0]


class CpuMeter:
    """CPU seconds used by gunicorn (and the merger, with batched ingest) and by the
    PostgreSQL backends serving them over one stage (backends come and go, so they are sampled
    four times a second; each one's last reading counts). The generator reports its own. With
    batched ingest it also samples how far behind the merge is: the age of the oldest pending
    event, four times a second."""

    def __init__(self, group: int, merger: int | None = None) -> None:
        self.group, self.merger = group, merger
        self._stop = threading.Event()
        self.lags: list[float] = []

    def _sample(self) -> None:
        lag = psycopg.connect(f"{PG}/{DB}", autocommit=True, application_name=LAG_APP)
        with lag:
            while not self._stop.wait(0.25):
                for pid, used in _cpu_of(_pg_backends()).items():
                    self.pg_seen[pid] = used
                if self.merger is not None:
                    self.lags.append(_pending_age(lag))

    def __enter__(self):
        self.pids = _server_pids(self.group)
        self.merger_start = _cpu_of(_server_pids(self.merger)) if self.merger else {}
        self.pg_start = _cpu_of(_pg_backends())
        self.pg_seen = dict(self.pg_start)
        self.server_start = _cpu_of(self.pids)
        self.load_before = os.getloadavg()[0]
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        for pid, used in _cpu_of(set(self.pg_seen) | _pg_backends()).items():
            self.pg_seen[pid] = used
        pids = self.pids | _server_pids(self.group)
        self.server = sum(v - self.server_start.get(p, 0.0) for p, v in _cpu_of(pids).items())
        self.merge = 0.0
        if self.merger is not None:
            now = _cpu_of(_server_pids(self.merger))
            self.merge = sum(v - self.merger_start.get(p, 0.0) for p, v in now.items())
        self.pg = sum(v - self.pg_start.get(p, 0.0) for p, v in self.pg_seen.items())
        self.load_after = os.getloadavg()[0]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0


def _account(requests, entries, results, expected: dict, batched: bool) -> dict:
    """Every request sent is answered 200, recorded once or known as a repeat (batched: every
    one accepted); the database holds one event per distinct event sent, and every call whose
    events were all sent is in its expected final state."""
    sent = [i for i, r in enumerate(results) if r[0] != -1]
    distinct = len({requests[i] for i in sent})
    unsent_entries = {entries[i] for i, r in enumerate(results) if r[0] == -1}
    statuses: dict[int, int] = {}
    outcome = {"recorded": 0, "duplicate": 0, "accepted": 0, "other": 0}
    for i in sent:
        status, body, _lat = results[i]
        statuses[status] = statuses.get(status, 0) + 1
        if status == 200:
            kind = json.loads(body).get("status")
            outcome[kind if kind in outcome else "other"] += 1
    touched = sorted({entries[i] for i in sent})
    with psycopg.connect(f"{PG}/{DB}") as conn:
        n_events = conn.execute(
            "SELECT count(*) FROM hotline_callevent e JOIN hotline_call c ON c.id = e.call_id "
            "WHERE c.entry_id = ANY(%s)",
            [touched],
        ).fetchone()[0]
        rows = conn.execute(
            "SELECT entry_id, state, answered FROM hotline_call WHERE entry_id = ANY(%s)",
            [touched],
        ).fetchall()
    got = {e: (s, a) for e, s, a in rows}
    complete = [e for e in touched if e not in unsent_entries]
    wrong = [e for e in complete if got.get(e) != ("disconnected", expected[e])]
    if batched:
        answers = outcome["accepted"] == len(sent)
    else:
        answers = outcome["recorded"] == distinct and outcome["duplicate"] == len(sent) - distinct
    ok = (
        statuses.get(200, 0) == len(sent)
        and answers
        and distinct == n_events
        and len(rows) == len(touched)
        and not wrong
    )
    return {"ok": ok, "sent": len(sent), "distinct": distinct, "statuses": statuses,
            "outcome": outcome, "events": n_events, "calls": len(rows), "wrong": len(wrong)}  # fmt: skip


def _gunicorn_command(port: int, workers: int, profile: str) -> list[str]:
    cmd = [str(BIN / "gunicorn"), "refuge.wsgi:application", "--bind", f"{HOST}:{port}",
           "--workers", str(workers), "--worker-class", "sync", "--backlog", "2048",
           "--log-level", "warning"]  # fmt: skip
    if profile:
        cmd += ["--config", str(Path(__file__).with_name("_gunicorn_profile.py"))]
    return cmd


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,250,500,750", help="events/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=30.0, help="per stage")
    # As docs/deployment.md recommends for an app server: a sync worker waits on the commit's
    # WAL flush for each event, and the others keep the cores busy meanwhile.
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2) + 1,
                        help="gunicorn sync workers (default: 2 × cores + 1)")  # fmt: skip
    parser.add_argument("--profile", default="", help="write cProfile stats of each worker here")
    parser.add_argument("--short-sip", action="store_true", help="an operator address under 40")
    parser.add_argument("--ingest", choices=["batched", "direct"], default="batched",
                        help="batched: the webhook keeps the event, `refuge hotline-merge` "
                        "merges; direct: each request merges its event (and the only choice "
                        "for code before batched ingest)")  # fmt: skip
    args = parser.parse_args()
    if args.short_sip:
        global OPERATOR
        OPERATOR = "sip:op02@vpbx.mangosip.ru"
    rates = [int(r) for r in args.rates.split(",")]
    cores = os.cpu_count() or 1

    batched = args.ingest == "batched"
    env = _env(args.ingest)
    if args.profile:
        env["BENCH_PROFILE_DIR"] = str(Path(args.profile).resolve())
    print(f"cores: {cores}; PostgreSQL database {DB}; gunicorn sync workers: {args.workers}; "
          f"ingest {args.ingest}; loopback only", flush=True)  # fmt: skip
    _fresh_database(env)
    port = _free_port()
    server = subprocess.Popen(_gunicorn_command(port, args.workers, args.profile), env=env,
                              cwd=ROOT, start_new_session=True)  # fmt: skip
    merger = None
    if batched:
        merger = subprocess.Popen([str(BIN / "refuge"), "hotline-merge"], env=env, cwd=ROOT,
                                  start_new_session=True)  # fmt: skip
    merger_pid = merger.pid if merger else None
    here, there = mp.Pipe()
    generator = mp.get_context("fork").Process(target=_generator, args=(there, port), daemon=True)
    stages = []
    try:
        for _ in range(100):
            try:
                socket.create_connection((HOST, port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        generator.start()
        health = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode()
        here.send(("closed", [health] * 1000, 8))  # warm-up
        here.recv()
        with CpuMeter(server.pid, merger_pid) as cpu:
            here.send(("closed", [health] * 6000, 8))
            results, secs, gen_cpu = here.recv()
        ok_n = sum(1 for r in results if r[0] == 200)
        base_rate = ok_n / secs
        base_ms = 1000 * (cpu.server + cpu.merge + cpu.pg + gen_cpu) / ok_n
        print(f"bare endpoint /healthz (full middleware, SELECT 1), closed loop: {base_rate:.0f} "
              f"req/s, p95 {1000 * _pct([r[2] for r in results], 0.95):.1f} ms, CPU "
              f"{base_ms:.2f} ms a request; load average {cpu.load_before:.1f} → "
              f"{cpu.load_after:.1f}", flush=True)  # fmt: skip
        for n, rate in enumerate(rates):
            requests, entries, expected = script(int(rate * args.seconds), f"r{rate}", seed=n)
            with CpuMeter(server.pid, merger_pid) as cpu:
                here.send(("open", requests, float(rate)))
                results, secs, gen_cpu = here.recv()
                # The stage ends when every event sent is merged (batched ingest).
                drained = time.perf_counter()
                with psycopg.connect(f"{PG}/{DB}", application_name=LAG_APP) as conn:
                    while batched and _pending(conn) and time.perf_counter() - drained < 120:
                        time.sleep(0.05)
                drained = time.perf_counter() - drained
            time.sleep(0.5)
            acc = _account(requests, entries, results, expected, batched)
            lat = [r[2] for r in results if r[0] != -1]
            sent = acc["sent"]
            row = {
                "target": rate,
                "rate": sent / secs,
                "sustained": sent == len(requests),
                "p50": 1000 * _pct(lat, 0.5),
                "p95": 1000 * _pct(lat, 0.95),
                "p99": 1000 * _pct(lat, 0.99),
                "cpu": 1000 * (cpu.server + cpu.merge + cpu.pg + gen_cpu) / sent,
                "cpu_app": 1000 * cpu.server / sent,
                "cpu_merge": 1000 * cpu.merge / sent,
                "lag_p95": _pct(cpu.lags, 0.95),
                "lag_max": max(cpu.lags, default=0.0),
                "drain": drained,
                "cpu_pg": 1000 * cpu.pg / sent,
                "cpu_gen": 1000 * gen_cpu / sent,
                "load": (cpu.load_before, cpu.load_after),
                **acc,
            }
            stages.append(row)
            print(f"{rate:>4}/s for {args.seconds:.0f} s: reached {row['rate']:.0f}/s; latency "
                  f"p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms, p99 {row['p99']:.1f} ms; "
                  f"CPU {row['cpu']:.2f} ms an event (gunicorn {row['cpu_app']:.2f}, "
                  f"merger {row['cpu_merge']:.2f}, "
                  f"PostgreSQL {row['cpu_pg']:.2f}, generator {row['cpu_gen']:.2f}); "
                  + (f"merge behind by p95 {row['lag_p95']:.2f} s, at most "
                     f"{row['lag_max']:.2f} s, all merged {row['drain']:.1f} s after the "
                     f"last answer; " if batched else "") +
                  f"{sent} of {len(requests)} requests sent ({acc['distinct']} distinct"
                  f"{'' if sent == len(requests) else '; the rest fell over 10 s behind'}); "
                  f"responses {acc['statuses']}, "
                  f"{acc['outcome']}; database {acc['events']} events, {acc['calls']} calls, "
                  f"{acc['wrong']} not as expected; accounted for: "
                  f"{'yes' if acc['ok'] else 'NO'}; load average {row['load'][0]:.1f} → "
                  f"{row['load'][1]:.1f}", flush=True)  # fmt: skip
    finally:
        here.send(None)
        generator.join(timeout=10)
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if merger is not None:
            os.killpg(merger.pid, signal.SIGTERM)
            merger.wait(timeout=30)

    all_ok = all(s["ok"] for s in stages)
    at = next((s for s in stages if s["target"] == TARGET_RATE), None)
    met = bool(at and all_ok and at["rate"] >= 0.98 * TARGET_RATE and at["p95"] < TARGET_P95_MS)
    growth = "; ".join(
        f"{s['target']}/s: {s['rate']:.0f}/s p95 {s['p95']:.0f} ms CPU {s['cpu']:.2f} ms"
        + (f" merge lag max {s['lag_max']:.1f} s" if batched else "")
        for s in stages
    )
    loads = [x for s in stages for x in s["load"]]
    measured = (
        f"at {TARGET_RATE}/s: reached {at['rate']:.0f}/s"
        f"{'' if at['sustained'] else ' (the server fell over 10 s behind)'}, p95 "
        f"{at['p95']:.0f} ms, CPU {at['cpu']:.2f} ms an event"
        if at else "not run at 500/s"
    )  # fmt: skip
    result(
        target="Telephony: 500 webhook events/s sustained by wall clock through gunicorn on "
        "PostgreSQL on two cores, every event accounted for; p95 under 100 ms at 500/s",
        measured=f"{measured}; ingest {args.ingest}; bare endpoint {base_rate:.0f} req/s in the same run; by stage "
        f"{growth}; every event accounted for: {'yes' if all_ok else 'NO'}; load average "
        f"{min(loads):.1f}–{max(loads):.1f}",
        met=met,
    )
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
