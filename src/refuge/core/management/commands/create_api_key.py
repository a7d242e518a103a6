from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from refuge.core.models import Organisation
from refuge.core.roles import OrgKind, Role
from refuge.core.services import API_KEY_MAX_DAYS, ServiceError, api_key_create


class Command(BaseCommand):
    help = (
        "Create an API key for a machine client and print it once (it cannot be shown again). "
        "The key expires after --days (REFUGE_API_KEY_DAYS by default)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--role", required=True, choices=[r for r in Role.values if r != Role.ADMIN]
        )
        parser.add_argument("--org", help="organisation slug (default: the network hub)")
        parser.add_argument("--name", default="", help="a label, e.g. 'Mango PBX'")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"how long the key works, 1 to {API_KEY_MAX_DAYS} "
            f"(default {settings.REFUGE_API_KEY_DAYS})",
        )

    def handle(self, *args, role, org, name, days, **options):
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
            _key, text = api_key_create(
                by=None, organisation=organisation, role=role, name=name, days=days
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(text)
