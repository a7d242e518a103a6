"""The board's rows in HTML, written in Python rather than through a template per row.

Fifty rows through ``{% include %}`` (a row, its reasons, a dozen translations and URLs each)
cost the board filtered to one region more than its SQL several times over (issue 15: the board
within 5× its raw SQL). The HTML is what the row template wrote (tests/vacancies/row.html keeps
it, and a test compares the two): every value escaped as the template's ``{{ }}`` escapes it,
``{% translate %}`` escaped, a ``{% blocktranslate %}`` message not escaped but its values; only
the amount of whitespace between tags differs. The words that do not depend on the row are
looked up once per page (`RowWriter`), those that count something once per count.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape as escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refuge.directory.models import FacilityKind, Faith

from .board import BoardRow
from .templatetags.vacancies import figure_age, figure_parts, light_label

_ID = uuid.UUID(int=0)  # a facility's URL is reversed once, then its id put in


def _number(n: int) -> str:
    """A number as a template shows it (localized: a thousands separator where one is used)."""
    return str(n) if -1000 < n < 1000 else str(localize(n))


def _url(name: str) -> tuple[str, str]:
    before, _sep, after = reverse(name, args=[_ID]).partition(str(_ID))
    return escape(before), escape(after)


def reasons_html(reasons: list[str], more_words=None) -> str:
    """vacancies/_reasons.html: the first two reasons, the others folded away."""
    if not reasons:
        return ""
    first = "".join(f"<li>{escape(r)}</li>" for r in reasons[:2])
    if len(reasons) <= 2:
        return f'<ul class="reasons">{first}</ul>'
    more = reasons[2:]
    n = len(more)
    summary = more_words(n) if more_words else _COUNTED["more"](n) % {"n": _number(n)}
    rest = "".join(f"<li>{escape(r)}</li>" for r in more)
    return (
        f'<ul class="reasons">{first}</ul><details class="more-reasons"><summary>{summary}'
        f'</summary><ul class="reasons">{rest}</ul></details>'
    )


class RowWriter:
    """Writes board rows for one page: one language, one moment, one query string."""

    def __init__(self, *, at: datetime, querystring: str, csrf_token: str = "") -> None:
        self.at = at
        self.detail = _url("directory:detail")
        self.confirm = _url("vacancies:confirm")
        self.facility = _url("vacancies:facility")
        board = reverse("vacancies:board")
        self.q = escape(querystring)
        self.next = escape(board + (f"?{querystring}" if querystring else ""))
        self.csrf = (
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(csrf_token)}">'
            if csrf_token
            else ""
        )
        self.lights: dict[str, str] = {}
        self.kinds: dict[tuple[str, str], str] = {}
        self.counted: dict[tuple[str, int], str] = {}
        # {{ x|default:_("...") }}: the template's own translated literal is not escaped.
        self.region_unknown = _("region not known")
        self.no_household = escape(_("no household now"))
        self.unknown_free = escape(_("Free beds unknown"))
        self.call_to_check = escape(_("Call to check:"))
        self.requires = escape(_("Requires:"))
        self.still_accurate = escape(_("Still accurate"))
        self.update = escape(_("Update"))

    def _count(self, key: str, n: int) -> str:
        """A {% blocktranslate count %} message for n, made once per n."""
        words = self.counted.get((key, n))
        if words is None:
            words = _COUNTED[key](n) % {"n": _number(n)}
            self.counted[(key, n)] = words
        return words

    def _light(self, light: str) -> str:
        words = self.lights.get(light)
        if words is None:
            words = self.lights[light] = escape(light_label(light))
        return words

    def _kind(self, kind: str, faith: str) -> str:
        words = self.kinds.get((kind, faith))
        if words is None:
            label = str(FacilityKind(kind).label)
            if faith:
                label += f" ({Faith(faith).label})"
            words = self.kinds[(kind, faith)] = escape(label)
        return words

    def row(self, row: BoardRow, *, error: str = "") -> SafeString:
        """One row, as vacancies/_row.html wrote it."""
        f = row.facts
        a = f.availability
        pk = str(f.id)
        where = escape(f.region_name) if f.region_name else self.region_unknown
        if f.locality:
            where += f", {escape(f.locality)}"
        if row.distance_km is not None:
            where += " · " + _("%(km)s km") % {"km": _number(row.distance_km)}
        if a.free_beds is not None:
            largest = row.result.largest_household_now
            now = (
                f'<p class="free"><strong>{self._count("free", a.free_beds)}</strong> '
                f"{_('of %(total)s') % {'total': _number(a.beds_total)}}</p>\n"
                f"<p>{self._count('household', largest) if largest else self.no_household}</p>"
            )
        else:
            total = (
                f" {_('of %(total)s') % {'total': _number(a.beds_total)}}" if a.beds_total else ""
            )
            now = f'<p class="free"><strong>{self.unknown_free}</strong>{total}</p>'
        parts = figure_parts(a)
        if parts:
            now += f'\n<p class="figure-parts">{escape(parts)}</p>'
        why = reasons_html(row.reasons, lambda n: self._count("more", n))
        if row.questions:
            questions = "; ".join(escape(q) for q in row.questions)
            why += (
                f'\n<p class="questions"><span class="label">{self.call_to_check}</span> '
                f"{questions}</p>"
            )
        if row.requirements:
            requirements = ", ".join(escape(r) for r in row.requirements)
            why += f'\n<p class="muted requirements">{self.requires} {requirements}</p>'
        act = ""
        if row.can_manage:
            act = '\n<div class="row-act">'
            if error:
                act += f'\n<p class="error" role="alert">{escape(error)}</p>'
            if a.source == "reported":
                confirm = pk.join(self.confirm)
                act += (
                    f'\n<form method="post" action="{confirm}" hx-post="{confirm}" '
                    f'hx-target="#f-{pk}" hx-swap="outerHTML">\n{self.csrf}'
                    f'<input type="hidden" name="q" value="{self.q}">'
                    f'<input type="hidden" name="next" value="{self.next}">\n'
                    f'<button type="submit" class="small">{self.still_accurate}</button>\n</form>'
                )
            act += f'\n<a href="{pk.join(self.facility)}">{self.update}</a>\n</div>'
        light = escape(row.light)
        html = (
            f'<article class="board-row light-{light}" id="f-{pk}">\n'
            f'<div class="row-light"><span class="dot" aria-hidden="true"></span>'
            f'<span class="light-text">{self._light(row.light)}</span></div>\n'
            f'<div class="row-who">\n<h3><a href="{pk.join(self.detail)}">{escape(f.name)}</a></h3>\n'
            f'<p class="muted">{escape(f.organisation_name)} · {self._kind(f.kind, f.faith)}</p>\n'
            f'<p class="muted">{where}</p>\n</div>\n'
            f'<div class="row-now">\n{now}\n'
            f'<p class="age muted">{escape(figure_age(a, self.at))}</p>\n</div>\n'
            f'<div class="row-why">\n{why}\n</div>{act}\n</article>\n'
        )
        return mark_safe(html)  # noqa: S308 (every value escaped above)

    def rows(self, rows: Iterable[BoardRow]) -> SafeString:
        return mark_safe("".join(self.row(r) for r in rows))  # noqa: S308 (see row)


# The messages that count something ({% blocktranslate count %} in the row template).
_COUNTED = {
    "free": lambda n: ngettext("%(n)s bed free", "%(n)s beds free", n),
    "household": lambda n: ngettext(
        "takes a household of %(n)s now", "takes a household of up to %(n)s now", n
    ),
    "more": lambda n: ngettext("%(n)s more reason", "%(n)s more reasons", n),
}
