import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from refuge.core import audit, private_files


def pg_env_and_url():
    s = connection.settings_dict
    url = f"postgresql://{s['USER']}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = {"PGPASSWORD": s.get("PASSWORD") or ""}
    return url, env


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite: online backup; PostgreSQL: pg_dump custom format). Personal fields stay "
        "encrypted; the keys are NOT in the backup: keep them apart (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("dest", help="file to write")

    def handle(self, *args, dest, **options):
        dest_path = Path(dest)
        try:
            # 0600 from the start, and never over an existing file (or a planted symlink).
            private_files.create_new(dest_path)
        except FileExistsError:
            raise CommandError(f"{dest} exists already; choose a new file.") from None
        except OSError as exc:
            raise CommandError(f"Cannot create {dest}: {exc.strerror}.") from None
        try:
            self._backup(dest_path)
        except BaseException:
            dest_path.unlink(missing_ok=True)
            raise
        self.stdout.write(
            f"Backup written to {dest_path}. The keys are not in it: keep REFUGE_MASTER_KEY and "
            "REFUGE_BLIND_INDEX_KEY safe and apart; without them the backup cannot be read. "
            "Keep the shred ledger and the audit checkpoints (REFUGE_HOME) with the keys."
        )

    def _backup(self, dest_path: Path) -> None:
        audit.record(actor=None, action="backup", details={"vendor": connection.vendor})
        # The head this backup holds, vouched for outside it: a restore can be compared with it.
        try:
            audit.checkpoint_write(kind="backup")
        except audit.CheckpointError as exc:
            # Still back up: a copy of a log that was tampered with is evidence.
            self.stderr.write(f"WARNING: no audit checkpoint written: {exc}.")
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(dest_path)
            with target:
                connection.connection.backup(target)
            target.close()
        elif connection.vendor == "postgresql":
            if not shutil.which("pg_dump"):
                raise CommandError("pg_dump is not installed (Debian package postgresql-client).")
            url, env = pg_env_and_url()
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell; the URL is ours
                [
                    shutil.which("pg_dump") or "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--file={dest_path}",
                    url,
                ],
                env={**env, "PATH": "/usr/bin:/bin:/usr/local/bin"},
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise CommandError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        else:
            raise CommandError(f"No backup for {connection.vendor}.")
