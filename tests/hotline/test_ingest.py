"""Recording calls: once per provider, repeat callers, regions, the operator, no number kept,
and no race when the same call's events arrive at once."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import serializers
from django.db import connection, connections

from refuge.core import crypto
from refuge.hotline import adapters, merge, services
from refuge.hotline.models import Call, CallEvent
from tests.hotline.helpers import T0, race_events

NUMBER = "+74951234567"


def _event(entry, leg="l", seq=1, state="appeared", at=T0, *, caller=NUMBER, line="74950000001",
           provider="json", **kw):  # fmt: skip
    event = merge.Event(leg, seq, state, float(at), **kw)
    return adapters.Inbound(provider, entry, event=event, line=line, external_number=caller)


def _ingest(*inbounds, organisation=None):
    return [services.call_event_ingest(inbound=i, organisation=organisation) for i in inbounds]


def test_the_same_entry_id_of_two_providers_is_two_calls(db):
    _ingest(_event("same", provider="json"), _event("same", provider="mango"))
    assert Call.objects.count() == 2


def test_the_callers_number_is_never_stored(db):
    _ingest(_event("e1", caller="+7 495 123-45-67"), _event("e2", caller="84951234567"))
    dump = serializers.serialize("json", [*Call.objects.all(), *CallEvent.objects.all()])
    for form in ("74951234567", "4951234567", "123-45-67", "1234567"):
        assert form not in dump
    call = Call.objects.get(entry_id="e1")
    assert call.caller_key == crypto.blind_index(NUMBER, purpose="caller")
    assert call.caller_key == Call.objects.get(entry_id="e2").caller_key
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM hotline_call")
        rows = repr(cur.fetchall())
    assert "4951234567" not in rows


def test_an_anonymous_caller_has_no_key_and_is_left_out_of_repeats(db):
    _ingest(_event("e1", caller="anonymous"), _event("e2", caller="", at=T0 + 60))
    assert not Call.objects.filter(caller_known=True).exists()
    assert set(Call.objects.values_list("caller_key", flat=True)) == {""}
    assert not Call.objects.filter(repeat_caller=True).exists()


@pytest.mark.parametrize("order", ["forward", "backward", "middle_first"])
def test_repeat_callers_are_marked_whatever_order_their_calls_arrive_in(db, order):
    day = 86400
    times = {"a": T0, "b": T0 + 10 * day, "c": T0 + 45 * day, "d": T0 + 60 * day}
    entries = {"forward": "abcd", "backward": "dcba", "middle_first": "cbda"}[order]
    _ingest(*[_event(e, at=times[e]) for e in entries])
    flags = dict(Call.objects.values_list("entry_id", "repeat_caller"))
    # b is within 30 days of a; c is 35 days after b; d is 15 days after c.
    assert flags == {"a": False, "b": True, "c": False, "d": True}


def test_a_late_earlier_event_moves_the_call_and_its_repeat_flag(db):
    _ingest(_event("a", at=T0), _event("b", at=T0 + 31 * 86400))
    assert not Call.objects.get(entry_id="b").repeat_caller
    # An earlier event of b arrives: b began 2 days sooner, within the window of a.
    _ingest(_event("b", leg="l0", at=T0 + 29 * 86400))
    assert Call.objects.get(entry_id="b").repeat_caller


def test_the_repeat_window_is_a_setting(db, settings):
    settings.REFUGE_HOTLINE_REPEAT_WINDOW_DAYS = 7
    _ingest(_event("a", at=T0), _event("b", at=T0 + 10 * 86400))
    assert not Call.objects.get(entry_id="b").repeat_caller


def test_caller_keys_are_forgotten_after_twice_the_window(db):
    now = datetime.fromtimestamp(T0, UTC)
    _ingest(
        _event("old", at=T0 - 61 * 86400),
        _event("old2", at=T0 - 60.5 * 86400),
        _event("new", at=T0 - 86400),
    )
    assert services.caller_keys_forget(now=now) == 2
    assert list(Call.objects.exclude(caller_key="").values_list("entry_id", flat=True)) == ["new"]
    assert Call.objects.get(entry_id="old2").repeat_caller  # the flag stays


def test_the_region_and_out_of_region_follow_the_line(db, orgs):
    services.line_save(by=None, number="74950000001", organisation=orgs["a"], region="RU-MOW",
                       service_area="RU-MOW,RU-MOS")  # fmt: skip
    services.line_save(by=None, number="74872000003", organisation=orgs["a"], region="RU-TUL",
                       service_area="RU-TUL", region_from_line=True)  # fmt: skip
    _ingest(
        _event("moscow", caller="+74951234567"),
        _event("tula-landline", caller="+74872123456"),
        _event("mobile", caller="+79161234567"),
        _event("kg", caller="+996555123456"),
        _event("regional-mobile", caller="+79161234567", line="74872000003"),
    )
    got = {
        c.entry_id: (c.caller_region, c.region_source, c.out_of_region) for c in Call.objects.all()
    }
    assert got == {
        "moscow": ("RU-MOW", "number", False),
        "tula-landline": ("RU-TUL", "number", True),
        "mobile": ("RU", "country", None),
        "kg": ("KG", "country", True),
        "regional-mobile": ("RU-TUL", "line", False),
    }


def test_a_known_extension_makes_the_call_hers(db, personas):
    olga = personas["operator_a"].user
    services.extension_assign(by=None, user=olga, identity="101")
    _ingest(
        _event("e1", seq=1, state="appeared", location="operator", operator="101"),
        _event("e1", seq=2, state="connected", at=T0 + 5, location="operator", operator="101"),
    )
    call = Call.objects.get()
    assert call.answered_by == olga and call.operator_extension == "101"


def test_an_extension_is_given_by_an_administrator_or_her_manager(db, personas):
    from refuge.core.services import ServiceError

    olga = personas["operator_a"].user
    services.extension_assign(by=personas["manager_a"].principal, user=olga, identity="101")
    services.extension_assign(by=personas["admin_a"].principal, user=olga, identity="102")
    for who in ("manager_b", "operator_a", "coordinator_a"):
        with pytest.raises(ServiceError):
            services.extension_assign(by=personas[who].principal, user=olga, identity="103")
    assert set(olga.hotline_extensions.values_list("identity", flat=True)) == {"101", "102"}


def _threads(work, n):
    errors = []

    def run(i):
        try:
            work(i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _check_race_result(n_events):
    assert Call.objects.count() == 6
    assert CallEvent.objects.count() == n_events
    for call in Call.objects.all():
        assert call.event_count == 10 and call.state == "disconnected" and call.answered


@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_the_same_calls_record_each_call_and_event_once():
    """Eight workers send every event of six calls, each in its own order, at the same time."""
    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite cannot be shared by threads; see the process test below")
    events = race_events()

    def work(i):
        order = list(events)
        random.Random(i).shuffle(order)
        for inbound in order:
            services.call_event_ingest(inbound=inbound)

    errors = _threads(work, 8)
    assert not errors, errors[:3]
    _check_race_result(len(events))


def test_concurrent_processes_on_a_sqlite_file_record_each_event_once(tmp_path):
    """The production SQLite set-up (a file, WAL, IMMEDIATE transactions): four processes."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(REFUGE_MODE="demo", REFUGE_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="refuge.settings",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))  # fmt: skip
    migrate = "from refuge.cli import main; main(['refuge', 'migrate', '-v0'])"
    subprocess.run([sys.executable, "-c", migrate], env=env, check=True, timeout=120)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.hotline._race_worker", str(seed)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for seed in range(4)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err[-500:] for _out, err in outputs]
    n_events = len(race_events())
    assert sum(int(out) for out, _err in outputs) == n_events  # each recorded by exactly one
    db = sqlite3.connect(tmp_path / "refuge.sqlite3")
    assert db.execute("SELECT count(*) FROM hotline_call").fetchone() == (6,)
    assert db.execute("SELECT count(*) FROM hotline_callevent").fetchone() == (n_events,)
    rows = db.execute("SELECT state, answered, event_count FROM hotline_call").fetchall()
    assert set(rows) == {("disconnected", 1, 10)}


