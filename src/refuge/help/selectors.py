"""What the public help pages may show of the directory (SPEC C8, S1).

Templates never get a Facility: every public fact is copied here into a small frozen record,
so a template cannot reach a confidential field by mistake. The rules:

- only active facilities of active organisations that are listed publicly;
- only public phones, the public e-mail and website;
- the town and street only when the address itself is public; otherwise the region only;
- no map point at all (the region is the coarsest public location and it is in the URL);
- a shelter whose address is confidential is only counted ("a confidential shelter in this
  region: call ..."), never named;
- programmes for people who use violence are not listed on pages for people seeking help.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers
from django.db.models import Prefetch, QuerySet

from refuge.directory import hours as opening_hours
from refuge.directory.hours_display import lines as hours_lines
from refuge.directory.models import (
    AddressVisibility,
    ContactVisibility,
    Facility,
    FacilityKind,
    FacilityService,
    Phone,
    Region,
    ServiceKind,
)
from refuge.directory.selectors import is_confidential_shelter

from . import labels
from .conf import PUBLIC_LANGUAGES
from .names import country_name, region_name

NOT_LISTED_KINDS = frozenset({FacilityKind.PERPETRATOR_PROGRAMME})
ADVICE_SERVICES = frozenset({ServiceKind.MIGRANT_ADVICE})


@dataclass(frozen=True)
class PublicPhone:
    e164: str
    display: str
    kind: str

    @property
    def href(self) -> str:
        return f"tel:{self.e164}"

    @property
    def kind_label(self) -> str:
        return labels.phone_kind(self.kind)


@dataclass(frozen=True)
class PublicService:
    """One facility as the public may see it."""

    name: str
    kind: str
    region_code: str
    services: tuple[str, ...] = ()
    phones: tuple[PublicPhone, ...] = ()
    email: str = ""
    website: str = ""
    locality: str = ""
    address: str = ""
    postal_code: str = ""
    languages: tuple[str, ...] = ()
    max_stay_days: int | None = None
    children_accepted: bool | None = None
    wheelchair_accessible: bool | None = None
    free: bool = False
    offers_accommodation: bool = False
    hours: tuple[opening_hours.Window, ...] = ()

    @property
    def kind_label(self) -> str:
        return labels.facility_kind(self.kind)

    @property
    def hours_lines(self) -> list[str]:
        """Opening hours in the active language; [] when not stated."""
        return hours_lines(self.hours, labels.hours_words())

    @property
    def service_labels(self) -> list[str]:
        found = [label for k in self.services if (label := labels.service_kind(k))]
        return sorted(found, key=str.casefold)

    @property
    def language_labels(self) -> list[str]:
        return [labels.language_name(code) for code in self.languages]


@dataclass(frozen=True)
class RegionOption:
    code: str
    name: str


@dataclass(frozen=True)
class CountryOption:
    code: str
    name: str
    regions: tuple[RegionOption, ...]


@dataclass
class RegionHelp:
    region: RegionOption
    country: str
    country_name: str
    services: list[PublicService] = field(default_factory=list)
    hotlines: list[PublicService] = field(default_factory=list)
    confidential_shelters: int = 0
    updated_at: datetime | None = None


def format_phone(e164: str, country: str = "") -> str:
    """National format for a number of the page's country (what people dial and recognise),
    international otherwise."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    same = bool(country) and phonenumbers.region_code_for_number(parsed) == country
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if same
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, fmt)


def _public_facilities() -> QuerySet[Facility]:
    return (
        Facility.objects.filter(is_active=True, organisation__is_active=True, listed_publicly=True)
        .exclude(kind__in=NOT_LISTED_KINDS)
        .select_related("rules", "region")
        .prefetch_related(
            Prefetch("services", queryset=FacilityService.objects.order_by("kind")),
            Prefetch(
                "phones",
                queryset=Phone.objects.filter(visibility=ContactVisibility.PUBLIC).order_by(
                    "position", "number"
                ),
                to_attr="public_phones",
            ),
        )
        .order_by("name", "pk")
    )


def is_hidden_shelter(f: Facility) -> bool:
    return is_confidential_shelter(f)


