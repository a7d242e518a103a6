"""Changes to the help texts: every one goes through here and is audited in its transaction."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.roles import can_edit_help_pages
from refuge.core.services import ServiceError

from . import markup
from .conf import PUBLIC_LANGUAGES
from .models import HelpText
from .texts import block, shipped, shipped_hash

MAX_TITLE = 200
MAX_BODY = 20_000


@dataclass(frozen=True)
class CurrentText:
    key: str
    language: str
    title: str
    body: str
    edited: bool
    updated_at: datetime | None = None
    updated_by: str = ""
    shipped_changed: bool = False

    @property
    def html(self):
        return markup.render(self.body)


def _check_block(key: str, language: str) -> None:
    if block(key) is None or language not in PUBLIC_LANGUAGES:
        raise ServiceError(_("There is no such help text."), "not_found")


def current_texts(keys: list[str] | tuple[str, ...], language: str) -> dict[str, CurrentText]:
    """The texts a page shows, edits first, in one query."""
    edits = {t.key: t for t in HelpText.objects.filter(language=language, key__in=list(keys))}
    out = {}
    for key in keys:
        edit = edits.get(key)
        if edit is not None:
            out[key] = CurrentText(
                key=key,
                language=language,
                title=edit.title,
                body=edit.body,
                edited=True,
                updated_at=edit.updated_at,
                updated_by=edit.updated_by,
                shipped_changed=edit.shipped_hash != shipped_hash(key, language),
            )
        else:
            title, body = shipped(key, language)
            out[key] = CurrentText(key=key, language=language, title=title, body=body, edited=False)
    return out


def _fingerprint(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


def help_text_save(*, by: Principal, key: str, language: str, title: str, body: str) -> HelpText:
    """Replace the text of one block in one language. Saving the shipped wording unchanged
    is the same as a reset: the block then follows future releases again."""
    require(by, can_edit_help_pages)
    _check_block(key, language)
    title = title.strip()
    body = body.replace("\r\n", "\n").strip()
    if not title or not body:
        raise ServiceError(_("A help text needs a title and a text."), "invalid")
    if len(title) > MAX_TITLE or len(body) > MAX_BODY:
        raise ServiceError(_("This help text is too long."), "invalid")
    with transaction.atomic():
        existing = HelpText.objects.select_for_update().filter(key=key, language=language).first()
        before = _fingerprint(existing.title, existing.body) if existing else None
        if (title, body) == shipped(key, language):
            if existing is not None:
                existing.delete()
                _record(by, key, language, "help.text_reset", before=before)
            return HelpText(key=key, language=language, title=title, body=body)
        after = _fingerprint(title, body)
        if existing is not None and before == after:
            return existing
        text, _created = HelpText.objects.update_or_create(
            key=key,
            language=language,
            defaults={
                "title": title,
                "body": body,
                "shipped_hash": shipped_hash(key, language),
                "updated_by": by.name,
            },
        )
        _record(by, key, language, "help.text_edit", before=before, after=after, chars=len(body))
    return text


def help_text_reset(*, by: Principal, key: str, language: str) -> None:
    """Go back to the shipped text of the block in this language."""
    require(by, can_edit_help_pages)
    _check_block(key, language)
    with transaction.atomic():
        existing = HelpText.objects.select_for_update().filter(key=key, language=language).first()
        if existing is None:
            return
        before = _fingerprint(existing.title, existing.body)
        existing.delete()
        _record(by, key, language, "help.text_reset", before=before)


def _record(by: Principal, key: str, language: str, action: str, **details) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="help.helptext",
        target_id=f"{key}/{language}",
        details={"key": key, "language": language, **details},
    )
