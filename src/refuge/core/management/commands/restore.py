import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from refuge.core.audit import verify_chain
from refuge.core.management.commands.backup import pg_env_and_url


class Command(BaseCommand):
    help = "Restore a backup made by `refuge backup` into this installation's database, then check the audit chain."

    def add_arguments(self, parser):
        parser.add_argument("source")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that holds data"
        )

    def _has_data(self) -> bool:
        from refuge.core.models import Organisation

        try:
            return Organisation.objects.exists()
        except Exception:  # noqa: BLE001 - no tables yet means nothing to lose
            return False

    def handle(self, *args, source, force, **options):
        src = Path(source)
        if not src.is_file():
            raise CommandError(f"No backup at {source}.")
        if self._has_data() and not force:
            raise CommandError(
                "This database holds data; restore into an empty one, or pass --force."
            )
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            backup = sqlite3.connect(src)
            with backup:
                backup.backup(connection.connection)
            backup.close()
        elif connection.vendor == "postgresql":
            if not shutil.which("pg_restore"):
                raise CommandError(
                    "pg_restore is not installed (Debian package postgresql-client)."
                )
            url, env = pg_env_and_url()
            connection.close()
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell; the URL is ours
                [
                    shutil.which("pg_restore") or "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    f"--dbname={url}",
                    str(src),
                ],
                env={**env, "PATH": "/usr/bin:/bin:/usr/local/bin"},
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise CommandError(f"pg_restore failed: {done.stderr.strip()[:500]}")
        else:
            raise CommandError(f"No restore for {connection.vendor}.")
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"Restored, but the audit chain is broken at event {result.first_bad_seq}: {result.problem}"
            )
        self.stdout.write(f"Restored from {src}; audit chain intact ({result.checked} events).")
