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
