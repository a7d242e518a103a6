"""Small display helpers for the hotline pages."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refuge.hotline.regions import region_name

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """12 → 0:12, 754 → 12:34, 3725 → 1:02:05; empty for None."""
    if seconds is None or seconds == "":
        return ""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def since(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, as a duration (for live waits and talk times)."""
    if moment is None:
        return ""
    return duration(((now or timezone.now()) - moment).total_seconds())


@register.filter
def region(code: str) -> str:
    return region_name(code or "")


@register.filter
def pct(value) -> str:
    return "—" if value is None else f"{value:g} %"


@register.filter
def secs(value) -> str:
    return "—" if value is None else _("%(n)s s") % {"n": f"{value:g}"}


@register.simple_tag
def repeat_text(previous) -> str:
    if not previous:
        return _("first call from this number recently")
    return ngettext(
        "called %(n)s time before recently", "called %(n)s times before recently", previous
    ) % {"n": previous}


@register.filter
def contact_label(code: str) -> str:
    from refuge.hotline.models import ContactType

    return str(dict(ContactType.choices).get(code, code))


@register.filter
def need_label(code: str) -> str:
    from refuge.hotline.models import Need

    return str(dict(Need.choices).get(code, code))


@register.filter
def reason_label(code: str) -> str:
    from refuge.hotline.models import UnmetReason

    return str(dict(UnmetReason.choices).get(code, code))


@register.filter
def abuse_label(code: str) -> str:
    from refuge.hotline.forms import ABUSE_CHOICES

    return str(dict(ABUSE_CHOICES).get(code, code))
