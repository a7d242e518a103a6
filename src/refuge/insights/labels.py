"""Names for the rows and columns of the tables, in the language of the request."""

from __future__ import annotations

from functools import cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from refuge.directory.regions import country_name, region_data


@cache
def _regions() -> dict[str, dict]:
    return {r["code"]: r for r in region_data()["regions"]}


def region_label(code: str) -> str:
    """ "Moscow Oblast", "Kyrgyzstan, region not known" or "not recorded"."""
    if not code:
        return _("region not recorded")
    if len(code) == 2:
        return _("%(country)s, region not known") % {"country": country_name(code)}
    row = _regions().get(code)
    if row is None:
        # Regions beyond the directory's (callers from all over Russia): the hotline's names.
        from refuge.hotline.regions import REGION_NAMES

        return str(REGION_NAMES.get(code, code))
    lang = (get_language() or "en")[:2]
    return row.get(f"name_{lang}") or (row.get("name_ru") if lang == "ky" else "") or row["name_en"]


def region_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Countries of the shipped data, each with its regions, for the region filter."""
    data = region_data()
    out = []
    for country in data["countries"]:
        code = country["code"]
        regions = sorted(
            ((r["code"], region_label(r["code"])) for r in data["regions"] if r["country"] == code),
            key=lambda t: t[1],
        )
        out.append(
            (
                country_name(code),
                [(code, _("%(country)s, all regions") % {"country": country_name(code)}), *regions],
            )
        )
    return out


def is_known_region(code: str) -> bool:
    return code in _regions() or any(c["code"] == code for c in region_data()["countries"])
