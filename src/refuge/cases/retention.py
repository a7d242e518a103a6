"""Retention: what is purged, when, and how (SPEC.md C5).

Rules count days from the day a case was closed. ``clear`` empties encrypted fields (the
ciphertext is gone from the live database); ``shred`` destroys her data key, which makes every
encrypted field of hers unreadable everywhere, backups taken after the shred included. A record
on legal hold is never purged. Days come from settings.REFUGE_RETENTION (defaults below).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from refuge.core import audit
from refuge.core.access import Principal
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
        raise ServiceError("This record is on legal hold and cannot be purged.", "legal_hold")
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
