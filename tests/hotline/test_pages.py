"""Operators' pages: the live queue, the wrap-up that comes first, calls by hand, callbacks."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.hotline import adapters, merge, services
from refuge.hotline.models import Call, Callback, CallbackAttempt, WrapUp
from refuge.hotline.services import WrapUpData
from refuge.hotline.windows import Window

NOW = time.time()


@pytest.fixture
def line(orgs):
    return services.line_save(by=None, number="74950000001", organisation=orgs["a"], name="Coalition line",
                              service_area="RU-MOW")  # fmt: skip


def _call(entry, *states, line="74950000001", operator="", ago=60.0, org=None):
    result = None
    for seq, state in enumerate(states, start=1):
        event = merge.Event(
            "leg", seq, state, NOW - ago + seq, location="operator", operator=operator
        )
        inbound = adapters.Inbound(
            "json", entry, event=event, line=line, external_number="+74951234567"
        )
        result = services.call_event_ingest(inbound=inbound, organisation=org)
    return Call.objects.get(pk=result.call.pk)


WRAPUP = {"contact_type": "victim", "outcomes": ["information"], "need_shelter": "unmet",
          "reason_shelter": "no_place", "need_legal": "met", "abuse": ["physical"]}  # fmt: skip


def test_the_queue_shows_live_calls_of_her_organisation(line, as_persona, orgs):
    _call("ringing", "appeared")
    _call("talking", "appeared", "connected")
    other = services.line_save(by=None, number="74950000002", organisation=orgs["b"])
    _call("elsewhere", "appeared", line=other.number)
    page = as_persona("operator_a").get("/hotline/")
    q = page.context["q"]
    assert [c.entry_id for c in q.waiting] == ["ringing"] and [
        c.entry_id for c in q.in_progress
    ] == ["talking"]
    assert b"Coalition line" in page.content and b'hx-trigger="every 3s"' in page.content
    coordinator = as_persona("coordinator_a").get("/hotline/live/").context["q"]
    assert {c.entry_id for c in coordinator.waiting} == {"ringing", "elsewhere"}


def test_the_queue_needs_a_constant_number_of_queries(line, as_persona):
    client = as_persona("operator_a")
    _call("c0", "appeared")
    client.get("/hotline/live/")
    with CaptureQueriesContext(connection) as few:
        client.get("/hotline/live/")
    for i in range(1, 12):
        _call(f"c{i}", *(["appeared", "connected", "disconnected"][: 1 + i % 3]))
    with CaptureQueriesContext(connection) as many:
        client.get("/hotline/live/")
    assert len(many) == len(few)


def test_an_operator_with_an_unwrapped_call_is_sent_to_its_wrap_up(line, as_persona, personas):
    services.extension_assign(by=None, user=personas["operator_a"].user, identity="101")
    call = _call("mine", "appeared", "connected", "disconnected", operator="101")
    client = as_persona("operator_a")
    wrap = f"/hotline/calls/{call.pk}/wrap-up/"
    assert client.get("/hotline/").url == wrap
    assert client.get("/hotline/live/")["HX-Redirect"] == wrap
    assert client.get("/hotline/calls/new/").url == wrap
    other = _call("next", "appeared")
    assert client.post(f"/hotline/calls/{other.pk}/take/").url == wrap
    assert Call.objects.get(pk=other.pk).answered_by is None
    # Another operator is not held up by her call.
    assert as_persona("caseworker_a").get("/hotline/").status_code == 200
    r = client.post(wrap, WRAPUP)
    assert r.status_code == 302 and r.url == "/hotline/"
    assert client.get("/hotline/").status_code == 200


def test_taking_a_call_is_recorded_and_only_one_operator_gets_it(line, as_persona, personas):
    call = _call("live", "appeared")
    r = as_persona("operator_a").post(f"/hotline/calls/{call.pk}/take/")
    assert (
        r.status_code == 302
        and Call.objects.get(pk=call.pk).answered_by == personas["operator_a"].user
    )
    assert (
        AuditEvent.objects.filter(action="hotline.call.take", target_id=str(call.pk)).count() == 1
    )
    r = as_persona("caseworker_a").post(f"/hotline/calls/{call.pk}/take/", follow=True)
    assert "Another operator has taken this call." in r.content.decode()
    assert Call.objects.get(pk=call.pk).answered_by == personas["operator_a"].user


def test_a_call_card_links_to_the_intake_and_hides_other_organisations_calls(
    line, as_persona, orgs
):
    call = _call("c", "appeared", "connected")
    client = as_persona("operator_a")
    client.post(f"/hotline/calls/{call.pk}/take/")
    page = client.get(f"/hotline/calls/{call.pk}/").content.decode()
    assert f'href="/cases/new/?call={call.pk}"' in page
    assert "74951234567" not in page and "4951234567" not in page
    assert as_persona("operator_b").get(f"/hotline/calls/{call.pk}/").status_code == 404


def test_the_wrap_up_form_checks_the_codes_and_is_audited(line, as_persona, personas):
    call = _call("w", "appeared", "connected", "disconnected")
    client = as_persona("operator_a")
    url = f"/hotline/calls/{call.pk}/wrap-up/"
    bad = client.post(url, {**WRAPUP, "reason_shelter": ""})
    assert bad.status_code == 200 and "reason_shelter" in bad.context["form"].errors
    bad = client.post(url, {**WRAPUP, "outcomes": []})
    assert "outcomes" in bad.context["form"].errors
    silent = client.post(url, {"contact_type": "silent_other"})
    assert silent.status_code == 302
    client.post(url, WRAPUP)
    w = WrapUp.objects.get(call=call)
    assert (w.contact_type, w.abuse, w.outcomes) == ("victim", ["physical"], ["information"])
    assert {(n.need, n.met, n.unmet_reason) for n in w.needs.all()} == {
        ("shelter", False, "no_place"),
        ("legal", True, ""),
    }
    actions = list(AuditEvent.objects.filter(target_type="hotline.call", target_id=str(call.pk))
                   .values_list("action", flat=True))  # fmt: skip
    assert actions == ["hotline.wrapup.create", "hotline.wrapup.update"]


def test_an_unanswered_call_has_no_wrap_up(line, as_persona):
    call = _call("missed", "appeared", "disconnected")
    r = as_persona("operator_a").post(f"/hotline/calls/{call.pk}/wrap-up/", WRAPUP)
    assert r.status_code == 200 and "Only answered calls have a wrap-up." in r.content.decode()
    assert not WrapUp.objects.exists()


def test_a_callback_outcome_leads_to_the_callback_form(line, as_persona):
    call = _call("cb", "appeared", "connected", "disconnected")
    r = as_persona("operator_a").post(
        f"/hotline/calls/{call.pk}/wrap-up/", {**WRAPUP, "outcomes": ["callback"]}
    )
    assert r.url == f"/hotline/callbacks/new/?call={call.pk}"


def test_a_placement_outcome_leads_to_her_intake(line, as_persona):
    call = _call("pl", "appeared", "connected", "disconnected")
    r = as_persona("operator_a").post(
        f"/hotline/calls/{call.pk}/wrap-up/", {**WRAPUP, "outcomes": ["placement"]}
    )
    assert r.url == f"/cases/new/?call={call.pk}"
    call2 = _call("pl2", "appeared", "connected", "disconnected")
    r = as_persona("operator_a").post(
        f"/hotline/calls/{call2.pk}/wrap-up/", {**WRAPUP, "outcomes": ["information"]}
    )
    assert r.url == "/hotline/"


def test_a_call_entered_by_hand_counts_like_any_other(line, as_persona, personas):
    client = as_persona("operator_a")
    started = (datetime.now(UTC) - timedelta(hours=1)).astimezone().strftime("%Y-%m-%dT%H:%M")
    form = {"line": line.pk, "direction": "incoming", "started_at": started, "talk_minutes": 14,
            "caller_number": "8 (487) 212-34-56", **WRAPUP}  # fmt: skip
    r = client.post("/hotline/calls/new/", form)
    call = Call.objects.get(provider="manual")
    assert r.url == f"/hotline/calls/{call.pk}/"
    assert (call.talk_seconds, call.caller_region, call.answered_by) == (
        840,
        "RU-TUL",
        personas["operator_a"].user,
    )
    assert WrapUp.objects.filter(call=call).exists()
    assert AuditEvent.objects.filter(action="hotline.call.manual", target_id=str(call.pk)).exists()
    bad = client.post("/hotline/calls/new/", {**form, "caller_number": "12"})
    assert "caller_number" in bad.context["form"].errors
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post("/hotline/calls/new/", {**form, "started_at": future})
    assert "started_at" in bad.context["form"].errors
    assert Call.objects.filter(provider="manual").count() == 1


# --- callbacks -------------------------------------------------------------------------------

ALWAYS = [Window(tuple(range(7)), dtime(0), dtime(23, 59))]


def _callback(personas, safe_times=ALWAYS, tz="Europe/Moscow", number="+7 916 555-01-02"):
    return services.callback_create(by=personas["operator_a"].principal, safe_number=number,
                                    safe_times=safe_times, tz=tz, name_to_ask="Marina")  # fmt: skip


def test_a_callbacks_number_and_times_are_encrypted_at_rest(personas):
    cb = _callback(personas)
    with connection.cursor() as cur:
        cur.execute("SELECT safe_number, windows, name_to_ask FROM hotline_callback")
        row = cur.fetchone()
    assert all(value.startswith("rfe1.") for value in row)
    assert "79165550102" not in repr(row) and "Marina" not in repr(row)
    assert Callback.objects.get(pk=cb.pk).safe_number == "+79165550102"


def test_the_number_is_shown_only_in_a_safe_time_and_every_read_is_audited(personas, as_persona):
    now_open = _callback(personas)
    # A window three days from today: closed now whatever the hour (Monday 00:00 once was not).
    far_day = (timezone.localtime().weekday() + 3) % 7
    closed_now = _callback(
        personas, safe_times=[Window((far_day,), dtime(0), dtime(0, 1))], number="+79165550304"
    )
    client = as_persona("operator_a")
    listing = client.get("/hotline/callbacks/").content.decode()
    assert "79165550102" not in listing and "79165550304" not in listing
    rows = client.get("/hotline/callbacks/").context["rows"]
    assert [r.callback.pk for r in rows] == [now_open.pk, closed_now.pk] and rows[0].open_now
    assert "+79165550102" in client.get(f"/hotline/callbacks/{now_open.pk}/").content.decode()
    assert "+79165550304" not in client.get(f"/hotline/callbacks/{closed_now.pk}/").content.decode()
    reads = AuditEvent.objects.filter(action="read", target_type="hotline.callback")
    assert set(reads.values_list("target_id", flat=True)) == {str(now_open.pk), str(closed_now.pk)}
    assert (
        AuditEvent.objects.filter(action="read_list", target_type="hotline.callback").count() == 2
    )


def test_the_greeting_is_neutral_in_every_language(personas, as_persona):
    cb = _callback(personas)
    client = as_persona("operator_a")
    for lang, words in (("en", ("violence", "abuse", "shelter", "hotline", "crisis")),
                        ("ru", ("насили", "приют", "кризис", "горяч"))):  # fmt: skip
        client.post("/i18n/setlang/", {"language": lang, "next": "/"})
        page = client.get(f"/hotline/callbacks/{cb.pk}/")
        greeting = page.context["greeting"].lower()
        assert "marina" in greeting and not any(w in greeting for w in words), greeting


def test_another_organisation_cannot_see_or_touch_a_callback(personas, as_persona):
    cb = _callback(personas)
    client = as_persona("operator_b")
    assert client.get(f"/hotline/callbacks/{cb.pk}/").status_code == 404
    assert (
        client.post(f"/hotline/callbacks/{cb.pk}/attempt/", {"outcome": "reached"}).status_code
        == 404
    )
    assert not CallbackAttempt.objects.exists()


def test_attempts_are_recorded_and_reaching_her_closes_the_callback(personas, as_persona):
    cb = _callback(personas)
    client = as_persona("operator_a")
    client.post(f"/hotline/callbacks/{cb.pk}/attempt/", {"outcome": "not_safe"})
    client.post(f"/hotline/callbacks/{cb.pk}/attempt/", {"outcome": "reached"})
    cb.refresh_from_db()
    assert cb.status == "done" and [a.outcome for a in cb.attempts.all()] == ["not_safe", "reached"]
    r = client.post(f"/hotline/callbacks/{cb.pk}/attempt/", {"outcome": "no_answer"}, follow=True)
    assert "This callback is closed." in r.content.decode() and cb.attempts.count() == 2
    assert AuditEvent.objects.filter(action="hotline.callback.attempt").count() == 2


def test_a_callback_can_be_closed_with_a_reason(personas, as_persona):
    cb = _callback(personas)
    r = as_persona("operator_a").post(f"/hotline/callbacks/{cb.pk}/close/", {"reason": "unsafe"})
    cb.refresh_from_db()
    assert r.url == "/hotline/callbacks/" and (cb.status, cb.close_reason) == ("closed", "unsafe")


def test_a_callback_form_checks_the_number_and_the_times(as_persona, line):
    call = _call("c", "appeared", "connected", "disconnected")
    client = as_persona("operator_a")
    form = {"call": call.pk, "safe_number": "+7 916 555 01 02", "timezone": "Europe/Moscow",
            "days1": ["0", "2"], "start1": "10:00", "end1": "12:30"}  # fmt: skip
    assert (
        client.post("/hotline/callbacks/new/", {**form, "safe_number": "123"})
        .context["form"]
        .errors
    )
    assert client.post("/hotline/callbacks/new/", {**form, "end1": "09:00"}).context["form"].errors
    assert client.post("/hotline/callbacks/new/", {**form, "days2": ["1"]}).context["form"].errors
    r = client.post("/hotline/callbacks/new/", form)
    cb = Callback.objects.get()
    assert r.url == f"/hotline/callbacks/{cb.pk}/" and cb.call == call
    assert cb.windows and "10:00" in cb.windows and cb.timezone == "Europe/Moscow"


def test_demo_style_wrapups_feed_the_figures(line, personas):
    call = _call("f", "appeared", "connected", "disconnected")
    services.wrapup_record(by=personas["operator_a"].principal, call=call,
                           data=WrapUpData("victim", outcomes=frozenset({"referral"}), needs={"shelter": "no_place"}))  # fmt: skip
    from refuge.hotline import figures

    today = datetime.fromtimestamp(NOW, UTC).astimezone().date()
    assert (
        figures.stats(figures.calls_in(Call.objects.all(), today - timedelta(days=1), today))[
            "unmet_requests"
        ]
        == 1
    )
