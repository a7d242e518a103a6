"""The shipped region data (fixtures/regions.json): ISO 3166-2 codes, names and centres."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import get_language

REGIONS_FILE = Path(__file__).resolve().parent / "fixtures" / "regions.json"
REGION_FIELDS = (
    "country",
    "kind",
    "district",
    "name_en",
    "name_ru",
    "name_ky",
    "name_cs",
    "latitude",
    "longitude",
)


@cache
def region_data() -> dict[str, Any]:
    return json.loads(REGIONS_FILE.read_text(encoding="utf-8"))


def load_regions(region_model) -> tuple[int, int]:
    """Create or update every region of the data file. Works with the historical model in a
    migration as with the real one. Returns (created, updated)."""
    created = updated = 0
    for row in region_data()["regions"]:
        values = {f: row.get(f, "") for f in REGION_FIELDS}
        existing = region_model.objects.filter(code=row["code"]).first()
        if existing is None:
            region_model.objects.create(code=row["code"], **values)
            created += 1
        elif any(getattr(existing, f) != v for f, v in values.items()):
            region_model.objects.filter(code=row["code"]).update(**values)
            updated += 1
    return created, updated


def _localised(row: dict[str, Any]) -> str:
    lang = (get_language() or "en")[:2]
    return row.get(f"name_{lang}") or (row.get("name_ru") if lang == "ky" else "") or row["name_en"]


def country_name(code: str) -> str:
    for row in region_data()["countries"]:
        if row["code"] == code:
            return _localised(row)
    return code


def district_name(code: str) -> str:
    for row in region_data()["districts"]:
        if row["code"] == code:
            return _localised(row)
    return code


def countries() -> list[str]:
    return [row["code"] for row in region_data()["countries"]]


def districts() -> list[dict[str, Any]]:
    return list(region_data()["districts"])


def region_codes(selection: str) -> list[str] | None:
    """Region codes for a board selection, or None for "everywhere"."""
    if not selection:
        return None
    data = region_data()
    regions = data["regions"]
    if any(c["code"] == selection for c in data["countries"]):
        return [r["code"] for r in regions if r["country"] == selection]
    if any(d["code"] == selection for d in data["districts"]):
        return [r["code"] for r in regions if r["district"] == selection]
    return [selection]


def region_centre(code: str) -> tuple[float, float] | None:
    for r in region_data()["regions"]:
        if r["code"] == code:
            return (r["latitude"], r["longitude"])
    return None


def selection_country(selection: str) -> str:
    """The country of a whole-country selection ("KG"), else ""."""
    return selection if any(c["code"] == selection for c in region_data()["countries"]) else ""
