from django.core.management.base import BaseCommand, CommandError

from refuge.directory.shipped import SHIPPED, load_file


class Command(BaseCommand):
    help = (
        "Load the regions and the directories shipped with Refuge (the crisis centres of "
        "Kyrgyzstan). Idempotent; what a centre has changed since is kept unless --refresh."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "names", nargs="*", help=f"Which directories (default all: {', '.join(SHIPPED)})."
        )
        parser.add_argument(
            "--refresh",
            action="store_true",
            help="Overwrite facilities that exist already with the shipped facts.",
        )

    def handle(self, *args, names, refresh, **options):
        unknown = set(names) - set(SHIPPED)
        if unknown:
            raise CommandError(f"Unknown directories: {', '.join(sorted(unknown))}.")
        for name in names or SHIPPED:
            result = load_file(SHIPPED[name], refresh=refresh)
            self.stdout.write(
                f"{name}: {result.organisations_created} organisations and "
                f"{result.facilities_created} facilities created, "
                f"{result.facilities_refreshed} refreshed, {result.facilities_kept} kept as they are."
            )
        self.stdout.write(self.style.SUCCESS("Directory loaded."))
