"""The public profile as HSDS 3.0 documents (used by `refuge export-hsds` and the read API).

What is public: active, publicly listed facilities of active organisations, except shelters
whose address is confidential, which are never named (the help pages only count them: "a
confidential shelter in this region"); a location only when the address is public, and an
address only when it is complete (HSDS requires street, town, region, postal code and country);
public phones only; live availability (the 3.1-dev ``service_capacity`` shape, under
``capacities``) only where the facility chose to publish it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import override

from refuge.core.models import Organisation
from refuge.directory import hours
from refuge.directory.models import (
    AddressVisibility,
    ContactVisibility,
    Facility,
    FacilityKind,
    FacilityService,
    HouseRules,
    OrganisationProfile,
    Phone,
    ServiceKind,
)
from refuge.directory.regions import country_name
from refuge.directory.selectors import CONFIDENTIAL_SHELTER

from .taxonomy import RULE_TERMS, TAXONOMY, TERMS, stable_id, taxonomy_terms

LANGUAGE_NAMES = {
    "ar": "Arabic",
    "az": "Azerbaijani",
    "cs": "Czech",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "hy": "Armenian",
    "ka": "Georgian",
    "kk": "Kazakh",
    "ky": "Kyrgyz",
    "mn": "Mongolian",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "tg": "Tajik",
    "tk": "Turkmen",
    "uk": "Ukrainian",
    "uz": "Uzbek",
    "vi": "Vietnamese",
}
# Opening hours are local time at the facility; HSDS wants the UTC offset beside them. One zone
# per country is right for the countries the directory covers (Russia only where the Central
# Federal District is: Moscow time).
COUNTRY_TIMEZONES = {"RU": "Europe/Moscow", "KG": "Asia/Bishkek", "CZ": "Europe/Prague"}
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
BED_UNIT = {
    "id": stable_id("unit", "bed"),
    "name": "Bed",
    "scheme": "refuge",
    "identifier": "bed",
}


def _iso(dt: datetime | None) -> str:
    dt = dt or timezone.now()
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    """Optional fields are left out rather than sent empty."""
    if value not in (None, "", [], {}):
        doc[key] = value


# --- querysets -------------------------------------------------------------------------------


def listed_facilities() -> QuerySet[Facility]:
    """The facilities of the public profile, without what their documents need."""
    return Facility.objects.filter(
        is_active=True, listed_publicly=True, organisation__is_active=True
    ).exclude(CONFIDENTIAL_SHELTER)


def public_facilities() -> QuerySet[Facility]:
    return (
        listed_facilities()
        .select_related(
            "organisation", "organisation__directory_profile", "region", "rules", "availability"
        )
        .prefetch_related(
            Prefetch("services", queryset=FacilityService.objects.order_by("kind")),
            Prefetch(
                "phones",
                queryset=Phone.objects.filter(visibility=ContactVisibility.PUBLIC).order_by(
                    "position", "number"
                ),
                to_attr="public_phones",
            ),
            "rooms",
        )
        .order_by("name", "pk")
    )


def public_organisations() -> QuerySet[Organisation]:
    """Organisations with at least one facility in the public profile."""
    listed = listed_facilities().values("organisation_id")
    return (
        Organisation.objects.filter(pk__in=listed, directory_profile__isnull=False)
        .select_related("directory_profile")
        .prefetch_related(
            Prefetch(
                "directory_phones",
                queryset=Phone.objects.filter(
                    facility__isnull=True, visibility=ContactVisibility.PUBLIC
                ),
                to_attr="public_org_phones",
            )
        )
        .order_by("name", "pk")
    )


# --- pieces ----------------------------------------------------------------------------------


def phone_doc(phone: Phone) -> dict[str, Any]:
    doc: dict[str, Any] = {"id": str(phone.id), "number": phone.number, "type": phone.kind}
    if phone.extension.isdigit():
        doc["extension"] = int(phone.extension)
    _put(doc, "description", phone.description)
    return doc


def _attribute(service_id: str, code: str, value: Any, link_type: str) -> dict[str, Any]:
    term = TERMS[code]
    text = (
        ("true" if value else "false")
        if isinstance(value, bool)
        else ("" if value is None else str(value))
    )
    return {
        "id": stable_id(service_id, "attribute", code, text),
        "link_id": service_id,
        "link_type": link_type,
        "link_entity": "service",
        "taxonomy_term_id": term.id,
        "taxonomy_term": term.as_hsds(),
        "value": text,
    }


def _beds(f: Facility) -> int:
    return sum(r.beds for r in f.rooms.all() if r.in_service)


def _rules(f: Facility) -> HouseRules | None:
    try:
        return f.rules
    except HouseRules.DoesNotExist:
        return None


def attributes_for(f: Facility) -> list[dict[str, Any]]:
    sid = str(f.hsds_id)
    out = [_attribute(sid, f"facility_kind.{f.kind}", f.kind, "service_type")]
    if f.faith:
        out.append(_attribute(sid, f"faith.{f.faith}", f.faith, "service_type"))
    out += [_attribute(sid, f"service.{s.kind}", s.note, "service_type") for s in f.services.all()]
    rules = _rules(f)
    if rules is not None:
        for field, _vtype, _text in RULE_TERMS:
            if field in {"beds", "stated_capacity"}:
                continue
            value = getattr(rules, field)
            if value is None or value == "":
                continue
            out.append(_attribute(sid, f"rule.{field}", value, "eligibility"))
    beds = _beds(f)
    if beds:
        out.append(_attribute(sid, "rule.beds", beds, "eligibility"))
    if f.stated_capacity:
        out.append(_attribute(sid, "rule.stated_capacity", f.stated_capacity, "eligibility"))
    if f.region_id:
        out.append(_attribute(sid, "location.region", f.region_id, "location"))
    out.append(_attribute(sid, "location.address_visibility", f.address_visibility, "location"))
    return out


def eligibility_text(rules: HouseRules | None) -> str:
    """The stated rules in one English paragraph (the machine form is in the attributes)."""
    if rules is None:
        return ""
    parts = ["Women only." if rules.women_only else "Any gender."]
    if rules.min_age is not None:
        parts.append(f"Aged {rules.min_age} or over.")
    if rules.children_accepted is True:
        limits = []
        if rules.max_children is not None:
            limits.append(f"at most {rules.max_children}")
        if rules.boys_max_age is not None:
            limits.append(f"boys up to {rules.boys_max_age}")
        if rules.girls_max_age is not None:
            limits.append(f"girls up to {rules.girls_max_age}")
        parts.append("Children accepted" + (f" ({', '.join(limits)})." if limits else "."))
    elif rules.children_accepted is False:
        parts.append("No children.")
    for field, yes, no in (
        ("pets_accepted", "Pets accepted.", "No pets."),
        ("wheelchair_accessible", "Wheelchair accessible.", "Not wheelchair accessible."),
        (
            "substance_use_accepted",
            "Women who use alcohol or drugs accepted.",
            "Women who use alcohol or drugs not accepted.",
        ),
        (
            "mental_health_accepted",
            "Women with mental-health conditions accepted.",
            "Women with mental-health conditions not accepted.",
        ),
        ("foreign_citizens_accepted", "Foreign citizens accepted.", "Citizens only."),
    ):
        value = getattr(rules, field)
        if value is not None:
            parts.append(yes if value else no)
    if rules.max_stay_days is not None:
        parts.append(f"Stays of up to {rules.max_stay_days} days.")
    return " ".join(parts)


def _required_documents(f: Facility, rules: HouseRules | None) -> list[dict[str, Any]]:
    if rules is None:
        return []
    sid = str(f.hsds_id)
    docs = []
    for field, text in (
        ("requires_passport", "Passport"),
        ("requires_residence_permit", "Residence permit (foreign citizens)"),
        ("requires_local_registration", "Local registration"),
    ):
        if getattr(rules, field):
            docs.append({"id": stable_id(sid, "document", field), "document": text})
    return docs


def _cost_options(f: Facility, rules: HouseRules | None) -> list[dict[str, Any]]:
    if rules is None or not rules.cost:
        return []
    doc: dict[str, Any] = {"id": stable_id(f.hsds_id, "cost", rules.cost)}
    if rules.cost == "free":
        doc.update(option="Free of charge", amount=0)
    else:
        doc["option"] = "Paid"
    _put(doc, "amount_description", rules.cost_note)
    return [doc]


def _languages(f: Facility, rules: HouseRules | None) -> list[dict[str, Any]]:
    if rules is None:
        return []
    return [
        {
            "id": stable_id(f.hsds_id, "language", code),
            "name": LANGUAGE_NAMES.get(code, code),
            "code": code,
        }
        for code in rules.staff_languages or []
    ]


def _service_areas(f: Facility) -> list[dict[str, Any]]:
    if f.region is None:
        if not f.country:
            return []
        with override("en"):
            country = country_name(f.country)
        return [
            {
                "id": stable_id(f.hsds_id, "area", f.country),
                "name": country,
                "description": f"Somewhere in {country}; the region is not published.",
            }
        ]
    region = f.region
    with override("en"):
        country = country_name(region.country)
    description = f"{region.name_en} ({region.code}), {country}."
    if f.address_visibility == AddressVisibility.CONFIDENTIAL:
        description += " The address is confidential: call to be referred."
    elif f.address_visibility == AddressVisibility.PROFESSIONALS:
        description += " The address is given to professionals only."
    return [
        {
            "id": stable_id(f.hsds_id, "area", region.code),
            "name": region.name_en,
            "description": description,
        }
    ]


def _utc_offset(f: Facility, at: datetime) -> float | None:
    from zoneinfo import ZoneInfo

    country = f.region.country if f.region else f.country
    name = COUNTRY_TIMEZONES.get(country or "")
    if name is None:
        return None
    offset = at.astimezone(ZoneInfo(name)).utcoffset()
    hours_ = offset.total_seconds() / 3600 if offset is not None else 0
    return int(hours_) if hours_.is_integer() else hours_


def hsds_time(minutes: int) -> str:
    """A time of day as HSDS writes it (a Table Schema ``time``, HH:MM:SS). The end of the day
    is 23:59:59, HSDS's way of saying "until midnight" (24:00 is not a time of day)."""
    if minutes >= hours.DAY:
        return END_OF_DAY
    return hours.hhmm(minutes) + ":00"


