import pytest
from django.utils import translation

from refuge.directory.models import Region
from refuge.directory.regions import load_regions, region_codes
from refuge.placement.geo import distance_km

CFD = "MOW MOS BEL BRY VLA VOR IVA KLU KOS KRS LIP ORL RYA SMO TAM TVE TUL YAR".split()
KG = ["KG-GB", "KG-GO", "KG-B", "KG-C", "KG-J", "KG-N", "KG-O", "KG-T", "KG-Y"]
CZ = [f"CZ-{n}" for n in (10, 20, 31, 32, 41, 42, 51, 52, 53, 63, 64, 71, 72, 80)]
# Rough bounding boxes of each country, to catch a swapped or mistyped coordinate.
BOXES = {
    "RU": (49.5, 61.7, 30.5, 47.5),
    "KG": (39.1, 43.3, 69.2, 80.3),
    "CZ": (48.5, 51.1, 12.0, 18.9),
}


def test_the_migration_loads_every_region_with_names_and_a_centre(db):
    expected = {f"RU-{c}" for c in CFD} | {"RU-VLG"} | set(KG) | set(CZ)
    assert set(Region.objects.values_list("code", flat=True)) == expected
    assert len(expected) == 18 + 1 + 9 + 14
    for region in Region.objects.all():
        assert region.name_en and region.name_ru, region.code
        if region.country == "KG":
            assert region.name_ky, region.code
        if region.country == "CZ":
            assert region.name_cs, region.code
        south, north, west, east = BOXES[region.country]
        assert south <= region.latitude <= north and west <= region.longitude <= east, region.code


def test_loading_again_changes_nothing(db):
    assert load_regions(Region) == (0, 0)


def test_names_follow_the_language(db):
    osh = Region.objects.get(code="KG-O")
    with translation.override("ru"):
        assert osh.name == "Ошская область"
    with translation.override("ky"):
        assert osh.name == "Ош облусу"
    with translation.override("en"):
        assert osh.name == "Osh Region"
    with translation.override("cs"):
        assert Region.objects.get(code="CZ-64").name == "Jihomoravský kraj"


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("RU-MOW", "RU-VLA", 150, 220),  # Moscow to Vladimir Oblast's centre
        ("KG-GB", "KG-GO", 280, 330),  # Bishkek to Osh
        ("RU-MOW", "RU-VLG", 450, 600),
        ("CZ-10", "CZ-64", 150, 230),
    ],
)
def test_centroid_distances_are_plausible(db, a, b, low, high):
    ra, rb = Region.objects.get(code=a), Region.objects.get(code=b)
    assert low < distance_km(ra.point, rb.point) < high


def test_selections_cover_countries_and_districts():
    assert len(region_codes("RU-CFD")) == 18
    assert "RU-VLG" not in region_codes("RU-CFD")
    assert len(region_codes("KG")) == 9
    assert region_codes("RU-TUL") == ["RU-TUL"]
    assert region_codes("") is None
