from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refuge.vacancies.availability import CONFIRMED, NO_ROOMS, NOT_DERIVED, REPORTED, UNKNOWN

register = template.Library()


@register.simple_tag
def figure_age(availability, now) -> str:
    """How old the figure is, in words: "live", "reported 2 hours ago", "unknown: ..."."""
    if availability.status == CONFIRMED:
        return _("live from stays in Refuge")
    why = getattr(availability, "unknown_reason", "")
    if why == NO_ROOMS or (availability.as_of is None and not availability.rooms):
        return _("unknown: rooms not set up")
    if why == NOT_DERIVED:
        return _("unknown: stays and holds are not recorded in this installation")
    if availability.as_of is None:
        return _("unknown: never reported")
    age = timesince(availability.as_of, now, depth=1)
    if availability.status == UNKNOWN:
        return _("unknown: last report %(age)s ago") % {"age": age}
    return _("reported %(age)s ago") % {"age": age}


_SINCE_WORDS = {
    # kind of occupancy source: (taken since, freed since)
    "stays": (
        lambda n: ngettext("%(n)s admitted since", "%(n)s admitted since", n),
        lambda n: ngettext("%(n)s discharged since", "%(n)s discharged since", n),
    ),
    "holds": (
        lambda n: ngettext("%(n)s place held since", "%(n)s places held since", n),
        lambda n: ngettext("%(n)s hold ended since", "%(n)s holds ended since", n),
    ),
}


@register.simple_tag
def figure_parts(availability) -> str:
    """A hand report in its parts, when Refuge recorded something since or the report gives
    more than the stays and holds in Refuge leave: "reported 4 at 09:10; 1 admitted since"
    (issue 15: a figure is never silently trusted). Empty otherwise."""
    if availability.status != REPORTED or not availability.adjusted:
        return ""
    at = availability.reported_at
    if at is not None:
        local = timezone.localtime(at)
        when = date_format(
            local, "H:i" if local.date() == timezone.localdate() else "SHORT_DATETIME_FORMAT"
        )
        parts = [
            ngettext(
                "reported %(n)s free at %(when)s",
                "reported %(n)s free at %(when)s",
                availability.reported_free,
            )
            % {"n": availability.reported_free, "when": when}
        ]
    else:
        parts = [_("reported %(n)s free") % {"n": availability.reported_free}]
    for kind, taken, freed in availability.since:
        words = _SINCE_WORDS.get(kind)
        if words is None:
            continue
        if taken:
            parts.append(words[0](taken) % {"n": taken})
        if freed:
            parts.append(words[1](freed) % {"n": freed})
    if availability.capped:
        parts.append(
            ngettext(
                "%(n)s more bed taken by stays or holds recorded in Refuge",
                "%(n)s more beds taken by stays or holds recorded in Refuge",
                availability.capped,
            )
            % {"n": availability.capped}
        )
    return "; ".join(parts)


@register.filter
def light_label(light: str) -> str:
    return {
        "green": _("Can take her now"),
        "amber": _("May take her: availability unknown"),
        "red": _("Cannot take her"),
    }.get(light, light)


@register.filter
def reporter(name: str) -> str:
    """Who gave a figure: a person's name, or, for a figure no person gave (the demo loader, an
    import, a command), words instead of the internal "system"."""
    return _("Refuge itself (no person)") if name == "system" else name


@register.simple_tag(takes_context=True)
def board_rows(context, board, querystring: str = ""):
    """The board's rows, written in Python (see refuge.vacancies.rows)."""
    from refuge.vacancies.rows import RowWriter

    token = str(context.get("csrf_token") or "")
    if token == "NOTPROVIDED":  # noqa: S105 (Django's word for no token, as {% csrf_token %})
        token = ""
    writer = RowWriter(at=board.at, querystring=querystring, csrf_token=token)
    return writer.rows(board.rows)
