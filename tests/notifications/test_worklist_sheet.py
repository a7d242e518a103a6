"""The printable daily sheet: what is on it, for whom, and what never is."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from refuge.core.models import AuditEvent
from refuge.directory.services import phone_add
from tests.directory.factories import make_facility
from tests.notifications.test_worklist import SECRETS
from tests.notifications.worklist_world import build


@pytest.fixture
def world(personas, orgs):
    w = build(personas, orgs)
    phone_add(
        by=None, organisation=orgs["b"], facility=w.facilities["soon0"], number="+7 492 222-33-44"
    )
    phone_add(
        by=None,
        organisation=orgs["a"],
        facility=w.facilities["hub"],
        number="+7 485 200-10-20",
        visibility="professionals",
    )
    phone_add(by=None, organisation=orgs["a"], number="+7 495 111-22-33", description="night line")
    # A town that professionals may see, for a facility whose address is for professionals.
    w.facilities["open"] = make_facility(
        orgs["b"],
        "Kovrov house",
        region="RU-VLA",
        rooms=[("dorm", 2)],
        free=[2],
        address_visibility="professionals",
        locality="Kovrov",
        address="1 Open Street",
    )
    return w


def _sheet(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_facility_sheet_has_its_pending_items_its_figure_and_the_numbers_to_call(
    world, as_persona
):
    vladimir = world.facilities["vladimir"]
    html = _sheet(as_persona("caseworker_b"), f"/worklist/sheet/{vladimir.pk}/")
    assert "<h1>Daily sheet: Vladimir refuge</h1>" in html
    assert re.search(r"Printed \d\d\.\d\d\.\d{4} \d\d:\d\d by caseworker-b\.", html)
    # Pending: the referral to this shelter (with the time its hold ends), and what belongs to
    # the organisation; not the figures of her other houses (each has its own sheet).
    assert re.search(
        r"Referral to Vladimir refuge: From Org A, .* · place held until \d\d:\d\d", html
    )
    assert "Risk concern about the partner of" in html
    assert "Their numbers are never printed" in html
    assert "Suzdal house: free places" not in html and "Empty house has no rooms" not in html
    # Its own figure, then the other facilities with a place, each with its numbers.
    own = html[html.index('id="sheet-own"') : html.index('id="sheet-places"')]
    assert "free beds</strong> of 14" in own and "live from stays in Refuge" in own
    places = html[html.index('id="sheet-places"') : html.index('id="sheet-hub"')]
    assert re.search(r"Other facilities with free places at \d\d:\d\d", places)
    assert "Suzdal house" in places and "+7 492 222-33-44" in places
    assert "Hub house" in places and "+7 485 200-10-20" in places  # professionals see it
    assert "Murom house" not in places  # its figure is unknown
    assert "Empty house" not in places and "Vladimir refuge" not in places
    hub = html[html.index('id="sheet-hub"') :]
    assert "+7 495 111-22-33" in hub and "night line" in hub


def test_the_network_sheet_lists_every_facility_with_its_figure_and_time(world, as_persona):
    html = _sheet(as_persona("coordinator_a"), "/worklist/sheet/")
    assert "<h1>Daily sheet: the network</h1>" in html
    assert "Requests for a place from partner agencies (1)" in html
    places = html[html.index('id="sheet-places"') : html.index('id="sheet-hub"')]
    assert re.search(r"Free places in the network at \d\d:\d\d", places)
    for name in ("Vladimir refuge", "Hub house", "Suzdal house", "Murom house", "Empty house"):
        assert name in places
    murom = places[places.index("Murom house") :]
    assert re.search(r"<strong>unknown</strong>.*unknown: last report", murom, re.S)
    empty = places[places.index("Empty house") :]
    assert "unknown: rooms not set up" in empty[:600]
    assert "Kovrov" in places  # a town professionals may see


@pytest.mark.parametrize(
    ("key", "url"),
    [("caseworker_b", "vladimir"), ("manager_b", "vladimir"), ("coordinator_a", None)],
)
def test_no_sheet_carries_a_confidential_address_or_anything_personal(world, as_persona, key, url):
    """Not even the facility's own staff: paper travels, and the numbers are what is needed."""
    path = f"/worklist/sheet/{world.facilities[url].pk}/" if url else "/worklist/sheet/"
    html = _sheet(as_persona(key), path)
    leaked = [s for s in (*SECRETS, "1 Open Street") if s in html]
    assert not leaked, leaked
    for cb in world.callbacks["a"] + world.callbacks["b"]:
        assert str(cb.pk) not in html


