"""refuge federation-identity: this instance's name, base URL and public key (SPEC C12)."""

from django.core.management.base import BaseCommand, CommandError

from refuge.federation import conf


class Command(BaseCommand):
    help = "Print this instance's federation name, base URL and public key."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="One JSON object.")

    def handle(self, *args, **options):
        try:
            me = conf.identity()
        except conf.FederationDisabled as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            import json

            self.stdout.write(
                json.dumps(
                    {
                        "name": me.name,
                        "base_url": me.base_url,
                        "public_key": me.public_key,
                        "sealing_key": me.sealing_public_key,
                    }
                )
            )
            return
        self.stdout.write(f"name: {me.name}\nbase_url: {me.base_url}\npublic_key: {me.public_key}")
        if me.sealing_public_key:
            self.stdout.write(f"sealing_key: {me.sealing_public_key}")
        else:
            self.stdout.write(
                "sealing_key: none (no REFUGE_FEDERATION_SEALING_KEY: case records cannot be "
                "handed over to this instance)"
            )
        sealing = f" --sealing-key {me.sealing_public_key}" if me.sealing_public_key else ""
        self.stdout.write(
            "A peer trusts this instance with:\n  refuge federation-trust "
            f"--name NAME --url {me.base_url} --key {me.public_key}{sealing}"
        )
