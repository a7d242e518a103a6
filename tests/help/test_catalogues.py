"""The help app's catalogues: complete in every public language, and compiled."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import pgettext

import refuge.help

LOCALE = Path(refuge.help.__file__).parent / "locale"


@pytest.mark.parametrize("lang", ["ru", "ky", "uk", "cs"])
def test_the_catalogue_is_complete(lang):
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    out = subprocess.run(
        ["msgfmt", "--check-format", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    stats = out.stderr.strip().splitlines()[-1]
    assert not re.search(r"(fuzzy|untranslated)", stats), f"{po}: {stats}"
    assert "#, fuzzy" not in po.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", "Уйти с сайта"),
        ("ky", "Сайттан чыгуу"),
        ("uk", "Піти з сайту"),
        ("cs", "Opustit stránku"),
    ],
)
def test_the_catalogue_is_compiled_and_wins_for_its_words(lang, expected):
    with translation.override(lang):
        assert pgettext("public help", "Leave this site") == expected
