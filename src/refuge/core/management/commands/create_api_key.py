from django.core.management.base import BaseCommand, CommandError

from refuge.core.models import Organisation
from refuge.core.roles import OrgKind, Role
from refuge.core.services import ServiceError, api_key_create


class Command(BaseCommand):
    help = "Create an API key for a machine client and print it once (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", required=True, choices=[r for r in Role.values if r != Role.ADMIN]
        )
        parser.add_argument("--org", help="organisation slug (default: the network hub)")
        parser.add_argument("--name", default="", help="a label, e.g. 'Mango PBX'")

    def handle(self, *args, role, org, name, **options):
        if org:
            organisation = Organisation.objects.filter(slug=org).first()
            if organisation is None:
                raise CommandError(f"No organisation with the slug {org!r}.")
        else:
            organisation = (
                Organisation.objects.filter(kind=OrgKind.HUB, is_active=True).order_by("pk").first()
            )
            if organisation is None:
                raise CommandError("There is no hub organisation; give --org SLUG.")
        try:
            _key, text = api_key_create(by=None, organisation=organisation, role=role, name=name)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(text)
