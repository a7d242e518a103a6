import subprocess
import sys

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
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args, addrport, no_serve, no_worker, **options):
        if settings.MODE != "demo":
            raise CommandError("Run the demo with REFUGE_MODE=demo (make demo does this).")
        call_command("migrate", interactive=False, verbosity=0)
        if not Organisation.objects.exists():
            call_command("load_demo")
        self.stdout.write(sign_in_text())
        if no_serve:
            return
        # The background worker (notifications, scheduled jobs) runs beside the server and
        # stops with it: Ctrl-C reaches both (one process group), and we wait for it to end.
        worker = None
        if not no_worker:
            worker = subprocess.Popen([sys.executable, "-m", "refuge.cli", "worker"])  # noqa: S603
            self.stdout.write(f"Background worker started (process {worker.pid}).")
        self.stdout.write(f"Serving on http://{addrport}/ (Ctrl-C to stop)")
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
