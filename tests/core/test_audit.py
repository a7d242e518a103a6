import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from refuge.core import audit
from refuge.core.models import AuditEvent, AuditHead


def _events(n=5):
    for i in range(n):
        audit.record(
            actor=None, action="test.event", target_type="x", target_id=i, details={"i": i}
        )


def _lift_guard():
    mig = __import__("importlib").import_module("refuge.core.migrations.0002_audit_append_only")
    with connection.cursor() as cur:
        for sql in mig.POSTGRES_DROP if connection.vendor == "postgresql" else mig.SQLITE_DROP:
            cur.execute(sql)


def test_the_chain_verifies(db):
    _events()
    result = audit.verify_chain()
    assert result.ok and result.checked == 5
    call_command("audit_verify")


def test_events_cannot_be_updated_or_deleted(db):
    _events(1)
    for sql in ("UPDATE core_auditevent SET action = 'x'", "DELETE FROM core_auditevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
    assert AuditEvent.objects.count() == 1


def test_a_changed_event_is_detected_at_its_place(db):
    _events(5)
    _lift_guard()
    AuditEvent.objects.filter(seq=3).update(details={"i": 99})
    result = audit.verify_chain()
    assert not result.ok and result.first_bad_seq == 3 and "changed" in result.problem
    with pytest.raises(CommandError, match="BROKEN at event 3"):
        call_command("audit_verify")


def test_a_removed_event_is_detected(db):
    _events(5)
    _lift_guard()
    AuditEvent.objects.filter(seq=2).delete()
    result = audit.verify_chain()
    assert not result.ok and result.first_bad_seq == 2


def test_removing_the_newest_events_is_detected(db):
    _events(5)
    _lift_guard()
    AuditEvent.objects.filter(seq__gte=4).delete()
    result = audit.verify_chain()
    assert not result.ok and result.first_bad_seq == 4


def test_a_recomputed_plain_hash_chain_does_not_pass(db):
    """Someone with the database but not the key cannot forge a consistent chain."""
    import hashlib

    _events(3)
    _lift_guard()
    ev = AuditEvent.objects.get(seq=3)
    ev.details = {"i": 42}
    ev.mac = hashlib.sha256(ev.prev_mac.encode() + audit._canonical(ev)).hexdigest()
    ev.save()
    AuditHead.objects.filter(pk=1).update(mac=ev.mac)
    assert audit.verify_chain().first_bad_seq == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite in-memory test databases are per connection; PostgreSQL runs this in CI"
        )
    errors = []

    def writer(k):
        try:
            for i in range(20):
                audit.record(actor=None, action="race", target_id=f"{k}-{i}")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = audit.verify_chain()
    assert result.ok and result.checked == AuditEvent.objects.count() >= 120


# --- the tail (issue 14, M2) ---------------------------------------------------------------------


def _lift_all_guards():
    """What someone with the database owner's rights can do: drop every trigger."""
    _lift_guard()
    mig = __import__("importlib").import_module(
        "refuge.core.migrations.0004_audit_head_seal_and_truncate_guard"
    )
    with connection.cursor() as cur:
        for sql in mig.POSTGRES_DROP if connection.vendor == "postgresql" else mig.SQLITE_DROP:
            cur.execute(sql)


def _cut_tail_to(seq: int, **head) -> None:
    _lift_all_guards()
    AuditEvent.objects.filter(seq__gt=seq).delete()
    kept = AuditEvent.objects.get(seq=seq)
    AuditHead.objects.filter(pk=1).update(seq=seq, mac=kept.mac, **head)


def test_deleting_the_tail_and_moving_the_head_back_without_the_key_is_detected(db):
    """The attack of issue 14 M2: no key needed before, `audit-verify` said intact."""
    _events(5)
    _cut_tail_to(3)
    result = audit.verify_chain()
    assert not result.ok and result.first_bad_seq == 4 and "head" in result.problem
    with pytest.raises(CommandError, match="BROKEN at event 4"):
        call_command("audit_verify")


def test_a_head_seal_forged_without_the_key_is_detected(db):
    import hashlib

    _events(5)
    mac3 = AuditEvent.objects.get(seq=3).mac
    _cut_tail_to(3, seal=hashlib.sha256(f"3|{mac3}".encode()).hexdigest())
    assert not audit.verify_chain().ok


def test_the_head_is_sealed_as_events_are_appended(db):
    _events(3)
    head = AuditHead.objects.get(pk=1)
    assert head.seq == 3 and head.seal == audit.head_seal(3, head.mac)


