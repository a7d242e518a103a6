"""Refuge on more than one server, on loopback: the production topology of docs/deployment.md.

    HAProxy (Debian's package; TLS, round robin, health checks, X-Forwarded-Proto)
      ├── app server 1: gunicorn, sync workers          ┐
      └── app server 2: gunicorn, sync workers          ├── one PostgreSQL (a database of its own)
    task worker 1 (`refuge worker`), task worker 2      ┘
    (with ``pgbouncer=True``, PgBouncer in transaction mode between them and PostgreSQL)

Everything runs in production mode (secure cookies, HTTPS redirect, the proxy's header trusted,
static files collected), with throw-away keys and a self-signed certificate made for the run.
No session is sticky: every request may go to either app server (the answer says which, in
``X-Refuge-Server``, for the tests).

``make cluster`` starts it and waits (Ctrl-C stops everything and drops the database); the
cluster tests (tests/cluster/) start it around their traffic. Needs ``DATABASE_URL`` (a role
that may create databases) and ``haproxy`` on the PATH (``make haproxy``).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
HAPROXY_CFG = """\
global
    maxconn 1000

defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout queue 60s
    timeout check 10s
    option forwardfor
    option http-server-close

frontend refuge
    bind 127.0.0.1:{port} ssl crt {pem}
    http-request set-header X-Forwarded-Proto https
    default_backend app

