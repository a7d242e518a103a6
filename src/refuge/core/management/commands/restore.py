import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from refuge.core import audit, shred_ledger
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
        self._compare_with_checkpoints()
        # Everyone erased since this backup was taken is erased again before anyone reads it.
        done = shred_ledger.reapply()
        for problem in done.problems:
            self.stderr.write(f"WARNING: {problem} (skipped).")
        self.stdout.write(
            f"Shred ledger re-applied: {done.entries} entries, {done.destroyed} data keys in the "
            "backup destroyed again."
        )
        cp = audit.checkpoint_write(kind="restore")
        self.stdout.write(f"Audit checkpoint written for the restored log (event {cp.seq}).")

    def _compare_with_checkpoints(self) -> None:
        """Say what the restore dropped, and warn if the backup is not a past state of this
        installation's log (the checkpoints written before it disagree)."""
        checkpoints, problems = audit.read_checkpoints()
        for problem in problems:
            self.stderr.write(f"WARNING: {problem}.")
        epoch = audit.current_epoch(checkpoints)
        head = audit.AuditHead.objects.filter(pk=1).first()
        head_seq = head.seq if head else 0
        earlier = [c for c in epoch if c.seq <= head_seq]
        problem, _seq = audit.compare_with_checkpoints(earlier, head_seq)
        if problem:
            self.stderr.write(
                f"WARNING: this backup does not match this installation's audit checkpoints: "
                f"{problem}."
            )
        if epoch and epoch[-1].seq > head_seq:
            self.stdout.write(
                f"The restored log ends at event {head_seq}; events up to {epoch[-1].seq} "
                f"(checkpoint of {epoch[-1].at}) were recorded after this backup and are not in it."
            )
