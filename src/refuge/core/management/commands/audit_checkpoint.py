from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from refuge.core.audit import CheckpointError, checkpoint_write


class Command(BaseCommand):
    help = (
        "Append a signed checkpoint of the audit log's head to REFUGE_AUDIT_CHECKPOINT_FILE "
        "(outside the database) and to the log. The task worker runs it every hour; "
        "`refuge audit-verify` checks the log against the newest one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--manual", action="store_true", help="mark the checkpoint as taken by hand"
        )

    def handle(self, *args, manual, **options):
        try:
            cp = checkpoint_write(kind="manual" if manual else "scheduled")
        except CheckpointError as exc:
            raise CommandError(
                f"No checkpoint written: {exc}. Run `refuge audit-verify` and treat this as "
                "tampering until it is explained."
            ) from exc
        self.stdout.write(
            f"Checkpoint written: event {cp.seq} at {cp.at} to "
            f"{settings.REFUGE_AUDIT_CHECKPOINT_FILE}."
        )
