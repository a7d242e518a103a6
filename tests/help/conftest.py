import pytest

from tests.help.factories import bishkek_directory, ensure_regions


@pytest.fixture
def regions(db):
    ensure_regions()


@pytest.fixture
def bishkek(regions):
    return bishkek_directory()
