from tests.directory.conftest import _regions  # noqa: F401 (autouse: regions present)
