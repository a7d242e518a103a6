from django.core.management.base import BaseCommand

from refuge.cases.retention import purge


class Command(BaseCommand):
    help = "Purge what the retention rules say is due (closed cases, never on legal hold)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would go, change nothing"
        )

    def handle(self, *args, dry_run, **options):
        items = purge(by=None, dry_run=dry_run)
        verb = "would purge" if dry_run else "purged"
        for item in items:
            self.stdout.write(
                f"{item.case_code}  {item.rule:<20} {item.action:<6} closed {item.closed_at:%Y-%m-%d}"
                f"  ({item.count})"
            )
        self.stdout.write(f"{len(items)} items {verb}.")
