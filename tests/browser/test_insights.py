"""Insights in a browser: the coordinator's, the manager's and the analyst's dashboards, the
outcome surveys, the exports page and the simulation with "what if", in English and Russian.

The network is the demo (a year of hotline calls, clients, surveys), plus a year of stays,
referrals and turn-aways made here through the services, so that every chart has something
to draw. No console error (a CSP violation) is allowed (see conftest)."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from refuge.cases import services as cases
from refuge.cases.models import Client, Stay
from refuge.core.access import Principal
from refuge.core.models import Organisation, User
from refuge.core.services import ServiceError
from refuge.directory.models import Facility
from refuge.referrals import services as referrals
from refuge.referrals.models import Referral, ReferralTarget, TurnAway
from refuge.vacancies.services import availability_settings_update
from tests.browser.conftest import SCREENSHOTS, shot, sign_in, submit
from tests.conftest import make_user

pytestmark = pytest.mark.browser

REGIONS = ["RU-MOW"] * 6 + ["RU-MOS"] * 3 + ["RU-TUL", "RU-VLA", "RU-TVE", ""]
OUTCOMES = ["independent_housing", "relatives", "relatives", "returned_to_abuser",
            "moved_to_another_shelter", "state_housing", "unknown"]  # fmt: skip
REASONS = [["no_place_anywhere"], ["household_does_not_fit"], ["documents"], ["language"],
           ["declined_by_her"], ["distance_safety"], ["documents", "language"]]  # fmt: skip


def _a_year_of_placements() -> None:
    """Referrals from the coalition hotline to Kitezh, each accepted, arrived and discharged
    (or declined) before the next, then moved back in time: the services act "now"."""
    rng = random.Random(5)  # noqa: S311 - test data
    operator = Principal.for_user(User.objects.get(username="operator"))
    kitezh = Principal.for_user(User.objects.get(username="caseworker"))
    refuge = Facility.objects.get(name="Kitezh low-threshold refuge")
    # Kitezh records its stays in Refuge: its free places follow from them.
    availability_settings_update(by=None, facility=refuge, source="system", ttl_hours=24)
    now = timezone.now()
    for n in range(48):
        start = now - timedelta(days=360 - 7 * n, hours=rng.randint(0, 20))
        client = cases.client_create(by=operator, name=f"Browser {n}",
                                     age_band=rng.choice(["18-24", "25-34", "35-44", "45-54"]))  # fmt: skip
        cases.client_update(by=operator, client=client, residence_region=rng.choice(REGIONS))
        for _c in range(rng.choice([0, 0, 1, 2])):
            cases.household_member_add(by=operator, client=client, age=rng.randint(1, 12),
                                       sex=rng.choice(["male", "female"]))  # fmt: skip
        cases.consent_record(by=operator, client=client, scope="reporting", days=365)
        household = {"woman_age": 30, "home_region": client.residence_region or "RU-MOW",
                     "children": [{"age": m.age, "sex": m.sex} for m in client.household.all()]}  # fmt: skip
        try:
            ref = referrals.referral_create(by=operator, client=client, household=household,
                                            facility_ids=[refuge.pk])  # fmt: skip
        except ServiceError:  # its house rules do not take this household: a turn-away
            row = referrals.turn_away_record(by=operator, household=household,
                                             reasons=["household_does_not_fit"])  # fmt: skip
            TurnAway.objects.filter(pk=row.pk).update(at=start)
            continue
        if n % 6 == 5:
            referrals.referral_decline(by=kitezh, referral=ref, facility=refuge, reason="no_place")
            Referral.objects.filter(pk=ref.pk).update(created_at=start)
            Client.objects.filter(pk=client.pk).update(created_at=start)
            continue
        referrals.referral_accept(by=kitezh, referral=ref, facility=refuge)
        s = referrals.referral_arrive(by=kitezh, referral=ref)
        wait = timedelta(minutes=rng.choice([20, 45, 90, 200, 400, 1500, 3000]))
        length = timedelta(days=rng.choice([3, 6, 12, 20, 30, 45, 75]))
        Referral.objects.filter(pk=ref.pk).update(created_at=start)
        ReferralTarget.objects.filter(referral=ref).update(decided_at=start + wait)
        Client.objects.filter(pk=client.pk).update(created_at=start)
        admitted = start + wait + timedelta(hours=3)
        if n >= 45:  # the last ones are still there; the rest have left, the room is free again
            Stay.objects.filter(pk=s.pk).update(admitted_at=admitted)
            continue
        cases.stay_discharge(by=kitezh, stay=s, outcome=rng.choice(OUTCOMES))
        left = min(admitted + length, now - timedelta(hours=1))
        Stay.objects.filter(pk=s.pk).update(admitted_at=admitted, discharged_at=left)
    for n in range(30):
        row = referrals.turn_away_record(
            by=operator,
            household={"woman_age": 28, "home_region": rng.choice(REGIONS) or "RU-MOW",
                       "children": [{"age": 4, "sex": "male"}] * rng.choice([0, 1, 3])},
            reasons=REASONS[n % len(REASONS)],
        )  # fmt: skip
        TurnAway.objects.filter(pk=row.pk).update(at=now - timedelta(days=350 - 11 * n))


@pytest.fixture
def demo(transactional_db, tmp_path):
    with override_settings(REFUGE_HOME=tmp_path):
        call_command("load_demo", stdout=io.StringIO())
    _a_year_of_placements()
    people = {}
    for username, role, slug in (
        ("nadya", "coordinator", "coalition-hub"),
        ("alena", "manager", "kitezh"),
        ("anara", "analyst", "kg-ministry"),
    ):
        user = make_user(Organisation.objects.get(slug=slug), role, username)
        device = None
        if role != "analyst":
            device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        people[role] = (username, device)
    return people


def _sign_in(page, live_server, person, lang: str) -> None:
    page.context.clear_cookies()  # one page, several people in turn
    sign_in(page, live_server.url, User.objects.get(username=person[0]), lang=lang)


TEXT = {
    "en": {"insights": "Insights", "simulation": "Simulation", "model": "These are model results",
           "hidden": "marks a hidden figure", "results": "Results (model)"},
    "ru": {"insights": "Аналитика", "simulation": "Моделирование",
           "model": "Это результаты модели", "hidden": "отмечает скрытую цифру",
           "results": "Результаты (модель)"},
}  # fmt: skip


def _part(page, selector: str, name: str) -> None:
    """A screenshot of one part of the page, readable at its own size."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).first.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _language(page, lang: str) -> None:
    """Switch the language with the form in the page header."""
    page.select_option("#lang-select", lang)
    submit(page, ".lang button")
    assert page.locator("html").get_attribute("lang") == lang


