"""Issue 15: one figure of free places, reconciled with the stays and holds Refuge records.

A hand report is applied what Refuge recorded since it (holds and admissions take places,
discharges give them back) and never shows more than the beds not taken now; a facility without
rooms is unknown, never a place; the referral says per shelter why no place is held, and the
receiving staff can put the figures right and accept on the referral page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refuge.cases.services import client_create, household_member_add, stay_admit, stay_discharge
from refuge.core.services import ServiceError
from refuge.directory.models import Facility
from refuge.referrals import search, services
from refuge.referrals.models import ReferralTarget
from refuge.vacancies.availability import NO_ROOMS, REPORTED, UNKNOWN
from refuge.vacancies.facts import load_facts
from refuge.vacancies.free import free_places
from refuge.vacancies.models import FacilityAvailability, Room
from refuge.vacancies.templatetags.vacancies import figure_parts
from tests.directory.factories import make_facility

ALONE = {"woman_age": 30}
WITH_CHILD = {"woman_age": 30, "children": [{"age": 4, "sex": "female"}]}


def _rooms(facility):
    return list(Room.objects.filter(facility=facility).order_by("name"))


def _board(facility, p):
    return load_facts(Facility.objects.filter(pk=facility.pk), at=timezone.now(), viewer=p)[
        0
    ].availability


def _resident(personas, *, children=0):
    cw = personas["caseworker_b"].principal
    client = client_create(by=cw, name="Resident", age_band="25-34")
    for i in range(children):
        household_member_add(by=cw, client=client, relation="child", age=3 + i, sex="female")
    return client


def _search_says(p, facility, household):
    """(in the results, excluded reason codes) for this facility."""
    result = search.search(
        p, search.household_from(household), facilities=Facility.objects.filter(pk=facility.pk)
    )
    if any(r.facility_id == str(facility.pk) for r in result.ranking.results):
        return True, ()
    return False, tuple(r.code for e in result.ranking.excluded for r in e.reasons)


def test_an_admission_since_the_report_takes_its_place_everywhere(orgs, personas):
    """Sezim: "4 beds free of 4" on the board while its family room was occupied."""
    cw, op = personas["caseworker_b"].principal, personas["operator_a"].principal
    f = make_facility(orgs["b"], "Sezim", rooms=[("family", 4)], free=[4])
    (family,) = _rooms(f)
    assert _board(f, op).free_beds == 4
    stay_admit(by=cw, client=_resident(personas, children=1), room_id=family.pk)
    a = _board(f, op)
    assert (a.status, a.free_beds, a.reported_free) == (REPORTED, 0, 4)
    assert a.since == (("stays", 1, 0),)
    assert figure_parts(a).startswith("reported 4 free at ")
    assert "1 admitted since" in figure_parts(a)
    places = free_places([f.pk], timezone.now())[str(f.pk)]
    assert places.rooms == {family.pk: 0} and places.availability.free_beds == 0
    assert _search_says(op, f, WITH_CHILD) == (False, ("no_capacity",))


def test_a_stay_recorded_before_the_report_caps_it(orgs, personas):
    cw, op = personas["caseworker_b"].principal, personas["operator_a"].principal
    f = make_facility(orgs["b"], "Sezim", rooms=[("family", 4), ("dorm", 3)])
    family, dorm = _rooms(f)
    stay_admit(by=cw, client=_resident(personas), room_id=dorm.pk)
    stay_admit(by=cw, client=_resident(personas, children=1), room_id=family.pk)
    from refuge.vacancies.services import availability_report

    availability_report(by=cw, facility=f, free_beds={family.pk: 4, dorm.pk: 3})
    a = _board(f, op)
    # The report gave 7; Refuge records a household in the family room and a woman in the
    # shared room: 2 beds free, never 7.
    assert (a.free_beds, a.reported_free, a.capped, a.since) == (2, 7, 5, ())
    assert "5 more beds taken by stays or holds recorded in Refuge" in figure_parts(a)


def test_holds_placed_since_the_report_take_places_and_lapsed_ones_give_them_back(orgs, personas):
    """The young mothers' shelter showed 3 free with 2 holds on it."""
    op = personas["operator_a"].principal
    f = make_facility(orgs["b"], "Young mothers", rooms=[("dorm", 3)], free=[3])
    referrals = [
        services.referral_create(
            by=op, client=client_create(by=op), household=ALONE, facility_ids=[f.pk]
        )
        for _ in range(2)
    ]
    a = _board(f, op)
    assert (a.free_beds, a.since) == (1, (("holds", 2, 0),))
    assert "2 places held since" in figure_parts(a)
    ReferralTarget.objects.filter(referral=referrals[0]).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert _board(f, op).free_beds == 2


