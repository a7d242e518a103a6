"""Ranking one household over 5,000 facilities (SPEC.md P): p95 of the whole search (load the
facts, rank, reasons) against a plain SELECT of the same facility rows, in one run. Uses a fresh
SQLite file (or DATABASE_URL's PostgreSQL, database refuge_bench_rank), and bulk-created rows."""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
os.environ["REFUGE_MODE"] = "demo"
os.environ.setdefault("REFUGE_HOME", tempfile.mkdtemp(prefix="refuge-bench-"))
if os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/refuge_bench_rank"

import django  # noqa: E402
from _report import result as report  # noqa: E402  (bench/ is on sys.path)

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

N = 5000
RUNS = 30


def build() -> None:
    from refuge.core.models import Organisation
    from refuge.directory.models import ACCOMMODATION_KINDS, Facility, HouseRules, Region
    from refuge.vacancies.models import FacilityAvailability, Room

    rng = random.Random(5)
    regions = list(
        Region.objects.filter(country__in=["RU", "KG", "CZ"]).values_list("code", flat=True)
    )
    org = Organisation.objects.create(slug="bench", name="Bench", kind="shelter")
    # Every one of the 5,000 offers accommodation, so every one is searched (bulk_create does
    # not validate choices: an unknown kind would quietly drop a facility from the search).
    kinds = sorted(ACCOMMODATION_KINDS)
    facilities = [
        Facility(
            organisation=org,
            name=f"F{i}",
            kind=rng.choice(kinds),
            region_id=rng.choice(regions),
            address_visibility=rng.choice(["public", "professionals", "confidential"]),
        )
        for i in range(N)
    ]
    Facility.objects.bulk_create(facilities, batch_size=1000)
    HouseRules.objects.bulk_create(
        [
            HouseRules(
                facility=f,
                children_accepted=rng.choice([True, True, False, None]),
                max_children=rng.choice([None, 2, 3, 4]),
                boys_max_age=rng.choice([None, 12, 14, 16]),
                pets_accepted=rng.choice([True, False, None]),
                requires_local_registration=rng.choice([False, False, True]),
                staff_languages=["ru"],
            )
            for f in facilities
        ],
        batch_size=1000,
    )
    now = timezone.now()
    FacilityAvailability.objects.bulk_create(
        [
            FacilityAvailability(
                facility=f, source="reported", reported_at=now, reported_by="bench"
            )
            for f in facilities
        ],
        batch_size=1000,
    )
    rooms = []
    for f in facilities:
        for j in range(rng.randint(1, 4)):
            kind = rng.choice(["family", "dorm"])
            beds = rng.randint(2, 6)
            rooms.append(
                Room(
                    facility=f,
                    name=f"R{j}",
                    kind=kind,
                    beds=beds,
                    reported_free_beds=rng.choice([0, beds, beds // 2]),
                )
            )
    Room.objects.bulk_create(rooms, batch_size=2000)


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))]


def main() -> None:
    call_command("migrate", verbosity=0)
    from refuge.core.access import Principal
    from refuge.directory.models import Facility
    from refuge.referrals import search
    from refuge.vacancies.facts import COLUMNS

    if not Facility.objects.filter(name="F0").exists():
        build()
    p = Principal(name="bench", role="operator", organisation=None)
    request = search.household_from(
        {
            "woman_age": 34,
            "children": [{"age": 15, "sex": "male"}, {"age": 9, "sex": "female"}],
            "pets": 1,
            "home_region": "RU-MOW",
            "avoid_regions": ["RU-MOW"],
            "min_distance_km": 100,
            "languages": ["ru"],
        }
    )
    qs = search.accommodation()
    plain_cols = [c for c in COLUMNS if c != "interpretation"]
    base, full = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        rows = list(qs.order_by("pk").values_list(*plain_cols))
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = search.search(p, request)
        full.append(time.perf_counter() - t)
    n = len(result.ranking.results) + len(result.ranking.excluded)
    print(f"database: {connection.vendor}; facilities: {n} (rows in the plain SELECT: {len(rows)})")
    print(
        f"plain SELECT of the facility rows: median {statistics.median(base) * 1000:.1f} ms, "
        f"p95 {p95(base) * 1000:.1f} ms"
    )
    print(
        f"full search (facts + rooms + ranking): median {statistics.median(full) * 1000:.1f} ms, "
        f"p95 {p95(full) * 1000:.1f} ms"
    )
    print(f"ratio p95 search / p95 SELECT: {p95(full) / p95(base):.2f} (target <= 2)")
    print(f"results {len(result.ranking.results)}, excluded {len(result.ranking.excluded)}")
    ratio = p95(full) / p95(base)
    report(
        target="Ranking one household over 5,000 facilities: p95 within 2× a plain SELECT of the "
        "same facility rows",
        measured=f"p95 {p95(full) * 1000:.0f} ms = {ratio:.2f}× the SELECT's {p95(base) * 1000:.0f} ms "
        f"(medians {statistics.median(full) * 1000:.0f} / {statistics.median(base) * 1000:.0f} ms = "
        f"{statistics.median(full) / statistics.median(base):.2f}×), {n} facilities, {connection.vendor}",
        met=ratio <= 2,
    )


if __name__ == "__main__":
    main()
