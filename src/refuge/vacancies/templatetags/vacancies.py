from __future__ import annotations

from django import template
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from refuge.vacancies.availability import CONFIRMED, UNKNOWN

register = template.Library()


@register.simple_tag
def figure_age(availability, now) -> str:
    """How old the figure is, in words: "live", "reported 2 hours ago", "unknown: ..."."""
    if availability.status == CONFIRMED:
        return _("live from stays in Refuge")
    if availability.as_of is None:
        if not availability.rooms:
            return _("unknown: rooms not set up")
        return _("unknown: never reported")
    age = timesince(availability.as_of, now, depth=1)
    if availability.status == UNKNOWN:
        return _("unknown: last report %(age)s ago") % {"age": age}
    return _("reported %(age)s ago") % {"age": age}


@register.filter
def light_label(light: str) -> str:
    return {
        "green": _("Can take her now"),
        "amber": _("May take her: availability unknown"),
        "red": _("Cannot take her"),
    }.get(light, light)
