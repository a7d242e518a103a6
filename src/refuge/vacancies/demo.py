"""Demo rooms and hand-reported availability for the invented demo facilities only.

The real Kyrgyz centres get no invented rooms: their availability stays unknown until they
report it themselves. Deterministic; a facility that has rooms already is left alone.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from refuge.directory.demo import FACILITIES, demo_facility_id
from refuge.directory.models import Facility

from . import services
from .models import FacilityAvailability, Room

SEED = 20240312
# Hours since the last report, per facility in order: some fresh, some stale (unknown).
REPORT_AGES = [1, 3, 0, 30, 6, 2, 50, 0, 4, 12, 1, 2]


def load(stdout) -> None:
    rng = random.Random(SEED)  # noqa: S311 (demo data, not security)
    made = 0
    now = timezone.now()
    with transaction.atomic():
        with_rooms = [item for item in FACILITIES if item["rooms"]]
        for index, item in enumerate(with_rooms):
            facility = Facility.objects.filter(hsds_id=demo_facility_id(item)).first()
            if facility is None or Room.objects.filter(facility=facility).exists():
                continue
            rooms = []
            number = 0
            for kind, beds, count in item["rooms"]:
                for _ in range(count):
                    number += 1
                    rooms.append(
                        services.room_create(
                            by=None, facility=facility, name=f"Room {number}", kind=kind, beds=beds
                        )
                    )
            free = {}
            for room in rooms:
                if room.kind == "family":
                    free[room.pk] = room.beds if rng.random() < 0.35 else 0
                else:
                    free[room.pk] = rng.randint(0, room.beds)
            services.availability_report(by=None, facility=facility, free_beds=free)
            age = REPORT_AGES[index % len(REPORT_AGES)]
            # Backdate the demo report so the board shows figures of different ages.
            FacilityAvailability.objects.filter(facility=facility).update(
                reported_at=now - timedelta(hours=age, minutes=rng.randint(0, 50)),
                reported_by="demo",
            )
            made += 1
    stdout.write(f"Demo vacancies: rooms and a report for {made} facilities.")
