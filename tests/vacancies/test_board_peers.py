"""Other networks on the vacancy board (issue 20, gap 2; SPEC C12): a trusted peer's shared
facilities with the network's name, the same fit reasons as the search, the figure's status and
age; nothing when federation is off (and no query), one query when it is on."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from refuge.core.roles import Role, can_view_vacancy_board
from refuge.federation import directory, services
from refuge.federation.models import Peer
from tests.federation.factories import peer_item, trusted_peer

BOYS_AND_DOG = "/vacancies/?boys=15&pets=on"


@pytest.fixture
def peers(db):
    now = timezone.now()
    kg = trusted_peer(
        "kyrgyz-centres",
        [
            peer_item(
                "Bishkek women's house",
                region="KG-GB",
                country="KG",
                family=(4, 3),
                free_family=(4,),
                dorm=3,
                free_dorm=2,
                as_of=now - timedelta(hours=2),
            ),
            peer_item(
                "Osh small house",
                region="KG-O",
                country="KG",
                rules={"boys_max_age": 12},
                as_of=now - timedelta(hours=1),
            ),
            peer_item(
                "Old figure house",
                region="KG-C",
                country="KG",
                as_of=now - timedelta(days=3),
            ),
        ],
    )
    uz = trusted_peer(
        "tashkent-line",
        [
            peer_item(
                "Tashkent shelter", region="UZ-TO", country="UZ", status="confirmed", as_of=now
            )
        ],
    )
    return {"kg": kg, "uz": uz}


def _section(html: str) -> str:
    start = html.find('<section class="other-networks"')
    if start < 0:
        return ""
    return html[start : html.index("</section>", start)]


def _other(html: str, name: str) -> str:
    section = _section(html)
    start = section.index(f"<h3>{name}</h3>")
    return section[section.rindex("<article", 0, start) : section.index("</article>", start)]


def test_the_board_lists_trusted_peers_facilities(peers, as_persona):
    html = as_persona("operator_a").get("/vacancies/").content.decode()
    section = _section(html)
    assert '<h2 id="others-title">Other networks</h2>' in section
    row = _other(html, "Bishkek women&#x27;s house")
    assert "network kyrgyz-centres" in row and "Crisis centre with shelter" in row
    assert "Bishkek" in row and "KG-GB" not in section  # a region by name, never its code
    assert "6 beds free" in row and "of 10" in row
    assert "family rooms free, beds in each: 4" in row and "2 beds free in shared rooms" in row
    assert "reported by the facility · figure of 2\xa0hours ago" in row
    assert "light-green" in row
    # A region this instance does not know: its country, by name.
    uz = _other(html, "Tashkent shelter")
    assert "Uzbekistan" in uz and "UZ-TO" not in uz
    assert "live from its network&#x27;s records · figure of 0\xa0minutes ago" in uz
    # Nothing but what the snapshot says: no page of ours about it to link to, no address.
    assert "href" not in section


def test_the_household_filter_judges_peer_facilities_by_the_search_rules(
    peers, as_persona, personas
):
    html = as_persona("caseworker_a").get(BOYS_AND_DOG).content.decode()
    osh = _other(html, "Osh small house")
    assert "light-red" in osh and "Boys only up to age 12" in osh
    bishkek = _other(html, "Bishkek women&#x27;s house")
    assert "light-green" in bishkek and "takes" not in bishkek
    # The same verdicts as the placement search gives these facilities.
    from refuge.referrals import search

    asked = search.household_from(
        {"woman_age": 30, "children": [{"age": 15, "sex": "male"}], "pets": 1}
    )
    found = search.search(
        personas["caseworker_a"].principal,
        asked,
        external=True,
        facilities=search.accommodation().filter(name="(no local facility)"),
    )
    excluded = {e.name for e in found.ranking.excluded}
    assert "Osh small house" in excluded and "Bishkek women's house" not in excluded
    # Only those that can take her: the red one goes.
    html = as_persona("caseworker_a").get(BOYS_AND_DOG + "&only_fitting=on").content.decode()
    assert "Osh small house" not in _section(html) and "Bishkek women" in _section(html)


def test_a_network_is_named_as_staff_read_it(peers, as_persona):
    Peer.objects.filter(pk=peers["kg"].pk).update(title="Crisis centres of Kyrgyzstan")
    section = _section(as_persona("operator_a").get("/vacancies/").content.decode())
    assert "network Crisis centres of Kyrgyzstan" in section
    assert "network kyrgyz-centres" not in section


def test_a_stale_figure_is_unknown_and_says_its_age(peers, as_persona):
    html = as_persona("operator_a").get("/vacancies/").content.decode()
    row = _other(html, "Old figure house")
    assert "Free beds unknown" in row and "light-amber" in row
    assert "unknown: the figure is too old to count · figure of 3\xa0days ago" in row
    assert "family rooms, beds in each: 4" in row


def test_a_region_filter_shows_only_peer_facilities_in_that_place(peers, as_persona):
    client = as_persona("operator_a")
    names = lambda url: re.findall(r"<h3>([^<]+)</h3>", _section(client.get(url).content.decode()))  # noqa: E731
    assert set(names("/vacancies/?region=KG")) == {
        "Bishkek women&#x27;s house",
        "Osh small house",
        "Old figure house",
    }
    assert names("/vacancies/?region=KG-O") == ["Osh small house"]
    html = client.get("/vacancies/?region=RU-MOW").content.decode()
    assert names("/vacancies/?region=RU-MOW") == []
    assert "No facility of another network matches this household and place." in html


def test_an_untrusted_peer_disappears_at_once(peers, as_persona):
    client = as_persona("operator_a")
    Peer.objects.filter(pk=peers["kg"].pk).update(trusted=False)  # even before its rows go
    section = _section(client.get("/vacancies/").content.decode())
    assert "kyrgyz-centres" not in section and "Tashkent shelter" in section
    services.peer_untrust(by=None, peer=peers["uz"])
    assert _section(client.get("/vacancies/").content.decode()) == ""


@pytest.mark.parametrize("role", list(Role))
def test_only_roles_that_see_the_board_see_other_networks(peers, as_persona, role):
    response = as_persona(f"{role.value}_b").get("/vacancies/")
    if can_view_vacancy_board(role):
        assert response.status_code == 200
        assert "Bishkek women" in _section(response.content.decode())
    else:
        assert response.status_code == 403
        assert b"Bishkek" not in response.content


def test_the_live_part_carries_other_networks(peers, as_persona):
    body = as_persona("operator_a").get("/vacancies/rows/").content.decode()
    assert body.startswith('<div id="board-live"') and "Osh small house" in _section(body)


def test_other_networks_in_russian(peers, as_persona):
    client = as_persona("operator_a")
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    html = client.get("/vacancies/?boys=15").content.decode()
    section = _section(html)
    assert "Другие сети" in section and "сеть kyrgyz-centres" in section
    row = _other(html, "Bishkek women&#x27;s house")
    assert "Бишкек" in row and "6 мест свободно" in row and "из 10" in row
    assert "свободные семейные комнаты, мест в каждой: 4" in row
    assert "2 места свободно в общих комнатах" in row
    assert "сообщено учреждением · данные 2\xa0часа назад" in row
    assert "Мальчики только до 12 лет" in _other(html, "Osh small house")
    assert "Узбекистан" in _other(html, "Tashkent shelter")
    old = _other(html, "Old figure house")
    assert "неизвестно: данные слишком старые · данные 3\xa0дня назад" in old
    for english in ("Other networks", "network ", "beds in each", "figure of", "too old"):
        assert english not in section


# --- cost ---------------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_federation_off_no_section_and_no_query(peers, as_persona, settings):
    client = as_persona("operator_a")
    with_peers = _queries(client, BOYS_AND_DOG)
    settings.REFUGE_FEDERATION_KEY = ""
    off = _queries(client, BOYS_AND_DOG)
    assert _section(client.get(BOYS_AND_DOG).content.decode()) == ""
    assert not [q for q in off if "federation_" in q]
    assert len(with_peers) == len(off) + 1
    with CaptureQueriesContext(connection) as queries:
        assert directory.board_facilities(timezone.now()) == []
    assert len(queries) == 0


def test_federation_on_one_query_however_many_peers_and_facilities(peers, as_persona):
    client = as_persona("operator_a")
    before = _queries(client, BOYS_AND_DOG)
    assert len([q for q in before if "federation_" in q]) == 1
    now = timezone.now()
    trusted_peer(
        "czech-service",
        [
            peer_item(f"Prague house {i}", region="CZ-10", country="CZ", as_of=now)
            for i in range(12)
        ],
    )
    after = _queries(client, BOYS_AND_DOG)
    assert len(after) == len(before)
    assert len([q for q in after if "federation_" in q]) == 1
    with CaptureQueriesContext(connection) as queries:
        assert len(directory.board_facilities(now)) == 16
    assert len(queries) == 1
