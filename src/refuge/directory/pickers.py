"""Regions, countries and languages picked and shown by name, never by code (issue 16).

A person reads "Vologda Oblast" or "Вологодская область", "Kyrgyzstan" or "Киргизия", "Uzbek" or
"узбекский", in the language of the page; the ISO code is what the form sends and what is stored.
Regions come from the shipped region data (the network's regions, grouped by country); countries
and languages from the Unicode CLDR through Babel, so any citizenship or language a woman may have
can be picked, with the network's own countries first.

The choices are callables, evaluated when a form is rendered or validated: the names follow the
language of the request that shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from babel import Locale, UnknownLocaleError
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from refuge.core.widgets import QuickSelect, QuickSelectMultiple

from .regions import _localised, countries, country_name, region_data

# Citizenships and languages most often met in the network, offered first.
NEAR_COUNTRIES = ("RU", "KG", "CZ", "UZ", "TJ", "KZ", "UA", "BY", "AZ", "AM", "MD", "GE", "TM")


def _lang() -> str:
    return (get_language() or "en")[:2]


@cache
def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


# --- names -------------------------------------------------------------------------------------


def region_label(code: str) -> str:
    """A region or a whole country by name in the reader's language; an unknown code is shown as
    "unknown region" rather than as itself."""
    if not code:
        return ""
    data = region_data()
    for row in data["regions"]:
        if row["code"] == code:
            return _localised(row)
    if len(code) == 2:
        return country_label(code)
    return str(_("unknown region"))


def country_label(code: str) -> str:
    if not code:
        return ""
    if code in countries():  # the network's own, named as the shipped region data names them
        return country_name(code)
    name = _locale(_lang()).territories.get(code.upper())
    return name or str(_("unknown country"))


def language_label(code: str) -> str:
    if not code:
        return ""
    loc = _locale(_lang())
    name = loc.languages.get(code) or loc.languages.get(code.split("-")[0])
    return name or str(_("unknown language"))


def region_labels(codes: Iterable[str]) -> str:
    return ", ".join(region_label(c) for c in codes if c)


# --- choices -----------------------------------------------------------------------------------


def _sorted(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(pairs, key=lambda p: p[1].casefold())


def region_choices(*, whole_countries: bool = False, blank: bool = True) -> list:
    """Regions grouped by country (each group sorted by name); with ``whole_countries`` the
    country itself comes first in its group ("Kyrgyzstan: the whole country")."""
    data = region_data()
    groups = []
    for country in sorted(data["countries"], key=lambda c: _localised(c).casefold()):
        name = _localised(country)
        options = _sorted(
            (r["code"], _localised(r)) for r in data["regions"] if r["country"] == country["code"]
        )
        if whole_countries:
            whole = str(_("%(country)s: the whole country") % {"country": name})
            options.insert(0, (country["code"], whole))
        groups.append((name, options))
    return ([("", "—")] if blank else []) + groups


def country_choices() -> list:
    """Every country by name, the network's own and its neighbours first."""
    territories = _locale(_lang()).territories
    near = [(c, country_label(c)) for c in NEAR_COUNTRIES]
    rest = _sorted(
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in NEAR_COUNTRIES and code != "ZZ"
    )
    return [("", "—"), (str(_("Most often")), near), (str(_("All countries")), rest)]


def known_region(code: str) -> bool:
    return any(r["code"] == code for r in region_data()["regions"])


def known_country(code: str) -> bool:
    return len(code) == 2 and code in _locale("en").territories and code != "ZZ"


# --- form fields -------------------------------------------------------------------------------


class RegionField(forms.ChoiceField):
    """One region by name; sends and cleans to its ISO 3166-2 code."""

    def __init__(self, *, whole_countries: bool = False, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(choices=lambda: region_choices(whole_countries=whole_countries), **kwargs)


class RegionsField(forms.MultipleChoiceField):
    """Several regions by name (a list box: typing a name jumps to it, no script needed)."""

    def __init__(self, *, whole_countries: bool = False, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", QuickSelectMultiple(attrs={"size": 8}))
        super().__init__(
            choices=lambda: region_choices(whole_countries=whole_countries, blank=False),
            **kwargs,
        )


class CountryField(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", QuickSelect)
        super().__init__(choices=country_choices, **kwargs)
