from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from refuge.core.demo import sign_in_text
from refuge.core.models import Organisation


class Command(BaseCommand):
    help = "Migrate, load the demo network if the database is empty, print sign-ins and serve."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true")

    def handle(self, *args, addrport, no_serve, **options):
        if settings.MODE != "demo":
            raise CommandError("Run the demo with REFUGE_MODE=demo (make demo does this).")
        call_command("migrate", interactive=False, verbosity=0)
        if not Organisation.objects.exists():
            call_command("load_demo")
        self.stdout.write(sign_in_text())
        if not no_serve:
            self.stdout.write(f"Serving on http://{addrport}/ (Ctrl-C to stop)")
            call_command("runserver", addrport, use_reloader=False)
