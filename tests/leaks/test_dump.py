"""A database dump holds no personal free text in clear (issue 14, M3; SPEC S3).

Markers are planted in every free-text field of a case through the services, then every
column of every table is read back as the database stores it (what `pg_dump` or a copy of the
SQLite file carries) and searched for the markers. Also: the data migration encrypts rows
written in clear before it ran.
"""

from __future__ import annotations

import pytest
from django.apps import apps as global_apps
from django.db import connection

from refuge.cases.models import Client, OtherParty
from refuge.cases.services import client_close, legal_hold_set, other_party_add
from refuge.core import crypto
from refuge.core.encrypt_existing import encrypt_columns
from refuge.referrals import services as referrals
from refuge.referrals.models import Relocation, WaitlistEntry
from tests.referrals.conftest import FAMILY, client_a, network  # noqa: F401 (fixtures)

MARKERS = {
    "close_reason": "ZQCLOSE returned to husband Bakyt Asanov",
    "legal_hold_reason": "ZQHOLD court case 2-1234 against Asanov",
    "relation": "ZQRELATION ex-husband",
    "escort": "ZQESCORT brother Timur",
    "paid_by": "ZQPAIDBY her sister Aida",
    "waitlist": "ZQWAIT moved in with her aunt",
}


def dump() -> bytes:
    """Every value of every table, as stored."""
    out = bytearray()
    with connection.cursor() as cur:
        for table in connection.introspection.table_names():
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cur.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        out += bytes(value)
                    elif value is not None:
                        out += str(value).encode()
                    out += b"\x1f"
    return bytes(out)


def _assert_nowhere(blob: bytes) -> None:
    found = [m for m in MARKERS.values() if m.split()[0].encode() in blob]
    assert found == [], f"in clear in the database: {found}"


@pytest.mark.django_db(transaction=True)
def test_planted_free_text_is_nowhere_in_clear(personas, network, client_a):  # noqa: F811
    by_a, by_b = personas["operator_a"].principal, personas["caseworker_b"].principal
    manager = personas["manager_a"].principal
    other_party_add(by=by_a, client=client_a, relation=MARKERS["relation"], name="X")
    legal_hold_set(by=manager, client=client_a, on=True, reason=MARKERS["legal_hold_reason"])
    ref = referrals.referral_create(
        by=by_a, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    referrals.referral_accept(by=by_b, referral=ref, facility=network["vla"])
    ref.refresh_from_db()
    referrals.relocation_plan(
        by=by_a,
        referral=ref,
        mode="train",
        escort=MARKERS["escort"],
        paid_by=MARKERS["paid_by"],
        carriers=[personas["operator_a"].user],
    )
    entry = referrals.waitlist_add(by=by_a, client=client_a, household=FAMILY)
    referrals.waitlist_called_back(by=by_a, entry=entry, close=True, reason=MARKERS["waitlist"])
    client_close(by=by_a, client=client_a, reason=MARKERS["close_reason"])

    _assert_nowhere(dump())
    # ...and the people allowed to read them still do.
    crypto.key_cache.clear()
    client = Client.objects.get(pk=client_a.pk)
    assert client.close_reason == MARKERS["close_reason"]
    assert client.legal_hold_reason == MARKERS["legal_hold_reason"]
    assert OtherParty.objects.get(client=client).relation == MARKERS["relation"]
    reloc = Relocation.objects.get(referral=ref)
    assert (reloc.escort, reloc.paid_by) == (MARKERS["escort"], MARKERS["paid_by"])
    assert WaitlistEntry.objects.get(pk=entry.pk).close_reason == MARKERS["waitlist"]


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_rows_written_in_clear(personas, network, client_a):  # noqa: F811
    by_a = personas["operator_a"].principal
    party = other_party_add(by=by_a, client=client_a, relation="placeholder")
    ref = referrals.referral_create(
        by=by_a, client=client_a, household=FAMILY, facility_ids=[network["vla"].pk]
    )
    referrals.referral_accept(
        by=personas["caseworker_b"].principal, referral=ref, facility=network["vla"]
    )
    ref.refresh_from_db()
    referrals.relocation_plan(by=by_a, referral=ref, mode="bus")
    # What a database from before the migration holds: clear text in the columns (a
    # queryset update writes the value as given, as the old CharField did).
    Client.objects.filter(pk=client_a.pk).update(
        close_reason=MARKERS["close_reason"], legal_hold_reason=MARKERS["legal_hold_reason"]
    )
    OtherParty.objects.filter(pk=party.pk).update(relation=MARKERS["relation"])
    Relocation.objects.filter(referral=ref).update(
        escort=MARKERS["escort"], paid_by=MARKERS["paid_by"]
    )
    assert MARKERS["escort"].split()[0].encode() in dump()  # planted in clear, as before

    with connection.schema_editor() as editor:
        for model, fields, bind in (
            ("cases.Client", ["close_reason", "legal_hold_reason"], "pk"),
            ("cases.OtherParty", ["relation"], "pk"),
            ("referrals.Relocation", ["escort", "paid_by"], "referral_id"),
        ):
            encrypt_columns(global_apps, editor, model=model, fields=fields, bind_attr=bind)
            # A second run changes nothing (already tokens).
            assert encrypt_columns(global_apps, editor, model=model, fields=fields,
                                   bind_attr=bind) == 0  # fmt: skip

    _assert_nowhere(dump())
    crypto.key_cache.clear()
    client = Client.objects.get(pk=client_a.pk)
    assert client.close_reason == MARKERS["close_reason"]
    assert OtherParty.objects.get(pk=party.pk).relation == MARKERS["relation"]
    assert Relocation.objects.get(referral=ref).paid_by == MARKERS["paid_by"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_empties_clear_text_of_a_shredded_person(personas, client_a):  # noqa: F811
    from refuge.cases.services import client_shred

    client_shred(by=None, client=client_a, reason="test")
    Client.objects.filter(pk=client_a.pk).update(close_reason=MARKERS["close_reason"])
    assert MARKERS["close_reason"].split()[0].encode() in dump()
    with connection.schema_editor() as editor:
        encrypt_columns(global_apps, editor, model="cases.Client", fields=["close_reason"])
    _assert_nowhere(dump())
