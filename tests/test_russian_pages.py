"""The Russian staff interface shows no English UI string (issue 16 item 5).

Every page of the authorization matrix that a role may open is fetched in Russian, and its
visible text is searched for the English of every string the catalogues translate. This finds
what the catalogue checks cannot: a string translated at import time (gettext instead of
gettext_lazy), a text passed around untranslated, a template that forgot the i18n tag.
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po
from django.test import Client as HttpClient
from django.urls import reverse

from refuge.core.roles import Role
from tests.conftest import sign_in
from tests.test_authorization_matrix import CASES
from tests.test_translations import CATALOGUES


def _english() -> set[str]:
    """The English of every translated UI string long enough not to be a word of data."""
    found = set()
    for po in CATALOGUES:
        for m in read_po(po.open("rb")):
            if not isinstance(m.id, str) or m.string == m.id or re.search(r"[%<{]", m.id):
                continue
            if len(m.id.split()) >= 2:
                found.add(m.id)
    return found


ENGLISH = _english()

PAGES = sorted(
    name
    for name, case in CASES.items()
    if case.method == "get"
    and case.ok == 200
    and case.allowed
    and not case.headers
    and not name.startswith("help:")  # public pages: tests/help/test_public_pages.py
)


def _visible_text(body: str) -> str:
    body = re.sub(r"<(script|style|template)\b.*?</\1>", " ", body, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_there_are_pages_and_strings_to_look_for():
    assert len(PAGES) > 50 and len(ENGLISH) > 500


@pytest.mark.parametrize("name", PAGES)
def test_the_page_in_russian_has_no_english(name, personas, orgs):
    case = CASES[name]
    role = next(r for r in Role if r in case.allowed)
    client = sign_in(HttpClient(), personas[f"{role.value}_a"].user)
    client.cookies["django_language"] = "ru"
    kwargs = case.setup(SimpleNamespace(personas=personas, orgs=orgs)) if case.setup else {}
    response = client.get(case.path or reverse(name, kwargs=kwargs), data=case.data)
    assert response.status_code == 200
    if not response["Content-Type"].startswith("text/html"):
        return
    text = _visible_text(response.content.decode())
    # The cookie took: a page with text (htmx fragments can be empty) is in Russian.
    assert not text or re.search("[а-яё]", text), f"{name} is not in Russian"
    shown = sorted(s for s in ENGLISH if s in text)
    assert not shown, f"{name} as {role.value} shows English: {shown}"
