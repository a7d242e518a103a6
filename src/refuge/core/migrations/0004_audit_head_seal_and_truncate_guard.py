"""The audit tail (issue 14, M2): the head sealed with a key, the head never moved back, and
on PostgreSQL a statement-level trigger that refuses TRUNCATE (the row-level triggers of 0002
do not fire for it). SQLite has no TRUNCATE: its ``DELETE FROM`` without WHERE fires the
row-level trigger of 0002, because a table with triggers never takes the truncate shortcut.
"""

from django.db import migrations, models

SQLITE = [
    """CREATE TRIGGER IF NOT EXISTS core_audithead_forward BEFORE UPDATE ON core_audithead
       WHEN NEW.seq < OLD.seq
       BEGIN SELECT RAISE(ABORT, 'the audit head never moves back'); END;""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS core_audithead_forward;"]
POSTGRES_TRUNCATE_GUARD = [
    """CREATE OR REPLACE FUNCTION refuge_audit_no_truncate() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit events are append-only (TRUNCATE refused)'; END $$
       LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_auditevent_no_truncate BEFORE TRUNCATE ON core_auditevent
       FOR EACH STATEMENT EXECUTE FUNCTION refuge_audit_no_truncate();""",
]
POSTGRES_TRUNCATE_GUARD_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_truncate ON core_auditevent;",
    "DROP FUNCTION IF EXISTS refuge_audit_no_truncate();",
]
POSTGRES = [
    *POSTGRES_TRUNCATE_GUARD,
    """CREATE OR REPLACE FUNCTION refuge_audit_head_forward() RETURNS trigger AS $$
       BEGIN
         IF NEW.seq < OLD.seq THEN
           RAISE EXCEPTION 'the audit head never moves back';
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER core_audithead_forward BEFORE UPDATE ON core_audithead
       FOR EACH ROW EXECUTE FUNCTION refuge_audit_head_forward();""",
]
POSTGRES_DROP = [
    *POSTGRES_TRUNCATE_GUARD_DROP,
    "DROP TRIGGER IF EXISTS core_audithead_forward ON core_audithead;",
    "DROP FUNCTION IF EXISTS refuge_audit_head_forward();",
]


def install(apps, schema_editor):
    from refuge.core.audit import head_seal

    # The head as it stands is sealed with the key: it is trusted as far as 0002 trusted it.
    for head in apps.get_model("core", "AuditHead").objects.all():
        head.seal = head_seal(head.seq, head.mac)
        head.save(update_fields=["seal"])
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def uninstall(apps, schema_editor):
    statements = POSTGRES_DROP if schema_editor.connection.vendor == "postgresql" else SQLITE_DROP
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_sign_in_security")]
    operations = [
        migrations.AddField(
            model_name="audithead",
            name="seal",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(install, uninstall),
    ]
