"""Unusual search patterns are audited (issue 15 item 4, docs/security.md): many searches by one
person in an hour, varying the distance threshold, write one ``search.pattern`` event with
counts only."""

from __future__ import annotations

import json
from datetime import timedelta

from django.test import Client as HttpClient
from django.utils import timezone

from refuge.core.models import AuditEvent
from refuge.core.services import api_key_create
from refuge.placement.fit import Household
from refuge.referrals.models import SearchProbe
from refuge.referrals.patterns import PATTERN_SEARCHES, search_pattern_note

MOSCOW = (55.74, 37.62)


def _h(km):
    return Household(
        woman_age=30,
        avoid_regions=frozenset({"RU-MOW"}),
        avoid_points=(MOSCOW,),
        min_distance_km=km,
    )


def _patterns():
    return AuditEvent.objects.filter(action="search.pattern")


def test_bisecting_the_threshold_through_the_api_is_audited_once_without_personal_fields(
    personas, orgs
):
    _key, text = api_key_create(by=None, organisation=orgs["a"], role="operator")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {text}"}
    for i in range(PATTERN_SEARCHES + 3):
        body = {
            "woman_age": 30 + i,
            "avoid_regions": ["RU-MOW"],
            "min_distance_km": 10 + 10 * i,
            "citizenship": "KG",
        }
        r = HttpClient().post(
            "/api/v1/placements/search", body, content_type="application/json", **auth
        )
        assert r.status_code == 200
    events = list(_patterns())
    assert len(events) == 1  # once in the window, not once a search
    event = events[0]
    assert event.details == {
        "searches": PATTERN_SEARCHES + 1,
        "thresholds": PATTERN_SEARCHES + 1,
        "window_minutes": 60,
    }
    text_of = json.dumps(event.details) + event.target_id + event.target_type
    for personal in ("RU-MOW", "KG", "min_distance", "woman_age"):
        assert personal not in text_of


def test_the_same_threshold_again_and_again_is_not_a_pattern(personas):
    p = personas["operator_a"].principal
    for _ in range(PATTERN_SEARCHES * 2):
        search_pattern_note(by=p, household=_h(100))
    assert not _patterns().exists()


def test_searches_without_a_distance_are_not_noted(personas):
    p = personas["operator_a"].principal
    for i in range(PATTERN_SEARCHES * 2):
        search_pattern_note(by=p, household=Household(woman_age=20 + i))
    assert not SearchProbe.objects.exists() and not _patterns().exists()


def test_only_the_last_hour_counts_and_people_are_counted_apart(personas):
    a, b = personas["operator_a"].principal, personas["operator_b"].principal
    long_ago = timezone.now() - timedelta(hours=2)
    for i in range(PATTERN_SEARCHES):
        search_pattern_note(by=a, household=_h(10 * (i + 1)), at=long_ago)
    for i in range(PATTERN_SEARCHES // 2 + 1):
        search_pattern_note(by=a, household=_h(10 * (i + 1)))
        search_pattern_note(by=b, household=_h(10 * (i + 1)))
    assert not _patterns().exists()
    assert not SearchProbe.objects.filter(at__lt=timezone.now() - timedelta(hours=1)).exists()
    for i in range(PATTERN_SEARCHES):
        search_pattern_note(by=a, household=_h(10 * (i + 1)))
    assert list(_patterns().values_list("actor", flat=True)) == [a.name]


def test_the_board_notes_a_search_but_not_its_background_polls(personas, as_persona):
    client = as_persona("operator_a")
    client.get("/vacancies/?from_region=RU-MOW&min_km=30")
    client.get("/vacancies/rows/?from_region=RU-MOW&min_km=30", HTTP_X_REFUGE_BACKGROUND="1")
    assert list(SearchProbe.objects.values_list("threshold_km", flat=True)) == [30]
