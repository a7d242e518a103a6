"""The public help pages: languages, what they show of the directory, headers, errors."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from refuge.directory.models import Region
from refuge.help.conf import PUBLIC_LANGUAGES
from refuge.help.texts import shipped
from tests.help.factories import make_facility
from tests.help.pages import parse

PAGES = [
    ("help:home", []),
    ("help:region", ["KG-GB"]),
    ("help:leaflets", []),
    ("help:leaflet", ["emergency"]),
    ("help:leaflet", ["rights"]),
    ("help:leaflet", ["counselling"]),
    ("help:safety", []),
]


def _get(client: Client, url: str, **headers):
    response = client.get(url, headers=headers)
    return response, parse(response.content)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("ky-KG", "ky"),
        ("uk", "uk"),
        ("de-DE,cs;q=0.8,en;q=0.5", "cs"),
        ("fr-FR,de;q=0.9", "en"),
        ("", "en"),
        ("en-GB,en;q=0.9", "en"),
    ],
)
def test_the_help_address_redirects_to_the_browsers_language(regions, header, expected):
    response = Client().get("/help/", headers={"accept-language": header})
    assert response.status_code == 302
    assert response["Location"] == f"/help/{expected}/"
    assert "Accept-Language" in response["Vary"]
    assert not response.cookies


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES)
@pytest.mark.parametrize(("name", "args"), PAGES)
def test_every_page_is_safe_by_design(regions, lang, name, args):
    response, page = _get(Client(), reverse(name, args=[lang, *args]))
    assert response.status_code == 200
    assert page.lang == lang
    assert response["Content-Language"] == lang
    # The quick exit is the first thing in tab order, a real link to the neutral site.
    first = page.focusable[0]
    assert first.get("id") == "quick-exit" and first["href"].startswith("https://")
    # The safety note, in the page's language.
    title, _body = shipped("safety_note", lang)
    assert title in page.visible_text
    # Headers: not stored, no referrer, a CSP, no cookie.
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert not response.cookies
    assert "Set-Cookie" not in response.headers
    # Nothing from another origin, no form, no token, nothing inline.
    assert page.resources and all(r.startswith("/static/help/") for r in page.resources)
    assert page.forms == 0 and b"csrfmiddlewaretoken" not in response.content
    assert page.inline_scripts == 0 and page.inline_styles == 0
    # The language switch is a set of links to the same page.
    for other in PUBLIC_LANGUAGES:
        if other != lang:
            assert reverse(name, args=[other, *args]) in page.links


def _english_ui_strings() -> set[str]:
    """Every English string of the public pages that has a different translation."""
    from pathlib import Path

    import refuge.help

    po = Path(refuge.help.__file__).parent / "locale" / "ru" / "LC_MESSAGES" / "django.po"
    found = set()
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        if 'msgctxt "public help"' not in block and 'msgctxt "language name"' not in block:
            continue
        m = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        text = "".join(re.findall(r'"(.*)"', m.group(1))) if m else ""
        if len(text.split()) >= 2 and "%(" not in text:
            found.add(text)
    return found


@pytest.mark.parametrize("lang", [code for code in PUBLIC_LANGUAGES if code != "en"])
def test_no_page_mixes_in_english(bishkek, lang):
    english = _english_ui_strings()
    english |= {line for key in ("safety_note", "home_intro") for line in shipped(key, "en")}
    assert len(english) > 40
    for name, args in [*PAGES, ("help:region", ["RU-MOW"]), ("help:region", ["CZ-10"])]:
        _response, page = _get(Client(), reverse(name, args=[lang, *args]))
        text = page.visible_text
        mixed = sorted(s for s in english if s in text)
        assert not mixed, f"{name} {args} in {lang} shows English: {mixed}"


def test_the_region_page_shows_public_contacts_only(bishkek):
    response, page = _get(Client(), "/help/en/region/KG-GB/")
    text = page.visible_text
    body = response.content.decode()
    # A public facility: name, public phone, address, e-mail, services, languages.
    assert "Open Door Centre" in text
    assert "tel:+996312111111" in page.links
    assert "12 Test Street" in text and "Bishkek" in text
    assert "open@example.org" in text
    assert "advice on residence and migration" in text and "Kyrgyz, Russian" in text
    # A professionals-only address: listed, but without its town or street.
    assert "Pro Only Centre" in text and "tel:+996312222222" in page.links
    assert "Pro Village" not in body and "7 Professional Lane" not in body
    # A confidential office (not a shelter): listed without any location.
    assert "Quiet Counselling Office" in text
    assert "Quiet Quarter" not in body and "5 Unseen Street" not in body
    # A confidential shelter: counted, never named, never located, its own phone not shown;
    # "call" points to the network's hotline and the national line.
    assert "A confidential shelter in this region" in text
    for secret in ("Hidden Harbour", "Secret Hamlet", "99 Hidden Road", "42.91", "74.66"):
        assert secret not in body
    assert "+996312333333" not in body
    hidden = body[body.index('class="hidden-shelter"') :]
    assert "tel:+996312777777" in hidden and "tel:117" in hidden
    # Never a professionals-only phone, a programme for perpetrators or an unlisted service.
    assert "999001" not in body and "999003" not in body
    assert "Men's Programme" not in text and "+996312555555" not in body
    assert "Unlisted Centre" not in text and "+996312666666" not in body
    # No map point at all, not even a public one.
    assert "42.8711" not in body and "74.5999" not in body
    # National numbers for Kyrgyzstan.
    for number in ("tel:102", "tel:103", "tel:117"):
        assert number in page.links
    assert "tel:112" not in page.links  # not claimed for Kyrgyzstan


def test_several_confidential_shelters_are_counted_in_the_language(bishkek):
    make_facility(
        "Second Hidden Shelter",
        org="help-hidden-2",
        kind="transit_house",
        address_visibility="confidential",
    )
    _r, page = _get(Client(), "/help/ru/region/KG-GB/")
    assert "2 конфиденциальных убежища в этом регионе" in page.visible_text
    _r, page = _get(Client(), "/help/cs/region/KG-GB/")
    assert "2 utajené azylové domy v tomto regionu" in page.visible_text


def test_a_region_without_a_hotline_of_the_network_refers_to_the_national_line(regions):
    make_facility(
        "Prague Shelter",
        region="CZ-10",
        kind="crisis_centre_shelter",
        address_visibility="confidential",
    )
    response, _page = _get(Client(), "/help/cs/region/CZ-10/")
    hidden = response.content.decode().split('class="hidden-shelter"')[1]
    assert "tel:116006" in hidden and "116 006" in hidden


def test_a_region_with_no_line_at_all_refers_to_the_emergency_numbers(regions):
    make_facility(
        "Moscow Shelter", region="RU-MOW", kind="night_shelter", address_visibility="confidential"
    )
    response, _page = _get(Client(), "/help/ru/region/RU-MOW/")
    hidden = response.content.decode().split('class="hidden-shelter"')[1]
    assert "tel:112" in hidden


def test_an_empty_region_still_gives_numbers_and_says_so(regions):
    _r, page = _get(Client(), "/help/uk/region/CZ-80/")
    assert "Моравсько-Сілезький край" in page.visible_text
    assert "tel:112" in page.links and "tel:158" in page.links
    assert "У нашому довіднику поки немає служб" in page.visible_text


def test_region_names_are_in_the_page_language(regions):
    expected = {
        "en": "Issyk-Kul Region",
        "ru": "Иссык-Кульская область",
        "ky": "Ысык-Көл облусу",
        "uk": "Іссик-Кульська область",
        "cs": "Issykkulská oblast",
    }
    for lang, name in expected.items():
        _r, page = _get(Client(), f"/help/{lang}/region/KG-Y/")
        assert name in page.visible_text


def test_every_region_and_country_has_a_name_in_every_language(regions):
    from refuge.directory.regions import region_data
    from refuge.help.names import has_country_name, has_region_name

    missing = [
        (r.code, lang)
        for r in Region.objects.all()
        for lang in PUBLIC_LANGUAGES
        if not has_region_name(
            r.code,
            lang,
            {
                "name_en": r.name_en,
                "name_ru": r.name_ru,
                "name_ky": r.name_ky,
                "name_cs": r.name_cs,
            },
        )
    ]
    missing += [
        (c["code"], lang)
        for c in region_data()["countries"]
        for lang in PUBLIC_LANGUAGES
        if not has_country_name(c["code"], lang)
    ]
    assert Region.objects.count() >= 42
    assert not missing


def test_the_start_page_lists_every_region_and_the_emergency_numbers(regions):
    _r, page = _get(Client(), "/help/en/")
    regions_linked = {link for link in page.links if "/region/" in link}
    assert regions_linked == {f"/help/en/region/{r.code}/" for r in Region.objects.all()}
    for number in ("tel:112", "tel:102", "tel:103", "tel:158", "tel:155", "tel:116006", "tel:117"):
        assert number in page.links


def test_dates_and_counts_are_localised(bishkek):
    from django.utils import timezone

    from refuge.directory.models import Facility

    Facility.objects.update(updated_at=timezone.make_aware(timezone.datetime(2025, 3, 8, 12)))
    make_facility(
        "Ten Day Shelter",
        org="help-ten",
        kind="crisis_centre_shelter",
        rules={"max_stay_days": 14, "children_accepted": True},
    )
    Facility.objects.update(updated_at=timezone.make_aware(timezone.datetime(2025, 3, 8, 12)))
    texts = {
        lang: _get(Client(), f"/help/{lang}/region/KG-GB/")[1].visible_text
        for lang in PUBLIC_LANGUAGES
    }
    assert "March 8, 2025" in texts["en"] and "A place to stay for up to 14 days." in texts["en"]
    assert "8 марта 2025" in texts["ru"] and "Можно пожить до 14 дней." in texts["ru"]
    assert "8 березня 2025" in texts["uk"] and "Можна пожити до 14 днів." in texts["uk"]
    assert "8. března 2025" in texts["cs"] and "Ubytování až na 14 dní." in texts["cs"]
    assert "2025-ж., 8-март" in texts["ky"] and "14 күнгө чейин" in texts["ky"]


@pytest.mark.parametrize(
    ("url", "lang", "heading"),
    [
        ("/help/ru/region/XX-YY/", "ru", "Страница не найдена"),
        ("/help/de/", "en", "Page not found"),
        ("/help/de/region/KG-GB/", "en", "Page not found"),
        ("/help/ky/nowhere/", "ky", "Барак табылган жок"),
        ("/help/uk/leaflets/nonsense/", "uk", "Сторінку не знайдено"),
        ("/help/cs/region/", "cs", "Stránka nenalezena"),
    ],
)
def test_unknown_addresses_get_a_translated_404_with_the_quick_exit(regions, url, lang, heading):
    response, page = _get(Client(), url)
    assert response.status_code == 404
    assert page.lang == lang and heading in page.visible_text
    assert page.focusable[0].get("id") == "quick-exit"
    assert not response.cookies and response["Cache-Control"] == "no-store"


def test_addresses_without_the_slash_or_in_lower_case_are_redirected(regions):
    assert Client().get("/help/ru").headers["Location"] == "/help/ru/"
    assert Client().get("/help/ru/region/kg-gb/").headers["Location"] == "/help/ru/region/KG-GB/"


def test_public_pages_accept_no_post(regions):
    response = Client().post("/help/en/")
    assert response.status_code == 405 and not response.cookies


def test_the_region_page_runs_a_fixed_number_of_queries(bishkek):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert Client().get("/help/en/region/KG-GB/").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(8):
        make_facility(
            f"Extra {i}",
            org=f"help-extra-{i}",
            services=["lawyer", "doctor"],
            rules={"staff_languages": ["ru"]},
            phones=[(f"+99631200{i:04d}", "public")],
        )
    assert count() == before


def test_every_page_is_small(regions, bishkek):
    """Under 50 KB with its stylesheet and script (uncompressed, so the real transfer with
    compression is smaller still)."""
    client = Client()
    static = {}
    sizes = {}
    for lang in PUBLIC_LANGUAGES:
        for name, args in PAGES:
            url = reverse(name, args=[lang, *args])
            response, page = _get(client, url)
            total = len(response.content)
            for resource in page.resources:
                if resource not in static:
                    r = client.get(resource)
                    assert r.status_code == 200, resource
                    static[resource] = (
                        len(b"".join(r.streaming_content)) if r.streaming else len(r.content)
                    )
                total += static[resource]
            sizes[url] = total
    assert max(sizes.values()) < 50_000, max(sizes.items(), key=lambda kv: kv[1])


def test_the_sitemap_lists_every_public_page_with_its_translations(regions):
    response = Client().get("/help/sitemap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    locs = re.findall(r"<loc>(.*?)</loc>", response.content.decode())
    per_language = 3 + 3 + Region.objects.count()
    assert len(locs) == len(set(locs)) == per_language * len(PUBLIC_LANGUAGES)
    assert "http://testserver/help/ky/region/KG-GB/" in locs
    assert "http://testserver/help/cs/leaflets/counselling/" in locs


def test_the_counselling_leaflet_lists_services_that_advise_migrants(bishkek):
    make_facility(
        "Hidden Migrant Shelter",
        org="help-hm",
        kind="crisis_centre_shelter",
        address_visibility="confidential",
        services=["migrant_advice"],
    )
    _r, page = _get(Client(), "/help/en/leaflets/counselling/")
    assert "Open Door Centre" in page.visible_text and "tel:+996312111111" in page.links
    assert "Hidden Migrant Shelter" not in page.visible_text
    assert "Kyrgyzstan" in page.visible_text


def test_the_neutral_site_can_be_configured(regions, settings):
    settings.REFUGE_QUICK_EXIT_URL = {"ru": "https://weather.example/ru"}
    _r, page = _get(Client(), "/help/ru/")
    assert page.focusable[0]["href"] == "https://weather.example/ru"
    _r, page = _get(Client(), "/help/en/")
    assert page.focusable[0]["href"] == "https://en.wikipedia.org/"
    settings.REFUGE_QUICK_EXIT_URL = "https://news.example/"
    _r, page = _get(Client(), "/help/cs/")
    assert page.focusable[0]["href"] == "https://news.example/"


def test_labels_exist_for_every_kind_the_directory_knows():
    from refuge.directory.models import FacilityKind, ServiceKind
    from refuge.help import labels

    assert set(FacilityKind.values) <= set(labels.FACILITY_KINDS)
    assert set(ServiceKind.values) <= set(labels.SERVICE_KINDS)


def test_every_language_the_shipped_and_demo_directory_uses_has_a_name():
    import json

    from refuge.directory import demo
    from refuge.directory.shipped import SHIPPED
    from refuge.help import labels

    codes = {c for item in demo.FACILITIES for c in item["rules"].get("staff_languages", [])}
    for path in SHIPPED.values():
        data = json.loads(path.read_text(encoding="utf-8"))
        for org in data["organisations"]:
            for f in org["facilities"]:
                codes |= set(f.get("rules", {}).get("staff_languages", []))
    assert codes - set(labels.LANGUAGE_NAMES) == set()
    with translation.override("cs"):
        assert labels.language_name("vi") == "vietnamština"


@pytest.mark.parametrize(
    ("lang", "in_order"),
    [
        ("cs", ["Česká republika", "Kyrgyzstán", "Rusko"]),
        ("uk", ["Джалал-Абадська область", "Іссик-Кульська область", "Наринська область"]),
        ("ky", ["Ош облусу", "Өзбекстан", "Талас облусу"]),
        ("ru", ["Ивановская область", "Йошкар-Ола", "Калужская область"]),
    ],
)
def test_names_sort_in_the_alphabet_of_the_language(lang, in_order):
    from refuge.help.selectors import collation_key

    assert sorted(reversed(in_order), key=collation_key) == in_order
    assert sorted(in_order[::2] + in_order[1:2], key=collation_key) == in_order


def test_the_start_page_lists_countries_alphabetically(regions):
    _r, page = _get(Client(), "/help/cs/")
    text = page.visible_text
    where = text.index("Kde se nacházíte?")
    positions = [text.index(name, where) for name in ("Česká republika", "Kyrgyzstán", "Rusko")]
    assert positions == sorted(positions)
