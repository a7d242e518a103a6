"""Two real instances on loopback, each with its own REFUGE_HOME, SQLite database and key:
they trust each other, one delivers a signed hello through its task queue, pulls the other's
availability, and shows the other's facility in its placement search under the peer's name;
a referral goes across with the minimum and is accepted there, and the answer comes back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.notifications.peers import free_port

REPO = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, str(REPO / "manage.py")]
IDENTITY = "/api/v1/federation/identity"

SETUP_B = """
from refuge.core.services import organisation_create
from refuge.federation.services import sharing_set
from refuge.vacancies.services import availability_settings_update
from tests.directory.factories import make_facility
org = organisation_create(by=None, slug="kg-centres", name="KG centres", kind="shelter")
sharing_set(by=None, organisation=org, share=True)
f = make_facility(org, "Bishkek shelter", region="KG-GB", rooms=[("family", 4), ("dorm", 2)],
                  latitude=42.87, longitude=74.59)
availability_settings_update(by=None, facility=f, source="system", ttl_hours=24)
"""
SETUP_A = """
from refuge.core.services import organisation_create
organisation_create(by=None, slug="msk-hotline", name="Moscow hotline", kind="hotline")
"""
REFER_A = """
from refuge.cases.services import client_create, household_member_add
from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.roles import Role
from refuge.federation.models import PeerFacility
from refuge.federation.referrals import federated_referral_send
org = Organisation.objects.get(slug="msk-hotline")
p = Principal(name="operator-1", role=Role.OPERATOR, organisation=org)
olga = client_create(by=p, name="Olga Secretname")
household_member_add(by=p, client=olga, age=5, sex="male")
household = {"woman_age": 30, "children": [{"age": 5, "sex": "male"}], "languages": ["ru"],
             "name": "Olga Secretname"}
federated_referral_send(by=p, client=olga, peer_facility=PeerFacility.objects.get(),
                        household=household, risk_level="high")
"""
ACCEPT_B = """
import json
from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.roles import Role
from refuge.federation.models import IncomingReferral
from refuge.federation.referrals import incoming_referral_answer
org = Organisation.objects.get(slug="kg-centres")
(row,) = IncomingReferral.objects.all()
assert "Secretname" not in json.dumps(row.offer) and row.offer["risk_level"] == "high"
p = Principal(name="caseworker-1", role=Role.CASEWORKER, organisation=org)
incoming_referral_answer(by=p, incoming=row, accept=True)
print("answered", row.facility.name)
"""
CONSENT_A = """
import json
from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.roles import Role
from refuge.federation import conf, handover, sealing
from refuge.federation.models import OutgoingReferral
org = Organisation.objects.get(slug="msk-hotline")
p = Principal(name="caseworker-1", role=Role.CASEWORKER, organisation=org)
row = handover.federated_record_consent(by=p, referral=OutgoingReferral.objects.get())
assert "Secretname" not in json.dumps(row.sealed_record)
try:  # sealed for the peer: this instance's own key does not open it
    sealing.open_sealed(row.sealed_record, key=conf.identity().sealing_key,
                        aad=handover.aad(str(row.pk), conf.identity().sealing_public_key))
except sealing.SealError:
    print("sealed for the peer only")
"""
RECEIVED_B = """
from refuge.cases.models import Client
from refuge.federation.models import IncomingReferral
(row,) = IncomingReferral.objects.all()
client = Client.objects.get(pk=row.client_id)
print(client.organisation.slug, client.name, [m.age for m in client.household.all()])
"""
CLEAR_A = """
import json
from django_tasks_db.models import DBTaskResult
from refuge.core.models import AuditEvent
from refuge.federation.models import OutboxMessage, OutgoingReferral
row = OutgoingReferral.objects.get()
stored = [list(m.objects.values()) for m in (OutboxMessage, DBTaskResult, AuditEvent)]
print(row.sealed_record is None, row.record_received_at is not None,
      "Secretname" in json.dumps(stored, default=str),
      AuditEvent.objects.filter(action="federation.record_handed_over").count())
"""
JOURNEY_B = """
import datetime
from django.utils import timezone
from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.roles import Role
from refuge.federation import travel
from refuge.federation.models import IncomingReferral
org = Organisation.objects.get(slug="kg-centres")
p = Principal(name="caseworker-1", role=Role.CASEWORKER, organisation=org)
row = IncomingReferral.objects.get()
travel.journey_plan(by=p, incoming=row, mode="bus", meeting_point="Osh bazaar bus station",
                    arrives_at=timezone.now() + datetime.timedelta(hours=6),
                    escort="Aizada Escortova", escort_role="volunteer")