END_OF_DAY = "23:59:59"


def schedules_for(f: Facility, *, at: datetime) -> list[dict[str, Any]]:
    """Opening hours as HSDS schedules: one weekly schedule per window, local times (closing at
    the end of the day is 23:59:59), with the UTC offset of the facility's country at `at`."""
    try:
        windows = hours.normalise(hours.loads(f.opening_hours))
    except ValueError:
        return []
    offset = _utc_offset(f, at)
    out = []
    for w in windows:
        byday = ",".join(ICAL_DAYS[d] for d in w.days)
        opens, closes = hsds_time(w.opens), hsds_time(w.closes)
        doc: dict[str, Any] = {
            "id": stable_id(f.hsds_id, "schedule", byday, opens, closes),
            "service_id": str(f.hsds_id),
            "freq": "WEEKLY",
            "wkst": "MO",
            "byday": byday,
            "opens_at": opens,
            "closes_at": closes,
            "description": (
                "Open 24 hours."
                if (w.opens, w.closes) == (0, hours.DAY)
                else f"{hours.hhmm(w.opens)}–{hours.hhmm(w.closes)}"
            )
            + " Local time.",
        }
        if offset is not None:
            doc["timezone"] = offset
        out.append(doc)
    return out


def capacities_for(f: Facility, *, at: datetime) -> list[dict[str, Any]]:
    """Live free beds in the 3.1-dev service_capacity shape, if the facility publishes them."""
    from refuge.vacancies.availability import FacilityClock, RoomRow, availability_for

    status = getattr(f, "availability", None)
    if status is None or not status.publish_availability:
        return []
    rooms = [
        RoomRow(r.pk, f.pk, r.kind, r.beds, r.reported_free_beds)
        for r in f.rooms.all()
        if r.in_service
    ]
    clock = FacilityClock(
        f.pk, status.source, status.ttl_hours, status.reported_at, status.confirmed_at
    )
    known = availability_for([clock], rooms, at)[f.pk]
    if not known.known:
        return []
    return [
        {
            "id": stable_id(f.hsds_id, "capacity", "bed"),
            "unit": BED_UNIT,
            "available": known.free_beds,
            "maximum": known.beds_total,
            "description": "Free beds (a family room counts only when the whole room is free).",
            "updated": _iso(known.as_of),
        }
    ]


