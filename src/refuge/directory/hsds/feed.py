"""What a request to the HSDS read API asks for: the filters of the HSDS 3.0 OpenAPI document,
as queries over the public profile only (SPEC Contracts, HSDS 3.0 read API).

Every filter narrows ``export.listed_facilities()`` and nothing else, so no filter can reach,
count or reveal a record that the profile leaves out (a confidential shelter, a point that is
not public). ``postcode`` and ``proximity`` are answered from public points alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Replace, Upper

from refuge.directory.models import AddressVisibility, Facility, FacilityService
from refuge.placement.geo import distance_km

from .export import listed_facilities
from .taxonomy import RULE_TERMS, TAXONOMY, TERMS, Term, taxonomy_terms

# per_page: the protocol sets no maximum, so a larger request is capped (and the page says so)
# rather than refused. A minimal listing is meant to come in one page, so its cap is higher.
MAX_PER_PAGE = 200
MAX_PER_PAGE_MINIMAL = 10_000
DEFAULT_PER_PAGE = 50


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    requested: int | None = None  # what was asked for, when it was capped

    @classmethod
    def of(cls, page: int, per_page: int | None, *, minimal: bool = False) -> Paging:
        cap = MAX_PER_PAGE_MINIMAL if minimal else MAX_PER_PAGE
        wanted = per_page if per_page is not None else (cap if minimal else DEFAULT_PER_PAGE)
        if wanted > cap:
            return cls(page, cap, requested=wanted)
        return cls(page, wanted)

    def window(self, items: list[Any]) -> list[Any]:
        start = (self.page - 1) * self.per_page
        return items[start : start + self.per_page]

    def slice(self, qs: QuerySet) -> QuerySet:
        start = (self.page - 1) * self.per_page
        return qs[start : start + self.per_page]

    def page_doc(self, items: list[Any], *, total: int) -> dict[str, Any]:
        """The HSDS 3.0 API protocol's Page, with the page size used (``per_page``) and, when
        the request asked for more than the cap, what it asked for (``per_page_requested``)."""
        pages = max(1, -(-total // self.per_page))
        doc = {
            "total_items": total,
            "total_pages": pages,
            "page_number": self.page,
            "size": len(items),
            "first_page": self.page == 1,
            "last_page": self.page >= pages,
            "empty": len(items) == 0,
            "per_page": self.per_page,
            "contents": items,
        }
        if self.requested is not None:
            doc["per_page_requested"] = self.requested
            doc["per_page_capped"] = True
        return doc


def as_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


NOTHING = Q(pk__in=[])
EVERYTHING = Q(pk__isnull=False)  # not Q(): an empty Q vanishes when OR-ed with another


# --- services (facilities) ---------------------------------------------------------------------


def search_q(text: str, *fields: str) -> Q:
    """Every word in one of `fields` (case-insensitive)."""
    q = Q()
    for word in text.split():
        any_field = Q()
        for name in fields:
            any_field |= Q(**{f"{name}__icontains": word})
        q &= any_field
    return q


SERVICE_SEARCH = ("name", "alternate_name", "description", "organisation__name")


def _leaf_q(term: Term) -> Q:
    """The facilities whose exported attributes include `term` (export.attributes_for)."""
    group, _dot, name = term.code.partition(".")
    if group == "facility_kind":
        return Q(kind=name)
    if group == "faith":
        return Q(faith=name)
    if group == "service":
        return Q(Exists(FacilityService.objects.filter(facility=OuterRef("pk"), kind=name)))
    if term.code == "rule.beds":
        from refuge.vacancies.models import Room

        return Q(Exists(Room.objects.filter(facility=OuterRef("pk"), in_service=True, beds__gt=0)))
    if term.code == "rule.stated_capacity":
        return Q(stated_capacity__gt=0)
    if group == "rule":
        kind = RULE_TYPES[name]
        q = Q(**{f"rules__{name}__isnull": False})
        return q & ~Q(**{f"rules__{name}": ""}) if kind in {"code", "text"} else q
    if term.code == "location.region":
        return Q(region__isnull=False)
    if term.code == "location.address_visibility":
        return EVERYTHING
    return NOTHING  # a root: only its children are attached to services


RULE_TYPES = {field: vtype for field, vtype, _text in RULE_TERMS}


def _descendants(code: str) -> list[Term]:
    out = [TERMS[code]]
    for term in TERMS.values():
        if term.parent == code:
            out += _descendants(term.code)
    return out


def term_q(term_id: str) -> Q:
    """Services with an attribute of this term or of any term under it (a service with a
    "Psychologist" attribute is found under "Service offered")."""
    term = next((t for t in TERMS.values() if t.id == str(as_uuid(term_id))), None)
    if term is None:
        return NOTHING
    q = NOTHING
    for t in _descendants(term.code):
        q |= _leaf_q(t)
    return q


def taxonomy_q(taxonomy_id: str) -> Q:
    """Every public service carries terms of the Refuge taxonomy (at least its kind)."""
    return EVERYTHING if str(as_uuid(taxonomy_id)) == TAXONOMY["id"] else NOTHING


def modified_q(after: datetime) -> Q:
    """Modified on or after `after`: the facility, its house rules or its organisation's
    profile (export.modified_at)."""
    return (
        Q(updated_at__gte=after)
        | Q(rules__updated_at__gte=after)
        | Q(organisation__directory_profile__updated_at__gte=after)
    )


@dataclass(frozen=True)
class ServiceFilters:
    search: str = ""
    taxonomy_term_id: str | None = None
    taxonomy_id: str | None = None
    organization_id: str | None = None
    modified_after: datetime | None = None

    def q(self) -> Q:
        q = Q()
        if self.search:
            q &= search_q(self.search, *SERVICE_SEARCH)
        if self.taxonomy_term_id is not None:
            q &= term_q(self.taxonomy_term_id)
        if self.taxonomy_id is not None:
            q &= taxonomy_q(self.taxonomy_id)
        if self.organization_id is not None:
            org = as_uuid(self.organization_id)
            q &= Q(organisation__directory_profile__hsds_id=org) if org else NOTHING
        if self.modified_after is not None:
            q &= modified_q(self.modified_after)
        return q


def service_pks(filters: ServiceFilters) -> QuerySet:
    """Primary keys of the matching public services, in the listing's order."""
    return (
        listed_facilities().filter(filters.q()).order_by("name", "pk").values_list("pk", flat=True)
    )


