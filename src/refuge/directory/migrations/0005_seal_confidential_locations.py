"""A confidential facility's street address, postal code and exact point sealed at rest under
a network-level key (issue 14, M4). The coordinates become text columns so they can hold a
token; they still read as floats (refuge.directory.fields)."""

from django.db import migrations

import refuge.directory.fields
from refuge.core import crypto
from refuge.directory.fields import PURPOSE, _aad

FIELDS = ("address", "postal_code", "latitude", "longitude")


def _clear(name, value):
    if value is None or value == "":
        return value
    return repr(float(value)) if name in ("latitude", "longitude") else str(value)


def seal(apps, schema_editor):
    Facility = apps.get_model("directory", "Facility")
    db = schema_editor.connection.alias
    # The historical fields unseal on load, so this reads clear values in every case.
    rows = Facility.objects.using(db).filter(address_visibility="confidential")
    for pk, *values in rows.values_list("pk", *FIELDS):
        update = {
            name: crypto.seal_network(_clear(name, v), purpose=PURPOSE, aad=_aad(name))
            for name, v in zip(FIELDS, values, strict=True)
            if v is not None and v != ""
        }
        if update:
            Facility.objects.using(db).filter(pk=pk).update(**update)


def unseal(apps, schema_editor):
    Facility = apps.get_model("directory", "Facility")
    db = schema_editor.connection.alias
    rows = Facility.objects.using(db).filter(address_visibility="confidential")
    for pk, *values in rows.values_list("pk", *FIELDS):
        update = {
            name: _clear(name, v)
            for name, v in zip(FIELDS, values, strict=True)
            if v is not None and v != ""
        }
        if update:
            Facility.objects.using(db).filter(pk=pk).update(**update)


class Migration(migrations.Migration):
    dependencies = [("directory", "0004_facility_opening_hours")]

    operations = [
        migrations.AlterField(
            model_name="facility",
            name="address",
            field=refuge.directory.fields.SealedTextField(
                blank=True, max_length=300, verbose_name="street address"
            ),
        ),
        migrations.AlterField(
            model_name="facility",
            name="postal_code",
            field=refuge.directory.fields.SealedTextField(
                blank=True, max_length=20, verbose_name="postal code"
            ),
        ),
        migrations.AlterField(
            model_name="facility",
            name="latitude",
            field=refuge.directory.fields.SealedFloatField(
                blank=True, null=True, verbose_name="latitude"
            ),
        ),
        migrations.AlterField(
            model_name="facility",
            name="longitude",
            field=refuge.directory.fields.SealedFloatField(
                blank=True, null=True, verbose_name="longitude"
            ),
        ),
        # Last: on PostgreSQL an ALTER after row updates in one transaction fails.
        migrations.RunPython(seal, unseal),
    ]
