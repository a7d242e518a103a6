"""Issue 18, item 5: more than one server, tested. `deploy/cluster.py` starts, on loopback, the
production topology: HAProxy (TLS, round robin) in front of two gunicorn app servers, two task
workers and one PostgreSQL behind PgBouncer in transaction mode, in production mode. Through the balancer, so that consecutive
requests land on different app servers:

- a person signs in (password, then her second factor) and works on, her session moving from
  one app server to the other;
- the mixed referral traffic of the race test (tests/referrals/race_http_script.py): no place
  is promised twice, no 5xx;
- the PBX scenarios of tests/hotline/fixtures.py, every event sent twice and all shuffled
  across threads: each call once, with its documented figures;
- the notifications of that traffic, with two task workers polling: each delivered once.

PostgreSQL only (SQLite is one file on one machine).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import random
import re
import shutil
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.hotline import fixtures
from tests.hotline.helpers import MANGO_KEY, MANGO_SALT, TWILIO_STATUS, TWILIO_TOKEN, mango_form
from tests.notifications.peers import SMTPPeer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
from cluster import Cluster  # noqa: E402

pytestmark = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
    reason="the cluster runs on PostgreSQL (DATABASE_URL)",
)
PASSWORD = "a cluster password that is long enough"  # noqa: S105 - a throw-away account
SETUP = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"


@pytest.fixture(scope="module")
def smtp():
    peer = SMTPPeer().start()
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def cluster(smtp):
    for tool in ("haproxy", "pgbouncer"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: run `make {tool}` (Debian's package).")
    with Cluster(
        os.environ["DATABASE_URL"],
        pgbouncer=True,  # the app servers and workers reach PostgreSQL through PgBouncer
        extra_env={
            "REFUGE_MANGO_API_KEY": MANGO_KEY,
            "REFUGE_MANGO_API_SALT": MANGO_SALT,
            "REFUGE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "REFUGE_EMAIL_URL": smtp.url,  # a real SMTP server on loopback (aiosmtpd)
        },
    ) as c:
        yield c


def _opener(c: Cluster, jar=None):
    handlers = [urllib.request.HTTPSHandler(context=c.ssl_context())]
    if jar is not None:
        handlers.append(urllib.request.HTTPCookieProcessor(jar))
    return urllib.request.build_opener(*handlers)


def _send(opener, url: str, *, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 - https only
    try:
        with opener.open(request, timeout=60) as r:
            return r.status, r.read(), r.headers, r.url
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers, url


# --- a sign-in that moves between app servers ---------------------------------------------------


def test_a_sign_in_moves_between_app_servers(cluster):
    made = json.loads(cluster.python(SETUP + f"""
import json
from django_otp.plugins.otp_totp.models import TOTPDevice
from refuge.core.services import organisation_create, staff_create
org = organisation_create(by=None, slug="cluster-hub", name="Cluster hub", kind="hub")
user = staff_create(by=None, organisation=org, username="cluster-op", role="operator",
                    password={PASSWORD!r}).user
device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
print(json.dumps({{"key": device.key}}))
"""))  # fmt: skip
    from django_otp.oath import totp

    jar = http.cookiejar.CookieJar()
    web = _opener(cluster, jar)
    base = cluster.url

    def form_post(path: str, fields: dict):
        status, body, _h, _u = _send(web, f"{base}{path}")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        data = urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return _send(web, f"{base}{path}", data=data,
                     headers={"Referer": f"{base}{path}", "Origin": base})  # fmt: skip

    status, _body, _h, url = form_post("/login/", {"username": "cluster-op", "password": PASSWORD})
    assert status == 200 and "/login/code/" in url, (status, url)
    code = f"{totp(bytes.fromhex(made['key']), step=30, t0=0, digits=6):06d}"
    status, body, _h, url = form_post(url.removeprefix(base), {"code": code})
    assert status == 200 and url == f"{base}/", (status, url, body[:300])
    cookies = {c.name: c for c in jar}
    assert cookies["refuge_session"].secure and cookies["csrftoken"].secure  # production
    servers = set()
    for _ in range(6):
        status, body, headers, url = _send(web, f"{base}/hotline/")
        assert status == 200 and url == f"{base}/hotline/" and b"cluster-op" in body
        servers.add(headers["X-Refuge-Server"])
    assert servers == {"app1", "app2"}  # the same session on both app servers
    # ... and both reached PostgreSQL through PgBouncer, in transaction mode.
    db = json.loads(cluster.python(
        "import json; from django.conf import settings; d = settings.DATABASES['default']\n"
        "print(json.dumps([d['PORT'], d['DISABLE_SERVER_SIDE_CURSORS']]))"
    ))  # fmt: skip
    assert str(db[0]) == cluster.env["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0]
    assert db[1] is True
    # Plain HTTP to the balancer is not served; an app server redirects plain HTTP to HTTPS.
    status, _b, _h, _u = _send(_opener(cluster), f"{base}/nowhere-{random.random()}/")
    assert status == 404


# --- no place promised twice ----------------------------------------------------------------------


def test_no_place_is_promised_twice_through_the_balancer(cluster):
    world = json.loads(cluster.python(SETUP + """
import json
from tests.referrals.race_http_script import build_world
print(json.dumps(build_world()))
"""))  # fmt: skip
    # A caseworker at each shelter who asked for email, so the referrals notify people by a
    # channel the task workers send (checked further down).
    cluster.python(SETUP + f"""