"""
ARRIVED_B = """
from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.roles import Role
from refuge.federation import travel
from refuge.federation.models import IncomingReferral
org = Organisation.objects.get(slug="kg-centres")
p = Principal(name="caseworker-1", role=Role.CASEWORKER, organisation=org)
travel.journey_arrive(by=p, incoming=IncomingReferral.objects.get())
"""
JOURNEY_A = """
import json
from refuge.core.models import AuditEvent
from refuge.federation.models import OutgoingReferral
row = OutgoingReferral.objects.get()
stored = json.dumps(list(AuditEvent.objects.values()), default=str) + json.dumps(row.journey)
print(row.journey["meeting_point"], row.journey["escort_role"], row.arrived_at is not None,
      "Escortova" in stored)
"""


OUTBOX_A = """
from refuge.federation.models import OutboxMessage
row = OutboxMessage.objects.get(kind="referral.offer")
print(row.status, row.attempts, row.last_error)
"""
# The retry's wait (backoff) made to have passed, as an hour would.
WAITED_A = """
from django.utils import timezone
from refuge.federation.models import OutboxMessage
from refuge.federation.services import outbox_sweep
OutboxMessage.objects.filter(status="queued").update(next_attempt_at=timezone.now())
print(outbox_sweep())
"""
INCOMING_B = """
from refuge.federation.models import IncomingReferral
print(IncomingReferral.objects.count())
"""
# A message signed by a's own key, as an attacker who recorded it would send it again.
SIGNED_A = """
import json
from refuge.federation import conf, signing
from refuge.federation.models import Peer
me = conf.identity()
print(json.dumps(signing.seal(me.key, sender=me.name, kind="hello", body={},
                              recipient_key=Peer.objects.get(name="kyrgyz").public_key)))
