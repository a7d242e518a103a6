"""The risk engine's refusals in the reader's language (the engine itself knows no Django)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from .engine import AnswerError


def answer_refusal(exc: AnswerError) -> str:
    if exc.reason == "lowers_level":
        return _("Professional judgement can raise the level, never lower it.")
    if exc.reason == "unknown_item":
        return _("%(item)s is not a question of this form.") % {"item": exc.item}
    return _("%(item)s: %(value)r is not an allowed answer.") % {
        "item": exc.item,
        "value": exc.value,
    }


def unknown_instrument(instrument_id: str, version: int) -> str:
    return _("There is no risk assessment form %(instrument)s, version %(version)s.") % {
        "instrument": instrument_id,
        "version": version,
    }