def test_dashboards_outcomes_exports_and_the_simulation(live_server, page, demo):
    _sign_in(page, live_server, demo["coordinator"], "en")
    for lang in ("en", "ru"):
        t = TEXT[lang]
        _language(page, lang)
        page.get_by_role("link", name=t["insights"], exact=True).first.click()
        page.wait_for_url(f"{live_server.url}/insights/")
        assert page.locator("#calls svg").count() == 1
        assert page.locator("#placements svg").count() == 2
        assert page.locator("#occupancy svg").count() == 1
        shot(page, f"insights-{lang}-01-coordinator")
        for part in ("calls", "demand", "placements", "turnaways", "occupancy", "stays"):
            _part(page, f"#{part}", f"insights-{lang}-01-coordinator-{part}")
        # a chart's table, opened
        page.locator("#placements details summary").first.click()
        assert page.locator("#placements details table tbody tr").count() >= 12

        # the simulation: hotline demand; household sizes and stays as recorded
        page.get_by_role("link", name=t["simulation"], exact=True).first.click()
        page.wait_for_url(f"{live_server.url}/insights/simulation/")
        assert t["model"] in page.content()
        page.check("input[name=demand][value=hotline]")
        page.fill("#id_places", "10")
        page.select_option("#id_region", "RU-MOS")
        submit(page, "button[name=run]")
        problems = page.locator("[role=alert]").all_inner_texts()
        assert not problems, problems
        assert t["results"] in page.content()
        assert page.locator("#sim-results svg").count() == 2
        shot(page, f"insights-{lang}-04-simulation")
        _part(page, "#sim-results", f"insights-{lang}-04-simulation-results")

    # the analyst: a published quarter, small counts hidden; nothing else
    _sign_in(page, live_server, demo["analyst"], "en")
    for lang in ("en", "ru"):
        _language(page, lang)
        page.goto(f"{live_server.url}/insights/")
        assert page.locator("select[name=period]").count() == 1
        assert TEXT[lang]["hidden"] in page.content()
        shot(page, f"insights-{lang}-02-analyst")
        _part(page, "#calls-region", f"insights-{lang}-02-analyst-calls-region")
        _part(page, "#placements", f"insights-{lang}-02-analyst-placements")
    assert page.goto(f"{live_server.url}/cases/").status == 403

    # the manager of Kitezh: her organisation's figures; the outcome surveys; the exports
    _sign_in(page, live_server, demo["manager"], "en")
    _language(page, "en")
    page.goto(f"{live_server.url}/insights/")
    assert "Your organisation's figures: Kitezh low-threshold refuge." in page.content()
    shot(page, "insights-en-03-manager")
    page.goto(f"{live_server.url}/insights/outcomes/")
    assert page.locator("#survivor_outcomes table tbody tr").count() == 8
    shot(page, "insights-en-05-outcomes")
    page.goto(f"{live_server.url}/insights/exports/")
    with page.expect_download() as download:
        page.click("main form button[type=submit]")
    assert download.value.suggested_filename.endswith(".xlsx")
    shot(page, "insights-en-06-exports")
    # a survey on her case, inside the case file
    code = Client.objects.filter(organisation__slug="kitezh").order_by("case_code").first()
    page.goto(f"{live_server.url}/insights/outcomes/case/{code.case_code}/")
    assert page.locator("fieldset.item").count() == 9
    shot(page, "insights-en-07-survey")
