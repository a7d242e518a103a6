from django.core.management.base import BaseCommand, CommandError

from refuge.directory.hsds.export import write_export
from refuge.directory.hsds.schema import SchemasNotFound, errors_of, load_schemas


class Command(BaseCommand):
    help = (
        "Write the public profile of the directory as HSDS 3.0: services.json, "
        "organizations.json, service_at_locations.json, taxonomies.json, taxonomy_terms.json "
        "and the tabular package in DIR/tabular/. Confidential and professionals-only "
        "locations are never written, nor shelters whose address is confidential."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--validate",
            action="store_true",
            help="Check every document against the official schemas (see --schemas).",
        )
        parser.add_argument("--schemas", help="The HSDS 3.0 specification directory.")

    def handle(self, *args, directory, validate, schemas, **options):
        counts = write_export(directory)
        for kind, n in counts.items():
            self.stdout.write(f"{kind}: {n}")
        if validate:
            self._validate(directory, schemas)
        self.stdout.write(self.style.SUCCESS(f"Public HSDS profile written to {directory}."))

    def _validate(self, directory, schemas_dir):
        import json
        from pathlib import Path

        try:
            schemas = load_schemas(schemas_dir)
        except SchemasNotFound as exc:
            raise CommandError(str(exc)) from exc
        problems = []
        for kind, schema in (
            ("services", "service"),
            ("organizations", "organization"),
            ("service_at_locations", "service_at_location"),
        ):
            docs = json.loads((Path(directory) / f"{kind}.json").read_text(encoding="utf-8"))
            validator = schemas.compiled(schema)
            for i, doc in enumerate(docs):
                problems += [f"{kind}.json {p}" for p in errors_of(validator, doc, f"$[{i}]")]
        problems += self._tabular_problems(Path(directory) / "tabular", schemas.root)
        if problems:
            raise CommandError("The export does not validate:\n" + "\n".join(problems))
        self.stdout.write("Every document validates against the HSDS 3.0 schemas.")

    def _tabular_problems(self, tabular, root) -> list[str]:
        """The tables against the official datapackage.json, with frictionless when it is
        installed (a development dependency)."""
        import json

        try:
            from frictionless import Package
        except ImportError:
            self.stdout.write("frictionless is not installed: the tables were not checked.")
            return []
        official = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
        report = Package(official, basepath=str(tabular)).validate()
        problems = [f"tabular: {error.message}" for error in report.errors]
        for task in report.tasks:
            for error in task.errors:
                where = error.to_descriptor()
                problems.append(
                    f"tabular {task.name} row {where.get('rowNumber', '-')} "
                    f"{where.get('fieldName', '')}: {error.message}"
                )
        return problems
