"""Retention: what is purged, when, and how (SPEC.md C5).

Rules count days from the day a case was closed. ``clear`` empties encrypted fields (the
ciphertext is gone from the live database); ``shred`` destroys her data key, which makes every
encrypted field of hers unreadable everywhere, backups taken after the shred included. A record
on legal hold is never purged. Days come from settings.REFUGE_RETENTION (defaults below).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refuge.core import audit
from refuge.core.access import Principal, require, require_reauthenticated
from refuge.core.roles import can_erase_cases
from refuge.core.services import ServiceError

from .models import AftercareTask, CaseNote, Client, OtherParty, RiskAssessment, SafetyPlan
from .services import client_shred

DEFAULT_DAYS = {
    "notes": 365,
    "safety_plan": 365,
    "other_parties": 365,
    "assessment_answers": 730,
    "aftercare_notes": 730,
    "identity": 2190,
}


@dataclass(frozen=True)
class Rule:
    name: str
    model: type | None
    fields: tuple[str, ...]
    action: str  # "clear" or "shred"

    def days(self) -> int:
        return int({**DEFAULT_DAYS, **getattr(settings, "REFUGE_RETENTION", {})}[self.name])


RULES = (
    Rule("notes", CaseNote, ("body",), "clear"),
    Rule("safety_plan", SafetyPlan, ("sections",), "clear"),
    Rule("other_parties", OtherParty, ("name", "details"), "clear"),
    Rule("assessment_answers", RiskAssessment, ("answers", "judgement_reason"), "clear"),
    Rule("aftercare_notes", AftercareTask, ("note", "outcome"), "clear"),
    Rule("identity", None, (), "shred"),
)


@dataclass(frozen=True)
class Due:
    case_code: str
    rule: str
    action: str
    closed_at: datetime
    count: int


def _pending(rule: Rule, client: Client) -> int:
    if rule.action == "shred":
        return 0 if client.data_key.destroyed_at else 1
    qs = rule.model.objects.filter(client=client)
    # Fields already cleared are stored as "" (or NULL): nothing left to purge there.
    return sum(1 for row in qs.values_list(*rule.fields) if any(v not in ("", None) for v in row))


def plan(now: datetime | None = None) -> list[Due]:
    """What would be purged now (closed cases past each rule's days, not on legal hold)."""
    now = now or timezone.now()
    due: list[Due] = []
    closed = Client.objects.filter(closed_at__isnull=False, legal_hold=False).select_related(
        "data_key"
    )
    for client in closed.order_by("closed_at"):
        for rule in RULES:
            if client.closed_at + timedelta(days=rule.days()) <= now:
                n = _pending(rule, client)
                if n:
                    due.append(Due(client.case_code, rule.name, rule.action, client.closed_at, n))
    return due


def purge(*, by: Principal | None, now: datetime | None = None, dry_run: bool = False) -> list[Due]:
    items = plan(now)
    if dry_run:
        return items
    for item in items:
        client = Client.objects.select_related("organisation", "data_key").get(
            case_code=item.case_code
        )
        client_purge_rule(by=by, client=client, rule=next(r for r in RULES if r.name == item.rule))
    return items


def client_purge_rule(*, by: Principal | None, client: Client, rule: Rule) -> None:
    if client.legal_hold:
        raise ServiceError(_("This record is on legal hold and cannot be purged."), "legal_hold")
    with transaction.atomic():
        if rule.action == "shred":
            client_shred(by=by, client=client, reason=f"retention: {rule.name}")
        else:
            rule.model.objects.filter(client=client).update(**dict.fromkeys(rule.fields, ""))
        audit.record(
            actor=by,
            action="retention.purge",
            target_type="cases.client",
            target_id=client.pk,
            target_org_slug=client.organisation.slug,
            details={"rule": rule.name},
        )


# --- erasure on request (issue 14, M6) -----------------------------------------------------------


class ErasureReason(models.TextChoices):
    """Why a record was erased: a category, never her words (it goes into the audit log)."""

    HER_REQUEST = "her_request", gettext_lazy("She asked for her record to be erased")
    MISTAKE = "mistake", gettext_lazy("The record was opened by mistake or twice")
    NOT_NEEDED = "not_needed", gettext_lazy("The record is no longer needed")
    ORDER = "order", gettext_lazy("A court or the regulator ordered it")


def client_erase(*, by: Principal, client: Client, reason: str) -> Client:
    """Erase her record now: her data key is destroyed (every encrypted field of hers, her
    referrals' shared parts included, becomes unreadable), her phone's blind index and the
    closing note are cleared, and the case is closed. The shred ledger outside the database
    keeps the key's id, so restoring an older backup erases her again. What stays is a
    pseudonymous case code for the statistics. The audit event names the reason's category
    only. Refused on legal hold; needs a manager of her organisation who re-authenticated."""
    require(by, can_erase_cases)
    if by.org_id != client.organisation_id:
        raise ServiceError(
            _("Only the organisation that holds this case can erase it."), "forbidden"
        )
    require_reauthenticated(by)
    if reason not in ErasureReason.values:
        raise ServiceError(_("Choose why the record is erased."), "reason_required")
    with transaction.atomic():
        client = (
            Client.objects.select_for_update(of=("self",))
            .select_related("organisation", "data_key")
            .get(pk=client.pk)
        )
        if client.legal_hold:
            raise ServiceError(
                _("This record is on legal hold and cannot be erased. Lift the hold first."),
                "legal_hold",
            )
        if client.data_key.destroyed_at is not None:
            raise ServiceError(_("This record has already been erased."), "already_erased")
        client_shred(by=by, client=client, reason=f"erasure: {reason}")
        changes: dict = {"close_reason": ""}
        if client.closed_at is None:
            changes["closed_at"] = timezone.now()
        Client.objects.filter(pk=client.pk).update(**changes)
        audit.record(
            actor=by,
            action="client.erase",
            target_type="cases.client",
            target_id=client.pk,
            target_org_slug=client.organisation.slug,
            details={"reason": reason},
        )
    client.refresh_from_db()
    return client


def forget_blind_indexes(key_ids: set[uuid.UUID]) -> int:
    """After the shred ledger is re-applied: a destroyed key's phone index goes too."""
    return (
        Client.objects.filter(data_key_id__in=key_ids)
        .exclude(phone_index="")
        .update(phone_index="")
    )
