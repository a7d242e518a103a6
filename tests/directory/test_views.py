import pytest

from refuge.core.models import AuditEvent
from refuge.directory.models import Facility, HouseRules, OrganisationProfile
from tests.directory.factories import make_facility

PROFILE = {
    "name": "Renamed refuge",
    "kind": "crisis_centre_shelter",
    "region": "RU-VLA",
    "address_visibility": "confidential",
    "address": "New street 5",
    "services": ["psychologist", "interpretation"],
    "listed_publicly": "on",
    "is_active": "on",
}


def test_a_manager_edits_the_profile_of_her_own_facility(orgs, as_persona):
    f = make_facility(orgs["a"])
    response = as_persona("manager_a").post(f"/directory/{f.pk}/edit/", PROFILE)
    assert response.status_code == 302
    f.refresh_from_db()
    assert (f.name, f.region_id, f.address) == ("Renamed refuge", "RU-VLA", "New street 5")
    assert sorted(f.services.values_list("kind", flat=True)) == ["interpretation", "psychologist"]
    assert AuditEvent.objects.filter(action="facility.update", target_id=str(f.pk)).exists()
    assert AuditEvent.objects.filter(action="facility.services_update").exists()


def test_a_caseworker_sets_house_rules_with_not_stated(orgs, as_persona):
    f = make_facility(orgs["a"])
    data = {
        "women_only": "on",
        "min_age": "18",
        "children_accepted": "true",
        "boys_max_age": "14",
        "pets_accepted": "",  # not stated
        "wheelchair_accessible": "false",
        "staff_languages": "ru, ky",
        "max_stay_days": "30",
        "cost": "free",
    }
    response = as_persona("caseworker_a").post(f"/directory/{f.pk}/rules/", data)
    assert response.status_code == 302
    rules = HouseRules.objects.get(facility=f)
    assert rules.children_accepted is True and rules.pets_accepted is None
    assert rules.wheelchair_accessible is False and rules.staff_languages == ["ru", "ky"]
    assert rules.boys_max_age == 14 and rules.max_stay_days == 30


def test_a_refused_rule_is_explained_and_nothing_saved(orgs, as_persona):
    f = make_facility(orgs["a"])
    data = {"women_only": "on", "children_accepted": "false", "max_children": "2"}
    response = as_persona("manager_a").post(f"/directory/{f.pk}/rules/", data)
    assert response.status_code == 200
    assert "make no sense" in response.content.decode()
    assert HouseRules.objects.get(facility=f).max_children is None


@pytest.mark.parametrize(
    "url",
    [
        "/directory/{pk}/edit/",
        "/directory/{pk}/rules/",
        "/vacancies/facility/{pk}/",
        "/vacancies/facility/{pk}/rooms/new/",
    ],
)
def test_another_organisations_facility_is_not_found_for_management(orgs, as_persona, url):
    f = make_facility(orgs["b"])
    for who in ("manager_a", "caseworker_a"):
        assert as_persona(who).get(url.format(pk=f.pk)).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/directory/{pk}/edit/",
        "/directory/{pk}/rules/",
        "/directory/{pk}/phones/",
        "/vacancies/facility/{pk}/report/",
        "/vacancies/facility/{pk}/confirm/",
        "/vacancies/facility/{pk}/settings/",
    ],
)
def test_posts_to_another_organisations_facility_change_nothing(orgs, as_persona, url):
    f = make_facility(orgs["b"], rooms=[("dorm", 2)], free=[1])
    before = AuditEvent.objects.count()
    response = as_persona("manager_a").post(
        url.format(pk=f.pk),
        {**PROFILE, "number": "+74950000000", "source": "reported", "ttl_hours": 5},
    )
    assert response.status_code == 404
    assert AuditEvent.objects.count() == before
    assert Facility.objects.get(pk=f.pk).name == "Test refuge"


def test_a_manager_adds_a_facility_and_is_sent_to_its_rules(orgs, as_persona):
    response = as_persona("manager_a").post("/directory/new/", {**PROFILE, "name": "Second house"})
    assert response.status_code == 302
    f = Facility.objects.get(name="Second house")
    assert response.url == f"/directory/{f.pk}/rules/"
    assert f.organisation == orgs["a"]


def test_phones_are_added_from_the_profile_page(orgs, as_persona):
    f = make_facility(orgs["a"], region="KG-GB")
    client = as_persona("manager_a")
    client.post(
        f"/directory/{f.pk}/phones/",
        {"number": "(0312) 43-53-01", "kind": "voice", "visibility": "public", "country": ""},
    )
    assert list(f.phones.values_list("number", flat=True)) == ["+996312435301"]
    response = client.post(
        f"/directory/{f.pk}/phones/",
        {"number": "not a number", "kind": "voice", "visibility": "public"},
        follow=True,
    )
    assert "does not look like a phone number" in response.content.decode()
    assert f.phones.count() == 1


def test_the_organisation_profile_is_edited_by_its_staff(orgs, as_persona):
    response = as_persona("caseworker_a").post(
        "/directory/organisation/", {"description": "We help.", "email": "a@example.org"}
    )
    assert response.status_code == 302
    assert OrganisationProfile.objects.get(organisation=orgs["a"]).description == "We help."


def test_the_list_filters_by_region_kind_and_service(orgs, as_persona):
    make_facility(orgs["a"], "Tula house", region="RU-TUL", services=["lawyer"])
    make_facility(orgs["b"], "Bishkek line", region="KG-GB", kind="hotline")
    client = as_persona("operator_a")
    page = client.get("/directory/?region=KG").content.decode()
    assert "Bishkek line" in page and "Tula house" not in page
    page = client.get("/directory/?service=lawyer").content.decode()
    assert "Tula house" in page and "Bishkek line" not in page
    page = client.get("/directory/?region=RU-CFD&kind=hotline").content.decode()
    assert "No facility matches" in page


def test_the_list_uses_a_constant_number_of_queries(
    orgs, as_persona, django_assert_max_num_queries
):
    client = as_persona("operator_a")
    for i in range(3):
        make_facility(orgs["a"], f"Small {i}", services=["lawyer", "psychologist"])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get("/directory/")
    for i in range(30):
        make_facility(orgs["b"], f"More {i}", services=["lawyer"])
    with CaptureQueriesContext(connection) as large:
        client.get("/directory/")
    assert len(large) == len(small)


def test_an_inactive_facility_is_seen_by_its_own_staff_only(orgs, as_persona):
    f = make_facility(orgs["a"], "Closed house", is_active=False)
    assert as_persona("manager_a").get(f"/directory/{f.pk}/").status_code == 200
    assert as_persona("operator_b").get(f"/directory/{f.pk}/").status_code == 404
    assert "Closed house" not in as_persona("operator_b").get("/directory/").content.decode()
