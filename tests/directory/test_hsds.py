"""HSDS 3.0 out (public profile, JSON and tabular) and in (the importer)."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from refuge.core.models import AuditEvent, Organisation
from refuge.directory.hours import DAY, Window, dumps
from refuge.directory.hsds.export import write_export
from refuge.directory.hsds.importer import ImportRejected, import_hsds
from refuge.directory.hsds.schema import errors_of
from refuge.directory.hsds.tabular import OFFICIAL, TABLES, table_schema, typed
from refuge.directory.hsds.taxonomy import TAXONOMY_NAME
from refuge.directory.models import Facility, HouseRules, Phone
from refuge.directory.services import facility_hours_set, phone_add
from refuge.directory.shipped import SHIPPED, load_file
from refuge.vacancies.models import FacilityAvailability
from tests.directory.factories import make_facility

HOURS = [
    Window((0, 1, 2, 3, 4), 9 * 60, 18 * 60),
    Window((5,), 10 * 60, 14 * 60),
    Window((6,), 18 * 60, DAY),
]
SECRETS = ["Secret lane 7", "Hiddenville", "55.123456", "Pro street 3", "Proville", "+74959998877"]


@pytest.fixture
def network(orgs):
    load_file(SHIPPED["kg"])
    public = make_facility(
        orgs["a"],
        "Open shelter",
        address_visibility="public",
        address="Lenina 1",
        locality="Tula",
        postal_code="300041",
        region="RU-TUL",
        latitude=54.19,
        longitude=37.62,
        rooms=[("family", 4), ("dorm", 3)],
        free=[4, 2],
        services=["psychologist", "interpretation"],
        rules={
            "min_age": 18,
            "children_accepted": True,
            "boys_max_age": 14,
            "pets_accepted": False,
            "requires_passport": True,
            "staff_languages": ["ru", "en"],
            "max_stay_days": 30,
            "cost": "free",
            "wheelchair_accessible": True,
        },
    )
    FacilityAvailability.objects.filter(facility=public).update(publish_availability=True)
    facility_hours_set(by=None, facility=public, windows=HOURS)
    hidden = make_facility(
        orgs["a"],
        "Hidden house",
        address="Secret lane 7",
        locality="Hiddenville",
        latitude=55.123456,
        longitude=37.5,
        rooms=[("family", 3)],
        free=[3],
    )
    FacilityAvailability.objects.filter(facility=hidden).update(publish_availability=True)
    pro = make_facility(
        orgs["b"],
        "Pro house",
        address="Pro street 3",
        locality="Proville",
        address_visibility="professionals",
    )
    phone_add(
        by=None,
        organisation=orgs["b"],
        facility=pro,
        number="+74959998877",
        visibility="professionals",
    )
    make_facility(
        orgs["b"],
        "Unlisted house",
        address_visibility="public",
        locality="Nowhere",
        listed_publicly=False,
    )
    return {"public": public, "hidden": hidden, "pro": pro}


@pytest.fixture
def exported(network, tmp_path):
    write_export(tmp_path)
    return tmp_path


def _load(path: Path, name: str):
    return json.loads((path / f"{name}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("file", "schema"),
    [
        ("services", "service"),
        ("organizations", "organization"),
        ("service_at_locations", "service_at_location"),
    ],
)
def test_every_exported_document_validates_against_the_official_compiled_schema(
    exported, schemas, file, schema
):
    docs = _load(exported, file)
    assert docs
    validator = schemas.compiled(schema)
    for i, doc in enumerate(docs):
        assert errors_of(validator, doc, f"$[{i}]") == []


def test_taxonomy_and_capacity_extension_validate(exported, schemas):
    for term in _load(exported, "taxonomy_terms"):
        assert errors_of(schemas.entity("taxonomy_term"), term) == []
    for taxonomy in _load(exported, "taxonomies"):
        assert errors_of(schemas.entity("taxonomy"), taxonomy) == []
    capacities = [c for s in _load(exported, "services") for c in s.get("capacities", [])]
    assert capacities
    for capacity in capacities:
        assert errors_of(schemas.entity("service_capacity"), capacity) == []


def _frictionless_errors(package) -> list:
    report = package.validate()
    return report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_the_tabular_package_validates_against_the_official_datapackage(exported, hsds_dir):
    """frictionless, with the official datapackage.json read where it is, over our files."""
    from frictionless import Package

    official = json.loads((hsds_dir / "datapackage.json").read_text(encoding="utf-8"))
    package = Package(official, basepath=str(exported / "tabular"))
    assert _frictionless_errors(package) == []
    # Every official table is there, with every official column in the official order.
    for resource in official["resources"]:
        with (exported / "tabular" / resource["path"]).open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        assert header == [f["name"] for f in resource["schema"]["fields"]], resource["path"]
    # And the package describes itself the same way (plus the capacity extension).
    assert _frictionless_errors(Package(str(exported / "tabular" / "datapackage.json"))) == []
    # The check can fail: "24:00" is not a time, a required cell cannot be empty.
    schedules = exported / "tabular" / "schedules.csv"
    schedules.write_text(schedules.read_text().replace("23:59:59", "24:00"), encoding="utf-8")
    services = exported / "tabular" / "services.csv"
    services.write_text(services.read_text().replace(",active,", ",,"), encoding="utf-8")
    found = {
        (e[1], e[2])
        for e in _frictionless_errors(Package(official, basepath=str(exported / "tabular")))
    }
    assert ("closes_at", "type-error") in found and ("status", "constraint-error") in found


def test_the_package_describes_the_official_tables_as_the_official_descriptor_does(hsds_dir):
    official = json.loads((hsds_dir / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in official["resources"]] == list(OFFICIAL)
    for resource in official["resources"]:
        theirs = resource["schema"]
        expected = {
            "fields": [
                {k: v for k, v in f.items() if k in {"name", "type", "format", "constraints"}}
                for f in theirs["fields"]
            ],
            "primaryKey": theirs["primaryKey"],
            **({"foreignKeys": theirs["foreignKeys"]} if theirs.get("foreignKeys") else {}),
        }
        assert table_schema(resource["name"]) == expected, resource["name"]
        assert TABLES[resource["name"]][0] == resource["path"]


def test_the_tabular_rows_validate_and_their_links_hold(exported, schemas):
    directory = exported / "tabular"
    package = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["path"] for r in package["resources"]} == {path for path, _cols in TABLES.values()}
    rows = {}
    for entity, (path, columns) in TABLES.items():
        with (directory / path).open(encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames == columns
            rows[entity] = list(reader)
        schema = schemas.entity_schema(entity)
        validator = _tabular_validator(schemas, entity)
        for i, row in enumerate(rows[entity]):
            item = typed(row, schema["properties"], schema.get("required", []))
            assert errors_of(validator, item, f"{path}[{i}]") == []
            for column in schema.get("tabular_required", []):
                assert item.get(column), (path, i, column)
    ids = {entity: {r["id"] for r in found} for entity, found in rows.items()}
    assert rows["service"] and rows["address"] and rows["schedule"]
    assert {r["organization_id"] for r in rows["service"]} <= ids["organization"]
    assert {r["service_id"] for r in rows["service_at_location"]} <= ids["service"]
    assert {r["location_id"] for r in rows["service_at_location"]} <= ids["location"]
    assert {r["link_id"] for r in rows["attribute"]} <= ids["service"]
    assert {r["taxonomy_term_id"] for r in rows["attribute"]} <= ids["taxonomy_term"]
    assert {r["unit_id"] for r in rows["service_capacity"]} <= ids["unit"]


def _tabular_validator(schemas, entity):
    """The entity schema as a table row: nested objects (e.g. service_capacity's unit) are
    replaced by their ``*_id`` column, so they are not required in the row."""
    from jsonschema import Draft202012Validator, FormatChecker

    schema = dict(schemas.entity_schema(entity))
    nested = {k for k, v in schema["properties"].items() if "$ref" in v}
    schema["required"] = [r for r in schema.get("required", []) if r not in nested]
    return Draft202012Validator(schema, registry=schemas.registry, format_checker=FormatChecker())


def test_confidential_and_professional_locations_and_phones_never_appear(exported, network):
    for path in exported.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for secret in SECRETS:
                assert secret not in text, (path.name, secret)
    services = {s["name"]: s for s in _load(exported, "services")}
    assert "Unlisted house" not in services
    assert "service_at_locations" not in services["Pro house"]
    assert services["Pro house"]["service_areas"][0]["name"] == "Moscow"
    sal_services = {s["service"]["name"] for s in _load(exported, "service_at_locations")}
    assert "Pro house" not in sal_services


def test_a_confidential_shelter_is_never_named(network, orgs, tmp_path):
    """Issue 14 (L5): the help pages say only "a confidential shelter in this region"; the feed
    leaves it out whole: its name, its region, its free beds, and an organisation that has
    nothing else public."""
    from refuge.core.services import organisation_create

    alone = organisation_create(
        by=None, slug="safe-house", name="Safe House Ryazan", kind="shelter"
    )
    make_facility(
        alone,
        "Safe house for trafficking victims, Ryazan",
        kind="trafficking_safe_house",
        region="RU-RYA",
    )
    write_export(tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for name in ("Hidden house", "victims, Ryazan", "Safe House Ryazan"):
                assert name not in text, (path.name, name)
            assert str(network["hidden"].hsds_id) not in text


def test_house_rules_travel_as_attributes_under_the_refuge_taxonomy(exported, network):
    services = {s["name"]: s for s in _load(exported, "services")}
    attributes = {
        a["taxonomy_term"]["code"]: a["value"] for a in services["Open shelter"]["attributes"]
    }
    assert {a["taxonomy_term"]["taxonomy"] for a in services["Open shelter"]["attributes"]} == {
        TAXONOMY_NAME
    }
    assert attributes["rule.boys_max_age"] == "14"
    assert attributes["rule.pets_accepted"] == "false"
    assert attributes["rule.max_stay_days"] == "30"
    assert attributes["facility_kind.crisis_centre_shelter"] == "crisis_centre_shelter"
    assert attributes["service.psychologist"] == ""
    assert attributes["location.region"] == "RU-TUL"
    assert "rule.substance_use_accepted" not in attributes  # not stated: not exported
    doc = services["Open shelter"]
    assert doc["minimum_age"] == 18
    assert [d["document"] for d in doc["required_documents"]] == ["Passport"]
    assert {lang["code"] for lang in doc["languages"]} == {"ru", "en"}
    assert doc["service_at_locations"][0]["location"]["latitude"] == 54.19


def test_capacity_uses_the_service_capacity_shape_only_where_published(exported, network):
    services = {s["name"]: s for s in _load(exported, "services")}
    (capacity,) = services["Open shelter"]["capacities"]
    assert capacity["unit"]["identifier"] == "bed"
    assert (capacity["available"], capacity["maximum"]) == (6, 7)
    assert capacity["updated"].endswith("Z")
    # The confidential house chose to publish its free beds too, but it is not in the feed.
    assert "Hidden house" not in services
    others = set(services) - {"Open shelter"}
    assert all("capacities" not in services[name] for name in others)


def test_the_export_command_validates_and_is_audited(network, tmp_path, hsds_dir):
    call_command("export_hsds", str(tmp_path), "--validate", "--schemas", str(hsds_dir))
    assert AuditEvent.objects.filter(action="hsds.export").count() == 1


def test_the_export_command_reports_a_table_the_official_datapackage_refuses(
    network, tmp_path, hsds_dir, monkeypatch
):
    monkeypatch.setattr("refuge.directory.hsds.export.END_OF_DAY", "24:00")
    with pytest.raises(CommandError, match=r"tabular schedule row 4 closes_at: .*time"):
        call_command("export_hsds", str(tmp_path), "--validate", "--schemas", str(hsds_dir))


# --- import ---------------------------------------------------------------------------------


def test_the_official_examples_import_cleanly_and_idempotently(db, schemas, hsds_dir):
    report = import_hsds(hsds_dir / "examples", schemas=schemas)
    assert report.facilities_created == 1 and report.organisations_created == 1
    facility = Facility.objects.get(hsds_id="ac148810-d857-441c-9679-408f346de14b")
    assert facility.name == "Community Counselling" and facility.kind == "other"
    assert facility.organisation.name == "Example Organization Inc."
    assert facility.latitude is None  # the example's 100, 101 is not a place on Earth
    assert any("not a place on Earth" in w for w in report.warnings)
    assert facility.rules.min_age == 12 and facility.rules.staff_languages == ["ur"]
    assert facility.services.filter(kind="interpretation").exists()
    assert list(facility.phones.values_list("number", flat=True)) == ["+441234234567"]
    assert facility.address == "1-30 Main Street, MyVillage" and facility.locality == "MyCity"
    events = AuditEvent.objects.count()
    again = import_hsds(hsds_dir / "examples", schemas=schemas)
    assert (again.facilities_created, again.facilities_updated, again.facilities_unchanged) == (
        0,
        0,
        1,
    )
    assert AuditEvent.objects.count() == events + 1  # only the import itself is recorded
    assert Facility.objects.count() == 1 and Phone.objects.count() == 1


def test_the_official_tabular_examples_import_idempotently(db, schemas, hsds_dir):
    """The CSV package of the specification's examples, as the JSON ones: the same facility,
    and nothing changes the second time."""
    report = import_hsds(hsds_dir / "examples" / "csv", schemas=schemas)
    assert (report.organisations_created, report.facilities_created) == (1, 1)
    facility = Facility.objects.get(hsds_id="ac148810-d857-441c-9679-408f346de14b")
    assert facility.name == "Community Counselling"
    assert facility.organisation.name == "Example Organization Inc."
    assert facility.address == "1-30 Main Street, MyVillage" and facility.locality == "MyCity"
    assert facility.rules.min_age == 12 and facility.rules.staff_languages == ["ur"]
    assert list(facility.phones.values_list("number", flat=True)) == ["+441234234567"]
    assert facility.opening_hours == dumps([Window((3, 4), 600, 1080)])
    events = AuditEvent.objects.count()
    for _ in range(2):
        again = import_hsds(hsds_dir / "examples" / "csv", schemas=schemas)
        assert (again.facilities_created, again.facilities_updated) == (0, 0)
        assert again.facilities_unchanged == 1
    assert AuditEvent.objects.count() == events + 2  # only the imports themselves
    assert Facility.objects.count() == 1 and Phone.objects.count() == 1
    # And the JSON examples describe the same service: importing them changes nothing.
    json_report = import_hsds(hsds_dir / "examples" / "service_full.json", schemas=schemas)
    assert json_report.facilities_created == 0


@pytest.mark.parametrize(
    "name",
    [
        "service_full.json",
        "service_list.json",
        "organization_full.json",
        "organization_list.json",
        "service_at_location_full.json",
        "service_at_location_list.json",
        "tabular.json",
        "csv",
        "csv/datapackage.json",
        "base.json",
        "location.json",
        "taxonomy.json",
        "taxonomy_term_list.json",
    ],
)
def test_each_official_example_imports_alone(db, schemas, hsds_dir, name):
    import_hsds(hsds_dir / "examples" / name, schemas=schemas)
    assert Facility.objects.count() <= 1


def _broken(hsds_dir, tmp_path):
    good = json.loads((hsds_dir / "examples" / "organization_list.json").read_text())
    service = json.loads((hsds_dir / "examples" / "service_full.json").read_text())
    service["status"] = "open"
    service["phones"][0].pop("number")
    service["service_at_locations"][0]["location"]["id"] = "not-a-uuid"
    (tmp_path / "a_good.json").write_text(json.dumps(good))
    (tmp_path / "b_broken.json").write_text(json.dumps(service))
    return tmp_path


def test_a_file_failing_the_schema_is_rejected_with_json_paths_and_nothing_is_imported(
    db, schemas, hsds_dir, tmp_path
):
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ImportRejected) as exc:
        import_hsds(_broken(hsds_dir, tmp_path), schemas=schemas)
    text = "\n".join(exc.value.errors)
    assert "b_broken.json $.status: 'open' is not one of" in text
    assert "b_broken.json $.phones[0]: 'number' is a required property" in text
    assert (
        "b_broken.json $.service_at_locations[0].location.id: 'not-a-uuid' is not a 'uuid'" in text
    )
    assert "a_good.json" not in text
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before
    assert not Facility.objects.exists()


def test_the_import_command_reports_each_error_and_imports_nothing(db, hsds_dir, tmp_path):
    with pytest.raises(CommandError, match=r"Nothing was imported: 3 problem\(s\)"):
        call_command("import_hsds", str(_broken(hsds_dir, tmp_path)), "--schemas", str(hsds_dir))
    assert not Facility.objects.exists()


def test_a_bad_csv_row_is_rejected_with_its_file_and_row(db, schemas, hsds_dir, tmp_path):
    shutil.copytree(hsds_dir / "examples" / "csv", tmp_path / "csv")
    path = tmp_path / "csv" / "locations.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",physical,", ",floating,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        import_hsds(tmp_path / "csv", schemas=schemas)
    assert exc.value.errors == [
        "csv locations.csv row 2: $.location_type: 'floating' is not one of "
        "['physical', 'postal', 'virtual']"
    ]
    assert not Facility.objects.exists()


def test_invalid_json_and_unknown_documents_are_rejected(db, schemas, tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    (tmp_path / "y.json").write_text(json.dumps({"colour": "blue"}))
    with pytest.raises(ImportRejected) as exc:
        import_hsds(tmp_path, schemas=schemas)
    assert any("x.json: not readable JSON" in e for e in exc.value.errors)
    assert any("y.json $: not an HSDS" in e for e in exc.value.errors)


def test_a_service_of_an_unknown_organization_is_rejected(db, schemas, hsds_dir, tmp_path):
    service = json.loads((hsds_dir / "examples" / "service_full.json").read_text())
    service.pop("organization")
    service["organization_id"] = "d9d5e0f5-0000-4f73-9a2f-4dd0ecc6c610"
    (tmp_path / "s.json").write_text(json.dumps(service))
    with pytest.raises(ImportRejected, match="1 problem"):
        import_hsds(tmp_path, schemas=schemas)


def test_our_own_export_round_trips(network, schemas, tmp_path):
    write_export(tmp_path)
    open_shelter = network["public"]
    rules_before = HouseRules.objects.filter(facility=open_shelter).values().get()
    Facility.objects.filter(pk=open_shelter.pk).delete()
    report = import_hsds(tmp_path / "services.json", schemas=schemas)
    assert report.facilities_created == 1
    back = Facility.objects.get(hsds_id=open_shelter.hsds_id)
    assert back.organisation == open_shelter.organisation
    assert (back.kind, back.region_id, back.address, back.locality) == (
        "crisis_centre_shelter",
        "RU-TUL",
        "Lenina 1",
        "Tula",
    )
    rules_after = HouseRules.objects.filter(facility=back).values().get()
    for key in ("facility_id", "updated_at", "cost_note", "notes"):
        rules_before.pop(key)
        rules_after.pop(key)
    assert rules_after == rules_before
    assert sorted(back.services.values_list("kind", flat=True)) == [
        "interpretation",
        "psychologist",
    ]
    assert back.opening_hours == dumps(HOURS)
    # And the tabular form carries the same.
    again = import_hsds(tmp_path / "tabular", schemas=schemas)
    assert again.facilities_created == 0 and again.facilities_updated == 0


def test_opening_hours_are_weekly_schedules_in_local_time(exported, network, schemas):
    service = next(
        s for s in _load(exported, "services") if s["id"] == str(network["public"].hsds_id)
    )
    schedules = sorted(service["schedules"], key=lambda s: s["byday"])
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in schedules] == [
        ("MO,TU,WE,TH,FR", "09:00:00", "18:00:00"),
        ("SA", "10:00:00", "14:00:00"),
        ("SU", "18:00:00", "23:59:59"),  # until midnight, as HSDS says it
    ]
    for schedule in schedules:
        assert (schedule["freq"], schedule["wkst"], schedule["timezone"]) == ("WEEKLY", "MO", 3)
        assert schedule["service_id"] == service["id"]
        assert errors_of(schemas.entity("schedule"), schedule) == []
    # A facility without hours has no schedules (not an empty promise).
    others = [s for s in _load(exported, "services") if s["id"] != service["id"]]
    assert others and not any("schedules" in s for s in others)
    rows = list(csv.DictReader((exported / "tabular" / "schedules.csv").open(encoding="utf-8")))
    assert len(rows) == 3 and {r["service_id"] for r in rows} == {service["id"]}
    # The tabular form carries the same values as the JSON one.
    by_id = {s["id"]: s for s in schedules}
    for row in rows:
        assert (row["opens_at"], row["closes_at"]) == (
            by_id[row["id"]]["opens_at"],
            by_id[row["id"]]["closes_at"],
        )


def test_the_tabular_package_round_trips_the_hours(network, schemas, tmp_path):
    write_export(tmp_path)
    Facility.objects.filter(pk=network["public"].pk).delete()
    report = import_hsds(tmp_path / "tabular", schemas=schemas)
    assert report.facilities_created == 1
    back = Facility.objects.get(hsds_id=network["public"].hsds_id)
    assert back.opening_hours == dumps(HOURS)


def test_imported_schedules_that_are_not_weekly_hours_are_left_out_with_a_warning(
    db, schemas, tmp_path
):
    from refuge.directory.hsds.importer import ImportReport, _hours

    report = ImportReport()
    schedules = [
        {
            "id": "a",
            "freq": "WEEKLY",
            "byday": "MO,TU",
            "opens_at": "09:00:00",
            "closes_at": "17:00Z",
        },
        {"id": "b", "freq": "MONTHLY", "byday": "2MO", "opens_at": "10:00", "closes_at": "12:00"},
        {"id": "c", "byday": "WE", "description": "Mornings"},
    ]
    assert _hours(schedules, report, "Centre") == dumps([Window((0, 1), 540, 1020)])
    assert len(report.warnings) == 2
    overlapping = [
        {"id": "a", "byday": "MO", "opens_at": "09:00", "closes_at": "17:00"},
        {"id": "b", "byday": "MO", "opens_at": "16:00", "closes_at": "18:00"},
    ]
    assert _hours(overlapping, ImportReport(), "Centre") == []
