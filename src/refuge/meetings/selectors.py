"""Who sees what of a meeting. An agency (partner role) sees, for items on the agenda only, the
case code, the risk level and the agreed summary, and only the actions assigned to it. The
coordinator sees every item and action of its area's meetings, never a case note. The
organisation holding a case sees its own proposals. Every display of an item is audited."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from refuge.cases.models import Client, RiskAssessment
from refuge.core import audit, crypto
from refuge.core.access import Principal
from refuge.core.roles import Role, can_see_meetings

from .models import Action, AgendaItem, Meeting

SHARED = (AgendaItem.Status.ACCEPTED, AgendaItem.Status.DISCUSSED)


def meetings_for_principal(p: Principal) -> QuerySet[Meeting]:
    if p.role is None or not can_see_meetings(p.role):
        raise PermissionDenied
    qs = Meeting.objects.select_related("area")
    if p.role == Role.COORDINATOR:
        return qs.filter(
            Q(area__coordinator_org_id=p.org_id) | Q(area__members__id=p.org_id)
        ).distinct()
    if p.role == Role.PARTNER:
        return qs.filter(area__members__id=p.org_id).distinct()
    # Caseworkers and managers: meetings of areas their organisation belongs to.
    return qs.filter(area__members__id=p.org_id).distinct()


def meeting_for_principal(p: Principal, meeting_id: int) -> Meeting:
    try:
        return meetings_for_principal(p).get(pk=meeting_id)
    except Meeting.DoesNotExist as exc:
        raise Http404 from exc


@dataclass
class ItemView:
    item: AgendaItem
    case_code: str
    risk_level: str
    summary: str | None  # None: not shared with this viewer (yet)
    actions: list[Action] = field(default_factory=list)
    can_decide: bool = False
    own_case: bool = False


def agenda_for_principal(
    p: Principal, meeting: Meeting, *, case_code: str | None = None
) -> list[ItemView]:
    is_coordinator = p.role == Role.COORDINATOR and meeting.area.coordinator_org_id == p.org_id
    items = meeting.items.select_related("client__organisation").prefetch_related(
        "actions__assigned_org"
    )
    if case_code is not None:
        items = items.filter(client__case_code=case_code)
    if not is_coordinator:
        if p.role == Role.PARTNER:
            items = items.filter(status__in=SHARED)
        else:
            items = items.filter(Q(status__in=SHARED) | Q(client__organisation_id=p.org_id))
    items = list(items)
    crypto.prefetch_data_keys(i.data_key_id for i in items)
    views = []
    for item in items:
        own = item.client.organisation_id == p.org_id
        if is_coordinator or own:
            actions = list(item.actions.all())
        else:
            actions = [a for a in item.actions.all() if a.assigned_org_id == p.org_id]
        shared = is_coordinator or own or item.status in SHARED
        views.append(
            ItemView(
                item=item,
                case_code=item.client.case_code,
                risk_level=item.risk_level,
                summary=item.summary if shared else None,
                actions=actions,
                can_decide=is_coordinator,
                own_case=own,
            )
        )
        audit.record(
            actor=p,
            action="read",
            target_type="cases.client",
            target_id=item.client_id,
            target_org_slug=item.client.organisation.slug,
            details={"what": "meeting_item", "meeting": meeting.pk},
        )
    return views


def item_for_principal(p: Principal, item_id) -> AgendaItem:
    """For the coordinator's forms: the item, if the principal coordinates its area."""
    try:
        item = AgendaItem.objects.select_related("meeting__area", "client__organisation").get(
            pk=item_id
        )
    except (AgendaItem.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    if not (p.role == Role.COORDINATOR and item.meeting.area.coordinator_org_id == p.org_id):
        raise Http404
    return item


def action_for_principal(p: Principal, action_id) -> Action:
    try:
        action = Action.objects.select_related(
            "item__meeting__area", "item__client__organisation"
        ).get(pk=action_id)
    except (Action.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    mine = action.assigned_org_id == p.org_id and p.role == Role.PARTNER
    coordinating = (
        p.role == Role.COORDINATOR and action.item.meeting.area.coordinator_org_id == p.org_id
    )
    if not (mine or coordinating):
        raise Http404
    return action


def proposals_due(p: Principal) -> list[Client]:
    """Open cases of the organisation whose latest completed assessment asks for a meeting and
    that are not on a planned meeting's list yet."""
    if p.role not in (Role.CASEWORKER, Role.MANAGER):
        return []
    on_list = AgendaItem.objects.filter(meeting__status=Meeting.Status.PLANNED).values_list(
        "client_id", flat=True
    )
    clients = Client.objects.filter(organisation_id=p.org_id, closed_at__isnull=True).exclude(
        pk__in=on_list
    )
    due = []
    for client in clients.prefetch_related("assessments"):
        done = [a for a in client.assessments.all() if a.status == RiskAssessment.Status.COMPLETE]
        latest = max(done, key=lambda a: a.completed_at, default=None)
        if latest is not None and "refer_to_meeting" in latest.flags:
            due.append(client)
    return due


def agenda_item_for_principal(p: Principal, meeting: Meeting, case_code: str) -> ItemView:
    views = agenda_for_principal(p, meeting, case_code=case_code)
    if not views:
        raise Http404
    return views[0]
