import pytest
from django.core.exceptions import PermissionDenied

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.directory import services
from refuge.directory.models import Facility, HouseRules
from tests.directory.factories import make_facility


@pytest.mark.parametrize(
    ("raw", "region", "e164", "recognised"),
    [
        ("(0312) 66-15-92", "KG", "+996312661592", True),
        ("(03222) 2-97-57", "KG", "+996322229757", True),
        ("+996 03522 5 37 70", "", "+996352253770", True),  # trunk 0 after the country code
        ("+996 551 733 390", "", "+996551733390", True),
        ("8 (495) 123-45-67", "RU", "+74951234567", True),
        ('"+44 1234 234567"', "", "+441234234567", True),  # quoted, as in the HSDS examples
        ("(03934) 4-41-37", "KG", "+996393444137", False),  # possible, not in the known plan
    ],
)
def test_phones_are_normalised_to_e164(raw, region, e164, recognised):
    assert services.normalise_phone(raw, region) == (e164, recognised)


@pytest.mark.parametrize("raw", ["call us", "12", "+999 1"])
def test_things_that_are_not_phone_numbers_are_refused(raw):
    with pytest.raises(ServiceError) as exc:
        services.normalise_phone(raw, "RU")
    assert exc.value.code == "invalid_phone"


def test_a_manager_creates_a_facility_with_rules_and_services_audited(personas):
    p = personas["manager_a"].principal
    f = services.facility_create(
        by=p,
        organisation=p.organisation,
        name="New refuge",
        kind="low_threshold_refuge",
        region="RU-TUL",
        rules={"min_age": 18, "boys_max_age": 14, "staff_languages": ["RU", "ky", "ru"]},
        services=["psychologist", "lawyer"],
    )
    assert f.rules.boys_max_age == 14 and f.rules.staff_languages == ["ru", "ky"]
    assert sorted(f.services.values_list("kind", flat=True)) == ["lawyer", "psychologist"]
    assert f.address_visibility == "confidential"  # the safe default
    event = AuditEvent.objects.get(action="facility.create", target_id=str(f.pk))
    assert event.actor == "manager-a" and event.target_org_slug == "org-a"


def test_nobody_changes_another_organisations_facility(personas, orgs):
    f = make_facility(orgs["b"])
    with pytest.raises(ServiceError) as exc:
        services.facility_update(by=personas["manager_a"].principal, facility=f, name="Mine now")
    assert exc.value.code == "forbidden"
    with pytest.raises(PermissionDenied):
        services.facility_update(by=personas["operator_b"].principal, facility=f, name="x")
    assert Facility.objects.get(pk=f.pk).name == "Test refuge"


def test_address_changes_are_audited_by_field_name_only(personas, orgs):
    f = make_facility(orgs["a"])
    services.facility_update(
        by=personas["manager_a"].principal, facility=f, address="Very secret 9", name="Renamed"
    )
    event = AuditEvent.objects.get(action="facility.update", target_id=str(f.pk))
    assert event.details["fields"] == ["address", "name"]
    assert "Very secret 9" not in str(event.details) and event.details["values"] == {
        "name": "Renamed"
    }


def test_nothing_changed_writes_no_event(personas, orgs):
    f = make_facility(orgs["a"])
    services.facility_update(by=personas["manager_a"].principal, facility=f, name=f.name)
    assert not AuditEvent.objects.filter(action="facility.update").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"children_accepted": False, "max_children": 2}, "make no sense"),
        ({"boys_max_age": 40}, "between 0 and 25"),
        ({"max_stay_days": 0}, "between 1 and 3650"),
        ({"staff_languages": ["russian"]}, "not a language code"),
        ({"cost": "cheap"}, "free, paid"),
    ],
)
def test_house_rules_are_checked(personas, orgs, changes, message):
    f = make_facility(orgs["a"])
    with pytest.raises(ServiceError, match=message):
        services.house_rules_update(by=personas["caseworker_a"].principal, facility=f, **changes)


def test_house_rules_change_is_audited_with_the_values(personas, orgs):
    f = make_facility(orgs["a"])
    services.house_rules_update(
        by=personas["caseworker_a"].principal, facility=f, boys_max_age=12, pets_accepted=None
    )
    rules = HouseRules.objects.get(facility=f)
    assert rules.boys_max_age == 12 and rules.pets_accepted is None
    event = AuditEvent.objects.get(action="facility.rules_update")
    assert event.details["changes"] == {"boys_max_age": 12, "pets_accepted": None}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"faith": "orthodox"}, "faith-based"),
        ({"latitude": 55.0}, "both latitude and longitude"),
        ({"latitude": 95.0, "longitude": 37.0}, "between"),
        ({"region": "RU-XXX"}, "Unknown region"),
        ({"kind": "castle"}, "Unknown kind"),
        ({"name": "  "}, "needs a name"),
    ],
)
def test_bad_facility_values_are_refused(personas, orgs, values, message):
    f = make_facility(orgs["a"])
    with pytest.raises(ServiceError, match=message):
        services.facility_update(by=personas["manager_a"].principal, facility=f, **values)


def test_phones_are_added_normalised_and_removed(personas, orgs):
    f = make_facility(orgs["a"], region="KG-GB")
    p = personas["manager_a"].principal
    phone = services.phone_add(
        by=p, organisation=f.organisation, facility=f, number="(0312) 51-26-40"
    )
    assert phone.number == "+996312512640" and phone.recognised
    services.phone_remove(by=p, phone=phone)
    assert not f.phones.exists()
    assert (
        AuditEvent.objects.filter(
            action__in=["facility.phone_add", "facility.phone_remove"]
        ).count()
        == 2
    )


def test_only_a_coordinator_marks_a_facility_compromised(personas, orgs):
    f = make_facility(orgs["b"])
    with pytest.raises(ServiceError):
        services.facility_set_compromised(
            by=personas["manager_b"].principal, facility=f, compromised=True
        )
    with pytest.raises(ServiceError):  # issue 16: never without a reason
        services.facility_set_compromised(
            by=personas["coordinator_a"].principal, facility=f, compromised=True
        )
    services.facility_set_compromised(
        by=personas["coordinator_a"].principal, facility=f, compromised=True, reason="seen_nearby"
    )
    assert Facility.objects.get(pk=f.pk).compromised_since is not None
