"""Access helpers for client records: every view and endpoint fetches a client through these.

Each returns only what the principal may see and writes the audit event for the read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from refuge.core import audit, crypto
from refuge.core.access import Principal, audited_read
from refuge.core.fields import Erased
from refuge.core.roles import can_view_cases
from refuge.core.services import ServiceError

from .models import Client, SafetyPlan
from .services import name_index, normalise_phone, phone_index

Visibility = Callable[[Principal], Q]
_visibility: list[Visibility] = []


def register_client_visibility(rule: Visibility) -> None:
    """Let another app widen who sees a client (refuge.referrals: the receiving facility,
    once it has accepted a referral, until she arrives and the case moves to it)."""
    if rule not in _visibility:
        _visibility.append(rule)


def _visible(p: Principal) -> QuerySet[Client]:
    if p.role is None or not can_view_cases(p.role):
        raise PermissionDenied
    # Case notes and identities stay within the organisation that holds them (SPEC.md roles:
    # even the coordinator never sees other organisations' cases).
    condition = Q(organisation_id=p.org_id)
    for rule in _visibility:
        condition |= rule(p)
    return Client.objects.filter(condition).distinct()


def client_for_principal(p: Principal, case_code: str, *, what: str = "record") -> Client:
    """The client, or 404 (another organisation's record does not even exist for her).

    A role that never sees cases gets 403 before any look-up.
    """
    try:
        client = _visible(p).select_related("organisation", "data_key").get(case_code=case_code)
    except Client.DoesNotExist as exc:
        raise Http404 from exc
    crypto.prefetch_data_keys([client.data_key_id])
    audited_read(p, client, target_org_slug=client.organisation.slug, what=what)
    return client


def part_or_404(qs: QuerySet, pk: Any):
    """A part of a client already fetched through client_for_principal (same audit event)."""
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def clients_for_principal(
    p: Principal, *, limit: int = 100, show_closed: bool = False
) -> list[Client]:
    """The organisation's clients, newest first; one audit event names every record shown."""
    qs = _visible(p).select_related("organisation")
    if not show_closed:
        qs = qs.filter(closed_at__isnull=True)
    rows = list(qs[:limit])
    crypto.prefetch_data_keys(c.data_key_id for c in rows)
    if rows:
        audit.record(
            actor=p,
            action="read_list",
            target_type="cases.client",
            target_org_slug=p.org_slug or "",
            details={"ids": [str(c.pk) for c in rows]},
        )
    return rows


CASE_CODE = re.compile(r"RF-[A-Z0-9]{4}-[A-Z0-9]{4}")
PHONE_LIKE = re.compile(r"\+?[\d\s().-]*\d[\d\s().-]*")


def search_kind(query: str) -> str:
    """How a search box entry is read: "code", "phone" or "name" (in that order)."""
    if CASE_CODE.fullmatch(query.strip().upper()):
        return "code"
    if PHONE_LIKE.fullmatch(query.strip()):
        return "phone"
    return "name"


def search_clients_for_principal(
    p: Principal, query: str, *, limit: int = 100, show_closed: bool = False
) -> tuple[str, list[Client]]:
    """Her own organisation's clients matching a case code, a phone or a full name exactly.

    Phone and name go through their blind indexes (exact match on the normalised value only).
    Records seen through another organisation's referral are not searchable: searching is how
    an abuser's accomplice on staff would enumerate, so it stays within the organisation.
    One audit event per search, with its kind and the ids found, never what was typed.
    """
    kind = search_kind(query)
    qs = _visible(p).filter(organisation_id=p.org_id).select_related("organisation")
    if not show_closed:
        qs = qs.filter(closed_at__isnull=True)
    if kind == "code":
        qs = qs.filter(case_code=query.strip().upper())
    elif kind == "phone":
        try:
            qs = qs.filter(phone_index=phone_index(normalise_phone(query.strip())))
        except ServiceError:
            qs = qs.none()  # digits that are no possible number match nobody
    else:
        index = name_index(query)
        qs = qs.filter(name_index=index) if index else qs.none()
    rows = list(qs[:limit])
    crypto.prefetch_data_keys(c.data_key_id for c in rows)
    audit.record(
        actor=p,
        action="read_list",
        target_type="cases.client",
        target_org_slug=p.org_slug or "",
        details={"search": kind, "results": len(rows), "ids": [str(c.pk) for c in rows]},
    )
    return kind, rows


def aftercare_due_for_principal(p: Principal):
    """Open follow-ups of the organisation's clients, oldest due first (a task list)."""
    from .models import AftercareTask

    return (
        AftercareTask.objects.filter(client__in=_visible(p), done_on__isnull=True)
        .select_related("client")
        .order_by("due_on")
    )


WITHHELD = "withheld"


@dataclass
class SurvivorCopy:
    """Her own record, with other people's data withheld (subject access)."""

    client: Client
    household: list
    assessments: list
    safety_plan: dict[str, str]
    notes: list = field(default_factory=list)  # (date, text or None if withheld)
    consents: list = field(default_factory=list)
    aftercare: list = field(default_factory=list)
    other_parties_withheld: int = 0


def read_json(value: str | None) -> dict:
    """An encrypted JSON field; purged ("") or erased (shredded) values read as empty."""
    if not value or isinstance(value, Erased):
        return {}
    return json.loads(value)


def safety_plan_of(client: Client) -> dict[str, str]:
    plan = SafetyPlan.objects.filter(client=client).first()
    return read_json(plan.sections) if plan else {}


def survivor_copy(p: Principal, case_code: str) -> SurvivorCopy:
    client = client_for_principal(p, case_code, what="survivor_copy")
    notes = [(n.created_at, None if n.about_others else n.body) for n in client.notes.all()]
    return SurvivorCopy(
        client=client,
        household=list(client.household.all()),
        assessments=[
            (a, read_json(a.answers)) for a in client.assessments.filter(status="complete")
        ],
        safety_plan=safety_plan_of(client),
        notes=notes,
        consents=list(client.consents.select_related("recipient")),
        aftercare=list(client.aftercare.all()),
        other_parties_withheld=client.other_parties.count(),
    )


def service_counts(
    *,
    organisations=None,
    since=None,
    until=None,
    consented_only: bool = False,
    region: str | None = None,
    by=("kind",),
):
    """Counts of services delivered, for dashboards and funder exports (no row about a person).

    ``organisations``: an iterable or queryset of organisations (all when None).
    ``consented_only``: only women who agreed to be counted in network statistics.
    ``region``: her residence region (``RU-TUL``), or a country (``KG``) for all its regions.
    ``by`` names the dimensions: any of kind, channel, month, organisation, region.
    """
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from .models import ServiceDelivery

    qs = ServiceDelivery.objects.all()
    if organisations is not None:
        qs = qs.filter(organisation__in=organisations)
    if since is not None:
        qs = qs.filter(delivered_on__gte=since)
    if until is not None:
        qs = qs.filter(delivered_on__lte=until)
    if consented_only:
        qs = qs.filter(client__reporting_consent=True)
    if region:
        lookup = "startswith" if len(region) == 2 else "exact"
        qs = qs.filter(**{f"client__residence_region__{lookup}": region})
    fields = {
        "kind": "kind",
        "channel": "channel",
        "organisation": "organisation__slug",
        "region": "client__residence_region",
        "month": "month",
    }
    if "month" in by:
        qs = qs.annotate(month=TruncMonth("delivered_on"))
    dims = [fields[d] for d in by]
    return list(
        qs.values(*dims)
        .annotate(n=Count("id"), clients=Count("client", distinct=True))
        .order_by(*dims)
    )
