"""The dashboard's figures: what is counted, for whom, and how."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from refuge.cases import services as cases
from refuge.core.models import Organisation
from refuge.insights import figures, selectors
from refuge.insights.periods import Period
from refuge.referrals import services as referrals
from refuge.referrals.models import Referral, ReferralTarget
from tests.insights.conftest import call, in_quarter, stay, woman

SINGLE = {"woman_age": 30, "home_region": "RU-MOW"}


def _filters(days: int = 30, region: str = "") -> figures.Filters:
    today = timezone.localdate()
    return figures.Filters(Period(today - timedelta(days=days - 1), today), region)


def _cells(t, row):
    return dict(
        zip([k for k, _l in t.cols], t.shown[[k for k, _l in t.rows].index(row)], strict=True)
    )


def test_calls_are_counted_by_day_by_region_and_by_who_called(personas):
    op = personas["operator_a"]
    today = timezone.localtime().replace(hour=10, minute=0)
    call(op, today - timedelta(days=1), "RU-MOW", "victim")
    call(op, today - timedelta(days=1), "RU-MOW", "professional")
    call(op, today - timedelta(days=3), "RU-TUL", "friend_family")
    d = figures.dashboard(selectors.basis_for(personas["coordinator_a"].principal), _filters(7))
    by_day = d["calls_by_day"]
    yesterday = (today - timedelta(days=1)).date().isoformat()
    assert _cells(by_day, yesterday) == {"answered": 2, "unanswered": 0}
    assert by_day.total == 3 and len(by_day.rows) == 7  # every day, also those without calls
    by_region = d["calls_by_region"]
    assert [k for k, _l in by_region.rows] == ["RU-MOW", "RU-TUL"]
    assert _cells(by_region, "RU-MOW")["victim"] == 1
    assert _cells(by_region, "RU-MOW")["professional"] == 1
    assert _cells(by_region, "RU-TUL")["friend_family"] == 1
    # a region filter narrows every table to that region
    d = figures.dashboard(
        selectors.basis_for(personas["coordinator_a"].principal), _filters(7, "RU-TUL")
    )
    assert d["calls_by_day"].total == 1
    d = figures.dashboard(
        selectors.basis_for(personas["coordinator_a"].principal), _filters(7, "RU")
    )
    assert d["calls_by_day"].total == 3


def test_a_manager_sees_her_own_organisation_only(personas):
    when = timezone.now() - timedelta(hours=3)
    call(personas["operator_a"], when)
    call(personas["operator_b"], when)
    call(personas["operator_b"], when)
    mine = figures.dashboard(selectors.basis_for(personas["manager_b"].principal), _filters())
    assert mine["calls_by_day"].total == 2
    network = figures.dashboard(
        selectors.basis_for(personas["coordinator_a"].principal), _filters()
    )
    assert network["calls_by_day"].total == 3


def test_network_figures_count_only_women_who_agreed(personas, network):
    cw = personas["caseworker_b"]
    yes = woman(cw, consent=True)
    no = woman(cw, consent=False)
    for c in (yes, no):
        cases.service_record(by=cw.principal, client=c, kind="legal")
    now = timezone.now()
    stay(cw, yes, network["vla"], admitted=now - timedelta(days=2))
    stay(cw, no, network["yar"], admitted=now - timedelta(days=2))
    coordinator = figures.dashboard(
        selectors.basis_for(personas["coordinator_a"].principal), _filters()
    )
    assert coordinator["services"].total == 1
    assert coordinator["women"].total == 1
    assert coordinator["out_of_region"].total == 1
    manager = figures.dashboard(selectors.basis_for(personas["manager_b"].principal), _filters())
    assert manager["services"].total == 2  # her own organisation's work: every record
    assert manager["women"].total == 2
    assert manager["out_of_region"].total == 2


def test_published_figures_leave_out_organisations_that_do_not_report(personas, quarter):
    call(personas["operator_a"], in_quarter(quarter))
    call(personas["operator_b"], in_quarter(quarter))
    Organisation.objects.filter(pk=personas["operator_b"].org.pk).update(in_network_exports=False)
    basis = selectors.reporting_basis()
    d = figures.dashboard(basis, figures.Filters(quarter))
    assert d["calls_by_day"].raw_total() == 1
    coordinator = figures.dashboard(
        selectors.basis_for(personas["coordinator_a"].principal), figures.Filters(quarter)
    )
    assert coordinator["calls_by_day"].total == 2  # the network itself still sees them


def test_a_woman_seen_by_two_centres_is_counted_once(personas):
    a, b = personas["caseworker_a"], personas["caseworker_b"]
    earlier = timezone.now() - timedelta(days=5)
    woman(a, phone="+79161234567", created=earlier, region="RU-MOW")
    woman(b, phone="+7 916 123-45-67", region="RU-VLA")  # the same number, written otherwise
    woman(a, phone="", region="RU-VLA")  # no phone: counted apart
    woman(b, phone="", region="RU-VLA")
    d = figures.dashboard(selectors.basis_for(personas["coordinator_a"].principal), _filters())
    women = d["women"]
    assert women.total == 3
    assert women.row_total("RU-MOW") == 1  # where she was first recorded
    assert women.row_total("RU-VLA") == 2
    # org b's manager has never seen her before: in her own figures she is new
    mine = figures.dashboard(selectors.basis_for(personas["manager_b"].principal), _filters())
    assert mine["women"].total == 2


def test_referrals_placements_and_time_to_a_place(personas, network):
    op, cw = personas["operator_a"], personas["caseworker_b"]
    fast = woman(op, region="RU-VLA")
    slow = woman(op, region="RU-YAR")
    refused = woman(op, region="")
    waiting = woman(op, consent=False)
    r1 = referrals.referral_create(by=op.principal, client=fast, household=SINGLE,
                                   facility_ids=[network["vla"].pk])  # fmt: skip
    r2 = referrals.referral_create(by=op.principal, client=slow, household=SINGLE,
                                   facility_ids=[network["yar"].pk, network["vla"].pk])  # fmt: skip
    r3 = referrals.referral_create(
        by=op.principal,
        client=refused,
        household={**SINGLE, "home_region": "RU-TVE"},
        facility_ids=[network["vla"].pk],
    )
    referrals.referral_create(by=op.principal, client=waiting, household=SINGLE,
                              facility_ids=[network["vla"].pk])  # fmt: skip
    referrals.referral_accept(by=cw.principal, referral=r1, facility=network["vla"])
    referrals.referral_accept(by=cw.principal, referral=r2, facility=network["yar"])
    referrals.referral_decline(by=cw.principal, referral=r3, facility=network["vla"],
                               reason="no_place")  # fmt: skip
    # Set-up only: the referrals were sent 30 minutes and 2 days before their acceptance.
    for r, wait in ((r1, timedelta(minutes=30)), (r2, timedelta(days=2))):
        decided = ReferralTarget.objects.get(referral=r, status="accepted").decided_at
        Referral.objects.filter(pk=r.pk).update(created_at=decided - wait)
    coordinator = selectors.basis_for(personas["coordinator_a"].principal)
    d = figures.dashboard(coordinator, _filters())
    by_region = d["referrals_by_region"]
    assert by_region.col_total("placed") == 2
    assert by_region.col_total("not_placed") == 1
    assert by_region.col_total("waiting") == 0  # she did not agree to be counted
    # her own region, or the region the referral gave when her case does not say
    assert by_region.row_total("RU-TVE") == 1
    assert _cells(by_region, "RU-VLA")["placed"] == 1
    waits = d["time_to_place"]
    assert _cells(waits, "h1")["placed"] == 1 and _cells(waits, "d3")["placed"] == 1
    assert d.wait_median == timedelta(minutes=30)
    assert d.wait_p90 == timedelta(days=2)
    assert d["referrals_by_month"].total == 3
    # the receiving organisation's manager sees the referrals it was asked to take
    mine = figures.dashboard(selectors.basis_for(personas["manager_b"].principal), _filters())
    assert mine["referrals_by_month"].total == 4


def test_turn_aways_by_reason_and_whether_a_place_existed(personas, network):
    op = personas["operator_a"]
    referrals.turn_away_record(by=op.principal, household=SINGLE, reasons=["declined_by_her"])
    referrals.turn_away_record(by=op.principal, household=SINGLE,
                               reasons=["documents", "language"])  # fmt: skip
    huge = {"woman_age": 30, "home_region": "RU-TUL",
            "children": [{"age": 3, "sex": "female"}] * 7}  # fmt: skip
    referrals.turn_away_record(by=op.principal, household=huge, reasons=["no_place_anywhere"])
    d = figures.dashboard(selectors.basis_for(personas["coordinator_a"].principal), _filters())
    reasons = d["turnaways_by_reason"]
    assert _cells(reasons, "declined_by_her") == {"unnecessary": 1, "other": 0}
    assert _cells(reasons, "several") == {"unnecessary": 1, "other": 0}
    assert _cells(reasons, "no_place_anywhere") == {"unnecessary": 0, "other": 1}
    assert reasons.total == 3 and reasons.col_total("unnecessary") == 2
    assert d["turnaways_by_region"].row_total("RU-TUL") == 1


def test_admissions_out_of_region_and_the_outcomes_of_stays(personas, network):
    cw = personas["caseworker_b"]
    now = timezone.now()
    local = woman(cw, region="RU-VLA")
    moved = woman(cw, region="RU-MOW")
    unknown = woman(cw, region="")
    stay(cw, local, network["vla"], admitted=now - timedelta(days=20),
         discharged=now - timedelta(days=15), outcome="relatives")  # fmt: skip
    stay(cw, moved, network["vla"], admitted=now - timedelta(days=25),
         discharged=now - timedelta(days=1), outcome="independent_housing")  # fmt: skip
    stay(cw, unknown, network["yar"], admitted=now - timedelta(days=3))
    d = figures.dashboard(selectors.basis_for(personas["coordinator_a"].principal), _filters())
    oor = d["out_of_region"]
    assert _cells(oor, "RU-VLA") == {"own": 1, "other": 1, "unknown": 0}
    assert _cells(oor, "RU-YAR") == {"own": 0, "other": 0, "unknown": 1}
    ends = d["discharges"]
    assert _cells(ends, "relatives")["w1"] == 1  # 5 days
    assert _cells(ends, "independent_housing")["m1"] == 1  # 24 days
    assert ends.total == 2
    assert d.stay_median == timedelta(days=5)
    assert d.stay_p90 == timedelta(days=24)
    demand = {r["key"]: r for r in d.demand()}
    assert demand["RU-VLA"]["admissions"] == 2 and demand["RU-VLA"]["beds"] == 11
    assert demand["RU-YAR"]["beds"] == 5


def test_occupancy_counts_women_and_children_against_the_beds(personas, network):
    cw = personas["caseworker_b"]
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    start = today - timedelta(days=9)
    noon = timezone.datetime(start.year, start.month, start.day, 12, tzinfo=tz)
    mother = woman(cw, children=2)
    stay(cw, mother, network["vla"], admitted=noon + timedelta(days=2, hours=-3),
         discharged=noon + timedelta(days=5, hours=1))  # fmt: skip
    f = figures.Filters(Period(start, today))
    d = figures.dashboard(selectors.basis_for(personas["coordinator_a"].principal), f)
    occ = d.occupancy
    assert occ.beds == 16 and occ.facilities == 2
    people = [p["people"] for p in occ.series()]
    assert people == [0, 0, 3, 3, 3, 3, 0, 0, 0, 0]
    assert occ.series()[2]["share"] == 3 / 16


def test_every_table_lists_days_and_months_of_the_whole_period(personas):
    f = figures.Filters(Period(date(2025, 1, 30), date(2025, 3, 2)))
    d = figures.dashboard(selectors.basis_for(personas["coordinator_a"].principal), f)
    assert [k for k, _l in d["referrals_by_month"].rows] == ["2025-01", "2025-02", "2025-03"]
    assert len(d["calls_by_day"].rows) == 32
    assert d["calls_by_day"].total == 0 and d.wait_median is None


def test_calls_are_counted_on_their_local_day_near_midnight(personas):
    from django.db.models.functions import TruncDate

    from refuge.hotline.models import Call

    tz = timezone.get_default_timezone()
    day = timezone.localdate() - timedelta(days=2)
    late = timezone.datetime(day.year, day.month, day.day, 23, 50, tzinfo=tz)
    call(personas["operator_a"], late)
    call(personas["operator_a"], late + timedelta(minutes=20))  # 00:10 the next day
    period = Period(day - timedelta(days=1), day + timedelta(days=1))
    d = figures.dashboard(
        selectors.basis_for(personas["coordinator_a"].principal), figures.Filters(period)
    )
    by_day = d["calls_by_day"]
    assert by_day.row_total(day.isoformat()) == 1
    assert by_day.row_total((day + timedelta(days=1)).isoformat()) == 1
    # the fast expression and Django's TruncDate agree, row by row
    fast = sorted(
        Call.objects.annotate(d=figures.local_day("created_at", period)).values_list("d", flat=True)
    )
    slow = sorted(
        Call.objects.annotate(d=TruncDate("created_at", tzinfo=tz)).values_list("d", flat=True)
    )
    assert fast == slow == [day, day + timedelta(days=1)]


def test_a_period_across_a_clock_change_counts_days_the_slow_safe_way(settings):
    from django.db.models.functions import TruncDate

    settings.TIME_ZONE = "Europe/Prague"
    period = Period(date(2026, 3, 20), date(2026, 4, 5))  # summer time starts on 29 March
    assert isinstance(figures.local_day("created_at", period), TruncDate)
