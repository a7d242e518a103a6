"""The tabular (CSV) form of HSDS: a Frictionless tabular data package, out and in.

Out: the public profile's nested documents flattened into one CSV per entity, with the
identifiers that link them, and a ``datapackage.json`` describing the files. In: CSV files (or
the JSON form of the tables, as in the specification's ``examples/tabular.json``) assembled
back into nested services and organizations for the importer.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

# entity -> (file, columns). The columns are those of the HSDS 3.0 tables (and the 3.1-dev
# extension for capacity) that this project writes.
TABLES: dict[str, tuple[str, list[str]]] = {
    "organization": (
        "organizations.csv",
        ["id", "name", "alternate_name", "description", "email", "website"],
    ),
    "service": (
        "services.csv",
        [
            "id",
            "organization_id",
            "name",
            "alternate_name",
            "description",
            "url",
            "email",
            "status",
            "interpretation_services",
            "fees_description",
            "eligibility_description",
            "minimum_age",
            "last_modified",
        ],
    ),
    "location": (
        "locations.csv",
        ["id", "location_type", "organization_id", "name", "latitude", "longitude"],
    ),
    "service_at_location": (
        "service_at_location.csv",
        ["id", "service_id", "location_id", "description"],
    ),
    "address": (
        "addresses.csv",
        [
            "id",
            "location_id",
            "address_1",
            "city",
            "region",
            "state_province",
            "postal_code",
            "country",
            "address_type",
        ],
    ),
    "accessibility": ("accessibility.csv", ["id", "location_id", "description"]),
    "phone": (
        "phones.csv",
        [
            "id",
            "location_id",
            "service_id",
            "organization_id",
            "number",
            "extension",
            "type",
            "description",
        ],
    ),
    "language": ("languages.csv", ["id", "service_id", "name", "code"]),
    "schedule": (
        "schedules.csv",
        [
            "id",
            "service_id",
            "freq",
            "wkst",
            "byday",
            "opens_at",
            "closes_at",
            "timezone",
            "description",
        ],
    ),
    "service_area": ("service_areas.csv", ["id", "service_id", "name", "description"]),
    "required_document": ("required_documents.csv", ["id", "service_id", "document"]),
    "cost_option": (
        "cost_options.csv",
        ["id", "service_id", "option", "amount", "amount_description"],
    ),
    "attribute": (
        "attributes.csv",
        ["id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value"],
    ),
    "taxonomy_term": (
        "taxonomy_terms.csv",
        [
            "id",
            "code",
            "name",
            "description",
            "parent_id",
            "taxonomy",
            "language",
            "taxonomy_id",
            "term_uri",
        ],
    ),
    "taxonomy": ("taxonomies.csv", ["id", "name", "description", "uri", "version"]),
    "service_capacity": (
        "service_capacity.csv",
        ["id", "service_id", "unit_id", "available", "maximum", "description", "updated"],
    ),
    "unit": ("units.csv", ["id", "name", "scheme", "identifier"]),
}
NUMBERS = {
    ("service", "minimum_age"),
    ("location", "latitude"),
    ("location", "longitude"),
    ("phone", "extension"),
    ("schedule", "timezone"),
    ("cost_option", "amount"),
    ("service_capacity", "available"),
    ("service_capacity", "maximum"),
}
BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
FILE_TO_ENTITY = {path: entity for entity, (path, _cols) in TABLES.items()}


def flatten(profile: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Nested public-profile documents -> rows per entity (no duplicates)."""
    rows: dict[str, dict[str, dict[str, Any]]] = {entity: {} for entity in TABLES}

    def add(entity: str, doc: dict[str, Any], **links: Any) -> None:
        row = {c: doc.get(c) for c in TABLES[entity][1]}
        row.update({k: v for k, v in links.items() if v is not None})
        rows[entity].setdefault(row["id"], row)

    for org in profile["organizations"]:
        add("organization", org)
        for phone in org.get("phones", []):
            add("phone", phone, organization_id=org["id"])
    for service in profile["services"]:
        sid = service["id"]
        add("service", service)
        for phone in service.get("phones", []):
            add("phone", phone, service_id=sid, organization_id=service["organization_id"])
        for lang in service.get("languages", []):
            add("language", lang, service_id=sid)
        for schedule in service.get("schedules", []):
            add("schedule", schedule, service_id=sid)
        for area in service.get("service_areas", []):
            add("service_area", area, service_id=sid)
        for doc in service.get("required_documents", []):
            add("required_document", doc, service_id=sid)
        for cost in service.get("cost_options", []):
            add("cost_option", cost, service_id=sid)
        for attribute in service.get("attributes", []):
            add("attribute", attribute)
        for capacity in service.get("capacities", []):
            add("service_capacity", capacity, service_id=sid, unit_id=capacity["unit"]["id"])
            add("unit", capacity["unit"])
        for sal in service.get("service_at_locations", []):
            location = sal["location"]
            add("service_at_location", sal, service_id=sid, location_id=location["id"])
            add("location", location, organization_id=service["organization_id"])
            for address in location.get("addresses", []):
                add("address", address, location_id=location["id"])
            for item in location.get("accessibility", []):
                add("accessibility", item, location_id=location["id"])
    for term in profile["taxonomy_terms"]:
        add("taxonomy_term", term, taxonomy_id=term["taxonomy_detail"]["id"])
    for taxonomy in profile["taxonomies"]:
        add("taxonomy", taxonomy)
    return {entity: list(found.values()) for entity, found in rows.items()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_package(
    directory: Path, tables: dict[str, list[dict[str, Any]]], *, name: str
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    resources = []
    for entity, (path, columns) in TABLES.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in tables.get(entity, []):
            writer.writerow([_cell(row.get(c)) for c in columns])
        (directory / path).write_text(buffer.getvalue(), encoding="utf-8")
        written.append(directory / path)
        resources.append(
            {
                "name": entity,
                "path": path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": {
                    "primaryKey": "id",
                    "fields": [
                        {
                            "name": c,
                            "type": "number" if (entity, c) in NUMBERS else "string",
                            **({"format": "uuid"} if c == "id" or c.endswith("_id") else {}),
                        }
                        for c in columns
                    ],
                },
            }
        )
    package = {
        "name": name,
        "title": "Refuge directory: public profile (HSDS 3.0)",
        "profile": "tabular-data-package",
        "version": "3.0.0",
        "license": {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"},
        "resources": resources,
    }
    path = directory / "datapackage.json"
    path.write_text(json.dumps(package, indent=1, ensure_ascii=False), encoding="utf-8")
    written.append(path)
    return written


# --- in ---------------------------------------------------------------------------------------


def read_csv_dir(directory: Path) -> dict[str, list[dict[str, str]]]:
    """CSV files of a tabular package, by file name (only the files present)."""
    tables = {}
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8-sig", newline="") as handle:
            tables[path.name] = list(csv.DictReader(handle))
    return tables


def typed(
    row: dict[str, Any], properties: dict[str, Any], required: list[str] | tuple = ()
) -> dict[str, Any]:
    """A table row with empty cells dropped and values converted to the types the entity
    schema gives (tables are typeless: "12" in a CSV, or 10092008082 for a text column in the
    JSON form of the tables). A value that does not convert is kept, so validation reports it.
    An empty cell is no value, except in a column the schema requires, where it is ""."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None:
            continue
        if value == "":
            if key in required:
                out[key] = ""
            continue
        kind = properties.get(key, {}).get("type")
        if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = str(value)
        elif isinstance(value, str) and kind in {"number", "integer"}:
            try:
                number = float(value)
                out[key] = int(number) if kind == "integer" or number.is_integer() else number
            except ValueError:
                out[key] = value
        elif isinstance(value, str) and kind == "boolean" and value.lower() in BOOLEANS:
            out[key] = BOOLEANS[value.lower()]
        else:
            out[key] = value
    return out


def assemble(tables: dict[str, list[dict[str, Any]]]) -> tuple[list[dict], list[dict]]:
    """Typed rows by file name -> (services, organizations) as nested documents."""

    def rows(name: str) -> list[dict[str, Any]]:
        return tables.get(name, [])

    def where(name: str, key: str, value: Any) -> list[dict[str, Any]]:
        return [r for r in rows(name) if r.get(key) == value]

    terms = {t["id"]: t for t in rows("taxonomy_terms.csv")}
    orgs = {o["id"]: dict(o) for o in rows("organizations.csv")}
    locations = {}
    for loc in rows("locations.csv"):
        doc = {k: v for k, v in loc.items() if k != "organization_id"}
        _maybe(
            doc,
            "addresses",
            [_drop(a, "location_id") for a in where("addresses.csv", "location_id", loc["id"])],
        )
        _maybe(
            doc,
            "accessibility",
            [_drop(a, "location_id") for a in where("accessibility.csv", "location_id", loc["id"])],
        )
        locations[loc["id"]] = doc
    services = []
    service_phone_ids = set()
    for row in rows("services.csv"):
        sid = row["id"]
        doc = dict(row)
        phones = [p for p in where("phones.csv", "service_id", sid)]
        service_phone_ids |= {p["id"] for p in phones}
        _maybe(doc, "phones", [_phone(p) for p in phones])
        _maybe(
            doc,
            "languages",
            [_drop(x, "service_id") for x in where("languages.csv", "service_id", sid)],
        )
        _maybe(
            doc,
            "schedules",
            [_drop(x, "service_id") for x in where("schedules.csv", "service_id", sid)],
        )
        _maybe(
            doc,
            "service_areas",
            [_drop(x, "service_id") for x in where("service_areas.csv", "service_id", sid)],
        )
        _maybe(
            doc,
            "required_documents",
            [_drop(x, "service_id") for x in where("required_documents.csv", "service_id", sid)],
        )
        _maybe(
            doc,
            "cost_options",
            [_drop(x, "service_id") for x in where("cost_options.csv", "service_id", sid)],
        )
        attributes = []
        for attribute in where("attributes.csv", "link_id", sid):
            item = dict(attribute)
            term = terms.get(attribute.get("taxonomy_term_id"))
            if term is not None:
                item["taxonomy_term"] = {k: v for k, v in term.items() if k != "taxonomy_id"}
            attributes.append(item)
        _maybe(doc, "attributes", attributes)
        sals = []
        for sal in where("service_at_location.csv", "service_id", sid):
            item = dict(sal)
            if sal.get("location_id") in locations:
                item["location"] = locations[sal["location_id"]]
            sals.append(item)
        _maybe(doc, "service_at_locations", sals)
        if row.get("organization_id") in orgs:
            doc["organization"] = orgs[row["organization_id"]]
        services.append(doc)
    organizations = []
    for oid, org in orgs.items():
        doc = dict(org)
        phones = [
            p
            for p in where("phones.csv", "organization_id", oid)
            if not p.get("service_id") and p["id"] not in service_phone_ids
        ]
        _maybe(doc, "phones", [_phone(p) for p in phones])
        organizations.append(doc)
    return services, organizations


def _drop(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def _phone(row: dict[str, Any]) -> dict[str, Any]:
    return _drop(
        row, "location_id", "service_id", "organization_id", "contact_id", "service_at_location_id"
    )


def _maybe(doc: dict[str, Any], key: str, value: list) -> None:
    if value:
        doc[key] = value