def test_a_discharge_since_the_report_gives_the_place_back(orgs, personas):
    cw, op = personas["caseworker_b"].principal, personas["operator_a"].principal
    f = make_facility(orgs["b"], rooms=[("dorm", 3)])
    (dorm,) = _rooms(f)
    stays = [stay_admit(by=cw, client=_resident(personas), room_id=dorm.pk) for _ in range(2)]
    from refuge.vacancies.services import availability_report

    availability_report(by=cw, facility=f, free_beds={dorm.pk: 1})
    assert _board(f, op).free_beds == 1
    stay_discharge(by=cw, stay=stays[0], outcome="relatives")
    a = _board(f, op)
    assert (a.free_beds, a.since) == (2, (("stays", 0, 1),))
    assert "1 discharged since" in figure_parts(a)
    with pytest.raises(ServiceError, match="already ended"):
        stay_discharge(by=cw, stay=stays[0], outcome="relatives")


def test_a_facility_without_rooms_is_unknown_and_never_holds_a_place(orgs, personas):
    op = personas["operator_a"].principal
    f = make_facility(orgs["b"], "Not set up")
    a = _board(f, op)
    assert (a.status, a.unknown_reason, a.free_beds) == (UNKNOWN, NO_ROOMS, None)
    referral = services.referral_create(
        by=op, client=client_create(by=op), household=ALONE, facility_ids=[f.pk]
    )
    target = referral.targets.get()
    assert (target.status, target.hold_active, target.no_hold_reason) == (
        "pending",
        False,
        "no_rooms",
    )
    with pytest.raises(ServiceError, match="rooms are not set up") as exc:
        services.referral_accept(
            by=personas["caseworker_b"].principal, referral=referral, facility=f
        )
    assert exc.value.code == "no_place"


def test_a_system_facility_without_rooms_is_not_a_confirmed_zero(orgs, personas):
    from tests.referrals.conftest import system

    f = system(make_facility(orgs["b"], "Not set up"))
    a = _board(f, personas["operator_a"].principal)
    assert (a.status, a.unknown_reason) == (UNKNOWN, NO_ROOMS)


def test_a_stale_report_holds_nothing_and_the_receiver_puts_it_right_on_the_referral(
    orgs, personas, as_persona
):
    op = personas["operator_a"].principal
    f = make_facility(orgs["b"], "Stale", rooms=[("dorm", 2), ("family", 3)], free=[2, 3])
    dorm, family = _rooms(f)
    FacilityAvailability.objects.filter(facility=f).update(
        reported_at=timezone.now() - timedelta(days=3)
    )
    referral = services.referral_create(
        by=op, client=client_create(by=op), household=ALONE, facility_ids=[f.pk]
    )
    target = referral.targets.get()
    assert (target.hold_active, target.no_hold_reason) == (False, "unknown")
    # The sender sees why no place is held.
    sender = as_persona("operator_a")
    page = sender.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "No place held: its free places are not known" in page
    # The receiver sees why, and a report form prefilled with the figures it last gave.
    receiver = as_persona("caseworker_b")
    page = receiver.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert "Save the figures and accept" in page
    with pytest.raises(ServiceError, match="not known now"):
        services.referral_accept(
            by=personas["caseworker_b"].principal, referral=referral, facility=f
        )
    response = receiver.post(
        reverse("referrals:act", args=[referral.pk, "put_right"]),
        {"facility": str(f.pk), f"room_{dorm.pk}": "1", f"room_{family.pk}": "0"},
        follow=True,
    )
    assert "The figures are saved and the referral is accepted." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "accepted"
    accepted = referral.targets.get()
    assert (accepted.hold_room_id, accepted.hold_active) == (dorm.pk, True)
    assert _board(f, op).free_beds == 0  # the one bed reported free is hers now


