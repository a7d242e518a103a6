"""Reads that decide who sees which notifications."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from refuge.core.access import Principal
from refuge.core.roles import Role

from .models import Channel, Delivery


def failed_deliveries_for(p: Principal) -> QuerySet[Delivery]:
    """Failed deliveries to the staff of the principal's organisation, for its managers (still
    being retried, or given up); empty for everyone else. The worklist shows their count."""
    if p.role != Role.MANAGER or p.org_id is None:
        return Delivery.objects.none()
    return (
        Delivery.objects.filter(organisation_id=p.org_id, status=Delivery.Status.FAILED)
        .select_related("user", "event")
        .order_by("-created_at")
    )


def failed_delivery_for_manager(p: Principal, delivery_id) -> Delivery:
    from django.http import Http404

    if p.role != Role.MANAGER:
        raise PermissionDenied
    try:
        return failed_deliveries_for(p).get(pk=delivery_id)
    except (Delivery.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def unread_for(user) -> QuerySet[Delivery]:
    """Her in-app items not yet opened."""
    return Delivery.objects.filter(
        user=user, channel=Channel.APP, status=Delivery.Status.SENT
    ).select_related("event")
