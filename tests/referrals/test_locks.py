"""Issue 14, M1: a service that holds places locks its own rows and nothing else, and several rooms
in one order. On PostgreSQL (SQLite takes the whole database's write lock instead)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuge.cases.services import client_create
from refuge.referrals import services
from tests.directory.factories import make_facility
from tests.referrals.conftest import system

LOCK = re.compile(r"\bFOR (NO KEY )?UPDATE\b")
# The rows a placement locks (the audit log's head is refuge.core.audit's own, one row).
MINE = r'FROM "(vacancies_room|referrals_referral|cases_client|core_organisation)"'


@pytest.fixture
def postgresql(db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (DATABASE_URL); SQLite locks the database")


def _locks(queries) -> list[str]:
    return [q["sql"] for q in queries if LOCK.search(q["sql"])]


def test_every_lock_of_a_referral_takes_only_its_own_rows_in_key_order(postgresql, personas, orgs):
    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    shelters = [
        system(
            make_facility(
                orgs["b"], f"S{i}", region="RU-YAR", rooms=[("dorm", 1), ("dorm", 2), ("family", 3)]
            )
        )
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as created:
        ref = services.referral_create(
            by=p,
            client=None,
            household={"woman_age": 30},
            facility_ids=[f.pk for f in reversed(shelters)],
        )
    with CaptureQueriesContext(connection) as answered:
        services.referral_decline(by=b, referral=ref, facility=shelters[2], reason="safety")
        services.referral_accept(by=b, referral=ref, facility=shelters[0])
    with CaptureQueriesContext(connection) as arrived:
        services.referral_arrive(by=b, referral=ref)
    locks = _locks(created) + _locks(answered) + _locks(arrived)
    assert locks
    for sql in locks:
        assert "JOIN" not in sql.upper(), sql  # no facility, organisation or client beside it
    ours = [sql for sql in locks if re.search(MINE, sql)]
    assert {re.search(MINE, sql).group(1) for sql in ours} == {
        "vacancies_room",
        "referrals_referral",
        "cases_client",
        "core_organisation",
    }
    assert all(re.search(r"FOR (NO KEY )?UPDATE OF ", sql) for sql in ours), ours
    # Every room that may be held is locked in one statement, by primary key.
    rooms = [sql for sql in _locks(created) if '"vacancies_room"' in sql]
    assert len(rooms) == 1 and 'ORDER BY "vacancies_room"."id" ASC' in rooms[0]


def test_a_stay_locks_only_its_room(postgresql, personas, orgs):
    b = personas["caseworker_b"].principal
    shelter = system(make_facility(orgs["b"], "S", region="RU-YAR", rooms=[("dorm", 2)]))
    room = shelter.rooms.get()
    with CaptureQueriesContext(connection) as admitted:
        from refuge.cases.services import stay_admit

        stay_admit(by=b, client=client_create(by=b), room_id=room.pk)
    locks = [sql for sql in _locks(admitted) if '"vacancies_room"' in sql]
    assert len(locks) == 1 and "JOIN" not in locks[0].upper() and " OF " in locks[0]


def _wait_for_a_lock_wait(seconds: float = 20) -> None:
    """Until another connection to this database waits on a row lock."""
    import time

    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction the statistics views keep their first snapshot.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the other transaction never waited for the room")


def in_a_thread(service):
    """A thread (not started) that runs ``service`` on its own connection, and where it puts
    the outcome: ``{"code": "accepted"}``, a ServiceError's code, or any other error's repr
    (reported by the test's assertion)."""
    import threading

    from refuge.core.services import ServiceError

    outcome: dict[str, str] = {}

    def run() -> None:
        try:
            service()
        except ServiceError as exc:
            outcome["code"] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported by the assertion of the test
            outcome["code"] = repr(exc)
        else:
            outcome["code"] = "accepted"
        finally:
            connection.close()

    return threading.Thread(target=run), outcome


def test_an_accept_that_waited_for_the_room_sees_the_stay_made_meanwhile(
    transactional_db, personas, orgs
):
    """The double claim seen once in CI (issue 15): an accept with no hold of its own read the
    clock, then waited for the room's lock while another referral's arrival turned its hold on
    the family room into a stay. The stay began after the accept's clock, so the claims "at"
    that moment left it out, and the accept held the same bed: a family room promised twice.
    Here the interleaving is forced: the room is locked, the accept waits, the arrival commits."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from refuge.cases.models import Stay
    from refuge.referrals.models import ReferralTarget
    from refuge.vacancies import beds

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (DATABASE_URL); SQLite locks the database")
    p, b = personas["operator_a"].principal, personas["caseworker_b"].principal
    shelter = system(make_facility(orgs["b"], "S", region="RU-YAR", rooms=[("family", 3)]))
    room = shelter.rooms.get()

    def refer():
        return services.referral_create(
            by=p, client=None, household={"woman_age": 30}, facility_ids=[shelter.pk]
        )

    # The second referral's hold lapses; the first one then holds the room and is accepted.
    second = refer()
    second.targets.update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    first = refer()
    services.referral_accept(by=b, referral=first, facility=shelter)
    assert not second.targets.get().hold_active  # the room is the first one's

    waiting, outcome = in_a_thread(
        lambda: services.referral_accept(by=b, referral=second, facility=shelter)
    )
    with transaction.atomic():
        beds.lock_room(room.pk)
        waiting.start()
        _wait_for_a_lock_wait()
        services.referral_arrive(by=b, referral=first)
    waiting.join(timeout=60)
    assert outcome == {"code": "no_place"}
    stays = Stay.objects.filter(room=room, discharged_at__isnull=True).count()
    holds = ReferralTarget.objects.filter(hold_room=room, hold_active=True).count()
    assert (stays, holds) == (1, 0)
