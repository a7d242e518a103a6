from django.db import migrations


def forwards(apps, schema_editor):
    from refuge.directory.regions import load_regions

    load_regions(apps.get_model("directory", "Region"))


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
