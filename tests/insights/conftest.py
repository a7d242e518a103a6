"""A small network made through the services: org b runs shelters in Vladimir and Yaroslavl
(availability from stays), org a is the hub whose operators refer and take calls."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from refuge.cases import services as cases
from refuge.cases.models import Client, Stay
from refuge.hotline import services as hotline
from refuge.hotline.services import WrapUpData
from refuge.insights.periods import completed_quarters
from refuge.vacancies.services import availability_settings_update
from tests.directory.factories import make_facility


@pytest.fixture
def network(orgs):
    def system(f):
        availability_settings_update(by=None, facility=f, source="system", ttl_hours=24)
        return f

    return {
        "vla": system(
            make_facility(
                orgs["b"],
                "Vladimir refuge",
                region="RU-VLA",
                rooms=[("family", 4), ("dorm", 4), ("family", 3)],
            )  # fmt: skip
        ),
        "yar": system(
            make_facility(orgs["b"], "Yaroslavl refuge", region="RU-YAR", rooms=[("family", 5)])
        ),
    }


@pytest.fixture
def quarter():
    """The last completed quarter: analysts' and exports' period."""
    return completed_quarters()[0]


def in_quarter(quarter, day: int = 10, hour: int = 12) -> datetime:
    tz = timezone.get_default_timezone()
    d = quarter.start + timedelta(days=day)
    return datetime(d.year, d.month, d.day, hour, tzinfo=tz)


def call(persona, at: datetime, region: str = "RU-MOW", contact: str = "victim", needs=None):
    return hotline.call_manual_create(
        by=persona.principal,
        started_at=at,
        talk_minutes=5,
        region=region,
        wrapup=WrapUpData(contact, outcomes=frozenset({"information"}), needs=dict(needs or {})),
    )


def woman(
    persona,
    *,
    region: str = "RU-MOW",
    consent: bool = True,
    phone: str = "",
    created: datetime | None = None,
    age_band: str = "25-34",
    children: int = 0,
) -> Client:
    p = persona.principal
    c = cases.client_create(by=p, name="Test", phone=phone, age_band=age_band)
    cases.client_update(by=p, client=c, residence_region=region)
    for _i in range(children):
        cases.household_member_add(by=p, client=c, age=5, sex="female")
    if consent:
        cases.consent_record(by=p, client=c, scope="reporting", days=365)
    if created is not None:
        # Test set-up only: the service stamps "now"; the figures need other times.
        Client.objects.filter(pk=c.pk).update(created_at=created)
    c.refresh_from_db()
    return c


def stay(persona, client, facility, *, admitted: datetime, discharged: datetime | None = None,
         outcome: str = "independent_housing") -> Stay:  # fmt: skip
    room = facility.rooms.order_by("pk").filter(kind="family").first()
    s = cases.stay_admit(by=persona.principal, client=client, room_id=room.pk, at=admitted)
    if discharged is not None:
        cases.stay_discharge(by=persona.principal, stay=s, outcome=outcome)
        Stay.objects.filter(pk=s.pk).update(discharged_at=discharged)  # back-dated for the test
        s.refresh_from_db()
    return s


def now() -> datetime:
    return timezone.now()
