"""refuge federation-outbox-sweep: queue again messages to peers whose job was lost (the
scheduler runs it every minute; a message is claimed before it is sent, so never twice), and
forget nonces and message ids that can no longer come back."""

from django.core.management.base import BaseCommand

from refuge.federation import conf, services


class Command(BaseCommand):
    help = "Queue again every due message to a peer (safe to run at any time)."

    def handle(self, *args, **options):
        if conf.enabled():
            n = services.outbox_sweep()
            services.inbox_prune()
            if options["verbosity"] > 1:
                self.stdout.write(f"{n} queued again")
