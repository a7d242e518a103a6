from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HSDS_DIR = REPO.parent / "shared" / "hsds-3.0"


@pytest.fixture(scope="session")
def hsds_dir() -> Path:
    """The official HSDS 3.0 files where the commands look for them (REFUGE_HSDS_DIR, else
    ../shared/hsds-3.0 from the repository root), read in place."""
    from refuge.directory.hsds.schema import SchemasNotFound, find_hsds_dir

    try:
        return find_hsds_dir()
    except SchemasNotFound:
        pytest.skip(
            f"The official HSDS 3.0 schemas are not at {HSDS_DIR} (../shared/hsds-3.0 from the "
            "repository root) nor in REFUGE_HSDS_DIR; the HSDS validation tests need them."
        )


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
