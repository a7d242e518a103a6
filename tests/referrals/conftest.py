import pytest

from refuge.cases.services import client_create
from refuge.vacancies.services import availability_settings_update
from tests.directory.factories import make_facility


def system(facility):
    availability_settings_update(by=None, facility=facility, source="system", ttl_hours=24)
    return facility


@pytest.fixture
def network(orgs):
    """Org b runs two shelters in Vladimir and Yaroslavl (system availability); org a refers."""
    return {
        "vla": system(
            make_facility(
                orgs["b"], "Vladimir refuge", region="RU-VLA", rooms=[("family", 4), ("dorm", 2)]
            )
        ),
        "yar": system(
            make_facility(orgs["b"], "Yaroslavl refuge", region="RU-YAR", rooms=[("family", 3)])
        ),
        "mow": system(
            make_facility(orgs["b"], "Moscow refuge", region="RU-MOW", rooms=[("dorm", 3)])
        ),
    }


@pytest.fixture
def client_a(personas):
    return client_create(by=personas["operator_a"].principal, name="Olga")


FAMILY = {
    "woman_age": 34,
    "children": [{"age": 9, "sex": "male"}, {"age": 5, "sex": "female"}],
    "home_region": "RU-MOW",
    "avoid_regions": ["RU-MOW"],
    "min_distance_km": 50,
}
