"""Demo: a 30-week programme at Ekaterina with one group eleven sessions in and one group that
finished (before and after measures); partners supported by Kitezh. Names are invented."""

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
    done = _finished_group(prog, facilitator, rng)
    stdout.write(
        f"Demo programme: a group 11 sessions in (8 participants), and a finished group "
        f"({done} of {len(MEN_EARLIER)} completed, with before and after measures)."
    )


# The group before: 30 weeks, finished two months ago; its partners, again, have their own names.
MEN_EARLIER = [
    "Artyom B.",
    "Boris G.",
    "Denis F.",
    "Igor C.",
    "Kirill S.",
    "Maxim E.",
    "Stepan Z.",
]
PARTNERS_EARLIER = ["Darya", "Elena", "Irina", "Ksenia", "Lyubov", "Marta", "Vera"]
EXITS = {5: "Stopped coming after three missed sessions", 6: "Moved to another region"}


def _finished_group(prog: Programme, facilitator: User, rng: random.Random) -> int:
    from refuge.programmes.models import OutcomeResponse, Participant, PartnerSupport

    start = timezone.localdate() - timedelta(weeks=39)
    group = services.group_create(
        by=None, programme=prog, name="Spring group", start_date=start, facilitators=[facilitator]
    )
    men = [
        services.participant_enrol(
            by=None,
            group=group,
            name=name,
            referral_source=rng.choice(["court", "probation", "probation", "self"]),
            partner_name=partner,
            partner_contact="through her caseworker",
            joined_on=start,
        )
        for name, partner in zip(MEN_EARLIER, PARTNERS_EARLIER, strict=True)
    ]
    last = {i: (12 if i == 5 else 20) for i in EXITS}  # the last session each leaver attended
    for n in range(1, 31):
        session = services.session_record(
            by=None, group=group, number=n, held_on=start + timedelta(weeks=n - 1)
        )
        for i, man in enumerate(men):
            if i in last and n > last[i]:
                if n <= last[i] + 3:
                    services.attendance_mark(
                        by=None, session=session, participant=man, mark="absent"
                    )
                continue
            mark = rng.choices(["present", "excused"], weights=[94, 6])[0]
            services.attendance_mark(by=None, session=session, participant=man, mark=mark)
    ended = start + timedelta(weeks=30)
    for i, man in enumerate(men):
        services.participant_end(by=None, participant=man, completed=i not in EXITS,
                                 reason=EXITS.get(i, ""))  # fmt: skip
    Participant.objects.filter(group=group).update(ended_on=ended)
    PartnerSupport.objects.filter(participant__group=group).update(status="made")
    # Before: as in the other group. After (six weeks after the end, completers only): fewer
    # partners injured or afraid, more who feel very safe; still not everyone.
    for i, man in enumerate(men):
        phases = ["before"] if i in EXITS else ["before", "after"]
        for phase in phases:
            after = phase == "after"
            OutcomeResponse.objects.create(
                participant=man,
                respondent="partner",
                phase=phase,
                survey="partner-outcomes@1",
                answers={
                    "injured_3m": "no" if after and i != 1 else rng.choice(["yes", "yes", "no"]),
                    "feels_very_safe": "yes" if after and i not in (1, 3) else "no",
                    "afraid_often": "no" if after and i != 1 else "yes",
                    "children_exposed": "no" if after else rng.choice(["yes", "no"]),
                },
                recorded_by="demo",
            )
            OutcomeResponse.objects.create(
                participant=man,
                respondent="participant",
                phase=phase,
                survey="participant-outcomes@1",
                answers={
                    "physical_3m": "no" if after else "yes",
                    "controlling": "no" if after and i not in (1, 2) else "yes",
                    "responsibility": "yes"
                    if after and i != 2
                    else rng.choice(["no", "no", "yes"]),
                },
                recorded_by="demo",
            )
    return len(men) - len(EXITS)
