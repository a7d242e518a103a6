"""Every staff-UI string has a Russian translation: no empty and no fuzzy entries."""

import re
import subprocess
from pathlib import Path

import pytest

import refuge

CATALOGUES = sorted(Path(refuge.__file__).parent.rglob("locale/ru/LC_MESSAGES/django.po"))


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 3


@pytest.mark.parametrize(
    "po", CATALOGUES, ids=lambda p: str(p.relative_to(Path(refuge.__file__).parent))
)
def test_every_string_is_translated(po):
    out = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    stats = out.stderr.strip().splitlines()[-1]
    assert not re.search(r"(fuzzy|untranslated)", stats), f"{po}: {stats}"
