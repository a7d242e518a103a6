"""Read HSDS 3.0 into the directory: JSON documents (single, lists, pages, packages) and
tabular packages (CSV files, or the JSON form of the tables).

All or nothing: every document is validated against the official schemas first, and a file
that fails is rejected with the JSON path of each error; only then is everything written, in
one transaction. Importing the same data again changes nothing (records are matched by their
HSDS identifiers).

How HSDS maps onto the directory: an organization is an organisation; a service offered at one
location is a facility (a service at several locations becomes one facility per location; a
service with no location, such as a hotline, one facility without an address). Attributes under
the Refuge taxonomy restore the kind, services and house rules; without them a facility is of
kind "other" with its rules not stated.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.text import slugify

from refuge.core import audit
from refuge.core.roles import OrgKind
from refuge.core.services import ServiceError
from refuge.directory import hours, services
from refuge.directory.models import (
    ACCOMMODATION_KINDS,
    AddressVisibility,
    Facility,
    FacilityKind,
    Faith,
    PhoneKind,
    Region,
    ServiceKind,
)
from refuge.placement.geo import valid_point

from . import tabular
from .schema import Schemas, errors_of
from .taxonomy import RULE_TERMS, TAXONOMY_NAME, TERMS, TERMS_BY_ID, stable_id

RULE_TYPES = {name: vtype for name, vtype, _text in RULE_TERMS}
LANG = re.compile(r"^[a-z]{2,3}$")


class ImportRejected(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


@dataclass
class ImportReport:
    files: list[str] = field(default_factory=list)
    organisations_created: int = 0
    organisations_seen: int = 0
    facilities_created: int = 0
    facilities_updated: int = 0
    facilities_unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Doc:
    kind: str  # service, organization, service_at_location
    data: dict[str, Any]
    source: str


# --- reading and validating ------------------------------------------------------------------


def _classify(d: Any) -> str:
    if not isinstance(d, dict):
        return "unknown"
    if "openapi_url" in d:
        return "meta"
    if "taxonomy_detail" in d or ("code" in d and "taxonomy" in d):
        return "taxonomy_term"
    if "version" in d and "uri" in d and "status" not in d:
        return "taxonomy"
    if "location_type" in d:
        return "location"
    if "status" in d:
        return "service"
    if "service" in d or "location" in d or "service_id" in d:
        return "service_at_location"
    if "name" in d:
        return "organization"
    return "unknown"


FULL = {
    "service": "service",
    "organization": "organization",
    "service_at_location": "service_at_location",
}
LISTED = {
    "service": "service_list",
    "organization": "organization_list",
    "service_at_location": "service_at_location_list",
}
SKIPPED = {"taxonomy", "taxonomy_term", "location"}


class _Reader:
    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas
        self.docs: list[_Doc] = []
        self.errors: list[str] = []
        self.skipped: list[str] = []
        self.files: list[str] = []

    def path(self, path: Path) -> None:
        if path.is_dir():
            if list(path.glob("*.csv")):
                self.tabular_dir(path)
            for child in sorted(path.iterdir()):
                if child.is_dir():
                    self.path(child)
                elif child.suffix == ".json" and not (
                    child.name == "datapackage.json" and list(path.glob("*.csv"))
                ):
                    self.json_file(child)
            return
        if path.name == "datapackage.json" or path.suffix == ".csv":
            self.tabular_dir(path.parent)
            return
        self.json_file(path)

    def json_file(self, path: Path) -> None:
        self.files.append(str(path))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.errors.append(f"{path.name}: not readable JSON ({exc})")
            return
        self.document(data, path.name)

    def document(self, data: Any, source: str) -> None:
        if isinstance(data, list):
            for i, item in enumerate(data):
                self.item(item, source, f"$[{i}]", listed=False)
        elif isinstance(data, dict) and isinstance(data.get("contents"), list):
            for i, item in enumerate(data["contents"]):
                self.item(item, source, f"$.contents[{i}]", listed=True)
        elif isinstance(data, dict) and data and all(str(k).endswith(".csv") for k in data):
            self.tables(
                {k: v for k, v in data.items() if isinstance(v, list)}, source, json_form=True
            )
        else:
            self.item(data, source, "$", listed=False)

    def item(self, data: Any, source: str, where: str, *, listed: bool) -> None:
        kind = _classify(data)
        if kind == "meta":
            self.skipped.append(f"{source} {where}: API information, nothing to import")
            return
        if kind == "unknown":
            self.errors.append(
                f"{source} {where}: not an HSDS service, organization or service_at_location"
            )
            return
        if kind in SKIPPED:
            problems = errors_of(self.schemas.entity(kind), data, where)
            self.errors += [f"{source} {p}" for p in problems]
            if not problems:
                self.skipped.append(
                    f"{source} {where}: a {kind.replace('_', ' ')} on its own; Refuge keeps "
                    "locations with their services and its own taxonomy"
                )
            return
        name = LISTED[kind] if listed else FULL[kind]
        problems = errors_of(self.schemas.compiled(name), data, where)
        if problems:
            self.errors += [f"{source} {p}" for p in problems]
            return
        self.docs.append(_Doc(kind, data, f"{source} {where}"))

    def tabular_dir(self, directory: Path) -> None:
        self.files.append(str(directory))
        self.tables(tabular.read_csv_dir(directory), directory.name or str(directory))

    def tables(self, raw: dict[str, list[dict]], source: str, *, json_form: bool = False) -> None:
        typed: dict[str, list[dict[str, Any]]] = {}
        for name, rows in raw.items():
            entity = _entity_of(name)
            if entity is None:
                self.skipped.append(f"{source} {name}: not a table Refuge imports")
                continue
            schema = self.schemas.entity_schema(entity)
            properties = schema.get("properties", {})
            validator = self.schemas.entity(entity)
            required = schema.get("tabular_required", [])
            out = []
            for i, row in enumerate(rows):
                item = tabular.typed(row, properties, schema.get("required", []))
                label = f"{source} {name} row {i + 2 if not json_form else i}"
                problems = errors_of(validator, item, "$")
                problems += [
                    f"$.{c}: '{c}' is required in the tabular form"
                    for c in required
                    if c not in item
                ]
                if problems:
                    self.errors += [f"{label}: {p}" for p in problems]
                else:
                    out.append(item)
            typed[name] = out
        if self.errors:
            return
        services_, organizations = tabular.assemble(typed)
        for i, doc in enumerate(organizations):
            self.item(doc, source, f"organizations[{i}]", listed=False)
        for i, doc in enumerate(services_):
            self.item(doc, source, f"services[{i}]", listed=False)


def _entity_of(name: str) -> str | None:
    entity = tabular.FILE_TO_ENTITY.get(name)
    if entity in {"service_capacity", "unit"}:
        return None
    if entity is not None:
        return entity
    known = {
        "organizations.csv": "organization",
        "services.csv": "service",
        "locations.csv": "location",
        "service_at_location.csv": "service_at_location",
        "phones.csv": "phone",
    }
    return known.get(name)


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v not in (None, "")}


# --- merging ------------------------------------------------------------------------------------


def _merge(into: dict[str, Any], doc: dict[str, Any]) -> None:
    for key, value in doc.items():
        if value in (None, "", [], {}):
            continue
        current = into.get(key)
        if current in (None, "", [], {}) or (
            isinstance(value, list) and isinstance(current, list) and len(value) > len(current)
        ):
            into[key] = value


@dataclass
class _Collected:
    organizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    sals: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=dict
    )  # service -> sal id -> sal


def _collect(docs: list[_Doc]) -> _Collected:
    c = _Collected()

    def org(doc: dict[str, Any]) -> None:
        basics = {k: v for k, v in doc.items() if k != "services"}
        _merge(c.organizations.setdefault(doc["id"], {}), basics)
        for service in doc.get("services", []):
            service = dict(service)
            service.setdefault("organization_id", doc["id"])
            svc(service)

    def svc(doc: dict[str, Any]) -> None:
        sid = doc["id"]
        if isinstance(doc.get("organization"), dict):
            org(doc["organization"])
            doc = {
                **doc,
                "organization_id": doc.get("organization_id") or doc["organization"]["id"],
            }
        basics = {k: v for k, v in doc.items() if k not in {"organization", "service_at_locations"}}
        _merge(c.services.setdefault(sid, {}), basics)
        for sal in doc.get("service_at_locations", []):
            add_sal(sid, sal)

    def add_sal(sid: str, sal: dict[str, Any]) -> None:
        basics = {k: v for k, v in sal.items() if k != "service"}
        _merge(c.sals.setdefault(sid, {}).setdefault(sal["id"], {}), basics)

    for doc in docs:
        if doc.kind == "organization":
            org(doc.data)
        elif doc.kind == "service":
            svc(doc.data)
        else:
            sal = doc.data
            service = sal.get("service")
            sid = sal.get("service_id") or (service or {}).get("id")
            if isinstance(service, dict):
                svc(service)
            if sid:
                add_sal(sid, sal)
    return c


# --- mapping ------------------------------------------------------------------------------------


def _attr_values(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(term code, value) of the attributes under the Refuge taxonomy."""
    out = []
    for attribute in service.get("attributes", []):
        term = attribute.get("taxonomy_term") or {}
        code = None
        if attribute.get("taxonomy_term_id") in TERMS_BY_ID:
            code = TERMS_BY_ID[attribute["taxonomy_term_id"]].code
        elif term.get("taxonomy") == TAXONOMY_NAME and term.get("code") in TERMS:
            code = term["code"]
        elif term.get("id") in TERMS_BY_ID:
            code = TERMS_BY_ID[term["id"]].code
        if code:
            out.append((code, str(attribute.get("value") or "")))
    return out