def _public_record(f: Facility, country: str) -> PublicService:
    rules = getattr(f, "rules", None)
    address_public = f.address_visibility == AddressVisibility.PUBLIC
    return PublicService(
        name=f.name,
        kind=f.kind,
        region_code=f.region_id or "",
        services=tuple(s.kind for s in f.services.all()),
        phones=tuple(
            PublicPhone(e164=p.number, display=format_phone(p.number, country), kind=p.kind)
            for p in f.public_phones
        ),
        email=f.email,
        website=f.website,
        locality=f.locality if address_public else "",
        address=f.address if address_public else "",
        postal_code=f.postal_code if address_public else "",
        languages=tuple(rules.staff_languages) if rules else (),
        max_stay_days=rules.max_stay_days if rules and f.offers_accommodation else None,
        children_accepted=rules.children_accepted if rules and f.offers_accommodation else None,
        wheelchair_accessible=rules.wheelchair_accessible if rules else None,
        free=bool(rules and rules.cost == "free"),
        offers_accommodation=f.offers_accommodation,
        hours=_hours(f),
    )


def _hours(f: Facility) -> tuple[opening_hours.Window, ...]:
    try:
        return tuple(opening_hours.loads(f.opening_hours))
    except ValueError:
        return ()


def _region_row(region: Region) -> dict:
    return {
        "name_en": region.name_en,
        "name_ru": region.name_ru,
        "name_ky": region.name_ky,
        "name_cs": region.name_cs,
    }


def region_option(region: Region, lang: str) -> RegionOption:
    return RegionOption(code=region.code, name=region_name(region.code, lang, _region_row(region)))


def countries(lang: str) -> list[CountryOption]:
    """Every country with its regions, names in `lang`, sorted as readers of `lang` expect."""
    by_country: dict[str, list[RegionOption]] = {}
    for region in Region.objects.all():
        by_country.setdefault(region.country, []).append(region_option(region, lang))
    out = []
    for code, regions in by_country.items():
        regions.sort(key=lambda r: collation_key(r.name))
        out.append(CountryOption(code=code, name=country_name(code, lang), regions=tuple(regions)))
    out.sort(key=lambda c: collation_key(c.name))
    return out


# Letters that the five languages' alphabets place right after a base letter (Czech č ř š ž,
# Kyrgyz ң ө ү, Ukrainian ґ є і ї, Russian ё); other accents sort with their base letter.
_AFTER = {
    "č": "c",
    "ř": "r",
    "š": "s",
    "ž": "z",
    "ң": "н",
    "ө": "о",
    "ү": "у",
    "ґ": "г",
    "є": "е",
    "і": "и",
    "ї": "и\uffff",
    "й": "и\uffff\uffff",
    "ё": "е",
}


def collation_key(name: str) -> str:
    """An alphabetical key good enough for region and country names in the five languages
    (no ICU needed): the letters above sort after their base letter, accents are ignored."""
    out = []
    for char in name.casefold():
        if char in _AFTER:
            out.append(_AFTER[char] + "\uffff")
            continue
        base = unicodedata.normalize("NFD", char)
        out.append("".join(c for c in base if not unicodedata.combining(c)) or char)
    return "".join(out)


def region_by_code(code: str) -> Region | None:
    return Region.objects.filter(code=code).first()


def hotlines(country: str) -> list[PublicService]:
    """The network's helplines in a country: listed hotline facilities with a public phone."""
    qs = _public_facilities().filter(kind=FacilityKind.HOTLINE, region__country=country)
    return [rec for f in qs if (rec := _public_record(f, country)).phones]


def region_help(region: Region, lang: str) -> RegionHelp:
    """Everything the public page of one region shows, in a fixed number of queries."""
    facilities = list(_public_facilities().filter(region=region).exclude(kind=FacilityKind.HOTLINE))
    listed = [f for f in facilities if not is_hidden_shelter(f)]
    updated = max((f.updated_at for f in listed), default=None)
    return RegionHelp(
        region=region_option(region, lang),
        country=region.country,
        country_name=country_name(region.country, lang),
        services=[_public_record(f, region.country) for f in listed],
        hotlines=hotlines(region.country),
        confidential_shelters=sum(1 for f in facilities if is_hidden_shelter(f)),
        updated_at=updated,
    )


def advice_services() -> list[tuple[str, list[PublicService]]]:
    """Listed services that advise on residence and migration, by country (for the leaflet
    on counselling). Hidden shelters are left out even when they offer the advice."""
    qs = _public_facilities().filter(services__kind__in=ADVICE_SERVICES).distinct()
    by_country: dict[str, list[PublicService]] = {}
    for f in qs:
        if is_hidden_shelter(f) or f.region_id is None:
            continue
        country = f.region.country
        by_country.setdefault(country, []).append(_public_record(f, country))
    return sorted(by_country.items())


def region_names_everywhere() -> dict[str, dict[str, str]]:
    """{code: {lang: name}} for every region: what the sitemap and the tests need."""
    out: dict[str, dict[str, str]] = {}
    for region in Region.objects.all():
        row = _region_row(region)
        out[region.code] = {lang: region_name(region.code, lang, row) for lang in PUBLIC_LANGUAGES}
    return out
