"""Per facility, the rooms version (refuge.vacancies.facts): triggers give it a new random token
whenever one of its rooms is written (created, changed, reported on, deleted), in the writing
transaction, at once (a transaction sees its own writes). An upsert per written room; the rooms
are locked before they are written (refuge.vacancies.beds), so the version row after them."""

from django.db import migrations, models

SQLITE_UPSERT = """INSERT INTO vacancies_roomsversion (facility_id, token)
    VALUES ({row}.facility_id, lower(hex(randomblob(16))))
    ON CONFLICT (facility_id) DO UPDATE SET token = excluded.token;"""
SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS rooms_version_insert AFTER INSERT ON vacancies_room
        BEGIN {SQLITE_UPSERT.format(row="NEW")} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS rooms_version_update AFTER UPDATE ON vacancies_room
        BEGIN {SQLITE_UPSERT.format(row="OLD")} {SQLITE_UPSERT.format(row="NEW")} END;""",
    f"""CREATE TRIGGER IF NOT EXISTS rooms_version_delete AFTER DELETE ON vacancies_room
        BEGIN {SQLITE_UPSERT.format(row="OLD")} END;""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS rooms_version_{op};" for op in ("insert", "update", "delete")
]
POSTGRES_UPSERT = """INSERT INTO vacancies_roomsversion (facility_id, token)
    VALUES ({row}.facility_id, md5(gen_random_uuid()::text))
    ON CONFLICT (facility_id) DO UPDATE SET token = excluded.token;"""
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION refuge_rooms_version_bump() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN {POSTGRES_UPSERT.format(row="OLD")} END IF;
         IF TG_OP <> 'DELETE' THEN {POSTGRES_UPSERT.format(row="NEW")} END IF;
         RETURN NULL;
       END $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER rooms_version AFTER INSERT OR UPDATE OR DELETE ON vacancies_room
       FOR EACH ROW EXECUTE FUNCTION refuge_rooms_version_bump();""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS rooms_version ON vacancies_room;",
    "DROP FUNCTION IF EXISTS refuge_rooms_version_bump();",
]


def install(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    token = "md5(gen_random_uuid()::text)" if postgres else "lower(hex(randomblob(16)))"
    schema_editor.execute(
        "INSERT INTO vacancies_roomsversion (facility_id, token) "
        f"SELECT facility_id, {token} FROM (SELECT DISTINCT facility_id FROM vacancies_room) r"
    )
    for sql in POSTGRES if postgres else SQLITE:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for sql in POSTGRES_DROP if postgres else SQLITE_DROP:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("vacancies", "0002_factsversion")]
    operations = [
        migrations.CreateModel(
            name="RoomsVersion",
            fields=[
                ("facility_id", models.UUIDField(primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=64)),
            ],
            options={"verbose_name_plural": "rooms versions"},
        ),
        migrations.RunPython(install, uninstall),
    ]