def _rule_value(field_name: str, text: str) -> Any:
    vtype = RULE_TYPES.get(field_name)
    if vtype == "boolean":
        return {"true": True, "false": False}.get(text.lower())
    if vtype == "integer":
        return int(text) if text.isdigit() else None
    return text


def _email(value: Any) -> str:
    try:
        validate_email(value or "")
    except ValidationError:
        return ""
    return str(value)[:254]


def _url(value: Any) -> str:
    try:
        URLValidator()(value or "")
    except ValidationError:
        return ""
    return str(value)[:200]


@dataclass
class _FacilityPlan:
    hsds_id: str
    location_id: str
    sal_id: str
    organisation_hsds_id: str
    values: dict[str, Any]
    rules: dict[str, Any]
    offered: dict[str, str]
    phones: list[dict[str, Any]]
    hours: list[dict[str, Any]] = field(default_factory=list)


def _plan_facilities(c: _Collected, report: ImportReport) -> list[_FacilityPlan]:
    regions = set(Region.objects.values_list("code", flat=True))
    plans = []
    for sid, service in sorted(c.services.items()):
        attrs = _attr_values(service)
        kind = FacilityKind.OTHER
        faith = ""
        region = None
        visibility = None
        offered: dict[str, str] = {}
        rules: dict[str, Any] = {name: None for name in services.RULE_FIELDS}
        rules.update(women_only=True, staff_languages=[], cost="", cost_note="", notes="")
        stated_capacity = None
        for code, value in attrs:
            group, _dot, name = code.partition(".")
            if group == "facility_kind" and name in FacilityKind.values:
                kind = name
            elif group == "faith" and name in Faith.values:
                faith = name
            elif group == "service" and name in ServiceKind.values:
                offered[name] = value[:300]
            elif group == "rule" and name == "stated_capacity":
                stated_capacity = _rule_value("min_age", value)
            elif group == "rule" and name in rules:
                parsed = _rule_value(name, value)
                if name == "cost" and parsed not in {"free", "paid"}:
                    parsed = ""
                if name == "women_only" and parsed is None:
                    parsed = True
                rules[name] = parsed
            elif code == "location.region" and value in regions:
                region = value
            elif code == "location.address_visibility" and value in AddressVisibility.values:
                visibility = value
        if rules["min_age"] is None and isinstance(service.get("minimum_age"), int | float):
            if 0 <= service["minimum_age"] <= 100:
                rules["min_age"] = int(service["minimum_age"])
        if not rules["staff_languages"]:
            codes = [str(lang.get("code", "")).lower() for lang in service.get("languages", [])]
            rules["staff_languages"] = list(dict.fromkeys(c for c in codes if LANG.match(c)))
        if not rules["cost"]:
            amounts = [o.get("amount") for o in service.get("cost_options", []) if "amount" in o]
            if amounts:
                rules["cost"] = "paid" if any((a or 0) > 0 for a in amounts) else "free"
        if not rules["cost_note"] and service.get("fees_description"):
            rules["cost_note"] = str(service["fees_description"])[:300]
        if service.get("interpretation_services") and ServiceKind.INTERPRETATION not in offered:
            offered[ServiceKind.INTERPRETATION] = str(service["interpretation_services"])[:300]
        base = {
            "name": str(service.get("name", ""))[:200],
            "alternate_name": str(service.get("alternate_name", ""))[:200],
            "kind": kind,
            "faith": faith if kind == FacilityKind.FAITH_BASED else "",
            "description": str(service.get("description", "")),
            "region": region,
            "email": _email(service.get("email")),
            "website": _url(service.get("url")),
            "stated_capacity": stated_capacity,
            "is_active": service.get("status", "active") == "active",
            "listed_publicly": True,
            "source_note": f"Imported from an HSDS 3.0 feed (service {sid}).",
        }
        service_phones = list(service.get("phones", []))
        sals = [
            s
            for _id, s in sorted(c.sals.get(sid, {}).items())
            if isinstance(s.get("location"), dict)
        ]
        targets: list[tuple[str, str, str, dict | None, list]] = []
        if not sals:
            targets.append((sid, stable_id(sid, "no-location"), stable_id(sid, "no-sal"), None, []))
        for sal in sals:
            loc = sal["location"]
            fid = sid if len(sals) == 1 else stable_id(sid, "at", sal["id"])
            extra = list(sal.get("phones", [])) + list(loc.get("phones", []))
            targets.append((fid, loc["id"], sal["id"], loc, extra))
        for fid, location_id, sal_id, loc, extra_phones in targets:
            values = dict(base)
            values["latitude"] = values["longitude"] = None
            values.update(locality="", address="", postal_code="")
            values["address_visibility"] = visibility or (
                AddressVisibility.PUBLIC if loc else AddressVisibility.CONFIDENTIAL
            )
            if loc is not None:
                if len(sals) > 1 and loc.get("name"):
                    values["name"] = f"{base['name']} – {loc['name']}"[:200]
                lat, lon = loc.get("latitude"), loc.get("longitude")
                if valid_point(lat, lon):
                    values["latitude"], values["longitude"] = float(lat), float(lon)
                elif lat is not None or lon is not None:
                    report.warnings.append(
                        f"{values['name']}: coordinates {lat}, {lon} are not a place on Earth; left out"
                    )
                addresses = loc.get("addresses") or []
                if addresses:
                    a = addresses[0]
                    values["address"] = ", ".join(
                        str(x) for x in (a.get("address_1"), a.get("address_2")) if x
                    )[:300]
                    values["locality"] = str(a.get("city", ""))[:120]
                    values["postal_code"] = str(a.get("postal_code", ""))[:20]
            country = region[:2] if region else _country_of(loc)
            values["country"] = country
            phones = _phones(service_phones + extra_phones, country, fid, report, values["name"])
            schedules = list(service.get("schedules", []))
            if loc is not None:
                sal = next(x for x in sals if x["location"] is loc)
                schedules += list(sal.get("schedules", [])) + list(loc.get("schedules", []))
            opening = _hours(schedules, report, values["name"])
            plans.append(
                _FacilityPlan(
                    hsds_id=fid,
                    location_id=location_id,
                    sal_id=sal_id,
                    organisation_hsds_id=str(service.get("organization_id", "")),
                    values=values,
                    rules=dict(rules),
                    offered=dict(offered),
                    phones=phones,
                    hours=opening,
                )
            )
    return plans