def test_a_sheet_is_for_its_own_staff_and_the_networks_for_coordinators(world, as_persona):
    vladimir = world.facilities["vladimir"]
    assert as_persona("caseworker_a").get(f"/worklist/sheet/{vladimir.pk}/").status_code == 404
    assert as_persona("manager_a").get(f"/worklist/sheet/{vladimir.pk}/").status_code == 404
    for key in ("operator_b", "coordinator_b", "partner_b", "facilitator_b", "analyst_b"):
        assert as_persona(key).get(f"/worklist/sheet/{vladimir.pk}/").status_code == 403, key
    for key in ("caseworker_b", "manager_b", "operator_a", "partner_a", "analyst_a"):
        assert as_persona(key).get("/worklist/sheet/").status_code == 403, key
    assert as_persona("caseworker_b").get("/worklist/sheet/not-a-uuid/").status_code == 404


def test_the_home_page_offers_the_sheets_its_reader_may_print(world, as_persona):
    staff = as_persona("caseworker_b").get("/").content.decode()
    for key in ("vladimir", "soon0", "gone0", "empty0"):
        assert f'href="/worklist/sheet/{world.facilities[key].pk}/"' in staff
    assert 'href="/worklist/sheet/"' not in staff
    coordinator = as_persona("coordinator_a").get("/").content.decode()
    assert 'href="/worklist/sheet/"' in coordinator and "/worklist/sheet/" in coordinator
    assert "/worklist/sheet/" not in as_persona("operator_a").get("/").content.decode()


def test_printing_a_sheet_is_audited_without_content(world, as_persona):
    vladimir = world.facilities["vladimir"]
    as_persona("caseworker_b").get(f"/worklist/sheet/{vladimir.pk}/")
    event = AuditEvent.objects.filter(action="worklist.daily_sheet").get()
    assert (event.actor, event.target_type, event.target_id) == (
        "caseworker-b",
        "directory.facility",
        str(vladimir.pk),
    )
    assert not event.details


def test_the_sheet_in_russian(world, as_persona):
    client = as_persona("coordinator_a")
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    html = _sheet(client, "/worklist/sheet/")
    assert '<html lang="ru">' in html
    for text in (
        "Дневной лист: вся сеть",
        "Куда звонить",
        "Свободные места в сети на",
        "Распечатать лист",
    ):
        assert text in html
    assert "Владимирская область" in html


def test_the_sheet_costs_the_same_queries_for_a_few_facilities_or_many(
    world, personas, orgs, as_persona
):
    client = as_persona("coordinator_a")
    client.get("/worklist/sheet/")
    with CaptureQueriesContext(connection) as few:
        client.get("/worklist/sheet/")
    for i in range(6):
        f = make_facility(
            orgs["b"], f"More house {i}", region="RU-IVA", rooms=[("dorm", 2)], free=[1]
        )
        phone_add(by=None, organisation=orgs["b"], facility=f, number=f"+7 493 200-00-1{i}")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/worklist/sheet/").content.decode()
    assert "More house 5" in html and "+7 493 200-00-15" in html
    assert len(many) == len(few), [q["sql"][:100] for q in many.captured_queries]


def test_a_sheet_for_a_house_that_is_closed_or_takes_nobody_in(world, orgs, as_persona):
    """Its own staff may still print it (its figure is read alone), and nothing breaks."""
    closed = world.facilities["soon0"]
    closed.is_active = False
    closed.save(update_fields=["is_active"])
    html = _sheet(as_persona("manager_b"), f"/worklist/sheet/{closed.pk}/")
    assert "<h1>Daily sheet: Suzdal house</h1>" in html and "Free places at Suzdal house" in html
    office = make_facility(orgs["b"], "Counselling office", kind="crisis_centre")
    html = _sheet(as_persona("manager_b"), f"/worklist/sheet/{office.pk}/")
    assert "<h1>Daily sheet: Counselling office</h1>" in html
    assert 'id="sheet-own"' not in html  # it has no beds to count
