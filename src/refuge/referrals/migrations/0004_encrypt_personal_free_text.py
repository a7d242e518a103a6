"""Fill the new data keys and encrypt existing escort, payer and close-reason text (M3).

A separate migration from the column changes: PostgreSQL refuses an ALTER TABLE after row
updates in the same transaction (pending trigger events)."""

from django.db import migrations

from refuge.core.encrypt_existing import decrypt_columns, encrypt_columns


def forwards(apps, schema_editor):
    db = schema_editor.connection.alias
    Relocation = apps.get_model("referrals", "Relocation")
    WaitlistEntry = apps.get_model("referrals", "WaitlistEntry")
    for pk, key_id in Relocation.objects.using(db).filter(data_key__isnull=True).values_list(
        "pk", "referral__data_key_id"
    ):
        Relocation.objects.using(db).filter(pk=pk).update(data_key_id=key_id)
    for pk, key_id in WaitlistEntry.objects.using(db).filter(
        data_key__isnull=True
    ).values_list("pk", "client__data_key_id"):
        WaitlistEntry.objects.using(db).filter(pk=pk).update(data_key_id=key_id)
    encrypt_columns(
        apps,
        schema_editor,
        model="referrals.Relocation",
        fields=["escort", "paid_by"],
        bind_attr="referral_id",
    )
    encrypt_columns(apps, schema_editor, model="referrals.WaitlistEntry", fields=["close_reason"])


def backwards(apps, schema_editor):
    decrypt_columns(
        apps,
        schema_editor,
        model="referrals.Relocation",
        fields=["escort", "paid_by"],
        bind_attr="referral_id",
    )
    decrypt_columns(apps, schema_editor, model="referrals.WaitlistEntry", fields=["close_reason"])


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_relocation_waitlist_data_key")]

    operations = [migrations.RunPython(forwards, backwards)]