ICAL_DAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def _closes(text: str) -> int:
    """A closing time in minutes; 23:59 (HSDS's "until midnight", with or without seconds)
    is the end of the day, so that the export's 23:59:59 comes back as it went out."""
    minutes = hours.parse_hhmm(text)
    return hours.DAY if minutes == hours.DAY - 1 else minutes


def _hours(schedules: list[dict[str, Any]], report: ImportReport, name: str) -> list[dict]:
    """Weekly opening hours from HSDS schedules (local times; a time zone suffix is ignored).
    Schedules that are not plain weekly hours (monthly, dated, without times) are left out
    with a warning, and so are all the hours when what is left contradicts itself."""
    windows = []
    for item in schedules:
        days_text = str(item.get("byday") or "")
        freq = str(item.get("freq") or "WEEKLY").upper()
        codes = [d.strip().upper() for d in days_text.split(",") if d.strip()]
        try:
            if freq != "WEEKLY" or not codes or any(c not in ICAL_DAYS for c in codes):
                raise ValueError(days_text)
            windows.append(
                hours.Window(
                    days=tuple(sorted({ICAL_DAYS[c] for c in codes})),
                    opens=hours.parse_hhmm(item["opens_at"]),
                    closes=_closes(item["closes_at"]),
                )
            )
        except (KeyError, ValueError):
            report.warnings.append(
                f"{name}: schedule {item.get('id', '?')} is not weekly opening hours; left out"
            )
    if hours.problems(windows):
        report.warnings.append(f"{name}: the opening hours contradict each other; left out")
        return []
    return hours.dumps(windows)


