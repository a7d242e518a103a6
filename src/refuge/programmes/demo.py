"""Demo: a 30-week programme at Ekaterina with one group eleven sessions in; partners supported
by Kitezh. Names are invented for the demo."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from refuge.core.models import Organisation, User
from refuge.programmes import services
from refuge.programmes.models import Programme

# Their partners' names are their own, never derived from his (the victim side does not need his
# name, and the leak scan checks that it never sees it).
PARTNERS = ["Alla", "Galina", "Inna", "Larisa", "Nina", "Polina", "Rimma", "Zoya"]
MEN = [
    "Andrei S.",
    "Dmitri K.",
    "Oleg P.",
    "Pavel N.",
    "Roman V.",
    "Sergei M.",
    "Viktor L.",
    "Yuri T.",
]


def load(stdout) -> None:
    if (
        Programme.objects.exists()
        or not Organisation.objects.filter(slug="ekaterina-dvpp").exists()
    ):
        return
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    org = Organisation.objects.get(slug="ekaterina-dvpp")
    support_org = Organisation.objects.get(slug="kitezh")
    facilitator = User.objects.get(username="facilitator")
    prog = services.programme_create(
        by=None,
        organisation=org,
        name="Ekaterina DVPP (30 weeks)",
        partner_support_org=support_org,
        accreditation="Respect standard (UK), adapted",
    )
    start = timezone.localdate() - timedelta(weeks=11)
    group = services.group_create(
        by=None,
        programme=prog,
        name="Tuesday evening group",
        start_date=start,
        facilitators=[facilitator],
    )
    sources = ["court", "court", "probation", "police", "self"]
    men = [
        services.participant_enrol(
            by=None,
            group=group,
            name=name,
            referral_source=rng.choice(sources),
            partner_name=partner,
            partner_contact="via the clinic, weekdays",
            joined_on=start,
        )
        for name, partner in zip(MEN, PARTNERS, strict=True)
    ]
    for n in range(1, 12):
        session = services.session_record(
            by=None, group=group, number=n, held_on=start + timedelta(weeks=n - 1)
        )
        for man in men:
            mark = rng.choices(["present", "absent", "excused"], weights=[85, 9, 6])[0]
            services.attendance_mark(by=None, session=session, participant=man, mark=mark)
    from refuge.programmes.models import OutcomeResponse, PartnerSupport

    for i, man in enumerate(men):
        PartnerSupport.objects.filter(participant=man).update(
            status=["made", "made", "offered", "made", "declined", "made", "offered", "made"][i]
        )
        OutcomeResponse.objects.create(
            participant=man,
            respondent="partner",
            phase="before",
            survey="partner-outcomes@1",
            answers={
                "injured_3m": rng.choice(["yes", "yes", "no"]),
                "feels_very_safe": "no",
                "afraid_often": "yes",
                "children_exposed": rng.choice(["yes", "no"]),
            },
            recorded_by="demo",
        )
        OutcomeResponse.objects.create(
            participant=man,
            respondent="participant",
            phase="before",
            survey="participant-outcomes@1",
            answers={
                "physical_3m": "yes",
                "controlling": "yes",
                "responsibility": rng.choice(["no", "no", "yes"]),
            },
            recorded_by="demo",
        )
    stdout.write("Demo programme: 1 group, 8 participants, 11 sessions.")
