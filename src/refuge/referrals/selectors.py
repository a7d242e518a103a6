"""Reads of referrals that decide who sees what."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from refuge.core.access import Principal
from refuge.core.roles import Role, can_search_placements, can_view_cases

from .models import PartnerRequest, Referral, ReferralTarget, TurnAway


def referral_for_principal(p: Principal, referral_id) -> Referral:
    """The sender's organisation, or a targeted facility's organisation; otherwise 404."""
    if p.role is None or not can_view_cases(p.role):
        raise PermissionDenied
    try:
        referral = Referral.objects.select_related(
            "client__organisation", "from_org", "accepted_target__facility"
        ).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    if (
        referral.from_org_id != p.org_id
        and not referral.targets.filter(facility__organisation_id=p.org_id).exists()
    ):
        raise Http404
    return referral


def inbox_for_principal(p: Principal) -> QuerySet[ReferralTarget]:
    if p.role is None or not can_view_cases(p.role):
        raise PermissionDenied
    return (
        ReferralTarget.objects.filter(facility__organisation_id=p.org_id)
        .select_related("referral", "facility", "referral__from_org")
        .order_by("-referral__created_at")
    )


def sent_for_principal(p: Principal) -> QuerySet[Referral]:
    if p.role is None or not can_search_placements(p.role):
        raise PermissionDenied
    return (
        Referral.objects.filter(from_org_id=p.org_id)
        .select_related("client", "accepted_target__facility")
        .prefetch_related("targets__facility")
    )


def turnaways_for_principal(p: Principal) -> QuerySet[TurnAway]:
    if p.role == Role.COORDINATOR:
        return TurnAway.objects.all()
    if p.role is not None and can_search_placements(p.role):
        return TurnAway.objects.filter(organisation_id=p.org_id)
    raise PermissionDenied


def partner_requests_for_principal(p: Principal) -> QuerySet[PartnerRequest]:
    if p.role == Role.PARTNER:
        return PartnerRequest.objects.filter(from_org_id=p.org_id)
    if p.role in (Role.COORDINATOR, Role.OPERATOR):
        return PartnerRequest.objects.select_related("from_org")
    raise PermissionDenied
