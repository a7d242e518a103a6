"""Words and timers for the worklist and the daily sheet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()

# Under this, a countdown is shown as running out (and the page's script does the same).
SOON_SECONDS = 15 * 60


def clock(seconds: int) -> str:
    """1:05:09, or 5:09 under an hour: digits read the same in every language."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.simple_tag
def countdown(deadline: datetime, now: datetime, kind: str = "hold") -> str:
    """A time left that the page's script (notifications/worklist.js) keeps counting down
    without a reload. Rendered from the server's clock too, so it reads right without script,
    and the script measures from the server's time (``data-now``), not the phone's."""
    texts = {
        "hold": (_("{time} left"), _("hold expired")),
        "stale": (_("unknown in {time}"), _("unknown now")),
        "sent": (_("first hold ends in {time}"), _("the holds have ended")),
        "callback": (_("safe time in {time}"), _("safe to call now")),
    }
    running, done = texts[kind]
    left = int((deadline - now).total_seconds())
    shown = running.replace("{time}", clock(left)) if left > 0 else done
    return format_html(
        '<span class="wl-countdown{}" role="timer" data-deadline="{}" data-now="{}" '
        'data-template="{}" data-done="{}">{}</span>',
        " soon" if left <= SOON_SECONDS else "",
        deadline.isoformat(),
        now.isoformat(),
        running,
        done,
        shown,
    )


@register.filter
def household(h: Any) -> str:
    """A referral's household in words: "woman (34), boy (9), girl (5)"; no code is shown."""
    if not isinstance(h, dict):
        return ""
    parts = []
    if h.get("woman_age") is not None:
        parts.append(_("woman (%(age)s)") % {"age": h["woman_age"]})
    for child in h.get("children") or []:
        if child.get("sex") == "male":
            parts.append(_("boy (%(age)s)") % {"age": child.get("age")})
        else:
            parts.append(_("girl (%(age)s)") % {"age": child.get("age")})
    adults = int(h.get("other_adults") or 0)
    if adults:
        parts.append(ngettext("%(n)s other adult", "%(n)s other adults", adults) % {"n": adults})
    pets = int(h.get("pets") or 0)
    if pets:
        parts.append(ngettext("%(n)s pet", "%(n)s pets", pets) % {"n": pets})
    return ", ".join(parts)


@register.filter
def language_name(code: str) -> str:
    """A language by its name in the reader's language (never its code)."""
    return str(dict(settings.LANGUAGES).get(code, "")) if code else ""