backend app
    balance roundrobin
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1 hdr X-Forwarded-Proto https
    http-check expect status 200
    http-response set-header X-Refuge-Server %[srv_name]
{servers}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(path: Path) -> None:
    """A certificate for 127.0.0.1 and its key, in one PEM file (HAProxy's ``crt``)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


class Cluster:
    """Start with `start()` (or as a context manager); `url` is the balancer's address."""

    def __init__(
        self,
        database_url: str,
        *,
        app_servers: int = 2,
        workers_per_server: int = 2,
        task_workers: int = 2,
        pgbouncer: bool = False,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        base, _slash, _name = database_url.rpartition("/")
        self.database = f"refuge_cluster_{os.getpid()}"
        self.database_url = f"{base}/{self.database}"
        self.admin_url = database_url
        self.home = Path(tempfile.mkdtemp(prefix="refuge-cluster-"))
        self.home.chmod(0o700)
        self.port = free_port()
        self.app_ports = [free_port() for _ in range(app_servers)]
        self.workers_per_server = workers_per_server
        self.task_workers = task_workers
        self.extra_env = extra_env or {}
        self.pgbouncer = pgbouncer
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.url = f"https://127.0.0.1:{self.port}"
        self.env: dict[str, str] = {}

    # --- life cycle ------------------------------------------------------------------------

    def __enter__(self) -> Cluster:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if not shutil.which("haproxy"):
            raise RuntimeError("haproxy is missing: run `make haproxy` (Debian's package).")
        self._create_database()
        self.env = self._environment()
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")
        log = self.home / "logs"
        log.mkdir()
        if self.pgbouncer:
            # Everything after the migration goes through PgBouncer in transaction mode.
            self.env.update(DATABASE_URL=self._start_pgbouncer(), REFUGE_DB_TRANSACTION_POOLING="1")
        for i, port in enumerate(self.app_ports, start=1):
            self._spawn(
                f"app{i}",
                [str(BIN / "gunicorn"), "refuge.wsgi:application", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(self.workers_per_server), "--timeout", "120"],
            )  # fmt: skip
        for i in range(1, self.task_workers + 1):
            self._spawn(
                f"worker{i}",
                [str(BIN / "refuge"), "worker", "--worker-id", f"w{i}", "--interval", "0.2"],
            )
        pem = self.home / "tls.pem"
        self_signed(pem)
        servers = "\n".join(
            # As many requests at a time as the server has sync workers: the rest wait in
            # HAProxy's queue (not in gunicorn's backlog), so a busy server is not marked
            # down and a slow request does not hold up others queued behind it.
            f"    server app{i} 127.0.0.1:{port} maxconn {self.workers_per_server} "
            "check inter 2s fall 3 rise 1"
            for i, port in enumerate(self.app_ports, start=1)
        )
        cfg = self.home / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(port=self.port, pem=pem, servers=servers))
        subprocess.run(["haproxy", "-c", "-q", "-f", str(cfg)], check=True)
        self._spawn("haproxy", ["haproxy", "-db", "-f", str(cfg)])
        self._wait_ready()

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs.clear()
        self._drop_database()
        shutil.rmtree(self.home, ignore_errors=True)
        if getattr(self, "pgbouncer_dir", None):
            shutil.rmtree(self.pgbouncer_dir, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------------

    def manage(self, *args: str, input_text: str | None = None) -> str:
        """Run `refuge <args>` against the cluster's database and settings; its stdout."""
        done = subprocess.run(
            [str(BIN / "refuge"), *args], env=self.env, input=input_text, text=True,
            capture_output=True, timeout=600, cwd=ROOT,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"refuge {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def python(self, code: str) -> str:
        """Run Python with Django set up for the cluster (for fixtures and checks)."""
        return self.manage("shell", "--no-imports", "-c", code)

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.home / "tls.pem"))
        return ctx

    def logs(self, name: str) -> str:
        path = self.home / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self.procs}

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REFUGE_")}
        # Throw-away keys, made the way `make demo` makes them, then used in production mode.
        demo = {**env, "REFUGE_MODE": "demo", "REFUGE_HOME": str(self.home / "keys"),
                "DATABASE_URL": self.database_url}  # fmt: skip
        subprocess.run(
            [str(BIN / "refuge"), "check", "-v", "0"], env=demo, check=True, cwd=ROOT,
            capture_output=True,
        )  # fmt: skip
        keys = {}
        for line in (self.home / "keys" / "secrets.env").read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, _sep, v = line.partition("=")
                keys[k] = v
        env.update(keys)
        env.update(
            REFUGE_MODE="production",
            REFUGE_HOME=str(self.home),
            DATABASE_URL=self.database_url,
            REFUGE_ALLOWED_HOSTS="127.0.0.1,localhost",
            REFUGE_CSRF_TRUSTED_ORIGINS=self.url,
            REFUGE_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            # The demo's keys include a federation key, so federation is on, and production
            # then needs the name peers know this instance by and where they reach it.
            REFUGE_FEDERATION_NAME="refuge-cluster",
            REFUGE_BASE_URL=self.url,
            DJANGO_SETTINGS_MODULE="refuge.settings",
            **self.extra_env,
        )
        return env

    def _spawn(self, name: str, argv: list[str]) -> None:
        out = open(self.home / "logs" / f"{name}.log", "w")  # noqa: SIM115 - kept open while it runs
        proc = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append((name, proc))

    def _wait_ready(self, timeout: float = 90) -> None:
        """Until each app server has answered /healthz through the balancer."""
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [n for n, ok in self.alive().items() if not ok]
            if dead:
                raise RuntimeError(f"{dead} stopped:\n" + "\n".join(self.logs(n) for n in dead))
            try:
                request = urllib.request.Request(f"{self.url}/healthz")
                with urllib.request.urlopen(request, timeout=5, context=self.ssl_context()) as r:
                    if r.status == 200:
                        seen.add(r.headers.get("X-Refuge-Server", ""))
            except OSError:
                pass
            if len(seen - {""}) == len(self.app_ports):
                return
            time.sleep(0.3)
        raise RuntimeError(
            f"the cluster did not come up (answered: {sorted(seen)}):\n" + self.logs("haproxy")
        )

    def _start_pgbouncer(self) -> str:
        """PgBouncer in transaction mode before the cluster's database; its URL. PgBouncer
        will not run as root: it is started as ``nobody`` from a directory that user can
        read, with PostgreSQL's own authentication passed through (trust on loopback here)."""
        from urllib.parse import urlparse

        if not shutil.which("pgbouncer"):
            raise RuntimeError("pgbouncer is missing: run `make pgbouncer` (Debian's package).")
        db = urlparse(self.database_url)
        port = free_port()
        here = Path(tempfile.mkdtemp(prefix="refuge-pgbouncer-"))
        here.chmod(0o755)
        user = db.username or "postgres"
        (here / "userlist.txt").write_text(f'"{user}" ""\n')
        (here / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{self.database} = host={db.hostname} port={db.port or 5432} dbname={self.database}"
            f" user={user}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {here / 'userlist.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 200\ndefault_pool_size = 8\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        for f in here.iterdir():
            f.chmod(0o644)
        self.pgbouncer_dir = here
        argv = ["pgbouncer", str(here / "pgbouncer.ini")]
        if os.geteuid() == 0:
            argv[1:1] = ["-u", "nobody"]
        self._spawn("pgbouncer", argv)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        return f"postgres://{user}@127.0.0.1:{port}/{self.database}"

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')

    def _drop_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def main() -> None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to a PostgreSQL role that may create databases.")
    # SIGTERM (systemd, `timeout`, a CI runner) stops it as Ctrl-C does: servers, workers and
    # the balancer stopped, the database dropped, the keys and certificate deleted.
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(0))
    with Cluster(url) as cluster:
        cluster.manage("load-demo")
        print(f"Refuge on {len(cluster.app_ports)} app servers behind HAProxy: {cluster.url}")
        print(f"(self-signed certificate: {cluster.home / 'tls.pem'}); Ctrl-C stops it.")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
