from django.core.management.base import BaseCommand, CommandError

from refuge.directory.hsds.importer import ImportRejected, import_hsds
from refuge.directory.hsds.schema import SchemasNotFound, load_schemas


class Command(BaseCommand):
    help = (
        "Import HSDS 3.0 from PATH: a JSON document (a service, organization or "
        "service_at_location; a list; an API page), a tabular package (a directory of CSV "
        "files, or its datapackage.json), or a directory of these. Everything is validated "
        "first; if anything fails, nothing is imported. Importing again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--schemas", help="The HSDS 3.0 specification directory.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and report, write nothing."
        )

    def handle(self, *args, path, schemas, dry_run, **options):
        try:
            loaded = load_schemas(schemas)
        except SchemasNotFound as exc:
            raise CommandError(str(exc)) from exc
        try:
            report = import_hsds(path, schemas=loaded, dry_run=dry_run)
        except ImportRejected as exc:
            lines = "\n".join(f"  {e}" for e in exc.errors)
            raise CommandError(
                f"Nothing was imported: {len(exc.errors)} problem(s) in {path}:\n{lines}"
            ) from exc
        for line in report.skipped:
            self.stdout.write(f"skipped: {line}")
        for line in report.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {line}"))
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS("Everything validates (dry run: nothing written).")
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported: organisations {report.organisations_seen} "
                f"({report.organisations_created} new); facilities "
                f"{report.facilities_created} new, {report.facilities_updated} updated, "
                f"{report.facilities_unchanged} unchanged."
            )
        )
