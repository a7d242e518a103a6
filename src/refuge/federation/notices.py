"""Who hears of a cross-network referral, and where the in-app item leads: registered into the
notifications app's rules and links, so it learns of federation through its own registries."""

from __future__ import annotations

from django.urls import reverse

from refuge.notifications import links, recipients
from refuge.notifications.models import Event


def _incoming_staff(event: Event) -> list[int]:
    from .models import IncomingReferral

    row = IncomingReferral.objects.filter(pk=event.about_id).select_related("facility").first()
    if row is None:
        return []
    return recipients.staff_of([row.facility.organisation_id], recipients.CASE_STAFF)


def _sender(event: Event) -> list[int]:
    from .models import OutgoingReferral

    row = OutgoingReferral.objects.filter(pk=event.about_id).first()
    return recipients._sender(row) if row else []  # noqa: SLF001 (same rule as a local referral)


def register() -> None:
    from . import worklist

    worklist.register()
    recipients.rule(
        "federation.referral_received",
        "federation.record_received",
        "federation.referral_withdrawn",
    )(_incoming_staff)
    recipients.rule(
        "federation.referral_answered",
        "federation.referral_released",
        "federation.journey_planned",
        "federation.journey_arrived",
    )(_sender)
    links.LINKS["federation.incomingreferral"] = lambda e: reverse("federation:referrals")
    links.LINKS["federation.outgoingreferral"] = lambda e: reverse("federation:referrals")
