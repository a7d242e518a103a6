from django.core.management.base import BaseCommand, CommandError

from refuge.core.models import ApiKey, RevokeReason
from refuge.core.services import ServiceError, api_key_revoke


class Command(BaseCommand):
    help = "Revoke an API key at once, by its prefix (the part after rfg_, see `refuge api-keys`)."

    def add_arguments(self, parser):
        parser.add_argument("prefix")
        parser.add_argument("--reason", required=True, choices=RevokeReason.values)

    def handle(self, *args, prefix, reason, **options):
        key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
        if key is None:
            raise CommandError(f"No API key with the prefix {prefix!r}.")
        try:
            api_key_revoke(by=None, key=key, reason=reason)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked {prefix} ({key.name}, {key.organisation.slug}).")
