"""refuge federation-share --org SLUG [--stop]: an organisation opts in (or out) of sharing its
facilities' anonymised availability with trusted peers."""

from django.core.management.base import BaseCommand, CommandError

from refuge.core.models import Organisation
from refuge.federation import services


class Command(BaseCommand):
    help = "Share (or --stop sharing) an organisation's anonymised availability with peers."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True)
        parser.add_argument("--stop", action="store_true")

    def handle(self, *args, **options):
        org = Organisation.objects.filter(slug=options["org"]).first()
        if org is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        services.sharing_set(by=None, organisation=org, share=not options["stop"])
        self.stdout.write(f"{org.slug}: {'not ' if options['stop'] else ''}shared.")
