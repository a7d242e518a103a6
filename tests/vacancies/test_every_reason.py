"""The board and the search page show every reason (issue 15 item 5), the first two open and the
rest in a <details> ("n more reasons"), in English and Russian."""

from __future__ import annotations

import re

import pytest

from tests.directory.factories import make_facility

STRICT = {
    "children_accepted": True,
    "boys_max_age": 12,
    "pets_accepted": False,
    "wheelchair_accessible": False,
    "max_stay_days": 10,
}
# Sons of 15 and 9, a dog, a wheelchair, 30 days: six reasons at the strict house.
HOUSEHOLD = "boys=15%2C+9&pets=on&needs=wheelchair&stay_days=30"
SIX = [
    "Boys only up to age 12",
    "Its rooms hold at most 2 people; this household is 3",
    "No free place for this household now",
    "No pets",
    "No wheelchair access",
    "Stays of at most 10 days",
]


@pytest.fixture
def strict(orgs):
    # One family room of 2 beds, taken: too small, and full besides.
    return make_facility(orgs["a"], "Strict house", rules=STRICT, rooms=[("family", 2)], free=[0])


def _reasons_block(html: str, start: str) -> str:
    at = html.index(start)
    return html[at : at + 3000]


def _items(block: str) -> list[str]:
    return [re.sub(r"\s+", " ", x).strip() for x in re.findall(r"<li>(.*?)</li>", block)]


def test_the_board_lists_every_reason_with_the_rest_folded(strict, as_persona):
    html = as_persona("operator_a").get(f"/vacancies/?{HOUSEHOLD}").content.decode()
    row = _reasons_block(html, 'id="f-' + str(strict.pk))
    row = row[: row.index("</article>")]
    assert _items(row) == SIX
    first, _sep, rest = row.partition('<details class="more-reasons">')
    assert _items(first) == SIX[:2]
    assert "<summary>4 more reasons</summary>" in rest
    assert _items(rest) == SIX[2:]


def test_the_search_page_lists_every_reason_of_an_excluded_facility(strict, as_persona):
    query = (
        "woman_age=30&children=m15%2C+m9&pets=1&needs=wheelchair&stay_days=30"
        "&citizenship=RU&languages=ru"
    )
    response = as_persona("operator_a").get(f"/referrals/search/?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    excluded = response.context["result"]["excluded"]
    row = next(x for x in excluded if x["e"].name == "Strict house")
    assert row["why"][:2] == SIX[:2] and set(SIX) <= set(row["why"])
    block = _reasons_block(html, "<td>Strict house</td>")
    block = block[: block.index("</tr>")]
    assert _items(block) == row["why"]
    assert f"{len(row['why']) - 2} more reasons</summary>" in block


def test_two_reasons_are_not_folded(orgs, as_persona):
    make_facility(orgs["a"], "Two reasons", rules=STRICT, rooms=[("family", 4)], free=[4])
    html = as_persona("operator_a").get("/vacancies/?boys=15&pets=on").content.decode()
    row = _reasons_block(html, "Two reasons")
    row = row[: row.index("</article>")]
    assert _items(row) == ["Boys only up to age 12", "No pets"]
    assert "more-reasons" not in row


def test_more_reasons_in_russian(strict, as_persona):
    client = as_persona("operator_a")
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    html = client.get(f"/vacancies/?{HOUSEHOLD}").content.decode()
    assert "<summary>ещё 4 причины</summary>" in html
    assert "Сейчас нет места для этой семьи" in html
