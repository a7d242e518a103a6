"""The directories shipped with Refuge (fixtures/*.json), loaded by `refuge load-directory`
and by the demo.

Loading is idempotent: organisations and facilities are matched by identifiers derived from
their short names. What a centre has since changed in Refuge is kept unless ``refresh`` is
asked for: the centre's own word is newer than a published report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from refuge.core import audit

from . import services
from .hsds.taxonomy import stable_id
from .models import Facility, Region
from .regions import load_regions

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHIPPED = {"kg": FIXTURES / "kg_crisis_centres.json"}


@dataclass
class LoadResult:
    organisations_created: int = 0
    facilities_created: int = 0
    facilities_refreshed: int = 0
    facilities_kept: int = 0
    regions_created: int = 0


def _rules(given: dict[str, Any]) -> dict[str, Any]:
    rules: dict[str, Any] = {name: None for name in services.RULE_FIELDS}
    rules.update(women_only=True, staff_languages=[], cost="", cost_note="", notes="")
    rules.update(given)
    return rules


def _phones(facility_id: str, items: list[dict[str, Any]], country: str) -> list[dict[str, Any]]:
    out = []
    for item in items:
        number, recognised = services.normalise_phone(item["number"], country)
        out.append(
            {
                "id": stable_id(facility_id, "phone", number),
                "number": number,
                "recognised": recognised,
                "kind": item.get("kind", "voice"),
                "description": item.get("description", ""),
            }
        )
    return out


def load_file(path: Path, *, refresh: bool = False, country: str = "") -> LoadResult:
    data = json.loads(path.read_text(encoding="utf-8"))
    result = LoadResult()
    with transaction.atomic():
        result.regions_created, _updated = load_regions(Region)
        for org in data["organisations"]:
            organisation, created = services.organisation_import(
                by=None,
                hsds_id=stable_id("shipped", org["slug"]),
                name=org["name"],
                kind=org["kind"],
                slug=org["slug"],
                alternate_name=org.get("alternate_name", ""),
                description=org.get("description", ""),
                email=org.get("email", ""),
            )
            result.organisations_created += int(created)
            for item in org["facilities"]:
                fid = stable_id("shipped", org["slug"], item["key"])
                values = {
                    "name": item["name"],
                    "kind": item["kind"],
                    "region": item.get("region"),
                    "country": item.get("country") or data.get("country", ""),
                    "locality": item.get("locality", ""),
                    "address": item.get("address", ""),
                    "address_visibility": item.get("address_visibility", "confidential"),
                    "email": item.get("email", ""),
                    "description": item.get("description", ""),
                    "stated_capacity": item.get("stated_capacity"),
                    "source_note": item.get("source_note", ""),
                }
                region_country = (item.get("region") or "")[:2] or country
                phones = _phones(fid, item.get("phones", []), region_country)
                facility = Facility.objects.filter(hsds_id=fid).first()
                if facility is None:
                    facility = services.facility_create(
                        by=None,
                        organisation=organisation,
                        rules=_rules(item.get("rules", {})),
                        services=item.get("services", {}),
                        hsds_ids={
                            "hsds_id": fid,
                            "hsds_location_id": stable_id(fid, "location"),
                            "hsds_sal_id": stable_id(fid, "service_at_location"),
                        },
                        **values,
                    )
                    result.facilities_created += 1
                elif refresh:
                    services.facility_update(by=None, facility=facility, **values)
                    services.house_rules_update(
                        by=None, facility=facility, **_rules(item.get("rules", {}))
                    )
                    services.facility_services_set(
                        by=None, facility=facility, services=item.get("services", {})
                    )
                    result.facilities_refreshed += 1
                else:
                    result.facilities_kept += 1
                    continue
                services.phones_replace(
                    by=None, organisation=organisation, facility=facility, phones=phones
                )
        audit.record(
            actor=None,
            action="directory.load",
            target_type="directory.facility",
            details={"file": path.name, "created": result.facilities_created},
        )
    return result
