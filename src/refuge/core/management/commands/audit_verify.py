from django.core.management.base import BaseCommand, CommandError

from refuge.core.audit import verify


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain, its sealed head and the signed checkpoints kept "
        "outside the database; exit 1 at the first changed, removed or inserted event."
    )

    def handle(self, *args, **options):
        result = verify()
        if not result.ok:
            where = f" at event {result.first_bad_seq}" if result.first_bad_seq else ""
            raise CommandError(
                f"Audit chain BROKEN{where}: {result.problem} "
                f"({result.checked} events before it are intact)."
            )
        self.stdout.write(f"Audit chain intact: {result.checked} events.")
        for note in result.notes:
            self.stdout.write(f"  {note}")
