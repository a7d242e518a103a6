"""Blind index of the normalised full name (issue 16, item 3: find her by name).

Existing clients are indexed here: each name is decrypted with her own data key (the field
class works on the historical model); erased clients (key shredded) get no index.
``refuge reindex-names`` does the same again at any time.
"""

from django.db import migrations, models

from refuge.cases.services import name_index
from refuge.core.fields import Erased


def forwards(apps, schema_editor):
    Client = apps.get_model("cases", "Client")
    for client in Client.objects.only("id", "data_key_id", "name").iterator(chunk_size=500):
        name = client.name
        if name and not isinstance(name, Erased):
            Client.objects.filter(pk=client.pk).update(name_index=name_index(name))


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_encrypt_personal_free_text")]

    operations = [
        migrations.AddField(
            model_name="client",
            name="name_index",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
