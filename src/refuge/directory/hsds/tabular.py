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

# The tables of the HSDS 3.0 tabular package, as its datapackage.json describes them: entity ->
# (file, fields in the official order). A field is ``name[:type][!][*]``: ``!`` required, ``*``
# unique; types are uuid, email and uri (strings of that format), number, date, datetime and
# time; a bare name is a string. Every table is written, with its header only when the profile
# has nothing for it, so the package is complete and validates against the official descriptor
# (tests/directory/test_hsds.py checks these definitions against it field by field).
OFFICIAL: dict[str, tuple[str, str]] = {
    "organization": (
        "organizations.csv",
        "id:uuid!* name! alternate_name description! email:email website:uri tax_status tax_id "
        "year_incorporated:number legal_status logo uri:uri parent_organization_id:uuid",
    ),
    "program": (
        "programs.csv",
        "id:uuid!* organization_id:uuid!* name! alternate_name description!",
    ),
    "service": (
        "services.csv",
        "id:uuid!* organization_id:uuid! program_id:uuid name! alternate_name description "
        "url:uri email:email status! interpretation_services application_process "
        "fees_description wait_time fees accreditations eligibility_description "
        "minimum_age:number maximum_age:number assured_date:date assurer_email:email licenses "
        "alert last_modified:datetime",
    ),
    "attribute": (
        "attributes.csv",
        "id:uuid!* link_id:uuid! taxonomy_term_id:uuid! link_type link_entity! value",
    ),
    "service_at_location": (
        "service_at_location.csv",
        "id:uuid!* service_id:uuid! location_id:uuid! description",
    ),
    "location": (
        "locations.csv",
        "id:uuid!* location_type! url:uri organization_id:uuid name alternate_name description "
        "transportation latitude:number longitude:number external_identifier "
        "external_identifier_type",
    ),
    "phone": (
        "phones.csv",
        "id:uuid!* location_id:uuid service_id:uuid organization_id:uuid contact_id:uuid "
        "service_at_location_id:uuid number! extension:number type description",
    ),
    "contact": (
        "contacts.csv",
        "id:uuid!* organization_id:uuid service_id:uuid service_at_location_id:uuid "
        "location_id:uuid name title department email:email",
    ),
    "address": (
        "addresses.csv",
        "id:uuid!* location_id:uuid attention address_1! address_2 city! region "
        "state_province! postal_code! country! address_type!",
    ),
    "schedule": (
        "schedules.csv",
        "id:uuid!* service_id:uuid location_id:uuid service_at_location_id:uuid "
        "valid_from:date valid_to:date dtstart:date timezone:number until:date count:number "
        "wkst freq interval:number byday byweekno bymonthday byyearday description "
        "opens_at:time closes_at:time schedule_link:uri attending_type notes",
    ),
    "funding": ("funding.csv", "id:uuid!* organization_id:uuid service_id:uuid source"),
    "service_area": (
        "service_areas.csv",
        "id:uuid!* service_id:uuid name description extent extent_type uri",
    ),
    "required_document": (
        "required_documents.csv",
        "id:uuid!* service_id:uuid document uri:uri",
    ),
    "language": (
        "languages.csv",
        "id:uuid!* service_id:uuid location_id:uuid phone_id:uuid name code note",
    ),
    "accessibility": (
        "accessibility.csv",
        "id:uuid!* location_id:uuid description details url:uri",
    ),
    "taxonomy_term": (
        "taxonomy_terms.csv",
        "id:uuid!* code* name! description! parent_id:uuid taxonomy language taxonomy_id:uuid "
        "term_uri:uri",
    ),
    "metadata": (
        "metadata.csv",
        "id:uuid!* resource_id:uuid! resource_type! last_action_date:date! last_action_type! "
        "field_name! previous_value! replacement_value! updated_by!",
    ),
    "meta_table_description": (
        "meta_table_descriptions.csv",
        "id:uuid!* name language character_set",
    ),
    "cost_option": (
        "cost_options.csv",
        "id:uuid!* service_id:uuid! valid_from:date valid_to:date option currency "
        "amount:number amount_description",
    ),
    "organization_identifier": (
        "organization_identifiers.csv",
        "id:uuid!* organization_id:uuid! identifier_scheme identifier_type! identifier!",
    ),
    "taxonomy": ("taxonomies.csv", "id:uuid!* name! description! uri:uri version"),
}
# The 3.1-dev capacity extension (live free beds), written beside the official tables.
EXTENSIONS: dict[str, tuple[str, str]] = {
    "service_capacity": (
        "service_capacity.csv",
        "id:uuid!* service_id:uuid! unit_id:uuid! available:number! maximum:number "
        "description updated:datetime!",
    ),
    "unit": ("units.csv", "id:uuid!* name! scheme identifier"),
}
ENUMS = {
    ("service", "status"): ["active", "inactive", "defunct", "temporarily closed"],
    ("location", "location_type"): ["physical", "postal", "virtual"],
    ("address", "address_type"): ["physical", "postal", "virtual"],
    ("schedule", "wkst"): ["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
    ("schedule", "freq"): ["WEEKLY", "MONTHLY"],
}
FOREIGN_KEYS = {
    "program": ["organization_id:organization"],
    "service": ["organization_id:organization", "program_id:program"],
    "attribute": ["taxonomy_term_id:taxonomy_term"],
    "service_at_location": ["service_id:service", "location_id:location"],
    "location": ["organization_id:organization"],
    "phone": [
        "contact_id:contact",
        "location_id:location",
        "organization_id:organization",
        "service_id:service",
        "service_at_location_id:service_at_location",
    ],
    "contact": [
        "location_id:location",
        "organization_id:organization",
        "service_id:service",
        "service_at_location_id:service_at_location",
    ],
    "address": ["location_id:location"],
    "schedule": [
        "location_id:location",
        "service_id:service",
        "service_at_location_id:service_at_location",
    ],
    "funding": ["organization_id:organization", "service_id:service"],
    "service_area": ["service_id:service"],
    "required_document": ["service_id:service"],
    "language": ["location_id:location", "phone_id:phone", "service_id:service"],
    "accessibility": ["location_id:location"],
    "taxonomy_term": ["taxonomy_id:taxonomy"],
    "cost_option": ["service_id:service"],
    "organization_identifier": ["organization_id:organization"],
    "service_capacity": ["service_id:service", "unit_id:unit"],
}
_FORMATS = {"uuid", "email", "uri"}


def _field(entity: str, spec: str) -> dict[str, Any]:
    required, unique = "!" in spec, "*" in spec
    name, _colon, kind = spec.rstrip("!*").replace("!", "").partition(":")
    field: dict[str, Any] = {"name": name, "type": "string"}
    if kind in _FORMATS:
        field["format"] = kind
    elif kind:
        field["type"] = kind
    field["constraints"] = {"required": required, "unique": unique}
    if (entity, name) in ENUMS:
        field["constraints"]["enum"] = ENUMS[(entity, name)]
    return field


def table_schema(entity: str) -> dict[str, Any]:
    """The Table Schema of one entity, as the package's datapackage.json gives it."""
    _path, spec = {**OFFICIAL, **EXTENSIONS}[entity]
    schema: dict[str, Any] = {
        "fields": [_field(entity, s) for s in spec.split()],
        "primaryKey": "id",
    }
    if entity in FOREIGN_KEYS:
        schema["foreignKeys"] = [
            {"fields": column, "reference": {"resource": target, "fields": "id"}}
            for column, _c, target in (fk.partition(":") for fk in FOREIGN_KEYS[entity])
        ]
    return schema


# entity -> (file, columns): every table this project writes, official ones first.
TABLES: dict[str, tuple[str, list[str]]] = {
    entity: (path, [f["name"] for f in table_schema(entity)["fields"]])
    for entity, (path, _spec) in {**OFFICIAL, **EXTENSIONS}.items()
}
NUMBERS = {
    (entity, f["name"])
    for entity in TABLES
    for f in table_schema(entity)["fields"]
    if f["type"] == "number"
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
                "schema": table_schema(entity),
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
