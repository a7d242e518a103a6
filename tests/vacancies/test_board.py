"""The vacancy board answers: which facilities can take this household now, and why not."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuge.core.models import AuditEvent
from refuge.vacancies.models import FacilityAvailability
from tests.directory.factories import OPEN_RULES, make_facility

SONS_AND_DOG = "/vacancies/?boys=15%2C+9&pets=on"


@pytest.fixture
def network(orgs):
    return {
        "boys14": make_facility(
            orgs["b"],
            "Boys to fourteen",
            rules=OPEN_RULES | {"boys_max_age": 14},
            rooms=[("family", 4)],
            free=[4],
        ),
        "nopets": make_facility(
            orgs["b"],
            "No pets house",
            rules=OPEN_RULES | {"pets_accepted": False},
            rooms=[("family", 4)],
            free=[4],
            region="RU-TUL",
        ),
        "fits": make_facility(
            orgs["a"],
            "Fits house",
            rooms=[("family", 4), ("dorm", 3)],
            free=[4, 1],
            region="RU-VLA",
        ),
        "unknown": make_facility(
            orgs["b"], "Unknown house", rooms=[("family", 5)], region="RU-YAR"
        ),
        "full": make_facility(
            orgs["b"], "Full house", rooms=[("family", 4), ("dorm", 2)], free=[0, 2]
        ),
        "kyrgyz": make_facility(
            orgs["b"], "Bishkek house", rooms=[("family", 2)], free=[2], region="KG-GB"
        ),
        "office": make_facility(orgs["b"], "Office only", kind="crisis_centre", region="RU-MOW"),
    }


def _rows(html):
    """(name, light) in the order shown."""
    return re.findall(r'board-row light-(\w+)".*?<h3><a [^>]+>([^<]+)</a>', html, re.S)


def _row(html, name):
    start = html.index(f">{name}</a>")
    article = html.rindex("<article", 0, start)
    return html[article : html.index("</article>", start)]


def test_a_woman_with_sons_of_15_and_9_and_a_dog(network, as_persona):
    html = as_persona("operator_a").get(SONS_AND_DOG).content.decode()
    lights = {name: light for light, name in _rows(html)}
    assert lights == {
        "Fits house": "green",
        "Unknown house": "amber",
        "Boys to fourteen": "red",
        "No pets house": "red",
        "Full house": "red",
        "Bishkek house": "red",
    }
    assert "Office only" not in html  # no beds: not on the board
    order = [name for _light, name in _rows(html)]
    assert (
        order.index("Fits house") < order.index("Unknown house") < order.index("Boys to fourteen")
    )
    assert "Boys only up to age 14" in _row(html, "Boys to fourteen")
    assert "No pets" in _row(html, "No pets house")
    assert "No free place for this household now" in _row(html, "Full house")
    assert "Its rooms hold at most 2 people; this household is 3" in _row(html, "Bishkek house")
    fits = _row(html, "Fits house")
    assert "5 beds free" in fits and "of 7" in fits and "up to 4 now" in fits
    assert "reported 0" in fits
    assert "unknown: never reported" in _row(html, "Unknown house")
    assert "Household and place</summary>" not in html  # the folded filter says what was asked
    assert '<span class="household-summary">sons 15, 9 · a pet</span>' in html
    assert "1 can take her now" in html and "1 may: availability unknown" in html
    assert "4 cannot" in html


def test_a_single_woman_fits_a_dorm_bed(network, as_persona):
    html = as_persona("coordinator_a").get("/vacancies/").content.decode()
    lights = {name: light for light, name in _rows(html)}
    assert lights["Full house"] == "green"  # two dorm beds free
    assert "takes a household of 1 now" in _row(html, "Full house")


def test_filters_by_region_country_and_district(network, as_persona):
    client = as_persona("caseworker_a")
    names = lambda url: {name for _l, name in _rows(client.get(url).content.decode())}  # noqa: E731
    assert names("/vacancies/?region=KG") == {"Bishkek house"}
    assert names("/vacancies/?region=RU-TUL") == {"No pets house"}
    assert "Bishkek house" not in names("/vacancies/?region=RU-CFD")
    assert names("/vacancies/?region=RU-CFD&only_fitting=on") == {
        "Fits house",
        "Unknown house",
        "Full house",
        "Boys to fourteen",
        "No pets house",
    }


def test_only_fitting_hides_those_that_cannot(network, as_persona):
    html = as_persona("operator_a").get(SONS_AND_DOG + "&only_fitting=on").content.decode()
    assert {name for _l, name in _rows(html)} == {"Fits house", "Unknown house"}


def test_needs_and_stay_length(network, as_persona, orgs):
    make_facility(
        orgs["b"],
        "Stairs only",
        rules=OPEN_RULES | {"wheelchair_accessible": False, "max_stay_days": 14},
        rooms=[("dorm", 2)],
        free=[2],
    )
    html = (
        as_persona("operator_a").get("/vacancies/?needs=wheelchair&stay_days=30").content.decode()
    )
    row = _row(html, "Stairs only")
    assert "No wheelchair access" in row and "Stays of at most 14 days" in row


def test_distance_from_her_home_region_and_keeping_away_from_it(network, as_persona):
    client = as_persona("operator_a")
    html = client.get("/vacancies/?from_region=RU-MOW").content.decode()
    assert re.search(r"Vladimir Oblast · \d{3} km", _row(html, "Fits house"))
    html = client.get("/vacancies/?from_region=RU-MOW&min_km=100").content.decode()
    assert "In a region she must avoid" in _row(html, "Full house")
    assert "Fits house" in html and "light-green" in _row(html, "Fits house")
    html = client.get("/vacancies/?from_region=RU-MOW&min_km=300").content.decode()
    assert re.search(r"Only \d+ km from where she must stay away", _row(html, "Fits house"))


def test_bad_household_input_is_explained(network, as_persona):
    response = as_persona("operator_a").get("/vacancies/?boys=fifteen&min_km=50")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Write the ages as numbers" in html
    assert "Choose the region she must stay away from" in html


def test_the_live_part_polls_every_30_seconds_in_the_background(network, as_persona):
    client = as_persona("operator_a")
    html = client.get(SONS_AND_DOG).content.decode()
    assert 'hx-trigger="every 30s, board-changed from:body"' in html
    assert 'hx-get="/vacancies/rows/?boys=15%2C+9&amp;pets=on"' in html
    partial = client.get(
        "/vacancies/rows/?boys=15%2C+9&pets=on", headers={"X-Refuge-Background": "1"}
    )
    body = partial.content.decode()
    assert partial.status_code == 200 and body.startswith('<div id="board-live"')
    assert "<html" not in body and "Fits house" in body


def test_still_accurate_in_one_tap_only_for_your_own_facilities(network, as_persona):
    client = as_persona("caseworker_a")
    html = client.get(SONS_AND_DOG).content.decode()
    assert "Still accurate" in _row(html, "Fits house")
    assert "Still accurate" not in _row(html, "Boys to fourteen")
    f = network["fits"]
    FacilityAvailability.objects.filter(facility=f).update(
        reported_at=FacilityAvailability.objects.get(facility=f).reported_at.replace(year=2020)
    )
    assert "light-amber" in _row(client.get(SONS_AND_DOG).content.decode(), "Fits house")
    response = client.post(
        f"/vacancies/facility/{f.pk}/confirm/",
        {"q": "boys=15%2C+9&pets=on"},
        headers={"HX-Request": "true"},
    )
    row = response.content.decode()
    assert response.status_code == 200 and row.startswith('<article class="board-row light-green"')
    assert response["HX-Trigger"] == "board-changed"
    assert "reported 0" in row and "Still accurate" in row
    assert AuditEvent.objects.filter(action="availability.confirm", target_id=str(f.pk)).exists()
    # Without htmx it goes back to the board.
    response = client.post(
        f"/vacancies/facility/{f.pk}/confirm/", {"next": "/vacancies/?region=KG"}
    )
    assert response.status_code == 302 and response.url == "/vacancies/?region=KG"
    # Never to another site.
    response = client.post(
        f"/vacancies/facility/{f.pk}/confirm/", {"next": "https://evil.example/"}
    )
    assert response.url == f"/vacancies/facility/{f.pk}/"


def test_the_own_facilities_box(network, as_persona):
    html = as_persona("manager_a").get("/vacancies/").content.decode()
    assert "Your facilities" in html and "Update rooms and beds" in html
    assert "Your facilities" not in as_persona("operator_b").get("/vacancies/").content.decode()


def _board_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _many(org, n, offset=0):
    for i in range(n):
        make_facility(
            org,
            f"Bulk {offset + i}",
            region=("RU-MOW", "RU-TUL", "KG-GB")[i % 3],
            rooms=[("family", 3), ("family", 4), ("dorm", 4)],
            free=[3 if i % 2 else 0, 0, i % 5],
            services=["interpretation"] if i % 4 == 0 else [],
        )


def test_the_board_takes_the_same_number_of_queries_for_5_and_60_facilities(orgs, as_persona):
    client = as_persona("caseworker_a")
    _many(orgs["a"], 5)
    small = _board_queries(client, SONS_AND_DOG + "&region=RU")
    small_rows = _board_queries(client, "/vacancies/rows/?boys=3")
    _many(orgs["b"], 55, offset=5)
    assert _board_queries(client, SONS_AND_DOG + "&region=RU") == small
    assert _board_queries(client, "/vacancies/rows/?boys=3") == small_rows


def test_staff_languages_are_named_never_coded(network, as_persona):
    """No code is shown to a person: the requirements line names the languages."""
    from refuge.directory.services import house_rules_update

    house_rules_update(by=None, facility=network["fits"], staff_languages=["ky", "cs"])
    client = as_persona("operator_a")
    row = _row(client.get("/vacancies/").content.decode(), "Fits house")
    assert "Kyrgyz, Czech" in row and "ky cs" not in row
    client.cookies["django_language"] = "ru"
    row = _row(client.get("/vacancies/").content.decode(), "Fits house")
    assert "киргизский, чешский" in row
