"""Personal free text encrypted with her data key (issue 14, M3); existing rows encrypted."""

from django.db import migrations

import refuge.core.fields
from refuge.core.encrypt_existing import decrypt_columns, encrypt_columns

ENCRYPTED = {"cases.Client": ["close_reason", "legal_hold_reason"], "cases.OtherParty": ["relation"]}


def forwards(apps, schema_editor):
    for model, fields in ENCRYPTED.items():
        encrypt_columns(apps, schema_editor, model=model, fields=fields)


def backwards(apps, schema_editor):
    for model, fields in ENCRYPTED.items():
        decrypt_columns(apps, schema_editor, model=model, fields=fields)


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_stays"), ("core", "0003_sign_in_security")]

    operations = [
        migrations.AlterField(
            model_name="client",
            name="close_reason",
            field=refuge.core.fields.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="client",
            name="legal_hold_reason",
            field=refuge.core.fields.EncryptedTextField(
                blank=True, verbose_name="reason for the legal hold"
            ),
        ),
        migrations.AlterField(
            model_name="otherparty",
            name="relation",
            field=refuge.core.fields.EncryptedTextField(verbose_name="relation to her"),
        ),
        # After the column changes: on PostgreSQL an ALTER after row updates in one
        # transaction fails on pending trigger events.
        migrations.RunPython(forwards, backwards),
    ]
