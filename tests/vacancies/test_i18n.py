"""The staff UI of the directory and the board in Russian: every string translated."""

import json
from pathlib import Path

import pytest

from tests.directory.factories import make_facility

APPS = Path(__file__).resolve().parents[2] / "src" / "refuge"


def _entries(text: str):
    """(msgid, [msgstr...]) of a .po file, continuation lines joined."""
    out = []
    for block in text.strip().split("\n\n")[1:]:
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            if line.startswith(("msgid", "msgstr")):
                key, _sp, value = line.partition(" ")
                fields[key] = json.loads(value)
            elif line.startswith('"') and key:
                fields[key] += json.loads(line)
        out.append((fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")]))
    return out


@pytest.mark.parametrize("app", ["directory", "vacancies"])
def test_every_message_has_a_russian_translation(app):
    text = (APPS / app / "locale" / "ru" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = _entries(text)
    assert len(entries) > 100
    untranslated = [msgid for msgid, strs in entries if not strs or not all(strs)]
    assert untranslated == []


def test_the_board_speaks_russian(orgs, as_persona):
    make_facility(
        orgs["a"],
        "Дом у реки",
        rules={"boys_max_age": 12, "children_accepted": True},
        rooms=[("family", 4)],
        free=[4],
    )
    client = as_persona("operator_a")
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    html = client.get("/vacancies/?boys=15").content.decode()
    assert "<h1>Места</h1>" in html and "Мальчики только до 12 лет" in html
    assert "Не может принять" in html and "Возраст сыновей" in html
    html = client.get("/vacancies/?region=RU-MOW").content.decode()
    assert "Москва" in html and "4 места свободно" in html
