"""State changes of the insights app: survivor outcome surveys, and the audit of every export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.cases.models import Client
from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.models import Organisation
from refuge.core.roles import can_manage_staff, can_view_cases
from refuge.core.services import ServiceError

from . import surveys
from .models import SurvivorOutcome


def survivor_outcome_record(
    *, by: Principal, client: Client, phase: str, answers: Mapping[str, str]
) -> SurvivorOutcome:
    """Her answers before or after support; recording a phase again replaces its answers."""
    require(by, can_view_cases)
    if by.org_id != client.organisation_id:
        raise ServiceError(
            _("Only the organisation that holds this case can record her answers."), "forbidden"
        )
    if phase not in SurvivorOutcome.Phase.values:
        raise ServiceError(_("Unknown phase %(phase)r.") % {"phase": phase}, "invalid_phase")
    survey = surveys.get()
    clean = surveys.clean(survey, answers)
    with transaction.atomic():
        row, created = SurvivorOutcome.objects.update_or_create(
            client=client,
            phase=phase,
            defaults={
                "organisation_id": client.organisation_id,
                "survey": survey.key,
                "answers": clean,
                "recorded_by": by.name,
                "recorded_at": timezone.now(),
            },
        )
        audit.record(
            actor=by,
            action="insights.outcome_record",
            target_type="cases.client",
            target_id=client.pk,
            target_org_slug=client.organisation.slug,
            details={"phase": phase, "survey": survey.key, "replaced": not created},
        )
    return row


def export_record(*, by: Principal, what: str, details: dict[str, Any]) -> None:
    """Every download of figures is audited (SPEC C1: every export)."""
    audit.record(
        actor=by,
        action="insights.export",
        target_type="insights.export",
        target_id=what,
        target_org_slug=by.org_slug or "",
        details=details,
    )


def exports_participation_set(*, by: Principal, include: bool) -> Organisation:
    """A manager decides whether her organisation's figures go into network exports (seed 002:
    some centres will not report to the ministry). Her own dashboards are not affected."""
    require(by, can_manage_staff)
    if by.organisation is None:
        raise ServiceError(_("Only a member of an organisation can decide this."), "forbidden")
    with transaction.atomic():
        org = Organisation.objects.select_for_update().get(pk=by.org_id)
        if org.in_network_exports != include:
            org.in_network_exports = include
            org.save(update_fields=["in_network_exports"])
        audit.record(
            actor=by,
            action="insights.exports_participation",
            target_type="core.organisation",
            target_id=org.pk,
            target_org_slug=org.slug,
            details={"include": include},
        )
    return org
