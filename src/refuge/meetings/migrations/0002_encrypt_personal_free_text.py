"""Personal free text encrypted with her data key (issue 14, M3); existing rows encrypted."""

from django.db import migrations

import refuge.core.fields
from refuge.core.encrypt_existing import decrypt_columns, encrypt_columns

ENCRYPTED = {"meetings.AgendaItem": ["left_reason", "legal_basis"]}


def forwards(apps, schema_editor):
    for model, fields in ENCRYPTED.items():
        encrypt_columns(apps, schema_editor, model=model, fields=fields)


def backwards(apps, schema_editor):
    for model, fields in ENCRYPTED.items():
        decrypt_columns(apps, schema_editor, model=model, fields=fields)


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_initial"), ("core", "0003_sign_in_security")]

    operations = [
        migrations.AlterField(
            model_name="agendaitem",
            name="left_reason",
            field=refuge.core.fields.EncryptedTextField(
                blank=True, verbose_name="reason it leaves the list"
            ),
        ),
        migrations.AlterField(
            model_name="agendaitem",
            name="legal_basis",
            field=refuge.core.fields.EncryptedTextField(
                blank=True, verbose_name="legal basis (if no consent)"
            ),
        ),
        # After the column changes: on PostgreSQL an ALTER after row updates in one
        # transaction fails on pending trigger events.
        migrations.RunPython(forwards, backwards),
    ]
