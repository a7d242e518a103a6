"""`refuge hotline-line NUMBER --org SLUG …`: register a line or change it (administrators).

Calls on a line nobody owns are seen only by coordinators; giving the line an organisation
gives it those calls too.
"""

from django.core.management.base import BaseCommand, CommandError

from refuge.core.models import Organisation
from refuge.core.services import ServiceError
from refuge.hotline.services import line_save


class Command(BaseCommand):
    help = "Register or change a hotline line: its organisation, region and service area."

    def add_arguments(self, parser):
        parser.add_argument("number", help="the line's number (any format) or PBX line name")
        parser.add_argument("--name", default="")
        parser.add_argument("--org", default="", help="slug of the organisation that owns it")
        parser.add_argument("--country", default="RU", help="country of national-format numbers")
        parser.add_argument("--region", default="", help="ISO 3166-2 code of the line's region")
        parser.add_argument("--area", default="", help="service area: codes, comma-separated")
        parser.add_argument(
            "--regional",
            action="store_true",
            help="a regional number: mobile callers are counted in the line's region",
        )

    def handle(self, *args, number, name, org, country, region, area, regional, **options):
        organisation = None
        if org:
            organisation = Organisation.objects.filter(slug=org).first()
            if organisation is None:
                raise CommandError(f"No organisation {org!r}.")
        try:
            line = line_save(
                by=None,
                number=number,
                name=name,
                organisation=organisation,
                default_country=country,
                region=region,
                service_area=area,
                region_from_line=regional,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Line {line.number} ({line}) saved.")
