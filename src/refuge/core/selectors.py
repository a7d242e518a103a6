"""Reads of core data that decide who sees what."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404

from refuge.core import crypto
from refuge.core.access import Principal
from refuge.core.models import ApiKey, AuditEvent, BreakGlass, Organisation, User
from refuge.core.roles import Role, can_manage_api_keys, can_see_break_glass_register


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


def api_keys_for_principal(p: Principal) -> QuerySet[ApiKey]:
    """Keys a manager (own organisation) or an administrator (every organisation) manages."""
    if p.role is None or not can_manage_api_keys(p.role) or p.break_glass is not None:
        raise PermissionDenied
    qs = ApiKey.objects.select_related("organisation").order_by("-created_at")
    if p.role == Role.ADMIN:
        return qs
    return qs.filter(organisation_id=p.org_id)


def api_key_for_principal(p: Principal, key_id: int) -> ApiKey:
    try:
        return api_keys_for_principal(p).get(pk=key_id)
    except ApiKey.DoesNotExist as exc:
        raise Http404 from exc


def break_glass_register_for_principal(p: Principal, *, limit: int = 50) -> list[BreakGlass]:
    """The break-glass register: every entry on the manager's organisation, or every entry for
    an administrator; newest first, each with ``reads`` (audit events written under it).

    The reasons are decrypted for display here; they say why, and are shown to the people they
    concern (the organisation's managers)."""
    if p.role is None or not can_see_break_glass_register(p.role) or p.break_glass is not None:
        raise PermissionDenied
    qs = BreakGlass.objects.select_related("user", "organisation", "subject", "closed_by")
    if p.role != Role.ADMIN:
        qs = qs.filter(organisation_id=p.org_id)
    entries = list(qs.order_by("-opened_at")[:limit])
    crypto.prefetch_data_keys(e.data_key_id for e in entries)
    ids = [str(e.pk) for e in entries if e.kind == BreakGlass.Kind.CASE_ACCESS]
    counts = {}
    if ids:
        counts = {
            row["details__break_glass"]: row["n"]
            for row in AuditEvent.objects.filter(details__break_glass__in=ids)
            .values("details__break_glass")
            .annotate(n=Count("id"))
        }
    for e in entries:
        e.reads = counts.get(str(e.pk), 0)
    return entries


def break_glass_entry_for_principal(p: Principal, entry_id) -> BreakGlass:
    """An entry the principal may end: her own, her organisation's (a manager), any (admin)."""
    qs = BreakGlass.objects.select_related("organisation").filter(kind=BreakGlass.Kind.CASE_ACCESS)
    if p.user is None:
        raise Http404
    if p.break_glass is not None or p.role not in (Role.ADMIN, Role.MANAGER):
        qs = qs.filter(user=p.user)
    elif p.role == Role.MANAGER:
        qs = qs.filter(organisation_id=p.org_id)
    try:
        return qs.get(pk=entry_id)
    except (BreakGlass.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def break_glass_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(is_active=True).order_by("name")
