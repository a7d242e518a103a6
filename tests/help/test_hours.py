"""Opening hours on the public help pages: in each language, never for a hidden shelter."""

from __future__ import annotations

import pytest
from django.test import Client

from refuge.directory.hours import ALWAYS, DAY, Window
from refuge.directory.services import facility_hours_set
from tests.help.factories import make_facility

OFFICE = [
    Window((0, 1, 2, 3, 4), 9 * 60, 18 * 60),
    Window((5,), 10 * 60, 14 * 60),
]
NIGHT = [Window(tuple(range(7)), 0, 8 * 60), Window(tuple(range(7)), 19 * 60, DAY)]


@pytest.fixture
def centres(regions):
    office = make_facility(
        "Open Door Centre", locality="Bishkek", phones=[("+996312111111", "public")]
    )
    facility_hours_set(by=None, facility=office, windows=OFFICE)
    night = make_facility(
        "Night Door", org="help-night", kind="night_shelter", address_visibility="public"
    )
    facility_hours_set(by=None, facility=night, windows=NIGHT)
    line = make_facility(
        "Day And Night Line",
        org="help-line",
        kind="hotline",
        address_visibility="confidential",
        phones=[("+996312555555", "public")],
    )
    facility_hours_set(by=None, facility=line, windows=ALWAYS)
    hidden = make_facility(
        "Hidden Harbour Shelter",
        org="help-hidden",
        kind="crisis_centre_shelter",
        address_visibility="confidential",
        phones=[("+996312333333", "public")],
    )
    facility_hours_set(by=None, facility=hidden, windows=[Window((6,), 11 * 60 + 11, 13 * 60 + 13)])
    make_facility("No Hours Centre", org="help-nohours", phones=[("+996312666666", "public")])
    return {"office": office, "hidden": hidden}


def _page(lang: str) -> str:
    response = Client().get(f"/help/{lang}/region/KG-GB/")
    assert response.status_code == 200
    assert not response.cookies
    return response.content.decode()


@pytest.mark.parametrize(
    ("lang", "office", "night", "always"),
    [
        (
            "en",
            'Opening hours: <span class="hours-line">Mon–Fri 9 a.m.–6 p.m.</span>; '
            '<span class="hours-line">Sat 10 a.m.–2 p.m.</span>',
            "Every day midnight–8 a.m., 7 p.m.–midnight",
            "Open 24 hours, every day",
        ),
        (
            "ru",
            'Часы работы: <span class="hours-line">Пн–Пт 9:00–18:00</span>; '
            '<span class="hours-line">Сб 10:00–14:00</span>',
            "Ежедневно 0:00–8:00, 19:00–24:00",
            "Круглосуточно, без выходных",
        ),
        (
            "ky",
            'Иш убактысы: <span class="hours-line">Дүй.–Жума 9:00–18:00</span>; '
            '<span class="hours-line">Ишм. 10:00–14:00</span>',
            "Күн сайын 0:00–8:00, 19:00–24:00",
            "Күнү-түнү, күн сайын иштейт",
        ),
        (
            "uk",
            'Години роботи: <span class="hours-line">Пн–Пт 09:00–18:00</span>; '
            '<span class="hours-line">Сб 10:00–14:00</span>',
            "Щодня 00:00–08:00, 19:00–24:00",
            "Цілодобово, без вихідних",
        ),
        (
            "cs",
            'Otevírací doba: <span class="hours-line">Po–Pá 9:00–18:00</span>; '
            '<span class="hours-line">So 10:00–14:00</span>',
            "Denně 0:00–8:00, 19:00–24:00",
            "Otevřeno nonstop, každý den",
        ),
    ],
)
def test_the_region_page_shows_hours_in_its_language(centres, lang, office, night, always):
    page = _page(lang)
    assert office in page
    assert night in page
    assert always in page  # the network's helpline, listed at the top


def test_a_service_without_hours_shows_none(centres):
    page = _page("en")
    start = page.index("No Hours Centre")
    entry = page[start : page.index("</li>", page.index("</ul>", start))]
    assert "Opening hours" not in entry


def test_a_hidden_shelter_stays_only_counted(centres):
    page = _page("en")
    assert "Hidden Harbour Shelter" not in page
    assert "11:11" not in page and "11:11 a.m." not in page
    assert "A confidential shelter in this region" in page