@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_of_one_caller_are_all_marked_as_repeats():
    def work(i):
        services.call_event_ingest(inbound=_event(f"rep-{i}", at=T0 + i * 3600))

    if connection.vendor == "sqlite":
        pytest.skip("in-memory SQLite cannot be shared by threads")
    errors = _threads(work, 6)
    assert not errors, errors[:3]
    flags = dict(Call.objects.values_list("entry_id", "repeat_caller"))
    assert flags == {f"rep-{i}": i > 0 for i in range(6)}


def test_manual_calls_and_bulk_loads_are_derived_like_live_ones(db, personas):
    p = personas["operator_a"].principal
    start = datetime.fromtimestamp(T0, UTC)
    manual = services.call_manual_create(
        by=p, started_at=start, talk_minutes=12, caller_number="84951234567",
        wrapup=services.WrapUpData("victim", outcomes=frozenset({"information"})),
    )  # fmt: skip
    assert (manual.answered, manual.talk_seconds, manual.wait_seconds) == (True, 720, None)
    assert manual.caller_region == "RU-MOW" and manual.organisation == p.organisation
    summary = merge.Summary(
        merge.INCOMING, created=T0 + 3600.0, answered=T0 + 3610.0, ended=T0 + 3700.0
    )
    added = services.calls_bulk_load(
        by=None,
        records=[services.CallRecord("mango", "bulk-1", summary, external_number="74951234567")],
    )
    again = services.calls_bulk_load(
        by=None,
        records=[services.CallRecord("mango", "bulk-1", summary, external_number="74951234567")],
    )
    bulk = Call.objects.get(entry_id="bulk-1")
    assert (added, again) == (1, 0)
    assert (bulk.wait_seconds, bulk.talk_seconds, bulk.repeat_caller) == (10, 90, True)
    assert bulk.created_at - manual.created_at == timedelta(hours=1)


def test_repeat_flags_are_recomputed_exactly_over_a_wide_span(db):
    """Calls 40 days apart are not repeats, even when one recomputation covers both."""
    key = crypto.blind_index(NUMBER, purpose="caller")
    start = datetime.fromtimestamp(T0, UTC)
    days = [0, 40, 45, 100]
    Call.objects.bulk_create(
        [
            Call(
                provider="json",
                entry_id=f"w{d}",
                caller_key=key,
                caller_known=True,
                created_at=start + timedelta(days=d),
                repeat_caller=True,
            )
            for d in days
        ]  # fmt: skip
    )
    services._repeat_recompute(key, start, start + timedelta(days=100))
    flags = dict(Call.objects.values_list("entry_id", "repeat_caller"))
    assert flags == {"w0": False, "w40": False, "w45": True, "w100": False}


def test_bulk_loads_mark_repeats_only_within_the_window(db):
    def record(entry, day):
        t = T0 + day * 86400.0
        summary = merge.Summary(merge.INCOMING, created=t, answered=t + 5, ended=t + 60)
        return services.CallRecord("mango", entry, summary, external_number="74951234567")

    services.calls_bulk_load(
        by=None, records=[record("b0", 0), record("b40", 40), record("b45", 45)]
    )
    flags = dict(Call.objects.values_list("entry_id", "repeat_caller"))
    assert flags == {"b0": False, "b40": False, "b45": True}
