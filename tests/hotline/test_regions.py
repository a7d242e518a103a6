import pytest

from refuge.hotline import regions


@pytest.mark.parametrize(
    "raw, country, e164",
    [
        ("79161234567", "RU", "+79161234567"),  # Mango: international digits, no plus
        ("+7 (495) 123-45-67", "RU", "+74951234567"),
        ("84951234567", "RU", "+74951234567"),  # Russian national format with the trunk 8
        ("996312661592", "RU", "+996312661592"),  # a Kyrgyz number on a Russian line
        ("0312 66-15-92", "KG", "+996312661592"),  # Kyrgyz national format
        ("74951234567", "KG", "+74951234567"),
        ("00420224123456", "RU", "+420224123456"),
        ("anonymous", "RU", None),
        ("", "RU", None),
        ("sip:101@pbx", "RU", None),
        ("client:olga", "RU", None),
        ("12345", "RU", None),
        ("1" * 20, "RU", None),
    ],
)
def test_numbers_are_normalised_to_e164_or_dropped(raw, country, e164):
    assert regions.normalise_number(raw, country) == e164


@pytest.mark.parametrize(
    "e164, region, source",
    [
        ("+74951234567", "RU-MOW", "number"),
        ("+74961234567", "RU-MOS", "number"),
        ("+74872123456", "RU-TUL", "number"),
        ("+74932123456", "RU-IVA", "number"),
        ("+74942123456", "RU-KOS", "number"),
        ("+74852123456", "RU-YAR", "number"),
        ("+79161234567", "RU", "country"),  # a mobile: only the country
        ("+996312661592", "KG-GB", "number"),
        ("+996322229757", "KG-GO", "number"),  # Osh city
        ("+996323426033", "KG-O", "number"),  # Gulcha, Alai district (seed 002)
        ("+996342253818", "KG-T", "number"),  # Talas
        ("+996362220270", "KG-B", "number"),  # Batken
        ("+996555123456", "KG", "country"),
        ("+420224123456", "CZ", "country"),
        (None, "", ""),
    ],
)
def test_the_region_comes_from_the_area_code(e164, region, source):
    place = regions.place_for_number(e164)
    assert (place.region, place.source) == (region, source)
    assert not region or region in regions.REGION_NAMES or len(region) == 2


def test_a_regional_line_places_a_mobile_caller_in_its_region_only_within_its_country():
    mobile_ru, mobile_kg = "+79161234567", "+996555123456"
    assert regions.caller_place(
        mobile_ru, line_region="RU-TUL", region_from_line=True
    ) == regions.Place("RU-TUL", "line")
    assert (
        regions.caller_place(mobile_kg, line_region="RU-TUL", region_from_line=True).region == "KG"
    )
    assert (
        regions.caller_place(mobile_ru, line_region="RU-TUL", region_from_line=False).region == "RU"
    )
    # A landline's own area code wins over the line.
    assert (
        regions.caller_place("+74951234567", line_region="RU-TUL", region_from_line=True).region
        == "RU-MOW"
    )


@pytest.mark.parametrize(
    "region, area, inside",
    [
        ("RU-MOW", ["RU-MOW", "RU-MOS"], True),
        ("RU-TUL", ["RU-MOW", "RU-MOS"], False),
        ("KG-O", ["KG"], True),
        ("RU-MOW", ["KG"], False),
        ("RU", ["RU-MOW"], None),  # a Russian mobile on a Moscow line: cannot tell
        ("RU", ["RU"], True),
        ("KG", ["RU-MOW"], False),  # another country is out of region
        ("", ["RU"], None),
        ("RU-MOW", [], None),
    ],
)
def test_whether_a_caller_is_in_the_lines_area(region, area, inside):
    assert regions.in_area(region, area) is inside


def test_codes_are_checked():
    assert (
        regions.is_region_code("KG-GB")
        and regions.is_region_code("RU")
        and regions.is_region_code("RU-MOW")
    )
    for bad in ("ru-mow", "RUS", "RU-", "RU-MOSCOW", "R1", "RU MOW"):
        assert not regions.is_region_code(bad)
    assert regions.parse_area(" kg , RU-MOW,,x ") == ["KG", "RU-MOW"]
