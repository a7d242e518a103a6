"""The vacancy board with 1,000 facilities and 20,000 rooms (SPEC.md P): the whole request
(session, sign-in checks, loading the facts, household fit for every facility, rendering) against
replaying the raw SQL that same request runs, measured in one run; and the number of queries at
100 and at 1,000 facilities, which must be the same.

Uses a fresh SQLite file (or DATABASE_URL's PostgreSQL, database refuge_bench_board) and
bulk-created rows. Usage: `.venv/bin/python bench/board.py`.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _report import result  # noqa: E402  (bench/ is on sys.path)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
os.environ["REFUGE_MODE"] = "demo"
os.environ.setdefault("REFUGE_HOME", tempfile.mkdtemp(prefix="refuge-bench-"))
if os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = (
        os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/refuge_bench_board"
    )

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

FACILITIES = 1000
ROOMS_PER_FACILITY = 20
RUNS = 30
URL = "/vacancies/?boys=15%2C+9&pets=on"
KINDS = [
    "crisis_centre_shelter",
    "low_threshold_refuge",
    "young_mothers_shelter",
    "faith_based_shelter",
    "transit_house",
    "night_shelter",
]


def build(start: int, count: int, org, rng: random.Random) -> None:
    from refuge.directory.models import Facility, FacilityService, HouseRules, Region
    from refuge.vacancies.models import FacilityAvailability, Room

    regions = list(Region.objects.values_list("code", flat=True))
    facilities = [
        Facility(
            organisation=org,
            name=f"Bench shelter {i:04d}",
            kind=rng.choice(KINDS),
            region_id=rng.choice(regions),
            address_visibility=rng.choice(["public", "professionals", "confidential"]),
            latitude=rng.uniform(50, 60) if i % 2 else None,
            longitude=rng.uniform(30, 45) if i % 2 else None,
        )
        for i in range(start, start + count)
    ]
    Facility.objects.bulk_create(facilities, batch_size=1000)
    HouseRules.objects.bulk_create(
        [
            HouseRules(
                facility=f,
                min_age=18,
                children_accepted=rng.choice([True, True, False, None]),
                max_children=rng.choice([None, 2, 3, 4]),
                boys_max_age=rng.choice([None, 12, 14, 16]),
                pets_accepted=rng.choice([True, False, None]),
                requires_passport=rng.choice([True, False, None]),
                staff_languages=["ru"],
                max_stay_days=rng.choice([None, 14, 30, 300]),
            )
            for f in facilities
        ],
        batch_size=1000,
    )
    FacilityService.objects.bulk_create(
        [FacilityService(facility=f, kind="interpretation") for f in facilities[::5]]
    )
    now = timezone.now()
    FacilityAvailability.objects.bulk_create(
        [
            FacilityAvailability(
                facility=f,
                source="reported",
                # a third of the figures are older than the 24 h time-to-live: unknown
                reported_at=now - timezone.timedelta(hours=rng.choice([1, 5, 30])),
                reported_by="bench",
            )
            for f in facilities
        ],
        batch_size=1000,
    )
    rooms = []
    for f in facilities:
        for j in range(ROOMS_PER_FACILITY):
            family = j < 8
            beds = rng.randint(2, 5) if family else rng.randint(2, 6)
            free = (beds if rng.random() < 0.3 else 0) if family else rng.randint(0, beds)
            rooms.append(
                Room(
                    facility=f,
                    name=f"Room {j + 1}",
                    kind="family" if family else "dorm",
                    beds=beds,
                    reported_free_beds=free,
                )
            )
    Room.objects.bulk_create(rooms, batch_size=5000)


def signed_in_client(org, role: str = "operator") -> Client:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from refuge.core.services import staff_create

    user = staff_create(
        by=None, organisation=org, username=f"bench-{role}", role=role,
        password="bench password that is long",  # noqa: S106 (a throw-away bench user)
    ).user  # fmt: skip
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


class Recorder:
    """Records every statement and its parameters, to replay them raw."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, params))
        return execute(sql, params, many, context)


def record(client: Client) -> list[tuple[str, object]]:
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        response = client.get(URL)
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


def serve(client: Client) -> float:
    start = time.perf_counter()
    response = client.get(URL)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return elapsed


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))]


def main() -> None:
    from refuge.core.models import Organisation, User
    from refuge.core.services import organisation_create
    from refuge.directory.models import Facility
    from refuge.vacancies.models import Room

    call_command("migrate", verbosity=0)
    rng = random.Random(3)
    org = Organisation.objects.filter(slug="bench").first() or organisation_create(
        by=None, slug="bench", name="Bench shelters", kind="shelter"
    )
    Facility.objects.filter(organisation=org).delete()
    # The board's everyday user: a hotline operator, looking at the whole network.
    hotline = Organisation.objects.filter(slug="bench-hotline").first() or organisation_create(
        by=None, slug="bench-hotline", name="Bench hotline", kind="hotline"
    )
    User.objects.filter(username="bench-operator").delete()
    client = signed_in_client(hotline)

    build(0, 100, org, rng)
    small = record(client)
    build(100, FACILITIES - 100, org, rng)
    statements = record(client)
    rooms = Room.objects.filter(facility__organisation=org).count()
    selects = [s for s in statements if s[0].lstrip().upper().startswith("SELECT")]

    for _ in range(3):  # warm up caches on both sides
        serve(client)
        replay(statements)
    server, raw = [], []
    for _ in range(RUNS):
        server.append(serve(client))
        raw.append(replay(statements))

    print(f"database: {connection.vendor}; facilities on the board: {FACILITIES}; rooms: {rooms}")
    print(
        f"queries per request: {len(small)} at 100 facilities, {len(statements)} at "
        f"{FACILITIES} ({'constant' if len(small) == len(statements) else 'NOT CONSTANT'}); "
        f"{len(selects)} of them SELECTs"
    )
    print(
        f"server time (whole request, rendered page): median {statistics.median(server) * 1000:.1f} ms, "
        f"p95 {p95(server) * 1000:.1f} ms"
    )
    print(
        f"raw SQL it needs (its SELECTs replayed with fetchall): median "
        f"{statistics.median(raw) * 1000:.1f} ms, p95 {p95(raw) * 1000:.1f} ms"
    )
    ratio = statistics.median(server) / statistics.median(raw)
    print(f"ratio median server / median raw SQL: {ratio:.2f} (target <= 5)")
    print(f"ratio p95 server / p95 raw SQL: {p95(server) / p95(raw):.2f}")
    constant = len(small) == len(statements)
    result(
        target="Vacancy board, 1,000 facilities: a constant number of queries; server time "
        "within 5× the raw queries it needs",
        measured=f"{len(statements)} queries at {FACILITIES} facilities, {len(small)} at 100; "
        f"server median {statistics.median(server) * 1000:.0f} ms = {ratio:.2f}× the raw SQL "
        f"(p95 {p95(server) / p95(raw):.2f}×), {connection.vendor}",
        met=constant and ratio <= 5,
    )
    if not constant:
        sys.exit(1)


if __name__ == "__main__":
    main()