from refuge.core.models import Organisation
from refuge.core.services import staff_create
from refuge.notifications.models import ChannelSettings
for org in Organisation.objects.filter(slug__startswith="shelter-"):
    user = staff_create(by=None, organisation=org, username="cw-" + org.slug, role="caseworker",
                        email=org.slug + "@shelters.example", password={PASSWORD!r}).user
    ChannelSettings.objects.create(user=user, email=True)
""")  # fmt: skip
    from tests.referrals.race_http_script import run_traffic

    local = threading.local()

    def post(key_text, path, body):
        if not hasattr(local, "opener"):
            local.opener = _opener(cluster)
        status, raw, _h, _u = _send(
            local.opener, f"{cluster.url}{path}", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {key_text}"},
        )  # fmt: skip
        try:
            return status, json.loads(raw or b"{}")
        except ValueError:
            return status, {"body": raw[:200].decode(errors="replace")}

    stats = run_traffic(post, world, threads=8, ops=25)
    checked = json.loads(cluster.python(SETUP + """
import json
from tests.referrals.race_http_script import check
print(json.dumps(check()))
"""))  # fmt: skip
    assert stats["failures"] == [] and stats["server_errors"] == 0, stats["failures"][:5]
    assert stats["hung_threads"] == 0 and stats["requests"] >= 200
    assert checked["vendor"] == "postgresql"
    assert checked["overbooked"] == [] and checked["orphan_cases"] == 0
    assert stats["statuses"].get("create:201", 0) > 0 and stats["statuses"].get("accept:200", 0)


# --- each PBX call once -------------------------------------------------------------------------------


def test_each_pbx_call_once_whatever_app_server_gets_its_events(cluster):
    scenarios = [make("-cluster") for make in fixtures.ALL]
    sends = [(s, step) for s in scenarios for step in s.steps] * 2  # every event twice
    random.Random(18).shuffle(sends)
    base = cluster.url
    errors: list[str] = []
    seen_servers: set[str] = set()
    lock = threading.Lock()

    def one(opener, step) -> None:
        if step.path == "twilio":
            path = TWILIO_STATUS + (f"?{step.query}" if step.query else "")
            signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{base}{path}", step.body)
            data = urlencode(step.body).encode()
            headers = {"X-Twilio-Signature": signature,
                       "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
        else:
            path = step.path
            data = urlencode(mango_form(step.body)).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status, body, resp_headers, _u = _send(opener, f"{base}{path}", data=data, headers=headers)
        with lock:
            seen_servers.add(resp_headers.get("X-Refuge-Server", ""))
            if status != 200:
                errors.append(f"{path} {status} {body[:200]!r}")

    def work(part) -> None:
        opener = _opener(cluster)
        for _scenario, step in part:
            one(opener, step)

    threads = [threading.Thread(target=work, args=(sends[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and seen_servers == {"app1", "app2"}
    got = json.loads(cluster.python(SETUP + f"""
import json
from refuge.hotline.models import Call
out = {{}}
for entry in {[s.entry for s in scenarios]!r}:
    calls = list(Call.objects.filter(entry_id=entry))
    out[entry] = [{{"state": c.state, "direction": c.direction, "answered": c.answered,
                    "wait": c.wait_seconds, "talk": c.talk_seconds,
                    "operator": c.operator_extension, "region": c.caller_region}}
                  for c in calls]
print(json.dumps(out))
"""))  # fmt: skip
    for s in scenarios:
        assert got[s.entry] == [s.expect], s.name
    # The calls' list of the API streams its rows (`.iterator()`): through PgBouncer in
    # transaction mode only without server-side cursors (REFUGE_DB_TRANSACTION_POOLING).
    key = cluster.python(SETUP + """
from refuge.core.services import api_key_create, organisation_create
org = organisation_create(by=None, slug="cluster-coord", name="Coordination", kind="hub")
print(api_key_create(by=None, organisation=org, role="coordinator", name="figures")[1])
""").strip()  # fmt: skip
    status, body, _h, _u = _send(
        _opener(cluster), f"{base}/api/v1/hotline/calls?from=2025-03-01&to=2025-03-31",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    listed = {c["entry_id"] for c in json.loads(body)} if status == 200 else set()
    assert status == 200 and listed, (status, body[:300])
    assert listed <= {s.entry for s in scenarios}


# --- notifications with two task workers ------------------------------------------------------------


def test_two_task_workers_deliver_each_notification_once(cluster, smtp):
    """After the referral traffic above (module order), every email delivery is taken by one
    worker or the other, once: one attempt each (an attempt is recorded before anything leaves
    the system), and the SMTP server on loopback received each message once."""
    import time

    deadline = time.monotonic() + 120
    while True:
        out = json.loads(cluster.python("""
import json
from django.db.models import Count
from refuge.notifications.models import Delivery
rows = (Delivery.objects.filter(channel="email").values("status", "attempts")
        .annotate(n=Count("id")))
print(json.dumps([[r["status"], r["attempts"], r["n"]] for r in rows]))
"""))  # fmt: skip
        waiting = [row for row in out if row[0] in ("queued", "sending")]
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(1)
    emails = sum(n for _s, _a, n in out)
    assert emails > 0, "the referral traffic sent no email"
    assert not waiting, out
    assert {(status, attempts) for status, attempts, _n in out} == {("sent", 1)}, out
    ids = smtp.ids()
    assert len(ids) == emails and len(set(ids)) == emails  # each message once
    logs = cluster.logs("worker1") + cluster.logs("worker2")
    assert "Traceback" not in logs, logs[-3000:]
    assert cluster.alive()["worker1"] and cluster.alive()["worker2"]  # both ran throughout