def _country_of(loc: dict[str, Any] | None) -> str:
    if not loc:
        return ""
    for a in loc.get("addresses") or []:
        country = str(a.get("country", "")).upper()
        if len(country) == 2:
            return country
    return ""


def _phones(
    items: list[dict[str, Any]], country: str, owner: str, report: ImportReport, label: str
) -> list[dict[str, Any]]:
    out, seen = [], set()
    for item in items:
        if item.get("id") in seen:
            continue
        seen.add(item.get("id"))
        try:
            number, recognised = services.normalise_phone(str(item.get("number", "")), country)
        except ServiceError:
            report.warnings.append(
                f"{label}: phone “{item.get('number')}” is not a phone number; left out"
            )
            continue
        kind = item.get("type") if item.get("type") in PhoneKind.values else PhoneKind.VOICE
        out.append(
            {
                "id": stable_id(owner, "phone", item["id"]),
                "number": number,
                "recognised": recognised,
                "kind": kind,
                "description": str(item.get("description", ""))[:200],
                "extension": str(item.get("extension", "") or "")[:10],
            }
        )
    return out


def _org_kind(kinds: set[str]) -> str:
    if kinds & {k.value for k in ACCOMMODATION_KINDS}:
        return OrgKind.SHELTER
    if FacilityKind.CRISIS_CENTRE in kinds:
        return OrgKind.CRISIS_CENTRE
    if FacilityKind.HOTLINE in kinds:
        return OrgKind.HOTLINE
    if FacilityKind.PERPETRATOR_PROGRAMME in kinds:
        return OrgKind.PROGRAMME
    return OrgKind.PARTNER


