"""The official HSDS 3.0 JSON Schemas, read where they are (never copied into this project).

Where: ``--schemas DIR`` on the commands, else the ``REFUGE_HSDS_DIR`` environment variable,
else ``../shared/hsds-3.0`` next to the project's root (a development checkout). The directory
is the specification's own layout: ``schema/compiled/*.json``, ``schema/*.json`` and the
3.1-dev extensions in ``extensions-3.1-dev/``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ENV = "REFUGE_HSDS_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "hsds-3.0"


class SchemasNotFound(Exception):
    pass


def find_hsds_dir(explicit: str | Path | None = None) -> Path:
    candidates = [explicit, os.environ.get(ENV), DEFAULT_DIR]
    for candidate in candidates:
        if candidate and (Path(candidate) / "schema" / "compiled" / "service.json").exists():
            return Path(candidate)
    raise SchemasNotFound(
        "The HSDS 3.0 schemas were not found. Give --schemas DIR or set REFUGE_HSDS_DIR to a "
        "copy of the openreferral/specification repository (branch 3.0), which contains "
        "schema/compiled/."
    )


class Schemas:
    """Validators for the compiled documents, the entity (tabular) schemas and extensions."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._compiled: dict[str, dict] = {}
        resources = []
        for path in sorted((self.root / "schema").glob("*.json")):
            if path.name == "openapi.json":
                continue
            resources.append((path.name, self._resource(path)))
        ext = self.root / "extensions-3.1-dev"
        if ext.is_dir():
            for path in sorted(ext.glob("*.json")):
                resources.append((path.name, self._resource(path)))
        self.registry = Registry().with_resources(resources)

    @staticmethod
    def _resource(path: Path) -> Resource:
        return Resource.from_contents(
            json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT202012
        )

    def compiled(self, name: str) -> Draft202012Validator:
        """A validator for schema/compiled/<name>.json (service, organization, ..._list)."""
        if name not in self._compiled:
            path = self.root / "schema" / "compiled" / f"{name}.json"
            self._compiled[name] = json.loads(path.read_text(encoding="utf-8"))
        return Draft202012Validator(
            self._compiled[name], registry=self.registry, format_checker=FormatChecker()
        )

    def entity(self, name: str) -> Draft202012Validator:
        """A validator for schema/<name>.json or an extension (refs resolved by file name)."""
        schema = self.registry.contents(f"{name}.json")
        return Draft202012Validator(schema, registry=self.registry, format_checker=FormatChecker())

    def entity_schema(self, name: str) -> dict[str, Any]:
        return self.registry.contents(f"{name}.json")


@cache
def schemas_at(root: str) -> Schemas:
    return Schemas(Path(root))


def load_schemas(explicit: str | Path | None = None) -> Schemas:
    return schemas_at(str(find_hsds_dir(explicit)))


def errors_of(validator: Draft202012Validator, doc: Any, prefix: str = "$") -> list[str]:
    """Every error as "JSON path: message", the path rooted at `prefix`."""
    out = []
    for error in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path))):
        path = prefix + error.json_path[1:]
        out.append(f"{path}: {error.message}")
    return out
