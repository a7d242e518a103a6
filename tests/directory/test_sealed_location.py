"""A confidential facility's street address and exact point are sealed at rest under a
network key (issue 14, M4; SPEC S1, S3); public facilities stay clear; readers see no change."""

from __future__ import annotations

import pytest
from django.apps import apps as global_apps
from django.db import connection

from refuge.core import crypto
from refuge.directory.models import Facility
from refuge.directory.services import facility_update
from tests.directory.factories import make_facility
from tests.leaks.test_dump import dump

STREET = "Zqsealed lane 7"
POSTCODE = "ZQ6001"
LAT, LON = 55.123456789, 37.987654321


def _stored(facility) -> dict:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT address, postal_code, latitude, longitude FROM directory_facility "
            "WHERE name = %s",
            [facility.name],
        )
        return dict(
            zip(("address", "postal_code", "latitude", "longitude"), cur.fetchone(), strict=True)
        )


def _clear_anywhere(stored: dict) -> bool:
    text = " ".join(str(v) for v in stored.values())
    return any(s in text for s in (STREET, POSTCODE, "55.123", "37.987"))


@pytest.fixture
def hidden(orgs):
    return make_facility(orgs["a"], "Hidden house", address=STREET, postal_code=POSTCODE,
                         locality="Hiddenville", latitude=LAT, longitude=LON)  # fmt: skip


def test_a_confidential_location_is_sealed_in_the_row_and_reads_as_before(hidden):
    stored = _stored(hidden)
    assert all(crypto.is_sealed(v) for v in stored.values()), stored
    assert not _clear_anywhere(stored)
    again = Facility.objects.get(pk=hidden.pk)
    assert (again.address, again.postal_code) == (STREET, POSTCODE)
    assert (again.latitude, again.longitude) == (LAT, LON) and again.has_point
    # Query-level readers (placement distances, the vacancy facts) get floats too.
    assert Facility.objects.filter(pk=hidden.pk).values_list("latitude", "longitude").get() == (
        LAT,
        LON,
    )
    assert Facility.objects.filter(pk=hidden.pk, latitude__isnull=False).exists()
    # The region and the town stay clear for coarse use.
    assert again.region_id == "RU-MOW" and again.locality == "Hiddenville"


def test_the_whole_database_holds_no_clear_street_or_point(hidden):
    blob = dump()
    assert STREET.encode() not in blob and POSTCODE.encode() not in blob
    assert b"55.123456" not in blob and b"37.987654" not in blob


def test_a_public_facility_stays_clear(orgs):
    public = make_facility(orgs["a"], "Open centre", address_visibility="public",
                           address="Open street 1", latitude=LAT, longitude=LON)  # fmt: skip
    stored = _stored(public)
    assert stored["address"] == "Open street 1"
    assert float(stored["latitude"]) == LAT


def test_changing_the_visibility_seals_or_unseals(orgs):
    f = make_facility(orgs["a"], "Moving house", address_visibility="public",
                      address=STREET, latitude=LAT, longitude=LON)  # fmt: skip
    assert _stored(f)["address"] == STREET
    facility_update(by=None, facility=f, address_visibility="confidential")
    assert not _clear_anywhere(_stored(f))
    facility_update(by=None, facility=f, address_visibility="public")
    assert _stored(f)["address"] == STREET


def test_a_token_moved_to_another_column_does_not_open(hidden):
    stored = _stored(hidden)
    Facility.objects.filter(pk=hidden.pk).update(address=stored["latitude"])
    with pytest.raises(crypto.CryptoError):
        Facility.objects.get(pk=hidden.pk)


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_existing_confidential_rows(orgs):
    from importlib import import_module

    hidden = make_facility(orgs["a"], "Old hidden house", address=STREET,
                           latitude=LAT, longitude=LON)  # fmt: skip
    public = make_facility(orgs["a"], "Old open house", address_visibility="public",
                           address="Open street 1")  # fmt: skip
    # As before the migration: clear values in the columns (update() writes them as given).
    Facility.objects.filter(pk=hidden.pk).update(address=STREET, latitude=LAT, longitude=LON)
    assert _stored(hidden)["address"] == STREET
    migration = import_module("refuge.directory.migrations.0005_seal_confidential_locations")
    with connection.schema_editor() as editor:
        migration.seal(global_apps, editor)
    assert not _clear_anywhere(_stored(hidden))
    assert _stored(public)["address"] == "Open street 1"
    assert Facility.objects.get(pk=hidden.pk).latitude == LAT


def test_rotation_reseals_under_the_new_master_key(hidden):
    import base64

    from django.conf import settings as dj
    from django.core.management import call_command
    from django.test import override_settings

    old = dj.REFUGE_MASTER_KEY
    new = "k2:" + base64.b64encode(b"r" * 32).decode()
    try:
        with override_settings(REFUGE_MASTER_KEY=f"{new},{old}"):
            crypto.master_keys.cache_clear()
            call_command("rotate_master_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
            assert _stored(hidden)["address"].startswith(crypto.NETWORK_PREFIX + "k2.")
        with override_settings(REFUGE_MASTER_KEY=new):
            crypto.master_keys.cache_clear()
            assert Facility.objects.get(pk=hidden.pk).address == STREET
    finally:
        crypto.master_keys.cache_clear()


def test_a_sealed_value_given_back_is_not_sealed_twice(hidden):
    stored = _stored(hidden)
    f = Facility.objects.get(pk=hidden.pk)
    f.address, f.latitude = stored["address"], stored["latitude"]  # as a loader would
    f.save()
    again = Facility.objects.get(pk=hidden.pk)
    assert (again.address, again.latitude) == (STREET, LAT)
