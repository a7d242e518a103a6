"""`refuge hotline-extension USERNAME EXTENSION`: whose phone a PBX extension is."""

from django.core.management.base import BaseCommand, CommandError

from refuge.core.models import User
from refuge.core.services import ServiceError
from refuge.hotline.services import extension_assign


class Command(BaseCommand):
    help = "Link a PBX extension (or Twilio client/SIP identity) to a member of staff."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("extension")

    def handle(self, *args, username, extension, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        try:
            extension_assign(by=None, user=user, identity=extension)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Extension {extension} is {username}'s.")
