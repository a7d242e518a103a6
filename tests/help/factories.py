"""A small directory for the help tests, made through the directory's own services."""

from __future__ import annotations

from typing import Any

from refuge.core.models import Organisation
from refuge.core.roles import OrgKind
from refuge.core.services import organisation_create
from refuge.directory.models import Facility, Phone, Region
from refuge.directory.regions import load_regions
from refuge.directory.services import facility_create


def ensure_regions() -> None:
    """Regions come from a data migration, which a transactional test elsewhere in the same
    worker flushes: put them back when they are gone."""
    if not Region.objects.exists():
        load_regions(Region)


def make_org(slug: str, kind: str = OrgKind.CRISIS_CENTRE) -> Organisation:
    found = Organisation.objects.filter(slug=slug).first()
    return found or organisation_create(
        by=None, slug=slug, name=slug.replace("-", " ").title(), kind=kind
    )


def make_facility(
    name: str,
    *,
    org: str = "help-org",
    kind: str = "crisis_centre",
    region: str | None = "KG-GB",
    address_visibility: str = "public",
    services: list[str] | None = None,
    rules: dict[str, Any] | None = None,
    phones: list[tuple[str, str]] | None = None,
    **values: Any,
) -> Facility:
    """``phones``: (E.164 number, visibility) pairs."""
    ensure_regions()
    organisation = make_org(org)
    facility = facility_create(
        by=None,
        organisation=organisation,
        name=name,
        kind=kind,
        region=region,
        address_visibility=address_visibility,
        services=services or [],
        rules=rules or {},
        **values,
    )
    for position, (number, visibility) in enumerate(phones or []):
        Phone.objects.create(
            organisation=organisation,
            facility=facility,
            number=number,
            visibility=visibility,
            position=position,
        )
    return facility


def bishkek_directory() -> dict[str, Facility]:
    """One of each case the public pages must treat differently, all in Bishkek (KG-GB)."""
    return {
        "public": make_facility(
            "Open Door Centre",
            locality="Bishkek",
            address="12 Test Street",
            services=["lawyer", "psychologist", "migrant_advice"],
            rules={"staff_languages": ["ky", "ru"]},
            phones=[("+996312111111", "public"), ("+996312999001", "professionals")],
            email="open@example.org",
            latitude=42.8711,
            longitude=74.5999,
        ),
        "professionals": make_facility(
            "Pro Only Centre",
            org="help-pro",
            locality="Pro Village",
            address="7 Professional Lane",
            address_visibility="professionals",
            phones=[("+996312222222", "public")],
        ),
        "hidden_shelter": make_facility(
            "Hidden Harbour Shelter",
            org="help-hidden",
            kind="crisis_centre_shelter",
            locality="Secret Hamlet",
            address="99 Hidden Road",
            address_visibility="confidential",
            phones=[("+996312333333", "public"), ("+996312999003", "professionals")],
            latitude=42.9123456,
            longitude=74.6654321,
        ),
        "hidden_office": make_facility(
            "Quiet Counselling Office",
            org="help-quiet",
            kind="crisis_centre",
            locality="Quiet Quarter",
            address="5 Unseen Street",
            address_visibility="confidential",
            phones=[("+996312444444", "public")],
        ),
        "programme": make_facility(
            "Men's Programme",
            org="help-dvpp",
            kind="perpetrator_programme",
            phones=[("+996312555555", "public")],
        ),
        "unlisted": make_facility(
            "Unlisted Centre",
            org="help-unlisted",
            listed_publicly=False,
            phones=[("+996312666666", "public")],
        ),
        "hotline": make_facility(
            "Network Hotline KG",
            org="help-hotline",
            kind="hotline",
            address_visibility="confidential",
            services=["helpline_24h"],
            phones=[("+996312777777", "public")],
        ),
    }
