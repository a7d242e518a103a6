from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Demo only: print the current six-digit code of a demo user's authenticator."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if settings.MODE != "demo":
            raise CommandError("totp-code works only in the demo (REFUGE_MODE=demo).")
        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} has no authenticator.")
        self.stdout.write(
            f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
        )