def location_doc(f: Facility) -> dict[str, Any] | None:
    """The facility's location, only when its address is public and says something."""
    if f.address_visibility != AddressVisibility.PUBLIC:
        return None
    has_point = f.latitude is not None and f.longitude is not None
    if not (f.address or f.locality or has_point):
        return None
    doc: dict[str, Any] = {
        "id": str(f.hsds_location_id),
        "location_type": "physical",
        "name": f.name,
    }
    if has_point:
        doc["latitude"] = f.latitude
        doc["longitude"] = f.longitude
    address = _address(f)
    if address is not None:
        doc["addresses"] = [address]
    elif f.address or f.locality:
        # Too little for an HSDS address (postal code or region unknown): said in words.
        where = ", ".join(x for x in (f.address, f.locality, f.postal_code) if x)
        doc["description"] = f"Address: {where}."
    rules = _rules(f)
    if rules is not None and rules.wheelchair_accessible:
        doc["accessibility"] = [
            {
                "id": stable_id(f.hsds_location_id, "accessibility"),
                "description": "Wheelchair access.",
            }
        ]
    return doc


def _address(f: Facility) -> dict[str, Any] | None:
    """The public address, only when every field HSDS requires of one is known."""
    country = f.region.country if f.region else f.country
    region = f.region.name_en if f.region else ""
    if not (f.address and f.locality and region and f.postal_code and country):
        return None
    return {
        "id": stable_id(f.hsds_location_id, "address"),
        "address_1": f.address,
        "city": f.locality,
        "region": region,
        "state_province": region,
        "postal_code": f.postal_code,
        "country": country,
        "address_type": "physical",
    }


