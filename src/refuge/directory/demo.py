"""The demo directory: the real Kyrgyz crisis centres (shipped fixture, as published) and an
invented Central Region coalition, Vologda centre and Czech services to show the rest.

Everything invented says so in its name ("(demo)") and in "where these facts come from"; the
two invented street addresses say "(demo)" too, and are confidential, so that the demo shows
how a confidential address is handled (and tests/leaks scans every page for them).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from refuge.core.models import Organisation
from refuge.core.roles import OrgKind

from . import services
from .hsds.taxonomy import stable_id
from .models import Facility
from .shipped import SHIPPED, load_file

DEMO_NOTE = (
    "Demo data: the rules, rooms, opening hours and any address are invented for the demonstration."
)

WEEKDAYS = [0, 1, 2, 3, 4]
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]
ALWAYS = [{"days": EVERY_DAY, "opens": "00:00", "closes": "24:00"}]
OFFICE = [{"days": WEEKDAYS, "opens": "09:00", "closes": "18:00"}]

OPEN = {
    "children_accepted": True,
    "pets_accepted": False,
    "wheelchair_accessible": False,
    "substance_use_accepted": False,
    "mental_health_accepted": True,
    "requires_passport": False,
    "requires_residence_permit": False,
    "requires_local_registration": False,
    "foreign_citizens_accepted": True,
    "cost": "free",
}

# (org slug, org name or "" if the core demo made it, org kind, facility, rooms as
# (kind, beds, count)).
FACILITIES: list[dict[str, Any]] = [
    {
        "org": ("kitezh", "", OrgKind.SHELTER),
        "name": "Kitezh low-threshold refuge",
        "hours": ALWAYS,
        "kind": "low_threshold_refuge",
        "region": "RU-MOW",
        "locality": "Moscow",
        # Invented, so that the demo shows (and the leak scan checks) a confidential address.
        "address": "Invented lane 12 (demo)",
        "latitude": 55.7412,
        "longitude": 37.6534,
        "address_visibility": "confidential",
        "services": ["psychologist", "lawyer", "social_support", "court_support", "aftercare"],
        "rules": OPEN
        | {
            "min_age": 18,
            "max_children": 3,
            "boys_max_age": 12,
            "substance_use_accepted": True,
            "staff_languages": ["ru", "en"],
            "max_stay_days": 90,
        },
        "rooms": [("family", 4, 1), ("family", 3, 2), ("dorm", 6, 1)],
    },
    {
        "org": (
            "demo-podmoskovye-mothers",
            "Podmoskovye young mothers' shelter (demo)",
            OrgKind.SHELTER,
        ),
        "name": "Young mothers' shelter, Moscow Oblast (demo)",
        "hours": OFFICE,
        "kind": "young_mothers_shelter",
        "region": "RU-MOS",
        "address_visibility": "professionals",
        "services": ["psychologist", "child_psychologist", "paperwork"],
        "rules": OPEN
        | {
            "min_age": 16,
            "max_children": 2,
            "boys_max_age": 3,
            "girls_max_age": 3,
            "staff_languages": ["ru"],
            "max_stay_days": 180,
        },
        "rooms": [("family", 3, 4)],
    },
    {
        "org": (
            "demo-vladimir-centre",
            "Vladimir women's crisis centre (demo)",
            OrgKind.CRISIS_CENTRE,
        ),
        "name": "Vladimir crisis centre with shelter (demo)",
        "hours": [
            {"days": WEEKDAYS, "opens": "09:00", "closes": "20:00"},
            {"days": [5], "opens": "10:00", "closes": "16:00"},
        ],
        "kind": "crisis_centre_shelter",
        "region": "RU-VLA",
        "address": "Imaginary street 5 (demo)",
        "latitude": 56.1291,
        "longitude": 40.4066,
        "address_visibility": "confidential",
        "services": ["psychologist", "lawyer", "helpline"],
        "rules": OPEN
        | {
            "min_age": 18,
            "boys_max_age": 14,
            "pets_accepted": True,
            "staff_languages": ["ru"],
            "max_stay_days": 60,
        },
        "rooms": [("family", 4, 1), ("family", 2, 1), ("dorm", 4, 1)],
    },
    {
        "org": ("demo-tver-orthodox", "Orthodox sisterhood of Tver (demo)", OrgKind.SHELTER),
        "name": "Orthodox women's shelter, Tver (demo)",
        "kind": "faith_based_shelter",
        "faith": "orthodox",
        "region": "RU-TVE",
        "address_visibility": "professionals",
        "services": ["social_support", "material_aid"],
        "rules": OPEN
        | {
            "min_age": 18,
            "boys_max_age": 10,
            "staff_languages": ["ru"],
            "mental_health_accepted": False,
        },
        "rooms": [("family", 3, 2), ("dorm", 6, 1)],
    },
    {
        "org": (
            "demo-yaroslavl-state",
            "Yaroslavl regional social-rehabilitation centre (demo)",
            OrgKind.SHELTER,
        ),
        "name": "State social-rehabilitation centre, Yaroslavl (demo)",
        "hours": [
            {"days": [0, 1, 2, 3], "opens": "08:30", "closes": "17:30"},
            {"days": [4], "opens": "08:30", "closes": "16:15"},
        ],
        "kind": "state_rehabilitation_centre",
        "region": "RU-YAR",
        "locality": "Yaroslavl",
        "address_visibility": "public",
        "services": [
            "psychologist",
            "lawyer",
            "employment",
            "child_psychologist",
            "rehabilitation",
        ],
        "rules": OPEN
        | {
            "min_age": 18,
            "wheelchair_accessible": True,
            "requires_passport": True,
            "requires_local_registration": True,
            "foreign_citizens_accepted": False,
            "staff_languages": ["ru"],
            "max_stay_days": 180,
        },
        "rooms": [("family", 4, 3), ("dorm", 8, 1)],
    },
    {
        "org": ("demo-tula-protestant", "Protestant mission of Tula (demo)", OrgKind.SHELTER),
        "name": "Protestant women's shelter, Tula (demo)",
        "kind": "faith_based_shelter",
        "faith": "protestant",
        "region": "RU-TUL",
        "address_visibility": "confidential",
        "services": ["social_support", "employment"],
        "rules": OPEN
        | {
            "min_age": 18,
            "boys_max_age": 16,
            "pets_accepted": True,
            "staff_languages": ["ru", "en"],
        },
        "rooms": [("family", 5, 1), ("family", 3, 1)],
    },
    {
        "org": ("demo-moscow-muslim", "Muslim women's aid, Moscow (demo)", OrgKind.SHELTER),
        "name": "Muslim women's shelter, Moscow (demo)",
        "kind": "faith_based_shelter",
        "faith": "muslim",
        "region": "RU-MOW",
        "address_visibility": "confidential",
        "services": ["social_support", "interpretation"],
        "rules": OPEN | {"min_age": 18, "boys_max_age": 12, "staff_languages": ["ru", "uz", "tg"]},
        "rooms": [("family", 4, 2), ("dorm", 4, 1)],
    },
    {
        "org": ("demo-moscow-night", "Night shelter for women, Moscow (demo)", OrgKind.SHELTER),
        "name": "Night shelter for women, Moscow (demo)",
        "hours": [
            {"days": EVERY_DAY, "opens": "00:00", "closes": "08:00"},
            {"days": EVERY_DAY, "opens": "19:00", "closes": "24:00"},
        ],
        "kind": "night_shelter",
        "region": "RU-MOW",
        "address_visibility": "public",
        "locality": "Moscow",
        "services": ["social_support"],
        "rules": OPEN
        | {
            "min_age": 18,
            "children_accepted": False,
            "substance_use_accepted": True,
            "staff_languages": ["ru"],
        },
        "rooms": [("dorm", 12, 1)],
    },
    {
        "org": (
            "demo-ryazan-safe-house",
            "Safe house for trafficking victims, Ryazan (demo)",
            OrgKind.SHELTER,
        ),
        "name": "Safe house for trafficking victims, Ryazan (demo)",
        "kind": "trafficking_safe_house",
        "region": "RU-RYA",
        "address_visibility": "confidential",
        "services": ["lawyer", "interpretation", "migrant_advice", "psychologist"],
        "rules": OPEN
        | {"min_age": 18, "children_accepted": False, "staff_languages": ["ru", "en", "uz"]},
        "rooms": [("dorm", 4, 1)],
    },
    {
        "org": ("demo-smolensk-transit", "Transit house, Smolensk (demo)", OrgKind.SHELTER),
        "name": "Transit house, Smolensk (demo)",
        "kind": "transit_house",
        "region": "RU-SMO",
        "address_visibility": "confidential",
        "services": ["social_support"],
        "rules": OPEN | {"min_age": 18, "max_stay_days": 7, "staff_languages": ["ru"]},
        "rooms": [("family", 4, 1), ("dorm", 2, 1)],
    },
    {
        "org": (
            "demo-vologda-centre",
            "Vologda municipal crisis centre (demo)",
            OrgKind.CRISIS_CENTRE,
        ),
        "name": "Vologda crisis centre with shelter (demo)",
        "hours": OFFICE,
        "kind": "crisis_centre_shelter",
        "region": "RU-VLG",
        "address_visibility": "confidential",
        "services": ["psychologist", "lawyer", "helpline", "police_accompaniment"],
        "rules": OPEN
        | {"min_age": 18, "boys_max_age": 14, "staff_languages": ["ru"], "max_stay_days": 30},
        "rooms": [("family", 3, 2)],
    },
    {
        "org": ("demo-brno-shelter", "Women's shelter, Brno (demo)", OrgKind.SHELTER),
        "name": "Shelter for women and children, Brno (demo)",
        "kind": "crisis_centre_shelter",
        "region": "CZ-64",
        "address_visibility": "confidential",
        "services": ["psychologist", "lawyer", "migrant_advice"],
        "rules": OPEN
        | {
            "min_age": 18,
            "requires_residence_permit": True,
            "staff_languages": ["cs", "en", "ru"],
            "max_stay_days": 90,
        },
        "rooms": [("family", 4, 2)],
    },
    {
        "org": (
            "demo-prague-migrants",
            "Counselling for migrant women, Prague (demo)",
            OrgKind.CRISIS_CENTRE,
        ),
        "name": "Counselling for migrant women, Prague (demo)",
        "hours": [
            {"days": [0, 1, 2, 3], "opens": "09:00", "closes": "17:00"},
            {"days": [4], "opens": "09:00", "closes": "13:00"},
            {"days": [1], "opens": "17:00", "closes": "19:00"},
        ],
        "kind": "crisis_centre",
        "region": "CZ-10",
        "locality": "Prague",
        "address_visibility": "public",
        "services": ["lawyer", "social_support", "migrant_advice", "interpretation"],
        "rules": {"women_only": False, "staff_languages": ["cs", "ru", "uk", "en", "vi"]},
        "rooms": [],
    },
    {
        "org": ("coalition-hotline", "", OrgKind.HOTLINE),
        "name": "Coalition hotline",
        "hours": ALWAYS,
        "kind": "hotline",
        "region": "RU-MOW",
        "address_visibility": "confidential",
        "services": ["helpline_24h"],
        "rules": {"women_only": False, "staff_languages": ["ru", "en"]},
        "rooms": [],
    },
    {
        "org": ("ekaterina-dvpp", "", OrgKind.PROGRAMME),
        "name": "Ekaterina perpetrator programme",
        "kind": "perpetrator_programme",
        "region": "RU-MOW",
        "address_visibility": "professionals",
        "services": ["perpetrator_programme", "partner_support"],
        "rules": {"women_only": False, "staff_languages": ["ru"]},
        "rooms": [],
    },
]


def demo_facility_id(item: dict[str, Any]) -> str:
    return stable_id("demo", item["org"][0], item["name"])


def load(stdout) -> None:
    for name, path in SHIPPED.items():
        result = load_file(path)
        stdout.write(
            f"Directory {name}: {result.facilities_created} facilities created, "
            f"{result.facilities_kept} already there."
        )
    created = 0
    with transaction.atomic():
        for item in FACILITIES:
            slug, org_name, kind = item["org"]
            organisation = Organisation.objects.filter(slug=slug).first()
            if organisation is None:
                organisation, _new = services.organisation_import(
                    by=None,
                    hsds_id=stable_id("demo", slug),
                    name=org_name,
                    kind=kind,
                    slug=slug,
                    description="An invented organisation of the demo network.",
                )
            fid = demo_facility_id(item)
            if Facility.objects.filter(hsds_id=fid).exists():
                continue
            facility = services.facility_create(
                by=None,
                organisation=organisation,
                name=item["name"],
                kind=item["kind"],
                faith=item.get("faith", ""),
                region=item["region"],
                locality=item.get("locality", ""),
                address=item.get("address", ""),
                latitude=item.get("latitude"),
                longitude=item.get("longitude"),
                address_visibility=item["address_visibility"],
                rules=item["rules"],
                services=item["services"],
                source_note=DEMO_NOTE,
                hsds_ids={"hsds_id": fid},
            )
            # Invented like the rest; the shipped Kyrgyz centres keep no hours, since their
            # source states none.
            if item.get("hours"):
                services.facility_hours_set(by=None, facility=facility, windows=item["hours"])
            created += 1
    stdout.write(f"Demo directory: {created} invented facilities created.")
