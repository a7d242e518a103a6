"""The help text blocks and their shipped wording in every public language.

Each language has its own module (en.py, ru.py, ...) with ``TEXTS = {key: (title, body)}``;
the body uses the small format of refuge.help.markup. A coordinator's edit (models.HelpText)
replaces a block in one language until it is reset.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import import_module

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from refuge.help.conf import PUBLIC_LANGUAGES


@dataclass(frozen=True)
class Block:
    key: str
    label: Promise
    leaflet: str = ""  # the URL slug when the block is a printable leaflet


BLOCKS: tuple[Block, ...] = (
    Block("safety_note", _("Safety note (top of every page)")),
    Block("home_intro", _("Introduction on the start page")),
    Block("safety", _("Page: staying safe online")),
    Block("leaflet_emergency", _("Leaflet: what to do in an emergency"), leaflet="emergency"),
    Block("leaflet_rights", _("Leaflet: rights whatever the residence status"), leaflet="rights"),
    Block(
        "leaflet_counselling",
        _("Leaflet: where to get legal and social counselling"),
        leaflet="counselling",
    ),
)
BLOCK_KEYS = tuple(b.key for b in BLOCKS)
LEAFLETS = tuple(b for b in BLOCKS if b.leaflet)


def block(key: str) -> Block | None:
    return next((b for b in BLOCKS if b.key == key), None)


def leaflet_block(slug: str) -> Block | None:
    return next((b for b in LEAFLETS if b.leaflet == slug), None)


def shipped(key: str, lang: str) -> tuple[str, str]:
    """The shipped (title, body) of a block in a language."""
    module = import_module(f"refuge.help.texts.{lang}")
    return module.TEXTS[key]


def shipped_hash(key: str, lang: str) -> str:
    title, body = shipped(key, lang)
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


def all_shipped() -> dict[str, dict[str, tuple[str, str]]]:
    return {lang: import_module(f"refuge.help.texts.{lang}").TEXTS for lang in PUBLIC_LANGUAGES}