# --- service at locations: public points only -----------------------------------------------


def located() -> QuerySet[Facility]:
    """Public facilities that have a location in the profile (export.location_doc)."""
    return (
        listed_facilities()
        .filter(address_visibility=AddressVisibility.PUBLIC)
        .exclude(address="", locality="", latitude__isnull=True)
        .exclude(address="", locality="", longitude__isnull=True)
    )


def _postcode(value: str) -> str:
    return "".join(value.split()).upper()


def _with_postcode(qs: QuerySet[Facility], postcode: str) -> QuerySet[Facility]:
    return qs.annotate(_postcode=Upper(Replace("postal_code", Value(" "), Value("")))).filter(
        _postcode=_postcode(postcode)
    )


@dataclass(frozen=True)
class Centre:
    latitude: float
    longitude: float


def postcode_area(postcode: str) -> tuple[Centre | None, set[str]]:
    """Where a postcode is, as far as the public directory knows: the centre of the public
    points that carry it, and the regions of the public addresses that carry it. There is no
    postcode gazetteer in the project; a postcode no public address carries is nowhere."""
    rows = list(
        _with_postcode(located(), postcode).values_list("latitude", "longitude", "region_id")
    )
    points = [(lat, lon) for lat, lon, _r in rows if lat is not None and lon is not None]
    regions = {r for _lat, _lon, r in rows if r}
    if not points:
        return None, regions
    return (
        Centre(sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)),
        regions,
    )


def sal_pks(filters: ServiceFilters, *, postcode: str = "", proximity_m: float | None = None):
    """Primary keys of the matching services at public locations: name order, or nearest
    first when a proximity is asked for. With a postcode alone, the services whose service
    area (their region) holds the postcode; with a proximity too, those whose public point lies
    within that many metres of the postcode's centre."""
    qs = located().filter(filters.q()).order_by("name", "pk")
    if not postcode:
        return list(qs.values_list("pk", flat=True))
    centre, regions = postcode_area(postcode)
    if proximity_m is None:
        return list(qs.filter(region_id__in=regions).values_list("pk", flat=True))
    if centre is None:
        return []
    within = []
    for pk, lat, lon in qs.filter(latitude__isnull=False, longitude__isnull=False).values_list(
        "pk", "latitude", "longitude"
    ):
        km = distance_km((centre.latitude, centre.longitude), (lat, lon))
        if km * 1000 <= proximity_m:
            within.append((km, pk))
    within.sort(key=lambda item: item[0])
    return [pk for _km, pk in within]


# --- organizations -------------------------------------------------------------------------------

ORGANIZATION_SEARCH = (
    "name",
    "directory_profile__alternate_name",
    "directory_profile__description",
)


# --- taxonomies -----------------------------------------------------------------------------------


def _matches(doc: dict[str, Any], text: str, keys: Iterable[str]) -> bool:
    haystack = " ".join(str(doc.get(k, "")) for k in keys).casefold()
    return all(word.casefold() in haystack for word in text.split())


def taxonomies(*, search: str = "") -> list[dict[str, Any]]:
    return [t for t in [TAXONOMY] if _matches(t, search, ("name", "description"))]


def terms(
    *,
    search: str = "",
    taxonomy_id: str | None = None,
    top_only: bool = False,
    parent_id: str | None = None,
) -> list[dict[str, Any]]:
    """Terms of the Refuge taxonomy. ``top_only``: the terms that are nobody's child (the
    roots); ``parent_id``: the children of that term."""
    out = []
    for term in taxonomy_terms():
        if taxonomy_id is not None and str(as_uuid(taxonomy_id)) != term["taxonomy_detail"]["id"]:
            continue
        if top_only and term.get("parent_id"):
            continue
        if parent_id is not None and term.get("parent_id") != str(as_uuid(parent_id)):
            continue
        if search and not _matches(term, search, ("code", "name", "description")):
            continue
        out.append(term)
    return out


def ndjson_lines(items: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    import json

    for item in items:
        yield json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
