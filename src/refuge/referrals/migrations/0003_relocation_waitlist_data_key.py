"""Relocation and waiting-list rows get her data key; escort, payer and close reason become
encrypted columns (issue 14, M3). The keys are filled and the text encrypted in 0004."""

import django.db.models.deletion
from django.db import migrations, models

import refuge.core.fields


class Migration(migrations.Migration):
    dependencies = [("referrals", "0002_search_probe"), ("core", "0003_sign_in_security")]

    operations = [
        migrations.AddField(
            model_name="relocation",
            name="data_key",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.datakey",
            ),
        ),
        migrations.AddField(
            model_name="waitlistentry",
            name="data_key",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.datakey",
            ),
        ),
        migrations.AlterField(
            model_name="relocation",
            name="escort",
            field=refuge.core.fields.EncryptedTextField(
                bind_to="referral_id", blank=True, verbose_name="escort"
            ),
        ),
        migrations.AlterField(
            model_name="relocation",
            name="paid_by",
            field=refuge.core.fields.EncryptedTextField(
                bind_to="referral_id", blank=True, verbose_name="paid by"
            ),
        ),
        migrations.AlterField(
            model_name="waitlistentry",
            name="close_reason",
            field=refuge.core.fields.EncryptedTextField(blank=True),
        ),
    ]