def modified_at(f: Facility) -> datetime:
    """When the service's public record last changed: the facility, its house rules or its
    organisation's profile (phones and services offered touch the facility)."""
    stamps = [f.updated_at, f.organisation.directory_profile.updated_at]
    rules = _rules(f)
    if rules is not None:
        stamps.append(rules.updated_at)
    return max(s for s in stamps if s is not None)


def organisation_basics(org: Organisation) -> dict[str, Any]:
    profile: OrganisationProfile = org.directory_profile
    with override("en"):
        fallback = f"{org.name}: {org.get_kind_display()}."
    doc: dict[str, Any] = {
        "id": str(profile.hsds_id),
        "name": org.name,
        "description": profile.description or fallback,
    }
    _put(doc, "alternate_name", profile.alternate_name)
    _put(doc, "email", profile.email)
    _put(doc, "website", profile.website)
    return doc


def _description(f: Facility) -> str:
    if f.description:
        return f.description
    with override("en"):
        return str(FacilityKind(f.kind).label) + "."


def service_basics(f: Facility) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": str(f.hsds_id),
        "organization_id": str(f.organisation.directory_profile.hsds_id),
        "name": f.name,
        "description": _description(f),
        "status": "active",
    }
    _put(doc, "alternate_name", f.alternate_name)
    _put(doc, "url", f.website)
    _put(doc, "email", f.email)
    interpretation = [s for s in f.services.all() if s.kind == ServiceKind.INTERPRETATION]
    if interpretation:
        doc["interpretation_services"] = interpretation[0].note or "Interpretation is available."
    rules = _rules(f)
    if rules is not None:
        _put(doc, "fees_description", rules.cost_note)
        _put(doc, "eligibility_description", eligibility_text(rules))
        if rules.min_age is not None:
            doc["minimum_age"] = rules.min_age
    doc["last_modified"] = _iso(modified_at(f))
    return doc


def sal_doc(f: Facility, *, with_service: bool) -> dict[str, Any] | None:
    location = location_doc(f)
    if location is None:
        return None
    doc: dict[str, Any] = {
        "id": str(f.hsds_sal_id),
        "service_id": str(f.hsds_id),
        "location_id": location["id"],
        "location": location,
    }
    if with_service:
        service = service_basics(f)
        service["organization"] = organisation_basics(f.organisation)
        doc["service"] = service
    return doc


