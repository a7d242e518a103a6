"""The insights dashboard over a year of 100,000 hotline calls (SPEC C7, issue 7): the whole
request (session, sign-in checks, every aggregate query, the tables, the SVG charts, rendering)
against replaying the raw SQL that same request runs, measured in one run; and the number of
queries at 10,000 and at 100,000 calls, which must be the same.

Besides the calls (80 % with a wrap-up), the network has 40 shelters with rooms, and 2,000
women with a stay, 2,000 referrals and 500 turn-aways over the year, bulk-created. The
dashboard is the coordinator's (the whole network, no suppression) over the whole year; the
analyst's (a published quarter, suppression of every table together) is timed too.

Uses a fresh SQLite file (or DATABASE_URL's PostgreSQL, database refuge_bench_dashboard).
Usage: `.venv/bin/python bench/dashboard.py`.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _report import result  # noqa: E402  (bench/ is on sys.path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
os.environ["REFUGE_MODE"] = "demo"
os.environ.setdefault("REFUGE_HOME", tempfile.mkdtemp(prefix="refuge-bench-"))
if os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/refuge_bench_dashboard"
    )

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

CALLS = 100_000
SMALL = 10_000
RUNS = 15
REGIONS = ["RU-MOW", "RU-MOS", "RU-TUL", "RU-VLA", "RU-YAR", "RU-TVE", "RU", "KG-GB", "KG", ""]
CONTACTS = ["victim"] * 7 + ["friend_family", "professional", "silent_other", "causing_harm"]


def add_calls(org, line, start: int, count: int, rng: random.Random) -> None:
    from refuge.hotline.models import Call, WrapUp

    now = timezone.now()
    calls = []
    for i in range(start, start + count):
        created = now - timedelta(seconds=rng.uniform(0, 364 * 86400))
        answered = rng.random() < 0.8
        wait = rng.randint(1, 120)
        talk = rng.randint(60, 1800) if answered else 0
        calls.append(
            Call(
                provider="json",
                entry_id=f"bench-{i}",
                organisation=org,
                line=line,
                direction="incoming",
                state="disconnected",
                created_at=created,
                answered_at=created + timedelta(seconds=wait) if answered else None,
                ended_at=created + timedelta(seconds=wait + talk),
                answered=answered,
                wait_seconds=wait,
                talk_seconds=talk,
                caller_known=True,
                caller_region=rng.choice(REGIONS),
                out_of_region=rng.random() < 0.2,
                repeat_caller=rng.random() < 0.15,
                event_count=2,
            )
        )
    Call.objects.bulk_create(calls, batch_size=2000)
    made = Call.objects.filter(entry_id__in=[c.entry_id for c in calls if c.answered])
    WrapUp.objects.bulk_create(
        [
            WrapUp(
                call_id=pk,
                contact_type=rng.choice(CONTACTS),
                outcome_information=True,
                recorded_at=now,
            )  # fmt: skip
            for pk in made.values_list("pk", flat=True).iterator()
        ],
        batch_size=2000,
    )


def add_network(org, rng: random.Random) -> None:
    """Shelters with rooms; women with stays, referrals and turn-aways over the year."""
    from refuge.cases.models import Client, Stay
    from refuge.core.services import data_key_create
    from refuge.directory.models import Facility
    from refuge.referrals.models import Referral, ReferralTarget, TurnAway
    from refuge.vacancies.models import Room

    now = timezone.now()
    facilities = Facility.objects.bulk_create(
        [
            Facility(
                organisation=org,
                name=f"Bench shelter {i}",
                kind="crisis_centre_shelter",
                region_id=rng.choice(REGIONS[:6]),
            )  # fmt: skip
            for i in range(40)
        ]
    )
    rooms = Room.objects.bulk_create(
        [
            Room(facility=f, name=f"Room {j}", kind="family", beds=4)
            for f in facilities
            for j in range(6)
        ]  # fmt: skip
    )
    key = data_key_create()  # one wrapped key for all: the benchmark reads no personal field
    clients = Client.objects.bulk_create(
        [
            Client(
                case_code=f"RF-B{i:07d}",
                organisation=org,
                data_key=key,
                created_by="bench",
                residence_region=rng.choice(REGIONS[:6]),
                reporting_consent=rng.random() < 0.9,
                phone_index=uuid.uuid4().hex if rng.random() < 0.7 else "",
                age_band=rng.choice(["18-24", "25-34", "35-44"]),
            )  # fmt: skip
            for i in range(2000)
        ],
        batch_size=1000,
    )
    stays = []
    for i, c in enumerate(clients):
        room = rooms[i % len(rooms)]
        admitted = now - timedelta(days=rng.uniform(1, 360))
        left = admitted + timedelta(days=rng.uniform(2, 60))
        stays.append(
            Stay(
                client=c,
                facility_id=room.facility_id,
                room=room,
                bed=1 + i % 4,
                household_size=rng.choice([1, 1, 2, 3]),
                admitted_at=admitted,
                admitted_by="bench",
                discharged_at=left if left < now else None,
                outcome=rng.choice(["independent_housing", "relatives", "returned_to_abuser"])
                if left < now
                else "",
            )  # fmt: skip
        )
    # Bench data is not a real occupancy plan: keep only stays that do not break the
    # one-active-stay-per-bed rule (the last ones in each bed are still open).
    seen: set[tuple[int, int]] = set()
    for s in sorted(stays, key=lambda s: s.admitted_at, reverse=True):
        if s.discharged_at is None:
            if (s.room_id, s.bed) in seen:
                s.discharged_at = s.admitted_at + timedelta(days=1)
                s.outcome = "relatives"
            seen.add((s.room_id, s.bed))
    Stay.objects.bulk_create(stays, batch_size=1000)
    referrals = Referral.objects.bulk_create(
        [
            Referral(
                client=c,
                data_key=key,
                from_org=org,
                created_by="bench",
                status=rng.choice(["accepted", "arrived", "ended", "withdrawn", "open"]),
                household={"woman_age": 30, "home_region": c.residence_region},
            )  # fmt: skip
            for c in clients
        ],
        batch_size=1000,
    )
    targets = ReferralTarget.objects.bulk_create(
        [
            ReferralTarget(
                referral=r,
                facility=rng.choice(facilities),
                status="accepted" if r.status in ("accepted", "arrived") else "declined",
                decided_at=now - timedelta(days=rng.uniform(0, 360)),
            )  # fmt: skip
            for r in referrals
        ],
        batch_size=1000,
    )
    for r, t in zip(referrals, targets, strict=True):
        if t.status == "accepted":
            r.accepted_target = t
    Referral.objects.bulk_update(referrals, ["accepted_target"], batch_size=1000)
    for r in referrals:  # created before the answer: waits from minutes to days
        if r.accepted_target is not None:
            Referral.objects.filter(pk=r.pk).update(
                created_at=r.accepted_target.decided_at - timedelta(minutes=rng.uniform(5, 5000))
            )
    TurnAway.objects.bulk_create(
        [
            TurnAway(
                at=now - timedelta(days=rng.uniform(0, 360)),
                organisation=org,
                recorded_by="bench",
                region=rng.choice(REGIONS[:6]),
                household_size=rng.choice([1, 2, 3]),
                household={},
                reasons=rng.choice(
                    [["no_place_anywhere"], ["documents"], ["language", "documents"]]
                ),
                unnecessary=rng.random() < 0.3,
            )  # fmt: skip
            for _i in range(500)
        ]
    )


def signed_in_client(org, role: str) -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from refuge.core.services import staff_create

    user = staff_create(
        by=None, organisation=org, username=f"bench-{role}", role=role,
        password="bench password that is long",  # noqa: S106 (a throw-away bench user)
    ).user  # fmt: skip
    client = Client()
    client.force_login(user)
    if role != "analyst":
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


class Recorder:
    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, params))
        return execute(sql, params, many, context)


def record(client: Client, url: str) -> list[tuple[str, object]]:
    """The statements of one request, with nothing kept between requests (as in a newly started
    process): what a process keeps (refuge.vacancies.facts) would otherwise make the count
    depend on which request came first, not on the size of the network."""
    from refuge.vacancies.facts import clear_kept

    clear_kept()
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return recorder.statements


def replay(statements) -> float:
    start = time.perf_counter()
    with connection.cursor() as cursor:
        for sql, params in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                cursor.execute(sql, params)
                cursor.fetchall()
    return time.perf_counter() - start


def serve(client: Client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed


def main() -> None:
    from refuge.core.models import Organisation, User
    from refuge.core.services import organisation_create
    from refuge.hotline.models import Call, Line
    from refuge.insights.periods import completed_quarters

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    if Call.objects.filter(entry_id__startswith="bench-").exists():
        sys.exit("run on a fresh database (REFUGE_HOME or DATABASE_URL)")
    hub = Organisation.objects.filter(slug="bench-hub").first() or organisation_create(
        by=None, slug="bench-hub", name="Bench hub", kind="hub"
    )
    User.objects.filter(username__startswith="bench-").delete()
    coordinator = signed_in_client(hub, "coordinator")
    analyst = signed_in_client(hub, "analyst")
    line = Line.objects.create(number="bench-line", organisation=hub, region="RU-MOW")
    add_network(hub, rng)
    today = timezone.localdate()
    url = f"/insights/?start={(today - timedelta(days=364)).isoformat()}&end={today.isoformat()}"
    analyst_url = f"/insights/?period={completed_quarters()[0].key}"

    add_calls(hub, line, 0, SMALL, rng)
    serve(coordinator, url)  # a session's first page writes its first action; count the second
    small = record(coordinator, url)
    add_calls(hub, line, SMALL, CALLS - SMALL, rng)
    with connection.cursor() as cursor:  # statistics, as autovacuum would have them by now
        cursor.execute("ANALYZE")
    statements = record(coordinator, url)
    selects = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]

    for _ in range(2):  # warm up caches on both sides
        serve(coordinator, url)
        replay(statements)
    server, raw = [], []
    for _ in range(RUNS):
        server.append(serve(coordinator, url))
        raw.append(replay(statements))
    a_statements = record(analyst, analyst_url)
    a_server, a_raw = [], []
    for _ in range(max(3, RUNS // 3)):
        a_server.append(serve(analyst, analyst_url))
        a_raw.append(replay(a_statements))

    ms = 1000
    print(f"database: {connection.vendor}; calls in the year: {Call.objects.count()}")
    print(
        f"queries per request: {len(small)} at {SMALL} calls, {len(statements)} at {CALLS} "
        f"({'constant' if len(small) == len(statements) else 'NOT CONSTANT'}); "
        f"{len(selects)} of them SELECTs"
    )
    print(
        f"coordinator, a year: server median {statistics.median(server) * ms:.0f} ms, "
        f"max {max(server) * ms:.0f} ms; raw SQL median {statistics.median(raw) * ms:.0f} ms; "
        f"ratio {statistics.median(server) / statistics.median(raw):.2f}"
    )
    print(
        f"analyst, a published quarter (all tables suppressed together): server median "
        f"{statistics.median(a_server) * ms:.0f} ms; raw SQL median "
        f"{statistics.median(a_raw) * ms:.0f} ms; ratio "
        f"{statistics.median(a_server) / statistics.median(a_raw):.2f}"
    )
    constant = len(small) == len(statements)
    result(
        target="Insights dashboard over a year of calls: a constant number of queries "
        "(no SPEC P target; kept as a guard)",
        measured=f"{len(statements)} queries at {CALLS:,} calls, {len(small)} at {SMALL}; "
        f"server median {statistics.median(server) * ms:.0f} ms = "
        f"{statistics.median(server) / statistics.median(raw):.2f}× the raw SQL, {connection.vendor}",
        met=constant,
    )
    if not constant:
        sys.exit(1)


if __name__ == "__main__":
    main()
