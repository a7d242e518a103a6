"""refuge federation-trust --name NAME --url URL --key KEY (or --untrust NAME)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from refuge.core.services import ServiceError
from refuge.federation import services
from refuge.federation.models import Peer


class Command(BaseCommand):
    help = "Trust a peer instance (or --untrust one): nothing is exchanged with others."

    def add_arguments(self, parser):
        parser.add_argument("--name", help="The name to trust it under (an identifier).")
        parser.add_argument(
            "--title", default="", help="Its name as staff read it (shown on the pages)."
        )
        parser.add_argument("--url", help="Its base URL, e.g. https://refuge.example.org")
        parser.add_argument("--key", help="Its public key (refuge federation-identity prints it).")
        parser.add_argument(
            "--sealing-key",
            default="",
            help="Its X25519 key for case records (federation-identity prints it); without "
            "one, no record can be handed over to it.",
        )
        parser.add_argument("--untrust", metavar="NAME", help="Stop trusting this peer at once.")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="The peer trusted under --name has a new key: trust it and refuse the old one.",
        )
        parser.add_argument(
            "--no-hello", action="store_true", help="Do not queue a signed hello to the peer."
        )

    def handle(self, *args, **options):
        if options["untrust"]:
            peer = Peer.objects.filter(name=options["untrust"]).first()
            if peer is None:
                raise CommandError(f"No peer named {options['untrust']!r}.")
            services.peer_untrust(by=None, peer=peer)
            self.stdout.write(f"{peer.name} is no longer trusted.")
            return
        missing = [n for n in ("name", "url", "key") if not options[n]]
        if missing:
            raise CommandError("Give --name, --url and --key (missing: " + ", ".join(missing) + ")")
        try:
            with transaction.atomic():
                peer = services.peer_trust(
                    by=None,
                    name=options["name"],
                    base_url=options["url"],
                    public_key=options["key"],
                    rotate=options["rotate"],
                    sealing_key=options["sealing_key"],
                    title=options["title"],
                )
                if not options["no_hello"]:
                    services.outbox_put(peer=peer, kind="hello")
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"{peer.name} ({peer.base_url}) is trusted.")
        if not peer.sealing_key:
            self.stdout.write(
                f"{peer.name} has no sealing key: case records cannot be handed over to it "
                "(trust it again with --sealing-key)."
            )
