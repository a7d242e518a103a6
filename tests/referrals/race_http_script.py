"""Mixed referral traffic through the real JSON API from many threads at once, on a real database
file (SQLite) or server (PostgreSQL), as the attack of issue 14 (M1) ran it: senders create
referrals to several facilities in random order (each opening a new case), receiving shelters
accept, decline and admit, senders withdraw. Every request goes through the whole Django stack
(middleware, API key, ninja, services), each thread on its own database connection.

Reports every 5xx and unhandled exception, every bed promised twice, and every case left
empty by a failed referral. Run by test_races.py in a subprocess: REFUGE_MODE=demo,
REFUGE_HOME=<tmp> (SQLite file) or DATABASE_URL=<fresh database>.

Usage: race_http_script.py THREADS OPS_PER_THREAD
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
from collections import Counter

import django
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient

FACILITIES = 6
SENDERS = 2


def build_world() -> dict:
    """Two hubs that send (their operators' API keys) and six shelters that receive (their
    caseworkers' keys, by facility id), each with three family rooms and two shared rooms."""
    from refuge.core.roles import OrgKind
    from refuge.core.services import api_key_create, organisation_create
    from refuge.directory.services import facility_create
    from refuge.vacancies.services import availability_settings_update, room_create

    def key(org, role):
        return api_key_create(by=None, organisation=org, role=role, name=role)[1]

    senders = []
    for i in range(SENDERS):
        org = organisation_create(by=None, slug=f"hub-{i}", name=f"Hub {i}", kind=OrgKind.HUB)
        senders.append(key(org, "operator"))
    receivers = {}  # facility id -> key of its organisation
    for i in range(FACILITIES):
        org = organisation_create(
            by=None, slug=f"shelter-{i}", name=f"Shelter {i}", kind=OrgKind.SHELTER
        )
        f = facility_create(
            by=None,
            organisation=org,
            name=f"Refuge {i}",
            kind="crisis_centre_shelter",
            region="RU-YAR",
            rules={"children_accepted": True},
        )
        for n in range(3):
            room_create(by=None, facility=f, name=f"Family {n}", kind="family", beds=4)
        for n in range(2):
            room_create(by=None, facility=f, name=f"Shared {n}", kind="dorm", beds=3)
        availability_settings_update(by=None, facility=f, source="system", ttl_hours=24)
        receivers[str(f.pk)] = key(org, "caseworker")
    return {"senders": senders, "receivers": receivers}


def run_traffic(post, world: dict, threads: int, ops: int, *, each_thread=None) -> dict:
    """The mixed traffic, ``threads`` at once, ``ops`` requests each. ``post(key, path, body)``
    sends one API request and returns (status, JSON body); ``each_thread`` runs when a thread
    ends (closing its database connection, for the in-process run)."""
    senders, receivers = world["senders"], world["receivers"]
    facility_ids = list(receivers)
    lock = threading.Lock()
    referrals: list[tuple[str, str, list[str]]] = []  # (id, sender key, facility ids)
    statuses: Counter[str] = Counter()
    failures: list[str] = []

    def call(op, key_text, path, body=None):
        status, data = post(key_text, f"/api/v1{path}", body or {})
        with lock:
            code = data.get("code", "") if status >= 400 and isinstance(data, dict) else ""
            statuses[f"{op}:{status}:{code}".rstrip(":")] += 1
            if status >= 500:
                failures.append(f"{path} {status} {str(data)[:200]}")
        return status, data

    def work(n: int, barrier: threading.Barrier) -> None:
        rng = random.Random(n)
        try:
            barrier.wait(timeout=60)
            for _ in range(ops):
                roll = rng.random()
                with lock:
                    known = list(referrals)
                if roll < 0.45 or not known:
                    # As a hotline operator would: search, then refer to a few of the places
                    # found (in no particular order); another may take them in between.
                    sender = rng.choice(senders)
                    household = {
                        "woman_age": 30,
                        "children": [] if rng.random() < 0.6 else [{"age": 7, "sex": "female"}],
                    }
                    status, found = call("search", sender, "/placements/search", household)
                    places = [
                        x["facility_id"]
                        for x in (found.get("results", []) if status == 200 else [])
                    ] or facility_ids
                    chosen = rng.sample(places, min(len(places), rng.randint(2, 4)))
                    body = {**household, "facility_ids": chosen, "hold_minutes": 60}
                    status, made = call("create", sender, "/referrals", body)
                    if status == 201:
                        with lock:
                            referrals.append((made["id"], sender, chosen))
                    continue
                rid, sender, chosen = rng.choice(known)
                fid = rng.choice(chosen)
                if roll < 0.65:
                    call("accept", receivers[fid], f"/referrals/{rid}/targets/{fid}/accept")
                elif roll < 0.80:
                    call(
                        "decline",
                        receivers[fid],
                        f"/referrals/{rid}/targets/{fid}/decline",
                        {"reason": "no_place"},
                    )
                elif roll < 0.88:
                    call("arrive", receivers[fid], f"/referrals/{rid}/arrive")
                else:
                    call("withdraw", sender, f"/referrals/{rid}/withdraw")
        except Exception as exc:  # noqa: BLE001 - counted and reported, never silently passed
            with lock:
                failures.append(f"exception {type(exc).__name__}: {exc}")
        finally:
            if each_thread is not None:
                each_thread()

    barrier = threading.Barrier(threads)
    pool = [threading.Thread(target=work, args=(n, barrier)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=600)
    return {
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "server_errors": len(failures),
        "failures": failures[:20],
        "hung_threads": sum(t.is_alive() for t in pool),
    }


def check() -> dict:
    """Every claim on a bed now: live holds (held, or accepted until arrival) and current
    stays; a bed claimed twice, or a family room shared, is a place promised twice."""
    from django.utils import timezone

    from refuge.cases.models import Client, Stay
    from refuge.referrals.models import Referral, ReferralTarget
    from refuge.vacancies.models import Room

    now = timezone.now()
    overbooked = []
    for room in Room.objects.all():
        claims = Counter()
        for t in ReferralTarget.objects.filter(hold_room=room, hold_active=True):
            if t.status == ReferralTarget.Status.ACCEPTED or (
                t.status == ReferralTarget.Status.HOLDING
                and (t.hold_expires_at is None or t.hold_expires_at > now)
            ):
                claims[t.hold_bed] += 1
        for s in Stay.objects.filter(room=room, discharged_at__isnull=True):
            claims[s.bed] += 1
        beds_claimed = [b for b, n in claims.items() for _ in range(n)]
        if any(n > 1 for n in claims.values()) or (room.kind == "family" and len(beds_claimed) > 1):
            overbooked.append({"room": room.pk, "claims": dict(claims)})
    return {
        "vendor": connection.vendor,
        "overbooked": overbooked,
        "orphan_cases": Client.objects.filter(referrals__isnull=True, stays__isnull=True).count(),
        "referrals": Referral.objects.count(),
        "accepted_or_arrived": Referral.objects.filter(status__in=["accepted", "arrived"]).count(),
    }


def main(threads: int, ops: int) -> dict:
    call_command("migrate", verbosity=0)
    world = build_world()

    def post(key_text, path, body):
        response = HttpClient(raise_request_exception=False).post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key_text}",
        )
        try:
            data = response.json()
        except ValueError:
            data = {"body": response.content[:200].decode(errors="replace")}
        return response.status_code, data

    traffic = run_traffic(post, world, threads, ops, each_thread=connection.close)
    return {**traffic, **check()}


if __name__ == "__main__":
    # Run as a script (test_races.py): Django is set up here. Imported (the cluster test and
    # bench), the importer has set it up, or needs only `run_traffic`, which does not use it.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
    django.setup()
    print(json.dumps(main(int(sys.argv[1]), int(sys.argv[2]))))
