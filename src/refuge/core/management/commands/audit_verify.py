from django.core.management.base import BaseCommand, CommandError

from refuge.core.audit import verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain; exit 1 at the first changed, removed or inserted event."
    )

    def handle(self, *args, **options):
        result = verify_chain()
        if not result.ok:
            raise CommandError(
                f"Audit chain BROKEN at event {result.first_bad_seq}: {result.problem} "
                f"({result.checked} events before it are intact)."
            )
        self.stdout.write(f"Audit chain intact: {result.checked} events.")
