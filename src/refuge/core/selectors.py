"""Reads of core data that decide who sees what."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from refuge.core.access import Principal
from refuge.core.models import AuditEvent, Organisation, User
from refuge.core.roles import Role


def staff_for_principal(p: Principal) -> QuerySet[User]:
    """Members a manager (own organisation) or an administrator (everyone) may manage."""
    qs = User.objects.select_related("membership__organisation").order_by("username")
    if p.role == Role.ADMIN:
        return qs
    if p.role == Role.MANAGER and p.organisation is not None:
        return qs.filter(membership__organisation=p.organisation)
    return qs.none()


def staff_member_for_principal(p: Principal, user_id: int) -> User:
    try:
        return staff_for_principal(p).get(pk=user_id)
    except User.DoesNotExist as exc:
        raise Http404 from exc


def audit_events_for_principal(p: Principal) -> QuerySet[AuditEvent]:
    """Managers see events about their own organisation's records; administrators all."""
    qs = AuditEvent.objects.order_by("-seq")
    if p.role == Role.ADMIN:
        return qs
    if p.role == Role.MANAGER and p.organisation is not None:
        return qs.filter(target_org_slug=p.organisation.slug)
    return qs.none()


def organisation_for_admin(slug: str) -> Organisation:
    try:
        return Organisation.objects.get(slug=slug)
    except Organisation.DoesNotExist as exc:
        raise Http404 from exc
