"""The facts version (refuge.vacancies.facts): its one row, and the triggers that give it a new
random token whenever a table the search keeps between searches is written.

A random token, not a counter: a write rolled back leaves a token nobody will see again, where
a counter would come back to a number a process may already have used for other data.
Immediate, at every statement, not deferred to the commit: a transaction that writes and then
searches (an evacuation marks a facility compromised and plans) must see its own write.
PostgreSQL: statement triggers (a bulk statement bumps it once).
"""

from django.db import migrations, models

TABLES = (
    "directory_facility",
    "directory_houserules",
    "directory_facilityservice",
    "directory_region",
    "core_organisation",
)
BUMP_SQLITE = "UPDATE vacancies_factsversion SET token = lower(hex(randomblob(16))) WHERE id = 1;"
SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS facts_version_{table}_{op.lower()} AFTER {op} ON {table}
        BEGIN {BUMP_SQLITE} END;"""
    for table in TABLES
    for op in ("INSERT", "UPDATE", "DELETE")
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS facts_version_{table}_{op.lower()};"
    for table in TABLES
    for op in ("INSERT", "UPDATE", "DELETE")
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION refuge_facts_version_bump() RETURNS trigger AS $$
       BEGIN
         UPDATE vacancies_factsversion SET token = md5(gen_random_uuid()::text) WHERE id = 1;
         RETURN NULL;
       END $$ LANGUAGE plpgsql;""",
    *(
        f"""CREATE TRIGGER facts_version_{table}
            AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION refuge_facts_version_bump();"""
        for table in TABLES
    ),
]
POSTGRES_DROP = [
    *(f"DROP TRIGGER IF EXISTS facts_version_{table} ON {table};" for table in TABLES),
    "DROP FUNCTION IF EXISTS refuge_facts_version_bump();",
]


def install(apps, schema_editor):
    apps.get_model("vacancies", "FactsVersion").objects.get_or_create(pk=1)
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    statements = POSTGRES_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("vacancies", "0001_initial"),
        ("directory", "0005_seal_confidential_locations"),
        ("core", "0006_rate_limits"),
    ]
    operations = [
        migrations.CreateModel(
            name="FactsVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("token", models.CharField(default="", max_length=64)),
            ],
            options={"verbose_name_plural": "facts version"},
        ),
        migrations.RunPython(install, uninstall),
    ]