def sal_list_doc(f: Facility) -> dict[str, Any] | None:
    """One-to-one fields only, as service_at_location_list.json expects."""
    doc = sal_doc(f, with_service=True)
    if doc is None:
        return None
    doc["location"] = {k: v for k, v in doc["location"].items() if not isinstance(v, list)}
    return doc


def service_doc(f: Facility, *, at: datetime | None = None) -> dict[str, Any]:
    """A fully nested service (compiled/service.json) of the public profile."""
    at = at or timezone.now()
    rules = _rules(f)
    doc = service_basics(f)
    _put(doc, "phones", [phone_doc(p) for p in f.public_phones])
    _put(doc, "service_areas", _service_areas(f))
    sal = sal_doc(f, with_service=False)
    if sal is not None:
        doc["service_at_locations"] = [sal]
    _put(doc, "languages", _languages(f, rules))
    _put(doc, "schedules", schedules_for(f, at=at))
    doc["organization"] = organisation_basics(f.organisation)
    _put(doc, "cost_options", _cost_options(f, rules))
    _put(doc, "required_documents", _required_documents(f, rules))
    doc["attributes"] = attributes_for(f)
    _put(doc, "capacities", capacities_for(f, at=at))
    return doc


def service_list_doc(f: Facility) -> dict[str, Any]:
    doc = service_basics(f)
    doc["organization"] = organisation_basics(f.organisation)
    return doc


def organization_doc(
    org: Organisation, facilities: list[Facility], *, full_services: bool = False
) -> dict[str, Any]:
    """A fully nested organization (compiled/organization.json) with its public services."""
    doc = organisation_basics(org)
    phones = getattr(org, "public_org_phones", None)
    if phones is None:
        phones = list(
            Phone.objects.filter(
                organisation=org, facility__isnull=True, visibility=ContactVisibility.PUBLIC
            )
        )
    _put(doc, "phones", [phone_doc(p) for p in phones])
    _put(doc, "locations", [loc for f in facilities if (loc := location_doc(f)) is not None])
    doc["services"] = [service_doc(f) if full_services else service_list_doc(f) for f in facilities]
    return doc


def page(items: list[Any], *, total: int, page_number: int, per_page: int) -> dict[str, Any]:
    """The HSDS 3.0 API protocol's Page."""
    pages = max(1, -(-total // per_page))
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page_number,
        "size": len(items),
        "first_page": page_number == 1,
        "last_page": page_number >= pages,
        "empty": len(items) == 0,
        "per_page": per_page,
        "contents": items,
    }


# --- the whole profile -----------------------------------------------------------------------


def public_profile(*, at: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every document of the public profile, by kind."""
    at = at or timezone.now()
    facilities = list(public_facilities())
    by_org: dict[int, list[Facility]] = {}
    for f in facilities:
        by_org.setdefault(f.organisation_id, []).append(f)
    organisations = [
        organization_doc(org, by_org.get(org.pk, [])) for org in public_organisations()
    ]
    return {
        "services": [service_doc(f, at=at) for f in facilities],
        "organizations": organisations,
        "service_at_locations": [
            doc for f in facilities if (doc := sal_doc(f, with_service=True)) is not None
        ],
        "taxonomies": [TAXONOMY],
        "taxonomy_terms": taxonomy_terms(),
    }


def write_export(directory, *, at: datetime | None = None) -> dict[str, int]:
    """Write the public profile to `directory`: one JSON array per kind of document and the
    tabular package in ``tabular/``. Audited as an export. Returns counts per file."""
    from pathlib import Path

    from refuge.core import audit

    from . import tabular

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    profile = public_profile(at=at)
    counts = {}
    for kind, docs in profile.items():
        (directory / f"{kind}.json").write_text(
            json.dumps(docs, indent=1, ensure_ascii=False), encoding="utf-8"
        )
        counts[kind] = len(docs)
    tabular.write_package(
        directory / "tabular", tabular.flatten(profile), name="refuge-public-directory"
    )
    audit.record(
        actor=None,
        action="hsds.export",
        target_type="directory.facility",
        details={"profile": "public", "counts": counts},
    )
    return counts
