"""Help texts: the format, the shipped wording in every language, edits and their audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from refuge.core.models import AuditEvent
from refuge.core.services import ServiceError
from refuge.help import markup
from refuge.help.conf import PUBLIC_LANGUAGES
from refuge.help.models import HelpText
from refuge.help.services import current_texts, help_text_reset, help_text_save
from refuge.help.texts import BLOCKS, all_shipped, shipped
from tests.help.pages import parse


def test_the_format_makes_headings_lists_and_paragraphs():
    html = markup.render("## Heading\nfirst line\nsecond line\n\n- one\n- two **bold**\n\nlast")
    assert html == (
        "<h2>Heading</h2>\n<p>first line second line</p>\n"
        "<ul><li>one</li><li>two <strong>bold</strong></li></ul>\n<p>last</p>"
    )


def test_the_format_lets_no_html_through():
    html = markup.render('<script>alert(1)</script>\n- <img src=x onerror="y">\n## <b>x</b>')
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_every_block_is_shipped_in_every_language_and_translated():
    texts = all_shipped()
    for lang in PUBLIC_LANGUAGES:
        assert set(texts[lang]) == {b.key for b in BLOCKS}, lang
        for key, (title, body) in texts[lang].items():
            assert title.strip() and body.strip(), (lang, key)
            assert markup.render(body)
            if lang != "en":
                en_title, en_body = texts["en"][key]
                assert title != en_title and body != en_body, (lang, key)


def test_every_translation_keeps_the_structure_of_the_english_text():
    """Same headings and the same number of list items: nothing left out in translation."""
    texts = all_shipped()
    for key, (_title, en_body) in texts["en"].items():
        en_shape = [line[:2] for line in en_body.splitlines() if line.startswith(("## ", "- "))]
        for lang in PUBLIC_LANGUAGES:
            body = texts[lang][key][1]
            shape = [line[:2] for line in body.splitlines() if line.startswith(("## ", "- "))]
            assert shape == en_shape, (lang, key)


def test_an_edit_replaces_the_shipped_text_and_is_audited(personas, regions):
    by = personas["coordinator_a"].principal
    help_text_save(
        by=by, key="leaflet_rights", language="uk", title="Нова назва", body="- Пункт один"
    )
    shown = current_texts(["leaflet_rights"], "uk")["leaflet_rights"]
    assert shown.edited and shown.title == "Нова назва" and shown.updated_by == by.name
    page = parse(Client().get("/help/uk/leaflets/rights/").content)
    assert "Нова назва" in page.visible_text and "Пункт один" in page.visible_text
    # Other languages keep their own text.
    assert (
        current_texts(["leaflet_rights"], "ru")["leaflet_rights"].title
        == shipped("leaflet_rights", "ru")[0]
    )
    event = AuditEvent.objects.filter(action="help.text_edit").latest("seq")
    assert event.target_id == "leaflet_rights/uk" and event.actor == by.name
    assert event.details["language"] == "uk" and event.details["before"] is None

    help_text_reset(by=by, key="leaflet_rights", language="uk")
    assert not HelpText.objects.exists()
    assert AuditEvent.objects.filter(
        action="help.text_reset", target_id="leaflet_rights/uk"
    ).exists()
    page = parse(Client().get("/help/uk/leaflets/rights/").content)
    assert shipped("leaflet_rights", "uk")[0] in page.visible_text


def test_saving_the_shipped_wording_is_a_reset(personas):
    by = personas["admin_a"].principal
    help_text_save(by=by, key="safety_note", language="cs", title="Jinak", body="Jiný text.")
    title, body = shipped("safety_note", "cs")
    help_text_save(by=by, key="safety_note", language="cs", title=title, body=body)
    assert not HelpText.objects.exists()


def test_saving_the_same_text_twice_writes_one_event(personas):
    by = personas["coordinator_a"].principal
    for _ in range(2):
        help_text_save(by=by, key="home_intro", language="ky", title="Аталыш", body="Текст.")
    assert AuditEvent.objects.filter(action="help.text_edit").count() == 1


def test_the_editor_is_told_when_the_shipped_text_changed(personas):
    by = personas["coordinator_a"].principal
    help_text_save(by=by, key="home_intro", language="ru", title="Свой", body="Свой текст.")
    assert not current_texts(["home_intro"], "ru")["home_intro"].shipped_changed
    HelpText.objects.update(shipped_hash="0" * 64)  # as after a release with new wording
    assert current_texts(["home_intro"], "ru")["home_intro"].shipped_changed


@pytest.mark.parametrize(
    "role", ["caseworker_a", "operator_a", "manager_a", "partner_a", "analyst_a"]
)
def test_only_coordinators_and_admins_edit(personas, role):
    with pytest.raises(PermissionDenied):
        help_text_save(
            by=personas[role].principal, key="home_intro", language="en", title="x", body="y"
        )
    assert not HelpText.objects.exists()


@pytest.mark.parametrize(
    ("key", "language", "title", "body"),
    [
        ("no_such_block", "en", "t", "b"),
        ("home_intro", "de", "t", "b"),
        ("home_intro", "en", "  ", "b"),
        ("home_intro", "en", "t", "   "),
        ("home_intro", "en", "t", "x" * 20_001),
    ],
)
def test_bad_edits_are_refused(personas, key, language, title, body):
    with pytest.raises(ServiceError):
        help_text_save(
            by=personas["coordinator_a"].principal,
            key=key,
            language=language,
            title=title,
            body=body,
        )
    assert not HelpText.objects.exists()
