from django.core.management.base import BaseCommand

from refuge.core import shred_ledger


class Command(BaseCommand):
    help = (
        "Destroy again every data key named in the shred ledger (REFUGE_SHRED_LEDGER_FILE). "
        "`refuge restore` does this itself; run it after any other restore (point-in-time "
        "recovery, a promoted replica, a copied SQLite file) before anyone signs in."
    )

    def handle(self, *args, **options):
        done = shred_ledger.reapply()
        for problem in done.problems:
            self.stderr.write(f"WARNING: {problem} (skipped).")
        self.stdout.write(
            f"Shred ledger re-applied: {done.entries} entries, {done.destroyed} data keys "
            "destroyed again."
        )
