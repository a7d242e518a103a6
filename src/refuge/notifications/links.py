"""Where an in-app item leads: the page of its subject (the page itself decides what she may see)."""

from __future__ import annotations

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from .models import Event


def _referral(event: Event) -> str:
    return reverse("referrals:detail", kwargs={"referral_id": event.about_id})


def _target(event: Event) -> str:
    target = apps.get_model("referrals", "ReferralTarget").objects.filter(pk=event.about_id)
    rid = target.values_list("referral_id", flat=True).first()
    return reverse("referrals:detail", kwargs={"referral_id": rid}) if rid else reverse("core:home")


def _concern(event: Event) -> str:
    concern = apps.get_model("programmes", "RiskConcern").objects.filter(pk=event.about_id)
    sid = concern.values_list("support_id", flat=True).first()
    return reverse("programmes:partner_support", kwargs={"support_id": sid})


LINKS = {
    "referrals.referral": _referral,
    "referrals.referraltarget": _target,
    "referrals.partnerrequest": lambda e: reverse("referrals:partner_requests"),
    "programmes.riskconcern": _concern,
    "hotline.callback": lambda e: reverse("hotline:callback", kwargs={"pk": e.about_id}),
    "directory.facility": lambda e: reverse(
        "vacancies:facility", kwargs={"facility_id": e.about_id}
    ),
    "meetings.action": lambda e: reverse("meetings:list"),
    "core.user": lambda e: reverse("notifications:mine"),
}


def url_for(event: Event) -> str:
    try:
        return LINKS.get(event.about_type, lambda e: reverse("core:home"))(event)
    except (NoReverseMatch, ValueError, TypeError):
        return reverse("core:home")
