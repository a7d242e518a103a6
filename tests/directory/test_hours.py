"""Opening hours: the pure windows, the service that changes them, the edit page, the profile."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.directory import hours, services
from refuge.directory.hours import ALWAYS, DAY, Window
from refuge.directory.hours_display import lines
from refuge.directory.models import Facility
from tests.directory.factories import make_facility

OFFICE = [Window((0, 1, 2, 3, 4), 9 * 60, 18 * 60), Window((5,), 10 * 60, 14 * 60)]


# --- pure --------------------------------------------------------------------------------------


def test_windows_round_trip_through_json_with_24_00():
    stored = hours.dumps([*OFFICE, Window((6,), 0, DAY)])
    assert {"days": [6], "opens": "00:00", "closes": "24:00"} in stored
    assert hours.loads(stored) == hours.normalise([*OFFICE, Window((6,), 0, DAY)])


@pytest.mark.parametrize("text", ["24:01", "25:00", "9", "nine", "12:60"])
def test_a_time_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        hours.parse_hhmm(text)


def test_hsds_times_with_seconds_or_a_zone_read_as_local():
    assert hours.parse_hhmm("09:30:00") == 570
    assert hours.parse_hhmm("09:30+06:00") == 570
    assert hours.parse_hhmm("9:05Z") == 545


@pytest.mark.parametrize(
    ("windows", "code"),
    [
        ([Window((), 540, 1080)], "no_days"),
        ([Window((7,), 540, 1080)], "bad_day"),
        ([Window((0,), 1080, 540)], "closes_before_opens"),
        ([Window((0,), 540, 540)], "closes_before_opens"),
        ([Window((0, 1), 540, 780), Window((1, 2), 720, 1080)], "overlap"),
    ],
)
def test_problems_name_the_line(windows, code):
    found = hours.problems(windows)
    assert [p.code for p in found] == [code]


def test_touching_windows_do_not_overlap_and_read_as_one():
    windows = [Window((0,), 540, 780), Window((0,), 780, 1080)]
    assert hours.problems(windows) == []
    assert hours.by_day(windows) == {0: ((540, 1080),)}


def test_consecutive_days_with_the_same_hours_are_grouped():
    runs = hours.runs([*OFFICE, Window((6,), 0, DAY)])
    assert [(r.first, r.last, r.spans) for r in runs] == [
        (0, 4, ((540, 1080),)),
        (5, 5, ((600, 840),)),
        (6, 6, ((0, DAY),)),
    ]


def test_always_open_is_every_day_all_day_however_it_is_written():
    assert hours.always_open(ALWAYS)
    halves = [Window(hours.WEEK, 0, 720), Window(hours.WEEK, 720, DAY)]
    assert hours.always_open(halves)
    assert not hours.always_open([Window(hours.WEEK[:6], 0, DAY)])


windows_strategy = st.lists(
    st.builds(
        lambda days, a, b: Window(tuple(sorted(days)), min(a, b), max(a, b) + 1),
        st.sets(st.integers(0, 6), min_size=1),
        st.integers(0, DAY - 1),
        st.integers(0, DAY - 1),
    ),
    max_size=5,
)


@given(windows_strategy)
def test_grouping_loses_no_minute_and_invents_none(windows):
    """Oracle: the set of open (day, minute) pairs, from the windows and from the runs."""
    open_minutes = {(d, m) for w in windows for d in w.days for m in range(w.opens, w.closes)}
    from_runs = {
        (d, m)
        for r in hours.runs(windows)
        for d in range(r.first, r.last + 1)
        for a, b in r.spans
        for m in range(a, b)
    }
    assert from_runs == open_minutes
    assert hours.always_open(windows) == (len(open_minutes) == 7 * DAY)


# --- display (staff words) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", ["Mon–Fri 9 a.m.–6 p.m.", "Sat 10 a.m.–2 p.m."]),
        ("ru", ["Пн–Пт 9:00–18:00", "Сб 10:00–14:00"]),
    ],
)
def test_staff_lines_are_in_the_language(lang, expected):
    with translation.override(lang):
        assert lines(OFFICE) == expected


def test_open_all_day_and_at_night_read_naturally():
    night = [Window(hours.WEEK, 0, 8 * 60), Window(hours.WEEK, 19 * 60, DAY)]
    with translation.override("ru"):
        assert lines(ALWAYS) == ["Круглосуточно, без выходных"]
        assert lines(night) == ["Ежедневно 0:00–8:00, 19:00–24:00"]
        assert lines([Window((5, 6), 0, DAY)]) == ["Сб–Вс круглосуточно"]
    with translation.override("en"):
        assert lines(ALWAYS) == ["Open 24 hours, every day"]
        assert lines(night) == ["Every day midnight–8 a.m., 7 p.m.–midnight"]
    assert lines([]) == []


# --- the service -------------------------------------------------------------------------------


def test_a_manager_sets_hours_and_it_is_audited(orgs, personas):
    f = make_facility(orgs["a"])
    by = personas["manager_a"].principal
    assert services.facility_hours_set(by=by, facility=f, windows=OFFICE) is True
    f.refresh_from_db()
    assert f.opening_hours == hours.dumps(OFFICE)
    event = AuditEvent.objects.get(action="facility.hours_update", target_id=str(f.pk))
    assert event.details["hours"] == hours.dumps(OFFICE)
    # The same hours again change nothing and write no event.
    assert services.facility_hours_set(by=by, facility=f, windows=list(reversed(OFFICE))) is False
    assert AuditEvent.objects.filter(action="facility.hours_update").count() == 1


def test_clearing_the_hours_means_not_stated(orgs, personas):
    f = make_facility(orgs["a"])
    by = personas["manager_a"].principal
    services.facility_hours_set(by=by, facility=f, windows=OFFICE)
    services.facility_hours_set(by=by, facility=f, windows=[])
    f.refresh_from_db()
    assert f.opening_hours == []


def test_setting_hours_moves_the_facilitys_last_change(orgs):
    f = make_facility(orgs["a"])
    before = Facility.objects.get(pk=f.pk).updated_at
    services.facility_hours_set(by=None, facility=f, windows=ALWAYS)
    assert Facility.objects.get(pk=f.pk).updated_at > before


@pytest.mark.parametrize(
    ("windows", "words"),
    [
        ([{"days": [], "opens": "09:00", "closes": "18:00"}], "line 1: choose at least one day"),
        (
            [{"days": [0], "opens": "18:00", "closes": "09:00"}],
            "line 1: the opening time must be before the closing time",
        ),
        (
            [
                {"days": [0, 1], "opens": "09:00", "closes": "13:00"},
                {"days": [1], "opens": "12:00", "closes": "18:00"},
            ],
            "lines 1 and 2 overlap on Tuesday",
        ),
        ([{"days": [0], "opens": "9 am", "closes": "18:00"}], "a time is written as HH:MM"),
    ],
)
def test_bad_hours_are_refused_with_a_clear_error_and_nothing_is_saved(
    orgs, personas, windows, words
):
    f = make_facility(orgs["a"])
    by = personas["manager_a"].principal
    services.facility_hours_set(by=by, facility=f, windows=OFFICE)
    with pytest.raises(ServiceError) as exc, translation.override("en"):
        services.facility_hours_set(by=by, facility=f, windows=windows)
    assert words in exc.value.message
    f.refresh_from_db()
    assert f.opening_hours == hours.dumps(OFFICE)


def test_the_error_is_translated(orgs, personas):
    f = make_facility(orgs["a"])
    bad = [Window((0, 1), 540, 780), Window((1,), 720, 1080)]
    with translation.override("ru"), pytest.raises(ServiceError) as exc:
        services.facility_hours_set(by=personas["manager_a"].principal, facility=f, windows=bad)
    assert "строки 1 и 2 пересекаются" in exc.value.message


def test_another_organisation_or_role_cannot_set_hours(orgs, personas):
    f = make_facility(orgs["a"])
    for key in ("manager_b", "operator_a", "analyst_a"):
        with pytest.raises((ServiceError, PermissionDenied)):
            services.facility_hours_set(by=personas[key].principal, facility=f, windows=ALWAYS)
    f.refresh_from_db()
    assert f.opening_hours == []


# --- the edit page and the profile -------------------------------------------------------------


def _post(rows, always=False):
    data = {
        "hours-TOTAL_FORMS": str(len(rows)),
        "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "1000",
    }
    if always:
        data["always"] = "on"
    for i, (days, opens, closes) in enumerate(rows):
        data[f"hours-{i}-days"] = [str(d) for d in days]
        data[f"hours-{i}-opens"] = opens
        data[f"hours-{i}-closes"] = closes
    return data


def test_a_manager_edits_the_hours_on_the_page(orgs, as_persona):
    f = make_facility(orgs["a"])
    client = as_persona("manager_a")
    assert client.get(f"/directory/{f.pk}/hours/").status_code == 200
    rows = [((0, 1, 2, 3, 4), "09:00", "18:00"), ((5,), "10:00", "14:00"), ((), "", "")]
    response = client.post(f"/directory/{f.pk}/hours/", _post(rows))
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.opening_hours == hours.dumps(OFFICE)
    # The page shows them back, one line each, plus two empty lines.
    page = client.get(f"/directory/{f.pk}/hours/").content.decode()
    assert 'value="10:00"' in page and 'name="hours-3-opens"' in page


def test_open_always_is_one_tick(orgs, as_persona):
    f = make_facility(orgs["a"], kind="hotline")
    client = as_persona("caseworker_a")
    response = client.post(f"/directory/{f.pk}/hours/", _post([], always=True))
    assert response.status_code == 302
    f.refresh_from_db()
    assert f.opening_hours == hours.dumps(ALWAYS)
    page = client.get(f"/directory/{f.pk}/hours/").content.decode()
    assert re.search(r'<input type="checkbox" name="always"[^>]*checked', page)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([((), "09:00", "18:00")], "Choose at least one day."),
        ([((0,), "18:00", "09:00")], "It must close after it opens."),
        ([((0,), "9h", "18:00")], "Write the time as HH:MM"),
        ([((0,), "09:00", "")], "When does it close?"),
        (
            [((0, 1), "09:00", "13:00"), ((1,), "12:00", "18:00")],
            "lines 1 and 2 overlap on Tuesday",
        ),
    ],
)
def test_the_page_says_what_is_wrong_and_keeps_what_was_typed(orgs, as_persona, rows, message):
    f = make_facility(orgs["a"])
    client = as_persona("manager_a")
    response = client.post(f"/directory/{f.pk}/hours/", _post(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'value="{rows[0][1]}"' in page
    f.refresh_from_db()
    assert f.opening_hours == []


def test_the_page_speaks_russian(orgs, as_persona):
    f = make_facility(orgs["a"])
    client = as_persona("manager_a")
    response = client.post(
        f"/directory/{f.pk}/hours/", _post([((), "09:00", "18:00")]), HTTP_ACCEPT_LANGUAGE="ru"
    )
    page = response.content.decode()
    assert "Часы работы" in page and "Выберите хотя бы один день." in page


def test_another_organisations_manager_gets_404_or_403(orgs, as_persona):
    f = make_facility(orgs["a"])
    response = as_persona("manager_b").post(f"/directory/{f.pk}/hours/", _post([], always=True))
    assert response.status_code in (403, 404)
    f.refresh_from_db()
    assert f.opening_hours == []


def test_the_profile_shows_the_hours_or_not_stated(orgs, as_persona):
    f = make_facility(orgs["a"])
    client = as_persona("operator_a")
    page = client.get(f"/directory/{f.pk}/").content.decode()
    assert "Opening hours" in page and "not stated" in page
    services.facility_hours_set(by=None, facility=f, windows=OFFICE)
    page = client.get(f"/directory/{f.pk}/").content.decode()
    assert "Mon–Fri 9 a.m.–6 p.m." in page and "Sat 10 a.m.–2 p.m." in page


def test_the_demo_has_invented_hours_and_the_shipped_centres_none(db):
    import io

    from refuge.directory import demo
    from tests.directory.factories import ensure_regions

    ensure_regions()
    demo.load(io.StringIO())
    invented = Facility.objects.filter(source_note=demo.DEMO_NOTE)
    assert invented.exclude(opening_hours=[]).count() >= 6
    hotline = Facility.objects.get(name="Coalition hotline")
    assert hours.always_open(hours.loads(hotline.opening_hours))
    shipped = Facility.objects.filter(region__country="KG")
    assert shipped.exists()
    assert not shipped.exclude(opening_hours=[]).exists()
