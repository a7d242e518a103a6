"""Ranking one household over 5,000 facilities (SPEC.md P), on data that looks like a network:
every facility its own house rules (no two rule sets alike), rooms of mixed sizes and kinds,
public, professionals-only and confidential (sealed) points, some services.

For each size (50, 500 and 5,000 facilities: ×10 and ×100; each in its own process and fresh
database, SQLite by default or DATABASE_URL's PostgreSQL, database refuge_bench_rank_<n>,
or $REFUGE_BENCH_DB_PREFIX_<n>):
the whole search (load the facts, rank, reasons) against a raw-cursor SELECT of the rows it
needs (the facility rows with their rules and availability clock, and their rooms), in the same
run, wall time and CPU time (the process's; on PostgreSQL the server's CPU is not counted).
The first search after the data is written fills the facts cache: it is reported apart (cold),
the rest are what a network's searches cost between two changes to its directory (warm).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (50, 500, 5000)
RUNS = 30
# PostgreSQL: one database per size, dropped and made again by each run. Its name's prefix can
# be set so that two people on one server do not drop each other's (REFUGE_BENCH_DB_PREFIX).
DB_PREFIX = os.environ.get("REFUGE_BENCH_DB_PREFIX", "refuge_bench_rank")


def p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))]


def setup(n: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "refuge.settings")
    os.environ["REFUGE_MODE"] = "demo"
    os.environ["REFUGE_HOME"] = tempfile.mkdtemp(prefix=f"refuge-bench-rank-{n}-")
    if os.environ.get("DATABASE_URL"):
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        os.environ["DATABASE_URL"] = f"{base}/{DB_PREFIX}_{n}"
    import django

    django.setup()


LANGUAGES = ("ru", "ky", "uk", "en", "cs", "uz", "tg", "kk", "az", "hy")


def rule_set(rng: random.Random) -> dict:
    return {
        "women_only": rng.choice([True, True, True, False]),
        "min_age": rng.choice([None, None, 16, 18]),
        "children_accepted": rng.choice([True, True, False, None]),
        "max_children": rng.choice([None, 1, 2, 3, 4, 5, 6]),
        "boys_max_age": rng.choice([None, 10, 12, 14, 16, 18]),
        "girls_max_age": rng.choice([None, 16, 18]),
        "pets_accepted": rng.choice([True, False, None]),
        "wheelchair_accessible": rng.choice([True, False, None]),
        "substance_use_accepted": rng.choice([True, False, None]),
        "mental_health_accepted": rng.choice([True, False, None]),
        "requires_passport": rng.choice([True, False, None]),
        "requires_residence_permit": rng.choice([True, False, None]),
        "requires_local_registration": rng.choice([False, False, True, None]),
        "foreign_citizens_accepted": rng.choice([True, True, False, None]),
        "staff_languages": sorted(rng.sample(LANGUAGES, rng.randint(1, 4))),
        "max_stay_days": rng.choice([None, 14, 30, 60, 90, 180, 365]),
        "cost": rng.choice(["", "free", "paid"]),
    }


def build(n: int) -> None:
    from django.utils import timezone

    from refuge.core.models import Organisation
    from refuge.directory.models import (
        ACCOMMODATION_KINDS,
        Facility,
        FacilityService,
        HouseRules,
        Region,
        ServiceKind,
    )
    from refuge.vacancies.models import FacilityAvailability, Room

    rng = random.Random(5)
    regions = list(
        Region.objects.filter(country__in=["RU", "KG", "CZ"]).values_list(
            "code", "latitude", "longitude"
        )
    )
    orgs = Organisation.objects.bulk_create(
        [
            Organisation(slug=f"bench-{i}", name=f"Bench {i}", kind="shelter")
            for i in range(max(1, n // 10))
        ]
    )
    kinds = sorted(ACCOMMODATION_KINDS)
    facilities = []
    for i in range(n):
        code, lat, lon = rng.choice(regions)
        facilities.append(
            Facility(
                organisation=rng.choice(orgs),
                name=f"F{i}",
                kind=rng.choice(kinds),
                region_id=code,
                address_visibility=rng.choice(["public", "professionals", "confidential"]),
                latitude=round(lat + rng.uniform(-1, 1), 5),
                longitude=round(lon + rng.uniform(-1, 1), 5),
                locality=f"Town {i % 97}",
            )
        )
    Facility.objects.bulk_create(facilities, batch_size=500)
    seen: set[str] = set()
    rules = []
    for f in facilities:
        while True:  # every facility its own rules, as in a real network
            r = rule_set(rng)
            key = json.dumps(r, sort_keys=True)
            if key not in seen:
                seen.add(key)
                break
        rules.append(HouseRules(facility=f, **r))
    HouseRules.objects.bulk_create(rules, batch_size=500)
    services = list(ServiceKind.values)
    FacilityService.objects.bulk_create(
        [
            FacilityService(facility=f, kind=k)
            for f in facilities
            for k in rng.sample(services, rng.randint(0, 4))
        ],
        batch_size=1000,
    )
    now = timezone.now()
    FacilityAvailability.objects.bulk_create(
        [
            FacilityAvailability(
                facility=f,
                source="reported",
                reported_at=None if rng.random() < 0.1 else now,
                reported_by="bench",
            )
            for f in facilities
        ],
        batch_size=1000,
    )
    rooms = []
    for f in facilities:
        for j in range(rng.randint(1, 20)):
            kind = rng.choice(["family", "family", "dorm"])
            beds = rng.randint(2, 6) if kind == "family" else rng.randint(2, 12)
            free = rng.choice([0, beds, 0 if kind == "family" else beds // 2])
            rooms.append(
                Room(facility=f, name=f"R{j}", kind=kind, beds=beds, reported_free_beds=free)
            )
    Room.objects.bulk_create(rooms, batch_size=2000)


BASELINE_SQL = """
SELECT f.*, r.*, a.* FROM directory_facility f
LEFT JOIN directory_houserules r ON r.facility_id = f.id
LEFT JOIN vacancies_facilityavailability a ON a.facility_id = f.id
WHERE f.is_active AND f.kind IN ({kinds}) ORDER BY f.id
"""
ROOMS_SQL = "SELECT * FROM vacancies_room WHERE in_service"
# The facility rows alone (the SPEC's "plain SELECT of the same facility rows"), for comparison.
FACILITY_SQL = """
SELECT f.* FROM directory_facility f WHERE f.is_active AND f.kind IN ({kinds}) ORDER BY f.id
"""


def measure(n: int) -> dict:
    """One size, in this process: the figures as a dict (printed as JSON by the child)."""
    setup(n)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import translation

    call_command("migrate", verbosity=0)
    from refuge.core.access import Principal
    from refuge.directory.models import ACCOMMODATION_KINDS, Facility
    from refuge.referrals import api, search

    if not Facility.objects.filter(name="F0").exists():
        build(n)
    p = Principal(name="bench", role="operator", organisation=None)
    translation.activate("ru")
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
    kinds = ", ".join(f"'{k}'" for k in sorted(ACCOMMODATION_KINDS))
    baseline_sql = BASELINE_SQL.format(kinds=kinds)

    def baseline() -> int:
        with connection.cursor() as cursor:
            cursor.execute(baseline_sql)
            rows = cursor.fetchall()
            cursor.execute(ROOMS_SQL)
            rooms = cursor.fetchall()
        return len(rows) + len(rooms)

    facility_sql = FACILITY_SQL.format(kinds=kinds)

    def facility_rows() -> int:
        with connection.cursor() as cursor:
            cursor.execute(facility_sql)
            return len(cursor.fetchall())

    t, c = time.perf_counter(), time.process_time()
    result = search.search(p, request)
    cold = (time.perf_counter() - t, time.process_time() - c)
    base_wall, base_cpu, wall, cpu, fac_wall = [], [], [], [], []
    for _ in range(RUNS):
        t, c = time.perf_counter(), time.process_time()
        rows = baseline()
        base_wall.append(time.perf_counter() - t)
        base_cpu.append(time.process_time() - c)
        t = time.perf_counter()
        facility_rows()
        fac_wall.append(time.perf_counter() - t)
        t, c = time.perf_counter(), time.process_time()
        result = search.search(p, request)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    # A network's day: a report lands between two searches. Each search then reads again the
    # rooms of the one facility that reported (the report itself is not timed).
    from django.utils import timezone

    from refuge.vacancies.models import FacilityAvailability, Room

    rooms = list(Room.objects.values_list("pk", "facility_id", "beds"))
    rng = random.Random(9)
    rep_wall, rep_cpu = [], []
    for _ in range(RUNS):
        pk, facility_id, beds = rng.choice(rooms)
        Room.objects.filter(pk=pk).update(reported_free_beds=rng.choice([0, beds]))
        FacilityAvailability.objects.filter(facility_id=facility_id).update(
            reported_at=timezone.now()
        )
        t, c = time.perf_counter(), time.process_time()
        search.search(p, request)
        rep_wall.append(time.perf_counter() - t)
        rep_cpu.append(time.process_time() - c)
    body = json.dumps(api.search_response(result), ensure_ascii=False).encode()
    return {
        "n": n,
        "vendor": connection.vendor,
        "facilities": len(result.ranking.results) + len(result.ranking.excluded),
        "results": len(result.ranking.results),
        "excluded": len(result.ranking.excluded),
        "baseline_rows": rows,
        "cold_wall": cold[0],
        "cold_cpu": cold[1],
        "base_wall": base_wall,
        "base_cpu": base_cpu,
        "wall": wall,
        "cpu": cpu,
        "rep_wall": rep_wall,
        "fac_wall": fac_wall,
        "rep_cpu": rep_cpu,
        "bytes": len(body),
        "gzip_bytes": len(gzip.compress(body, 6)),
    }


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _report import result as report

    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    figures = {}
    if os.environ.get("DATABASE_URL"):  # a fresh PostgreSQL database per size
        import psycopg

        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as pg:
            for n in sizes:
                pg.execute(f"DROP DATABASE IF EXISTS {DB_PREFIX}_{n}")
                pg.execute(f"CREATE DATABASE {DB_PREFIX}_{n}")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures[n] = json.loads(out.strip().splitlines()[-1])
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {os.cpu_count()} cores")
    head = (
        "| facilities | search wall p50 / p95 ms | search CPU p50 / p95 ms "
        "| raw SELECT wall p50 / p95 ms | raw SELECT CPU p50 ms | p95 ratio (wall) "
        "| first search (cache cold) wall / CPU ms | response / gzip KB |"
    )
    print(head)
    print("|" + "---|" * 8)
    for f in figures.values():
        print(
            f"| {f['facilities']:,} | {ms(statistics.median(f['wall']))} / {ms(p95(f['wall']))} "
            f"| {ms(statistics.median(f['cpu']))} / {ms(p95(f['cpu']))} "
            f"| {ms(statistics.median(f['base_wall']))} / {ms(p95(f['base_wall']))} "
            f"| {ms(statistics.median(f['base_cpu']))} "
            f"| {p95(f['wall']) / p95(f['base_wall']):.2f} "
            f"| {ms(f['cold_wall'])} / {ms(f['cold_cpu'])} "
            f"| {f['bytes'] / 1024:.0f} / {f['gzip_bytes'] / 1024:.0f} |"
        )
    print()
    print("| facilities | raw SELECT of the facility rows alone: wall p50 / p95 ms | p95 ratio |")
    print("|---|---|---|")
    for f in figures.values():
        print(
            f"| {f['facilities']:,} | {ms(statistics.median(f['fac_wall']))} / "
            f"{ms(p95(f['fac_wall']))} | {p95(f['wall']) / p95(f['fac_wall']):.2f} |"
        )
    print()
    print("| facilities | a report before each search: wall p50 / p95 ms | CPU p50 / p95 ms |")
    print("|---|---|---|")
    for f in figures.values():
        print(
            f"| {f['facilities']:,} | {ms(statistics.median(f['rep_wall']))} / "
            f"{ms(p95(f['rep_wall']))} | {ms(statistics.median(f['rep_cpu']))} / "
            f"{ms(p95(f['rep_cpu']))} |"
        )
    ns = sorted(figures)
    for lo_n, hi_n in zip(ns, ns[1:], strict=False):
        lo, hi = figures[lo_n], figures[hi_n]
        print(
            f"growth ×{hi_n // lo_n} ({lo_n:,} → {hi_n:,} facilities): search CPU p50 "
            f"×{statistics.median(hi['cpu']) / statistics.median(lo['cpu']):.1f}, wall p50 "
            f"×{statistics.median(hi['wall']) / statistics.median(lo['wall']):.1f}; raw SELECT "
            f"wall p50 ×{statistics.median(hi['base_wall']) / statistics.median(lo['base_wall']):.1f}"
        )
    if len(ns) > 2:
        lo, hi = figures[ns[0]], figures[ns[-1]]
        print(
            f"growth ×{ns[-1] // ns[0]}: search CPU p50 "
            f"×{statistics.median(hi['cpu']) / statistics.median(lo['cpu']):.1f}, raw SELECT wall "
            f"p50 ×{statistics.median(hi['base_wall']) / statistics.median(lo['base_wall']):.1f}"
        )
    big = figures[max(ns)]
    ratio = p95(big["wall"]) / p95(big["base_wall"])
    cpu50 = statistics.median(big["cpu"])
    print(f"database {big['vendor']}; rows in the raw SELECT at {big['n']}: {big['baseline_rows']}")
    print(f"results {big['results']}, excluded {big['excluded']}")
    report(
        target=f"Ranking one household over {big['n']:,} facilities: p95 within 2× a raw SELECT "
        "of the same rows; under 100 ms CPU",
        measured=f"p95 {ms(p95(big['wall']))} ms = {ratio:.2f}× the raw SELECT's "
        f"{ms(p95(big['base_wall']))} ms (facility, rule, availability and room rows; "
        f"{p95(big['wall']) / p95(big['fac_wall']):.2f}× the facility rows alone); CPU p50 "
        f"{ms(cpu50)} ms, p95 {ms(p95(big['cpu']))} ms; every facility its own rules; "
        f"{big['vendor']}",
        met=ratio <= 2 and cpu50 < 0.1,
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main()