def test_the_database_refuses_to_move_the_head_back(db):
    _events(3)
    with (
        pytest.raises(DatabaseError, match="never moves back"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("UPDATE core_audithead SET seq = seq - 1")
    assert AuditHead.objects.get(pk=1).seq == 3


def test_truncate_is_refused(db):
    """PostgreSQL's TRUNCATE skipped the row-level trigger of 0002; SQLite has no TRUNCATE and
    its DELETE without WHERE fires the row trigger (a table with triggers is never truncated)."""
    _events(2)
    sql = (
        "TRUNCATE core_auditevent"
        if connection.vendor == "postgresql"
        else "DELETE FROM core_auditevent"
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(sql)
    assert AuditEvent.objects.count() == 2


def test_truncate_with_the_row_triggers_lifted_is_still_refused_on_postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is a PostgreSQL statement")
    _events(2)
    _lift_guard()  # the row-level triggers of 0002 only: TRUNCATE never fired them anyway
    with (
        pytest.raises(DatabaseError, match="TRUNCATE refused"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 2


# --- checkpoints outside the database ------------------------------------------------------------


def test_a_checkpoint_catches_a_tail_removed_even_with_a_valid_head(db, settings):
    """Someone who kept an earlier head (or holds the key and re-seals one) and deletes the
    newest events passes the chain check; the checkpoint outside the database does not."""
    _events(3)
    old = AuditHead.objects.get(pk=1)
    _events(2)
    call_command("audit_checkpoint")
    _cut_tail_to(3, seal=old.seal)
    assert audit.verify_chain().ok  # the database alone cannot tell
    result = audit.verify()
    assert not result.ok and result.first_bad_seq == 4 and "removed" in result.problem
    with pytest.raises(CommandError, match="newest events were removed"):
        call_command("audit_verify")


def test_a_checkpoint_catches_a_chain_rewritten_with_the_key(db):
    _events(5)
    audit.checkpoint_write()
    _lift_all_guards()
    # Rewrite event 2 and recompute every MAC after it, with the key, and re-seal the head.
    prev = AuditEvent.objects.get(seq=1).mac
    for ev in AuditEvent.objects.filter(seq__gte=2).order_by("seq"):
        if ev.seq == 2:
            ev.details = {"i": 99}
        ev.prev_mac = prev
        ev.mac = audit.compute_mac(prev, ev)
        ev.save()
        prev = ev.mac
    AuditHead.objects.filter(pk=1).update(mac=prev, seal=audit.head_seal(5, prev))
    assert audit.verify_chain().ok
    result = audit.verify()
    assert not result.ok and "rewritten" in result.problem


def test_an_intact_log_agrees_with_its_checkpoints(db, settings):
    assert "no checkpoint" in audit.verify().notes[0]
    _events(2)
    audit.checkpoint_write()
    _events(2)
    audit.checkpoint_write(kind="manual")
    result = audit.verify()
    assert result.ok and result.checked == 4 and "2 checkpoints agree" in result.notes[0]
    path = settings.REFUGE_AUDIT_CHECKPOINT_FILE
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_text().count("\n") == 2


def test_a_checkpoint_line_forged_without_the_key_is_reported(db, settings):
    import json

    _events(2)
    audit.checkpoint_write()
    path = settings.REFUGE_AUDIT_CHECKPOINT_FILE
    line = json.loads(path.read_text())
    line["seq"] = 1  # pretend the log was checked only up to event 1
    path.write_text(json.dumps(line) + "\n")
    result = audit.verify()
    assert not result.ok and "not signed with the key" in result.problem


def test_no_checkpoint_blesses_a_log_that_went_back(db):
    _events(5)
    audit.checkpoint_write()
    old_seal = audit.head_seal(3, AuditEvent.objects.get(seq=3).mac)
    _cut_tail_to(3, seal=old_seal)
    with pytest.raises(audit.CheckpointError, match="removed"):
        audit.checkpoint_write()
    with pytest.raises(CommandError, match="No checkpoint written"):
        call_command("audit_checkpoint")


def test_a_restore_starts_a_new_epoch_of_checkpoints(db):
    """A restored backup legitimately ends before later checkpoints: the restore's own marker
    (written by `refuge restore`, with the key) is the new reference."""
    _events(3)
    old_seal = AuditHead.objects.get(pk=1).seal
    _events(2)
    audit.checkpoint_write()
    _cut_tail_to(3, seal=old_seal)  # as if the backup taken at event 3 were restored
    assert not audit.verify().ok
    audit.checkpoint_write(kind="restore")
    assert audit.verify().ok


def test_the_worker_writes_a_checkpoint_every_hour(db, settings):
    from refuge.notifications import scheduler

    assert scheduler.JOBS["audit-checkpoint"].every == 3600
    _events(1)
    scheduler.run_job("audit-checkpoint")
    checkpoints, problems = audit.read_checkpoints()
    assert not problems and [c.seq for c in checkpoints] == [1]
