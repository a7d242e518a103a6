"""`refuge hotline-forget-callers`: forget caller keys older than twice the repeat window.

Run it daily (cron or a systemd timer). See services.caller_keys_forget for why.
"""

from django.core.management.base import BaseCommand

from refuge.hotline.services import caller_keys_forget


class Command(BaseCommand):
    help = "Forget the keyed hashes of callers' numbers once repeat detection no longer needs them."

    def handle(self, *args, **options):
        n = caller_keys_forget()
        self.stdout.write(f"Caller keys forgotten: {n}.")
