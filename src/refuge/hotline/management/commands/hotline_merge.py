"""`refuge hotline-merge`: fold the PBX events accepted by the webhooks into calls, in batches
(with ``REFUGE_HOTLINE_INGEST=batched``; docs/decisions.md). Run it beside `refuge worker`.

It merges whatever is pending, then waits ``--interval`` seconds (0.2 by default) when it found
less than a full batch, so the live queue is at most about a second behind (the queue's own
read merges first, too). Any number may run: one merges at a time, the others find the lock
taken and wait. ``--once`` merges what is pending and exits.

An event that fails to merge five times (an error in Refuge, logged each time) is set aside:
kept, counted on the quarantine page, no longer retried. ``--retry-stuck`` puts the events set
aside back in the list (after the fix), and exits.
"""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from refuge.hotline.services import pending_merge, pending_retry_stuck

log = logging.getLogger("refuge.hotline")


class Command(BaseCommand):
    help = "Merge the PBX events the webhooks accepted into calls, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--batch", type=int, default=2000, help="events per transaction")
        parser.add_argument("--once", action="store_true", help="merge what is pending, then exit")
        parser.add_argument(
            "--retry-stuck",
            action="store_true",
            help="put the events set aside after failed merges back in the list, then exit",
        )

    def handle(self, *args, interval: float, batch: int, once: bool, **options):
        if options["retry_stuck"]:
            self.stdout.write(f"{pending_retry_stuck()} events set aside are pending again")
            return
        stop = threading.Event()
        if not once:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_a: stop.set())
        total = 0
        while not stop.is_set():
            try:
                n = pending_merge(limit=batch)
            except Exception:  # the batch stays pending (rolled back); try again
                log.exception("merging pending PBX events failed")
                n = 0
                close_old_connections()
                if once:
                    raise
            total += n
            if once and n < batch:
                break
            if n < batch:
                stop.wait(interval)
        if once:
            self.stdout.write(f"{total} events merged")