"""


def _post(url: str, payload: dict) -> int:
    request = urllib.request.Request(  # noqa: S310 (loopback)
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


class Instance:
    def __init__(self, tmp: Path, name: str) -> None:
        self.name, self.port = name, free_port()
        self.home = tmp / name
        self.url = f"http://127.0.0.1:{self.port}"
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("REFUGE_", "DATABASE_URL"))
        }
        self.env = {
            **base,
            "REFUGE_MODE": "demo",
            "REFUGE_HOME": str(tmp / name),
            "REFUGE_FEDERATION_NAME": name,
            "REFUGE_BASE_URL": self.url,
            "DJANGO_SETTINGS_MODULE": "refuge.settings",
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
        }
        self.server: subprocess.Popen | None = None

    def manage(self, *args: str, check: bool = True) -> str:
        r = subprocess.run(
            [*MANAGE, *args], env=self.env, cwd=REPO, capture_output=True, text=True, timeout=300
        )
        if check:
            assert r.returncode == 0, f"{self.name} {args[0]}: {r.stderr[-2000:]}"
        return r.stdout

    def serve(self) -> None:
        self.server = subprocess.Popen(
            [*MANAGE, "runserver", "--noreload", "--nothreading", f"127.0.0.1:{self.port}"],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + IDENTITY, timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"{self.name} did not start")

    def identity(self) -> dict:
        with urllib.request.urlopen(self.url + IDENTITY, timeout=5) as r:  # noqa: S310
            return json.load(r)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=20)


@pytest.fixture
def instances(tmp_path):
    a, b = Instance(tmp_path, "moscow"), Instance(tmp_path, "kyrgyz")
    # Both migrate at once (two cores); each its own database and keys.
    procs = [
        subprocess.Popen(
            [*MANAGE, "migrate", "-v", "0"], env=i.env, cwd=REPO, stderr=subprocess.PIPE
        )
        for i in (a, b)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-2000:]
    yield a, b
    a.stop()
    b.stop()


def test_two_instances_federate(instances):
    a, b = instances
    b.manage("shell", "-c", SETUP_B)
    a.manage("shell", "-c", SETUP_A)
    key = a.manage("create_api_key", "--role", "operator", "--org", "msk-hotline").strip()
    a.serve()
    b.serve()
    ida, idb = a.identity(), b.identity()
    assert ida["public_key"] != idb["public_key"]

    # Before trust: b refuses a's question, and a has nothing of b's.
    assert idb["sealing_key"] and idb["sealing_key"] != ida["sealing_key"]
    a.manage(
        "federation_trust",
        "--name",
        "kyrgyz",
        "--url",
        b.url,
        "--key",
        idb["public_key"],
        "--sealing-key",
        idb["sealing_key"],
    )
    refused = subprocess.run(
        [*MANAGE, "federation_pull"], env=a.env, cwd=REPO, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "kyrgyz: refused" in refused.stderr
    b.manage("federation_trust", "--name", "moscow", "--url", a.url, "--key", ida["public_key"])

    # a's hello goes through its task queue to b, once.
    a.manage("worker", "--batch", "--no-scheduler")
    assert "kyrgyz: 1 facilities" in a.manage("federation_pull")

    request = urllib.request.Request(  # noqa: S310 (loopback)
        a.url + "/api/v1/placements/search",
        data=json.dumps({"woman_age": 30, "children": [{"age": 5, "sex": "male"}]}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
        body = json.load(r)
    (peer,) = [x for x in body["results"] if x["network"] == "kyrgyz"]
    assert peer["name"] == "Bishkek shelter"
    assert peer["region"] == "KG-GB"
    assert peer["availability"] == "confirmed" and peer["free_beds"] == 6
    assert peer["distance_km"] is None or isinstance(peer["distance_km"], float)
    text = json.dumps(body)
    assert "42.87" not in text and "74.59" not in text

    # A referral to b's shelter while b is down: a's queue keeps it and tries again; when b is
    # back (and the retry's wait has passed), it arrives once.
    b.stop()
    a.manage("shell", "-c", REFER_A)
    a.manage("worker", "--batch", "--no-scheduler")
    assert a.manage("shell", "-c", OUTBOX_A).strip().splitlines()[-1].split() == [
        "queued",
        "1",
        "unreachable",
    ]
    b.serve()
    assert a.manage("shell", "-c", WAITED_A).strip().splitlines()[-1] == "1"
    a.manage("worker", "--batch", "--no-scheduler")
    assert a.manage("shell", "-c", OUTBOX_A).strip().splitlines()[-1].split() == ["delivered", "2"]
    a.manage("shell", "-c", WAITED_A)  # nothing is due any more: nothing is sent again
    a.manage("worker", "--batch", "--no-scheduler")
    assert b.manage("shell", "-c", INCOMING_B).strip().splitlines()[-1] == "1"

    # b's staff accept it there, and the answer comes back through b's queue.
    assert "answered Bishkek shelter" in b.manage("shell", "-c", ACCEPT_B)
    b.manage("worker", "--batch", "--no-scheduler")
    status = a.manage(
        "shell",
        "-c",
        "from refuge.federation.models import OutgoingReferral; "
        "print(OutgoingReferral.objects.get().status)",
    )
    assert status.strip().splitlines()[-1] == "accepted"

    # Her consent on a's side: her record goes sealed for b through a's queue; b opens it and
    # opens her case in the shelter's organisation; a keeps no copy and no name in clear.
    assert "sealed for the peer only" in a.manage("shell", "-c", CONSENT_A)
    a.manage("worker", "--batch", "--no-scheduler")
    received = b.manage("shell", "-c", RECEIVED_B).strip().splitlines()[-1]
    assert received == "kg-centres Olga Secretname [5]"
    kept = a.manage("shell", "-c", CLEAR_A).strip().splitlines()[-1]
    assert kept.split() == ["True", "True", "False", "1"]
    for path in (a.home / "refuge.sqlite3", a.home / "refuge.sqlite3-wal"):
        if path.exists():
            assert b"Secretname" not in path.read_bytes()

    # Her journey, planned on b (the address stays there): a learns the way, the meeting point
    # and the escort's role, never the escort's name; then that she arrived.
    b.manage("shell", "-c", JOURNEY_B)
    b.manage("worker", "--batch", "--no-scheduler")
    told = a.manage("shell", "-c", JOURNEY_A).strip().splitlines()[-1]
    assert told == "Osh bazaar bus station volunteer False False"
    b.manage("shell", "-c", ARRIVED_B)
    b.manage("worker", "--batch", "--no-scheduler")
    told = a.manage("shell", "-c", JOURNEY_A).strip().splitlines()[-1]
    assert told.endswith("volunteer True False")

    # b recorded the hello once and audited it; untrusting stops everything at once.
    out = b.manage(
        "shell",
        "-c",
        "from refuge.federation.models import InboxMessage; "
        "from refuge.core.models import AuditEvent; "
        "print(InboxMessage.objects.filter(kind='hello').count(), "
        "AuditEvent.objects.filter(action='federation.snapshot_sent').count())",
    )
    assert out.strip().splitlines()[-1].split() == ["1", "1"]

    # A message a signed, sent again as it was, is refused (its nonce was seen); altered, its
    # signature no longer holds.
    signed = json.loads(a.manage("shell", "-c", SIGNED_A).strip().splitlines()[-1])
    inbox = b.url + "/api/v1/federation/inbox"
    assert _post(inbox, signed) == 200
    assert 400 <= _post(inbox, signed) < 500
    forged = json.loads(json.dumps(signed))
    forged["envelope"]["body"] = {"facility": "x"}
    forged["envelope"]["nonce"] = "AAAAAAAAAAAAAAAAAAAAAA=="
    assert 400 <= _post(inbox, forged) < 500

    b.manage("federation_trust", "--untrust", "moscow")
    after = subprocess.run(
        [*MANAGE, "federation_pull"], env=a.env, cwd=REPO, capture_output=True, text=True
    )
    assert after.returncode != 0 and "kyrgyz: refused" in after.stderr
