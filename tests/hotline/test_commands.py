"""Commands: replay after an outage, forget old caller keys, lines and extensions, the demo."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from refuge.core.audit import verify_chain
from refuge.hotline import demo
from refuge.hotline.models import Call, Callback, CallEvent, Line, OperatorExtension, WrapUp
from tests.hotline.helpers import T0, mango_event, mango_form, mango_summary


def _replay(tmp_path, lines):
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("replay_calls", str(path), stdout=out)
        failed = None
    except CommandError as exc:
        failed = str(exc)
    return out.getvalue(), failed


def _records(orgs):
    form = mango_form(mango_event("r1", "c1", 1, "Appeared", T0))
    return [
        json.dumps({"provider": "mango", "event": "call", **form}),
        json.dumps(
            {
                "provider": "mango",
                "event": "call",
                "json": mango_event("r1", "c1", 2, "Connected", T0 + 8),
            }
        ),  # fmt: skip
        json.dumps(
            {
                "provider": "mango",
                "event": "summary",
                "json": mango_summary("r1", created=T0, talk=T0 + 8, ended=T0 + 98),
            }
        ),  # fmt: skip
        json.dumps(
            {
                "provider": "twilio",
                "location": "operator",
                "params": {
                    "CallSid": "CAr",
                    "CallStatus": "completed",
                    "CallDuration": "60",
                    "From": "+79161234567",
                    "To": "+74950000002",
                    "Direction": "inbound",
                    "Timestamp": "Mon, 03 Mar 2025 10:00:00 +0000",
                },
            }
        ),  # fmt: skip
        json.dumps(
            {
                "provider": "json",
                "organisation": orgs["a"].slug,
                "event": {
                    "entry_id": "j1",
                    "seq": 1,
                    "state": "appeared",
                    "at": "2025-03-03T10:00:00Z",
                    "caller": "+74951234567",
                },
            }
        ),  # fmt: skip
    ]


def test_a_replay_records_each_event_once_and_can_be_run_again(tmp_path, orgs):
    out, failed = _replay(tmp_path, _records(orgs))
    assert failed is None and "5 events: 5 recorded, 0 already recorded, 0 refused" in out
    call = Call.objects.get(entry_id="r1")
    assert (call.answered, call.wait_seconds, call.talk_seconds) == (True, 8, 90)
    assert Call.objects.get(entry_id="j1").organisation == orgs["a"]
    out, failed = _replay(tmp_path, _records(orgs))
    assert "5 events: 0 recorded, 5 already recorded, 0 refused" in out
    assert CallEvent.objects.count() == 5


def test_bad_lines_are_reported_by_number_without_their_content(tmp_path, orgs):
    forged = {
        "provider": "mango",
        "event": "call",
        **mango_form(mango_event("r2", "c", 1, "Appeared", T0)),
    }
    forged["sign"] = "0" * 64
    lines = [
        *_records(orgs)[:1],
        "{not json 79161234567",
        json.dumps(forged),
        json.dumps({"provider": "nokia"}),
        json.dumps(
            {
                "provider": "json",
                "organisation": "no-such-org",
                "event": {
                    "entry_id": "j",
                    "seq": 1,
                    "state": "appeared",
                    "at": "2025-03-03T10:00:00Z",
                },
            }
        ),  # fmt: skip
        json.dumps(
            {
                "provider": "mango",
                "event": "call",
                "json": {**mango_event("r3", "c", 1, "Appeared", T0), "call_state": "Exploded"},
            }
        ),  # fmt: skip
        "",
    ]
    out, failed = _replay(tmp_path, lines)
    assert failed and "refused" in failed
    assert "6 events: 1 recorded, 0 already recorded, 5 refused" in out
    for expected in ("line 2: bad_json", "line 3: signature_invalid", "line 4: bad_record",
                     "line 5: bad_record", "line 6: unknown_state"):  # fmt: skip
        assert expected in out
    assert "79161234567" not in out
    assert list(Call.objects.values_list("entry_id", flat=True)) == ["r1"]


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError):
        call_command("replay_calls", str(tmp_path / "nope.jsonl"))


def test_lines_and_extensions_are_set_by_command(orgs, personas):
    out = io.StringIO()
    call_command("hotline_line", "+7 495 000-00-09", "--org", orgs["a"].slug, "--name", "Night line",
                 "--region", "RU-MOW", "--area", "RU-MOW,RU-MOS", stdout=out)  # fmt: skip
    line = Line.objects.get(number="74950000009")
    assert (line.name, line.organisation, line.service_area) == (
        "Night line",
        orgs["a"],
        "RU-MOW,RU-MOS",
    )
    with pytest.raises(CommandError):
        call_command("hotline_line", "74950000009", "--area", "Moscow")
    with pytest.raises(CommandError):
        call_command("hotline_line", "74950000009", "--org", "nobody")
    call_command("hotline_extension", personas["operator_a"].user.username, "101", stdout=out)
    assert OperatorExtension.objects.get(identity="101").user == personas["operator_a"].user
    with pytest.raises(CommandError):
        call_command("hotline_extension", "nobody", "102")


def test_forget_callers_command(db):
    out = io.StringIO()
    call_command("hotline_forget_callers", stdout=out)
    assert "Caller keys forgotten: 0." in out.getvalue()


def test_the_demo_is_deterministic_idempotent_and_keeps_the_audit_chain(db, tmp_path):
    from datetime import UTC, datetime

    from refuge.core import demo as core_demo

    with override_settings(REFUGE_HOME=tmp_path):
        core_demo.load(io.StringIO())
        out = io.StringIO()
        demo.load(out)
        now = datetime(2025, 6, 1, 12, tzinfo=UTC)
        lines = {ln.number: ln for ln in Line.objects.all()}
        assert demo._records(now, lines, {}) == demo._records(now, lines, {})
        calls, wrapups = Call.objects.count(), WrapUp.objects.count()
        assert 3000 < calls < 6000 and wrapups > 0.6 * calls
        assert Callback.objects.count() == 4
        demo.load(out)
        assert (Call.objects.count(), WrapUp.objects.count(), Callback.objects.count()) == (
            calls,
            wrapups,
            4,
        )
    assert "already present" in out.getvalue()
    assert verify_chain().ok
    # A realistic mix: most calls answered, some abandoned, some repeat callers.
    answered = Call.objects.filter(answered=True).count() / calls
    assert 0.7 < answered < 0.9
    assert (
        Call.objects.filter(repeat_caller=True).exists()
        and Call.objects.filter(out_of_region=True).exists()
    )
