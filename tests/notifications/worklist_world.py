"""A small network with something waiting for nearly every role, made through the services.

Organisation a is the network's hub (coordinators, a hotline, partner agencies, a programme);
organisation b runs shelters. ``build(personas, orgs, n)`` makes ``n`` of every kind of item,
so that tests can compare the queries of one against several.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from django.utils import timezone

from refuge.cases.services import client_create, consent_record
from refuge.hotline import services as hotline
from refuge.hotline.windows import Window
from refuge.meetings import services as meetings
from refuge.programmes import services as programmes
from refuge.referrals import services as referrals
from refuge.referrals.search import household_of
from refuge.vacancies.models import FacilityAvailability
from tests.directory.factories import make_facility
from tests.referrals.conftest import system

ALWAYS = [Window(tuple(range(7)), time(0), time(23, 59))]
HOUSEHOLD = {"woman_age": 34, "children": [{"age": 9, "sex": "male"}, {"age": 5, "sex": "female"}]}
CONFIDENTIAL_ADDRESS = "7 Hidden Lane"
CONFIDENTIAL_LOCALITY = "Secretovo"
SAFE_NUMBER = "+7 916 555-01-02"


@dataclass
class World:
    facilities: dict[str, Any] = field(default_factory=dict)
    referrals: list[Any] = field(default_factory=list)  # a -> b (sent by operator_a)
    referrals_back: list[Any] = field(default_factory=list)  # b -> a (sent by caseworker_b)
    callbacks: dict[str, list[Any]] = field(default_factory=lambda: {"a": [], "b": []})
    concerns: list[Any] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    actions: dict[str, list[Any]] = field(default_factory=lambda: {"a": [], "b": []})
    waitlist: list[Any] = field(default_factory=list)
    clients: list[Any] = field(default_factory=list)


def _stale(facility, hours_old: float) -> None:
    FacilityAvailability.objects.filter(facility=facility).update(
        reported_at=timezone.now() - timedelta(hours=hours_old), confirmed_at=None
    )


def build(personas, orgs, n: int = 1) -> World:
    w = World()
    op_a = personas["operator_a"].principal
    cw_b = personas["caseworker_b"].principal
    # Shelters of b: one counted from its stays (the referrals' target), one reported an hour
    # before its figure decays, one decayed, one with no rooms; and one of a (the hub's own).
    w.facilities["vladimir"] = system(
        make_facility(
            orgs["b"],
            "Vladimir refuge",
            region="RU-VLA",
            rooms=[("family", 4)] * (n + 1) + [("dorm", 6)],
            address=CONFIDENTIAL_ADDRESS,
            locality=CONFIDENTIAL_LOCALITY,
        )
    )
    w.facilities["hub"] = system(
        make_facility(orgs["a"], "Hub house", region="RU-YAR", rooms=[("family", 4)] * (n + 1))
    )
    for i in range(n):
        suffix = "" if i == 0 else f" {i + 1}"
        soon = make_facility(
            orgs["b"], f"Suzdal house{suffix}", region="RU-VLA", rooms=[("family", 3)], free=[3]
        )
        _stale(soon, 23)  # decays in an hour
        w.facilities[f"soon{i}"] = soon
        gone = make_facility(
            orgs["b"], f"Murom house{suffix}", region="RU-VLA", rooms=[("dorm", 4)], free=[2]
        )
        _stale(gone, 30)  # unknown for six hours
        w.facilities[f"gone{i}"] = gone
        w.facilities[f"empty{i}"] = make_facility(
            orgs["b"], f"Empty house{suffix}", region="RU-IVA"
        )

    for _ in range(n):
        client = client_create(by=op_a, name="Olga Secret", phone="+7 900 111 22 33")
        w.clients.append(client)
        w.referrals.append(
            referrals.referral_create(
                by=op_a,
                client=client,
                household=HOUSEHOLD,
                facility_ids=[w.facilities["vladimir"].pk],
            )
        )
        back = client_create(by=cw_b, name="Irina Secret")
        w.referrals_back.append(
            referrals.referral_create(
                by=cw_b,
                client=back,
                household={"woman_age": 29},
                facility_ids=[w.facilities["hub"].pk],
            )
        )
        for key in ("a", "b"):
            w.callbacks[key].append(
                hotline.callback_create(
                    by=personas[f"operator_{key}"].principal,
                    safe_number=SAFE_NUMBER,
                    safe_times=ALWAYS,
                    tz="Europe/Moscow",
                    name_to_ask="Marina Secret",
                    language="ru",
                )
            )
        w.requests.append(
            referrals.partner_request_create(
                by=personas["partner_a"].principal,
                region="RU-MOW",
                household={"woman_age": 41},
                contact="call +7 900 000 00 00 after six",
            )
        )
        waiting = client_create(by=op_a, name="Vera Secret")
        w.waitlist.append(
            referrals.waitlist_add(by=op_a, client=waiting, household=household_of(waiting))
        )

    # A programme of a whose partners b supports: a concern from the group, per participant.
    fac = personas["facilitator_a"].principal
    programme = programmes.programme_create(
        by=fac,
        organisation=orgs["a"],
        name="Tuesday DVPP",
        partner_support_org=orgs["b"],
        accreditation="Respect",
    )
    group = programmes.group_create(
        by=fac,
        programme=programme,
        name="Tuesday group",
        start_date=date(2026, 9, 1),
        facilitators=[personas["facilitator_a"].user],
    )
    for i in range(n):
        participant = programmes.participant_enrol(
            by=fac,
            group=group,
            name=f"Sergei Secret {i}",
            referral_source="court",
            partner_name="Irina Secret",
            partner_contact="+7 900 123 45 67",
        )
        w.concerns.append(
            programmes.risk_concern_raise(
                by=fac, participant=participant, kind="threat", text="He said where she lives"
            )
        )

    # A risk meeting of a's area (a coordinates, a and b take part): actions for each agency.
    coord = personas["coordinator_a"].principal
    area = meetings.area_create(
        by=None, name="North area", coordinator_org=orgs["a"], members=[orgs["a"], orgs["b"]]
    )
    meeting = meetings.meeting_schedule(by=None, area=area, on=date.today())
    cw_a = personas["caseworker_a"].principal
    for _ in range(n):
        case = client_create(by=cw_a, name="Nina Secret")
        consent_record(by=cw_a, client=case, scope="meeting", days=30)
        item = meetings.agenda_propose(
            by=cw_a, meeting=meeting, client=case, summary="Secret summary"
        )
        meetings.agenda_decide(by=coord, item=item, accept=True)
        for key in ("a", "b"):
            w.actions[key].append(
                meetings.action_assign(
                    by=coord,
                    item=item,
                    organisation=orgs[key],
                    description="Secret action",
                    due_on=timezone.localdate() - timedelta(days=1 if key == "a" else 0),
                )
            )
    return w
