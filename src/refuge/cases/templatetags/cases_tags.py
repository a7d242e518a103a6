from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

BANDS = {"standard": _("standard"), "medium": _("medium"), "high": _("high")}
FLAGS = {
    "refer_to_meeting": _("refer to the multi-agency meeting"),
    "safety_plan_today": _("make a safety plan today"),
    "escalation": _("escalated: repeated incidents"),
    "repeat_referral": _("repeat referral within 12 months"),
}


@register.filter
def band(name: str | None) -> str:
    return str(BANDS.get(name or "", name or "—"))


@register.filter
def band_class(name: str | None) -> str:
    return {"high": "bad", "medium": "warn"}.get(name or "", "ok")


@register.filter
def flags(names) -> str:
    return "; ".join(str(FLAGS.get(n, n)) for n in names or [])
