"""Notifications by email (Django's email backend), in neutral words: nothing about the woman,
her household or where she is leaves the system; the message only says to sign in."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.mail import send_mass_mail
from django.db import transaction

from refuge.core.models import User
from refuge.core.roles import Role

SUBJECT = "Refuge: something is waiting for you"
BODY = "A new item is waiting for you in Refuge ({what}). Please sign in to see it.\n"


def _emails(org_ids: Iterable[int]) -> list[str]:
    return list(
        User.objects.filter(
            membership__organisation_id__in=list(org_ids),
            membership__is_active=True,
            membership__role__in=[Role.CASEWORKER, Role.MANAGER, Role.COORDINATOR, Role.OPERATOR],
            is_active=True,
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def notify_orgs(org_ids: Iterable[int], what: str) -> None:
    """Send after the transaction commits, so a rolled-back change sends nothing."""
    org_ids = list(org_ids)

    def send() -> None:
        emails = _emails(org_ids)
        if emails:
            send_mass_mail(
                [(SUBJECT, BODY.format(what=what), None, [e]) for e in emails], fail_silently=True
            )

    transaction.on_commit(send)