def test_put_right_refuses_a_facility_that_was_not_asked(orgs, personas, as_persona):
    op = personas["operator_a"].principal
    asked = make_facility(orgs["b"], "Asked", rooms=[("dorm", 2)])  # never reported
    other = make_facility(orgs["b"], "Other", rooms=[("dorm", 2)], free=[0])
    (room,) = _rooms(other)
    referral = services.referral_create(
        by=op, client=client_create(by=op), household=ALONE, facility_ids=[asked.pk]
    )
    response = as_persona("caseworker_b").post(
        reverse("referrals:act", args=[referral.pk, "put_right"]),
        {"facility": str(other.pk), f"room_{room.pk}": "2"},
        follow=True,
    )
    assert "was not asked in this referral" in response.content.decode()
    assert Room.objects.get(pk=room.pk).reported_free_beds == 0


def test_the_report_form_starts_from_the_figures_shown_now(orgs, personas, as_persona):
    """Saving it unchanged must not bring back a bed an admission since the report took."""
    cw = personas["caseworker_b"].principal
    f = make_facility(orgs["b"], rooms=[("dorm", 3)], free=[3])
    (dorm,) = _rooms(f)
    stay_admit(by=cw, client=_resident(personas), room_id=dorm.pk)
    page = as_persona("manager_b").get(reverse("vacancies:facility", args=[f.pk])).content.decode()
    assert f'name="room_{dorm.pk}" value="2"' in page
    assert "1 admitted since" in page


def test_the_sent_message_says_where_a_place_is_held(orgs, personas, as_persona):
    held = make_facility(orgs["b"], "Free", rooms=[("dorm", 2)], free=[2], region="RU-YAR")
    unset = make_facility(orgs["b"], "Unset", region="RU-YAR")
    op = as_persona("operator_a")
    case = client_create(by=personas["operator_a"].principal)
    response = op.post(
        reverse("referrals:send"),
        {
            "woman_age": "30",
            "case": case.case_code,
            "facility": [str(held.pk), str(unset.pk)],
            "hold_minutes": "60",
            "form_token": "t-1",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "a place is held at 1 of them" in page
    assert "No place held: its rooms are not set up in Refuge." in page


def test_the_occupancy_sources_read_a_list_of_ids_and_a_queryset_alike(orgs, personas):
    """Each source's own statement takes the facilities as ids or as a subquery (placement
    search passes its selection unevaluated); both give the same rooms and counts."""
    from refuge.cases.occupancy import stays_occupancy
    from refuge.referrals.hooks import holds_occupancy
    from refuge.vacancies.services import availability_report

    cw, op = personas["caseworker_b"].principal, personas["operator_a"].principal
    f = make_facility(orgs["b"], "Mixed", rooms=[("dorm", 4), ("family", 3)], free=[4, 3])
    other = make_facility(orgs["b"], "Other", rooms=[("dorm", 2)], free=[2])
    dorm, family = _rooms(f)
    stays = [stay_admit(by=cw, client=_resident(personas), room_id=dorm.pk) for _ in range(2)]
    availability_report(by=cw, facility=f, free_beds={dorm.pk: 2, family.pk: 3})
    stay_admit(by=cw, client=_resident(personas), room_id=dorm.pk)
    stay_discharge(by=cw, stay=stays[0], outcome="relatives")
    services.referral_create(
        by=op, client=client_create(by=op), household=ALONE, facility_ids=[f.pk, other.pk]
    )
    at = timezone.now()
    ids = [f.pk, other.pk]
    qs = Facility.objects.filter(pk__in=ids).values_list("pk", flat=True)
    for source in (stays_occupancy, holds_occupancy):
        assert source(ids, at) == source(qs, at) and source(ids, at)
        assert source([], at) == {} == source(Facility.objects.none().values_list("pk"), at)
    assert stays_occupancy(ids, at)[dorm.pk] == (2, 1, 1)  # now, admitted since, freed since