# --- the import -------------------------------------------------------------------------------


def import_hsds(path: str | Path, *, schemas: Schemas, dry_run: bool = False) -> ImportReport:
    """Validate everything under `path`, then write it all or nothing. Raises ImportRejected."""
    path = Path(path)
    if not path.exists():
        raise ImportRejected([f"{path}: no such file or directory"])
    reader = _Reader(schemas)
    reader.path(path)
    report = ImportReport(files=reader.files, skipped=reader.skipped)
    if reader.errors:
        raise ImportRejected(reader.errors)
    collected = _collect(reader.docs)
    plans = _plan_facilities(collected, report)
    missing = sorted(
        {p.organisation_hsds_id for p in plans}
        - set(collected.organizations)
        - _existing_org_ids(plans)
    )
    if missing:
        raise ImportRejected(
            [
                f"a service refers to organization {m}, which is neither in the files nor known"
                for m in missing
            ]
        )
    if dry_run:
        return report
    with transaction.atomic():
        _write(collected, plans, report)
        audit.record(
            actor=None,
            action="hsds.import",
            target_type="directory.facility",
            details={
                "files": [Path(f).name for f in report.files][:50],
                "organisations_created": report.organisations_created,
                "facilities_created": report.facilities_created,
                "facilities_updated": report.facilities_updated,
            },
        )
    return report


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _existing_org_ids(plans: list[_FacilityPlan]) -> set[str]:
    from refuge.directory.models import OrganisationProfile

    ids = [u for p in plans if (u := _uuid(p.organisation_hsds_id)) is not None]
    return {
        str(h)
        for h in OrganisationProfile.objects.filter(hsds_id__in=ids).values_list(
            "hsds_id", flat=True
        )
    }


