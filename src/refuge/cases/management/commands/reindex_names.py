from django.core.management.base import BaseCommand

from refuge.cases.services import reindex_names


class Command(BaseCommand):
    help = "Recompute the blind index of every client's name (run once after upgrading)."

    def handle(self, *args, **options):
        done, erased = reindex_names()
        self.stdout.write(f"{done} clients reindexed, {erased} erased clients skipped.")
