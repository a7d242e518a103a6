from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HSDS_DIR = REPO.parent / "shared" / "hsds-3.0"


@pytest.fixture(scope="session")
def hsds_dir() -> Path:
    if not (HSDS_DIR / "schema" / "compiled" / "service.json").exists():
        pytest.skip(
            f"The official HSDS 3.0 schemas are not at {HSDS_DIR} (../shared/hsds-3.0 from the "
            "repository root); the HSDS validation tests need them."
        )
    return HSDS_DIR


@pytest.fixture(scope="session")
def schemas(hsds_dir):
    from refuge.directory.hsds.schema import load_schemas

    return load_schemas(hsds_dir)


@pytest.fixture(autouse=True)
def _regions(db):
    """Regions come from a data migration; a transactional test elsewhere in the same worker
    flushes them, so put them back when they are gone (one query when they are there)."""
    from tests.directory.factories import ensure_regions

    ensure_regions()