def _write(c: _Collected, plans: list[_FacilityPlan], report: ImportReport) -> None:
    from refuge.directory.models import OrganisationProfile

    # A phone listed both for an organization and for its service (as in the specification's
    # examples) is one phone: it stays with the service.
    service_phone_ids = {
        p.get("id") for service in c.services.values() for p in service.get("phones", [])
    } | {
        p.get("id")
        for sals in c.sals.values()
        for sal in sals.values()
        for p in [*sal.get("phones", []), *(sal.get("location") or {}).get("phones", [])]
    }
    kinds_by_org: dict[str, set[str]] = {}
    for p in plans:
        kinds_by_org.setdefault(p.organisation_hsds_id, set()).add(p.values["kind"])
    organisations = {}
    for oid, org in sorted(c.organizations.items()):
        name = str(org.get("name", ""))[:200] or oid
        organisation, created = services.organisation_import(
            by=None,
            hsds_id=oid,
            name=name,
            kind=_org_kind(kinds_by_org.get(oid, set())),
            slug=(slugify(name)[:40].strip("-") or "organisation") + "-" + oid[:8],
            alternate_name=str(org.get("alternate_name", ""))[:200],
            description=str(org.get("description", "")),
            email=_email(org.get("email")),
            website=_url(org.get("website")),
        )
        organisations[oid] = organisation
        report.organisations_seen += 1
        report.organisations_created += int(created)
        own = [p for p in org.get("phones", []) if p.get("id") not in service_phone_ids]
        phones = _phones(own, "", oid, report, name)
        services.phones_replace(by=None, organisation=organisation, facility=None, phones=phones)
    for oid in {p.organisation_hsds_id for p in plans} - set(organisations):
        profile = OrganisationProfile.objects.select_related("organisation").get(hsds_id=oid)
        organisations[oid] = profile.organisation
    for plan in plans:
        organisation = organisations[plan.organisation_hsds_id]
        facility = Facility.objects.filter(hsds_id=plan.hsds_id).first()
        values = dict(plan.values)
        if facility is None:
            facility = services.facility_create(
                by=None,
                organisation=organisation,
                rules=plan.rules,
                services=plan.offered,
                hsds_ids={
                    "hsds_id": plan.hsds_id,
                    "hsds_location_id": plan.location_id,
                    "hsds_sal_id": plan.sal_id,
                },
                **values,
            )
            services.phones_replace(
                by=None, organisation=organisation, facility=facility, phones=plan.phones
            )
            services.facility_hours_set(by=None, facility=facility, windows=plan.hours)
            report.facilities_created += 1
            continue
        if facility.organisation_id != organisation.pk:
            raise ImportRejected(
                [f"service {plan.hsds_id} belongs to another organisation here; not moved"]
            )
        before = facility.updated_at
        changed = (
            services.facility_update(by=None, facility=facility, **values).updated_at != before
        )
        rules_before = getattr(facility, "rules", None)
        rules_stamp = rules_before.updated_at if rules_before else None
        rules = services.house_rules_update(by=None, facility=facility, **plan.rules)
        changed |= rules.updated_at != rules_stamp
        changed |= bool(
            services.facility_services_set(by=None, facility=facility, services=plan.offered)
        )
        changed |= services.phones_replace(
            by=None, organisation=organisation, facility=facility, phones=plan.phones
        )
        changed |= services.facility_hours_set(by=None, facility=facility, windows=plan.hours)
        if changed:
            report.facilities_updated += 1
        else:
            report.facilities_unchanged += 1
