"""The Refuge directory taxonomy (version 1), published with every export.

Terms are hierarchical: four roots (facility kind, service offered, house rule, location) and
their children. Identifiers are UUID v5 of the term code, so they never change between
exports or installations. Rule terms carry their value in the attribute's ``value``:
``true``/``false`` for yes/no rules, a whole number for limits, ISO codes for languages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.utils.translation import override

from refuge.directory.models import FacilityKind, Faith, ServiceKind

NAMESPACE = uuid.UUID("76af32b1-bbb7-4610-bf1f-6a83a11e0f39")
TAXONOMY_NAME = "refuge-directory"
TAXONOMY_VERSION = "1"
TAXONOMY_URI = "urn:refuge:taxonomy:directory:1"


def stable_id(*parts: Any) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


TAXONOMY = {
    "id": stable_id("taxonomy", TAXONOMY_NAME, TAXONOMY_VERSION),
    "name": TAXONOMY_NAME,
    "description": (
        "Refuge directory taxonomy: kinds of facility for women affected by violence, the "
        "services they offer, the house rules that decide who can be taken, and coarse location."
    ),
    "uri": TAXONOMY_URI,
    "version": TAXONOMY_VERSION,
}


@dataclass(frozen=True)
class Term:
    code: str
    name: str
    description: str
    parent: str = ""
    value_type: str = ""  # "", "boolean", "integer", "text", "code"

    @property
    def id(self) -> str:
        return stable_id("term", TAXONOMY_NAME, self.code)

    def as_hsds(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "taxonomy": TAXONOMY_NAME,
            "taxonomy_detail": TAXONOMY,
            "language": "en",
            "term_uri": f"{TAXONOMY_URI}:{self.code}",
        }
        if self.parent:
            data["parent_id"] = TERMS[self.parent].id
        return data


# Rule terms: (field on HouseRules, value type, English description).
RULE_TERMS: list[tuple[str, str, str]] = [
    ("women_only", "boolean", "Only women are accepted (false: any gender)."),
    ("min_age", "integer", "Youngest age accepted for the adult client."),
    ("children_accepted", "boolean", "Women with children are accepted."),
    ("max_children", "integer", "Most children accepted with one woman."),
    ("boys_max_age", "integer", "Boys are accepted up to and including this age."),
    ("girls_max_age", "integer", "Girls are accepted up to and including this age."),
    ("pets_accepted", "boolean", "Pets are accepted."),
    ("wheelchair_accessible", "boolean", "The accommodation is accessible by wheelchair."),
    ("substance_use_accepted", "boolean", "Women who use alcohol or drugs are accepted."),
    ("mental_health_accepted", "boolean", "Women with mental-health conditions are accepted."),
    ("requires_passport", "boolean", "A passport is required."),
    (
        "requires_residence_permit",
        "boolean",
        "A residence permit is required from foreign citizens.",
    ),
    ("requires_local_registration", "boolean", "Local registration (propiska) is required."),
    ("foreign_citizens_accepted", "boolean", "Foreign citizens are accepted."),
    ("max_stay_days", "integer", "Longest stay in days."),
    ("cost", "code", "free or paid."),
    ("beds", "integer", "Beds in service (the facility's capacity, not its availability)."),
    ("stated_capacity", "integer", "Places as the facility publishes them (people)."),
]


def _build() -> list[Term]:
    # Term names are English in every export, whatever language a request is in.
    with override("en"):
        terms = [
            Term("facility_kind", "Facility kind", "What kind of facility provides the service."),
            Term("service", "Service offered", "Services offered at the facility."),
            Term("house_rule", "House rule", "Rules that decide who the facility can take."),
            Term("location", "Location", "Coarse location and how the address is shared."),
        ]
        terms += [
            Term(
                f"facility_kind.{k.value}",
                str(k.label),
                f"Facility kind: {k.label}.",
                "facility_kind",
            )
            for k in FacilityKind
        ]
        terms += [
            Term(
                f"faith.{f.value}",
                f"Faith-based: {f.label}",
                f"Run by a {f.label} organisation.",
                "facility_kind",
            )
            for f in Faith
            if f.value
        ]
        terms += [
            Term(f"service.{s.value}", str(s.label), f"Service offered: {s.label}.", "service")
            for s in ServiceKind
        ]
    terms += [
        Term(f"rule.{field}", field.replace("_", " ").capitalize(), text, "house_rule", vtype)
        for field, vtype, text in RULE_TERMS
    ]
    terms += [
        Term("location.region", "Region", "ISO 3166-2 code of the region.", "location", "code"),
        Term(
            "location.address_visibility",
            "Address visibility",
            "public, professionals or confidential: confidential and professionals-only "
            "locations are never published.",
            "location",
            "code",
        ),
    ]
    return terms


_terms = _build()

TERMS: dict[str, Term] = {t.code: t for t in _terms}
TERMS_BY_ID: dict[str, Term] = {t.id: t for t in _terms}


def taxonomy_terms() -> list[dict[str, Any]]:
    return [t.as_hsds() for t in _terms]
