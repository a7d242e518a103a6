"""refuge federation-pull [NAME]: fetch trusted peers' availability snapshots now."""

from django.core.management.base import BaseCommand, CommandError

from refuge.core.services import ServiceError
from refuge.federation import conf, services
from refuge.federation.models import Peer


class Command(BaseCommand):
    help = "Fetch the anonymised availability of every trusted peer (or of one)."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?")
        parser.add_argument(
            "--scheduled",
            action="store_true",
            help="Quietly skip when federation is off; a peer that fails is tried next time.",
        )

    def handle(self, *args, **options):
        if not conf.enabled():
            if options["scheduled"]:
                return
            raise CommandError("Federation is off: no REFUGE_FEDERATION_KEY.")
        peers = Peer.objects.filter(trusted=True)
        if options["name"]:
            peers = peers.filter(name=options["name"])
            if not peers.exists():
                raise CommandError(f"No trusted peer named {options['name']!r}.")
        failed = 0
        for peer in peers:
            try:
                n = services.snapshot_pull(peer=peer)
            except ServiceError as exc:
                failed += 1
                self.stderr.write(f"{peer.name}: {exc.code}")
            else:
                self.stdout.write(f"{peer.name}: {n} facilities")
        if failed and not options["scheduled"]:
            raise CommandError(f"{failed} peer(s) could not be read.")
