import base64

import pytest
from django.db import connection
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from refuge.cases.models import Client
from refuge.cases.services import client_create, client_shred
from refuge.core import crypto
from refuge.core.fields import Erased
from refuge.core.models import DataKey
from refuge.core.services import master_key_rotate

NAME = "Гульнара Асанова"
PHONE = "+996 555 123 456"


def _raw_row(client_id):
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, phone, birth_date FROM cases_client WHERE id = %s",
            [client_id.hex if connection.vendor == "sqlite" else client_id],
        )
        return cur.fetchone()


@pytest.fixture
def client_record(personas):
    return client_create(
        by=personas["caseworker_a"].principal, name=NAME, phone=PHONE, phone_region="KG"
    )


def test_it_round_trips_through_the_database(client_record):
    loaded = Client.objects.get(pk=client_record.pk)
    assert loaded.name == NAME
    assert loaded.phone == "+996555123456"


def test_the_database_row_holds_no_clear_text(client_record):
    row = _raw_row(client_record.pk)
    assert all(v.startswith(crypto.TOKEN_PREFIX) for v in row if v)
    joined = " ".join(v for v in row if v)
    for clear in ("Гульнара", "Асанова", "555123456", "+996"):
        assert clear not in joined


def test_a_value_moved_to_another_row_does_not_decrypt(personas, client_record):
    other = client_create(by=personas["caseworker_a"].principal, name="Other")
    token = Client.objects.filter(pk=client_record.pk).values_list("name", flat=True)[0].token
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE cases_client SET name = %s WHERE id = %s",
            [token, other.pk.hex if connection.vendor == "sqlite" else other.pk],
        )
    with pytest.raises(crypto.CryptoError, match="altered or moved"):
        _ = Client.objects.get(pk=other.pk).name


def test_shredding_the_data_key_erases_every_field(client_record):
    client_shred(by=None, client=client_record, reason="retention")
    loaded = Client.objects.get(pk=client_record.pk)
    assert isinstance(loaded.name, Erased)
    assert isinstance(loaded.phone, Erased)
    assert DataKey.objects.get(pk=client_record.data_key_id).wrapped is None
    assert loaded.phone_index == ""


def test_a_wrong_master_key_gives_a_clear_error_not_garbage(client_record):
    other = "test1:" + base64.b64encode(b"x" * 32).decode()
    crypto.master_keys.cache_clear()
    try:
        with override_settings(REFUGE_MASTER_KEY=other):
            crypto.master_keys.cache_clear()
            crypto.key_cache.clear()
            with pytest.raises(crypto.CryptoError, match="does not open this data key"):
                _ = Client.objects.get(pk=client_record.pk).name
    finally:
        crypto.master_keys.cache_clear()


def test_an_unknown_master_key_id_names_the_missing_key(client_record):
    crypto.master_keys.cache_clear()
    try:
        with override_settings(REFUGE_MASTER_KEY="k9:" + base64.b64encode(b"n" * 32).decode()):
            crypto.master_keys.cache_clear()
            crypto.key_cache.clear()
            with pytest.raises(crypto.CryptoError, match="'test1'.*not in REFUGE_MASTER_KEY"):
                _ = Client.objects.get(pk=client_record.pk).name
    finally:
        crypto.master_keys.cache_clear()


def test_master_key_rotation_rewraps_keys_and_the_old_key_can_go(client_record):
    from django.conf import settings as dj

    old = dj.REFUGE_MASTER_KEY
    new = "k2:" + base64.b64encode(b"r" * 32).decode()
    try:
        with override_settings(REFUGE_MASTER_KEY=f"{new},{old}"):
            crypto.master_keys.cache_clear()
            assert master_key_rotate(by=None) == 1
            assert DataKey.objects.get(pk=client_record.data_key_id).master_key_id == "k2"
        with override_settings(REFUGE_MASTER_KEY=new):
            crypto.master_keys.cache_clear()
            crypto.key_cache.clear()
            assert Client.objects.get(pk=client_record.pk).name == NAME
    finally:
        crypto.master_keys.cache_clear()


def test_blind_index_is_keyed_and_domain_separated():
    a = crypto.blind_index("+996555123456", purpose="phone")
    assert a == crypto.blind_index("+996555123456", purpose="phone")
    assert a != crypto.blind_index("+996555123456", purpose="email")
    assert "996555" not in a
    with override_settings(REFUGE_BLIND_INDEX_KEY=base64.b64encode(b"z" * 32).decode()):
        crypto._blind_key.cache_clear()
        assert crypto.blind_index("+996555123456", purpose="phone") != a
    crypto._blind_key.cache_clear()


@pytest.mark.parametrize(
    "value, message",
    [
        ("", "not set"),
        ("k1:not-base64!!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (
            "a:"
            + base64.b64encode(b"a" * 32).decode()
            + ",a:"
            + base64.b64encode(b"b" * 32).decode(),
            "repeated",
        ),
    ],
)
def test_bad_master_key_settings_are_refused_clearly(value, message):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_master_keys(value)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_survives_encryption(text):
    key = DataKey.objects.create(
        **dict(zip(("master_key_id", "wrapped"), crypto.wrap_data_key(b"k" * 32), strict=True))
    )
    token = crypto.encrypt_value(key.pk, text, b"aad")
    assert crypto.decrypt_value(token, b"aad") == text
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_value(token, b"other")
