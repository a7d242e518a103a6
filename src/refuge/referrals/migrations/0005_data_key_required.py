"""Every relocation and waiting-list row now has her data key (filled in 0004)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("referrals", "0004_encrypt_personal_free_text")]

    operations = [
        migrations.AlterField(
            model_name="relocation",
            name="data_key",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="core.datakey"
            ),
        ),
        migrations.AlterField(
            model_name="waitlistentry",
            name="data_key",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="core.datakey"
            ),
        ),
    ]
