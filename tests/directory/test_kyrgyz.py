"""The crisis centres of seed 002, shipped as a real directory."""

import json

import pytest
from django.core.management import call_command

from refuge.core.models import Organisation
from refuge.core.roles import OrgKind
from refuge.core.services import organisation_create
from refuge.directory.hsds.export import public_profile
from refuge.directory.models import Facility, HouseRules
from refuge.directory.services import house_rules_update
from refuge.directory.shipped import SHIPPED, load_file


@pytest.fixture
def kg(db):
    load_file(SHIPPED["kg"])
    return Facility.objects.select_related("rules", "organisation")


def _one(kg, name_part):
    (facility,) = [f for f in kg if name_part in f.name]
    return facility


def test_fifteen_distinct_organisations_with_the_repeated_entries_merged(kg):
    data = json.loads(SHIPPED["kg"].read_text(encoding="utf-8"))
    names = [o["name"] for o in data["organisations"]]
    assert len(names) == 15 == len(set(names))
    assert (
        Organisation.objects.filter(slug__in=[o["slug"] for o in data["organisations"]]).count()
        == 15
    )
    for repeated in ("Ak-Jurok", "Akyl-Karachach", "Ayalzat” Municipal", "Aruulan"):
        assert len([f for f in kg if repeated in f.name]) == 1
    assert kg.count() == 16  # Tendesh works in Bishkek and in Naryn


def test_limits_from_the_text(kg):
    assert _one(kg, "Maana").rules.max_stay_days == 10
    assert _one(kg, "Himaya").rules.max_stay_days == 14
    sezim = _one(kg, "Sezim")
    assert sezim.rules.max_stay_days == 300 and sezim.rules.children_accepted is True
    assert "up to a month" in sezim.rules.notes
    assert _one(kg, "Akyl-Karachach").rules.children_accepted is True
    # What the text does not say stays "not stated".
    assert _one(kg, "Maana").rules.pets_accepted is None


def test_ayalzat_municipal_centre_address_and_phones_are_not_published(kg):
    ayalzat = _one(kg, "Ayalzat” Municipal")
    assert ayalzat.address_visibility == "confidential"
    assert ayalzat.stated_capacity == 60
    assert not ayalzat.phones.exists() and ayalzat.address == "" and ayalzat.region is None
    assert "not published" in ayalzat.source_note


def test_public_phones_are_normalised(kg):
    numbers = set(_one(kg, "Association of Crisis").phones.values_list("number", flat=True)) | set(
        _one(kg, "Himaya").phones.values_list("number", flat=True)
    )
    assert numbers == {"+996312661592", "+996551733390", "+996702223535"}
    assert _one(kg, "Himaya").phones.get(number="+996551733390").kind == "text"
    assert set(_one(kg, "(Naryn)").phones.values_list("number", flat=True)) == {
        "+996352253770",
        "+996352250270",
    }


def test_regions_and_kinds(kg):
    assert _one(kg, "Maana").region_id == "KG-T"
    assert _one(kg, "Altynai").region_id == "KG-Y"
    assert _one(kg, "Janyl Myrza").region_id == "KG-B"
    shelters = {f.name for f in kg if f.offers_accommodation}
    assert len(shelters) == 8
    assert _one(kg, "Darshayyim").kind == "other"


def test_loading_again_changes_nothing_and_keeps_what_a_centre_changed(kg):
    maana = _one(kg, "Maana")
    house_rules_update(by=None, facility=maana, max_stay_days=12)
    call_command("load_directory")
    assert Facility.objects.count() == 16
    assert HouseRules.objects.get(facility=maana).max_stay_days == 12
    call_command("load_directory", "--refresh")
    assert HouseRules.objects.get(facility=maana).max_stay_days == 10
    assert Facility.objects.count() == 16


def test_an_existing_organisation_with_the_same_short_name_is_reused(db):
    existing = organisation_create(
        by=None, slug="sezim", name="Sezim Crisis Center", kind=OrgKind.CRISIS_CENTRE
    )
    load_file(SHIPPED["kg"])
    assert Facility.objects.get(name="Sezim Crisis Center").organisation == existing


def test_the_public_profile_never_shows_what_the_text_withholds(kg):
    profile = json.dumps(public_profile(), ensure_ascii=False)
    # Ayalzat is a shelter whose address is withheld: the public feed does not name it at all
    # (as the help pages, which only count it).
    assert "“Ayalzat” Municipal" not in profile
    assert "27/401, Kievskaya St." in profile  # the one street address the text publishes


def test_a_centre_whose_region_is_not_published_is_still_found_in_its_country(kg, as_persona):
    ayalzat = _one(kg, "Ayalzat” Municipal")
    assert ayalzat.country == "KG" and _one(kg, "Maana").country == "KG"
    client = as_persona("operator_a")
    board = client.get("/vacancies/?region=KG").content.decode()
    assert "“Ayalzat” Municipal Crisis Center" in board
    assert (
        "“Ayalzat” Municipal Crisis Center"
        not in client.get("/vacancies/?region=KG-GB").content.decode()
    )
    directory = client.get("/directory/?region=KG").content.decode()
    assert "“Ayalzat” Municipal Crisis Center" in directory
    assert "Kyrgyzstan, region not known" in directory
    # Keeping her away from a region cannot be checked for it: excluded, with the reason.
    far = client.get("/vacancies/?region=KG&from_region=KG-GB&min_km=50").content.decode()
    start = far.index("“Ayalzat” Municipal Crisis Center")
    assert "distance cannot be checked" in far[start : far.index("</article>", start)]
