"""``{% load offers %}``: a peer's referral offer in words. An offer carries codes (needs,
documents, languages, regions, a risk band); a person reads their names, never the codes."""

from __future__ import annotations

from collections.abc import Iterable

from django import template

from refuge.cases.models import Document, Need
from refuge.directory.pickers import language_label

register = template.Library()


def _named(codes: Iterable[str] | None, labels: dict[str, str]) -> str:
    # A code this instance does not know (a newer peer's) is shown as it came, not dropped.
    return ", ".join(str(labels.get(c, c)) for c in codes or [] if c)


@register.filter
def need_names(codes: Iterable[str] | None) -> str:
    return _named(codes, dict(Need.choices))


@register.filter
def document_names(codes: Iterable[str] | None) -> str:
    return _named(codes, dict(Document.choices))


@register.filter
def language_names(codes: Iterable[str] | None) -> str:
    return ", ".join(language_label(c) for c in codes or [] if c)
