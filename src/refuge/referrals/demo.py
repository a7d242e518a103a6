"""A year of placement history for the demo network: referrals (most accepted, some declined or
withdrawn), arrivals into stays, discharges with outcomes, and turn-aways, made through the same
services as the app and then dated back over the last year, so the dashboards show something
real. Households are invented."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from refuge.cases.models import Client, Stay
from refuge.cases.services import client_create, household_member_add, stay_discharge
from refuge.core.access import Principal
from refuge.core.models import Organisation
from refuge.core.services import ServiceError
from refuge.directory.models import Facility
from refuge.vacancies.models import Room

from . import search, services
from .models import Referral, ReferralTarget, TurnAway

HOUSEHOLDS = 160
REGIONS = [
    "RU-MOW",
    "RU-MOS",
    "RU-VLA",
    "RU-YAR",
    "RU-TVE",
    "RU-TUL",
    "RU-KLU",
    "RU-RYA",
    "RU-IVA",
    "RU-KOS",
]


def _staff(org: Organisation, role: str) -> Principal:
    return Principal(name=f"demo-{org.slug}", role=role, organisation=org)


def load(stdout) -> None:
    if (
        Referral.objects.exists()
        or not Organisation.objects.filter(slug="coalition-hotline").exists()
    ):
        return
    rng = random.Random(23)  # noqa: S311 - demo data
    hotline = _staff(Organisation.objects.get(slug="coalition-hotline"), "operator")
    with_rooms = list(
        Facility.objects.filter(
            pk__in=Room.objects.values("facility_id"),
            is_active=True,
            compromised_since__isnull=True,
        )
        .annotate(n=Count("rooms"))
        .select_related("organisation", "region")
    )
    ru = [f for f in with_rooms if f.region_id and f.region_id.startswith("RU")]
    if not ru:
        return
    now = timezone.now()
    made = arrived = turned = 0
    for i in range(HOUSEHOLDS):
        when = now - timedelta(days=rng.uniform(3, 360))
        home = rng.choice(REGIONS)
        kids = [
            {"age": rng.randint(0, 16), "sex": rng.choice(["male", "female"])}
            for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 2, 3]))
        ]
        household = {
            "woman_age": rng.randint(19, 58),
            "children": kids,
            "home_region": home,
            "avoid_regions": [home] if rng.random() < 0.5 else [],
            "min_distance_km": 0,
            "pets": int(rng.random() < 0.1),
        }
        client = client_create(
            by=hotline, name=f"Woman {i + 1:03d}", age_band=rng.choice(["18-24", "25-34", "35-44"])
        )
        for kid in kids:
            household_member_add(by=hotline, client=client, age=kid["age"], sex=kid["sex"])
        Client.objects.filter(pk=client.pk).update(
            residence_region=home, reporting_consent=rng.random() < 0.8
        )
        try:
            found = search.search(hotline, search.household_from(household))
        except ServiceError:
            continue
        fits = [r.facility_id for r in found.ranking.results if r.availability != "unknown"][:2]
        if not fits or rng.random() < 0.08:
            reasons = ["no_place_anywhere"] if not fits else ["declined_by_her"]
            row = services.turn_away_record(by=hotline, household=household, reasons=reasons)
            TurnAway.objects.filter(pk=row.pk).update(at=when)
            turned += 1
            continue
        try:
            ref = services.referral_create(
                by=hotline, client=client, household=household, facility_ids=fits
            )
        except ServiceError:
            continue
        made += 1
        Referral.objects.filter(pk=ref.pk).update(created_at=when)
        target = ref.targets.select_related("facility__organisation").first()
        staff = _staff(target.facility.organisation, "caseworker")
        roll = rng.random()
        try:
            if roll < 0.1:
                services.referral_decline(
                    by=staff, referral=ref, facility=target.facility, reason="no_place"
                )
                ReferralTarget.objects.filter(pk=target.pk).update(
                    decided_at=when + timedelta(minutes=40)
                )
                continue
            if roll < 0.15:
                services.referral_withdraw(by=hotline, referral=ref)
                continue
            services.referral_accept(by=staff, referral=ref, facility=target.facility)
            ReferralTarget.objects.filter(referral=ref).update(
                decided_at=when + timedelta(minutes=rng.randint(10, 180))
            )
            stay = services.referral_arrive(by=staff, referral=ref)
        except ServiceError:
            continue
        arrived += 1
        admitted = when + timedelta(hours=rng.randint(3, 30))
        Stay.objects.filter(pk=stay.pk).update(admitted_at=admitted)
        days = rng.choice([5, 9, 10, 14, 14, 21, 30, 30, 45, 60, 120])
        if admitted + timedelta(days=days) < now:
            stay.refresh_from_db()
            stay_discharge(
                by=staff,
                stay=stay,
                outcome=rng.choices(
                    [
                        "independent_housing",
                        "relatives",
                        "returned_to_abuser",
                        "moved_to_another_shelter",
                        "state_housing",
                        "other",
                    ],
                    weights=[30, 25, 12, 10, 13, 10],
                )[0],
            )
            Stay.objects.filter(pk=stay.pk).update(discharged_at=admitted + timedelta(days=days))
    stdout.write(
        f"Demo placements: {made} referrals, {arrived} arrivals, {turned} turn-aways over a year."
    )
