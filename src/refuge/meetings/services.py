"""State changes of multi-agency meetings."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.cases.models import Client, RiskAssessment
from refuge.cases.services import require_consent
from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.models import Organisation
from refuge.core.roles import Role, can_coordinate_meetings, can_propose_to_meetings
from refuge.core.services import ServiceError

from .models import Action, AgendaItem, Area, Meeting


def _event(by: Principal | None, action: str, obj, org_slug: str, **details) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type=obj._meta.label_lower,
        target_id=obj.pk,
        target_org_slug=org_slug,
        details=details or None,
    )


def _coordinator(by: Principal | None, area: Area) -> None:
    if by is None:
        return
    require(by, can_coordinate_meetings)
    if by.org_id != area.coordinator_org_id:
        raise ServiceError(_("Only the coordinator of this area can do this."), "forbidden")


def area_create(
    *, by: Principal | None, name: str, coordinator_org: Organisation, members: list[Organisation]
) -> Area:
    if by is not None and by.role not in (Role.ADMIN, Role.COORDINATOR):
        raise ServiceError(
            _("Only a coordinator or an administrator can set up an area."), "forbidden"
        )
    with transaction.atomic():
        area = Area.objects.create(name=name, coordinator_org=coordinator_org)
        area.members.set(members)
        _event(by, "meeting.area_create", area, coordinator_org.slug)
    return area


def meeting_schedule(*, by: Principal | None, area: Area, on: date) -> Meeting:
    _coordinator(by, area)
    with transaction.atomic():
        meeting = Meeting.objects.create(area=area, date=on, created_by=by.name if by else "system")
        _event(by, "meeting.schedule", meeting, area.coordinator_org.slug, date=on.isoformat())
    return meeting


def latest_band(client: Client) -> str:
    a = (
        client.assessments.filter(status=RiskAssessment.Status.COMPLETE)
        .order_by("-completed_at")
        .first()
    )
    return a.band if a else ""


def agenda_propose(
    *, by: Principal, meeting: Meeting, client: Client, summary: str, legal_basis: str = ""
) -> AgendaItem:
    """The organisation that holds the case proposes it, with the minimum to share.

    Refused unless she consented to discussion at a meeting or a legal basis is recorded."""
    require(by, can_propose_to_meetings)
    if by.org_id != client.organisation_id:
        raise ServiceError(
            _("Only the organisation that holds the case can propose it."), "forbidden"
        )
    if meeting.status != Meeting.Status.PLANNED:
        raise ServiceError(_("This meeting has already been held."), "conflict")
    if not summary.strip():
        raise ServiceError(_("Write the summary the agencies may see."), "summary_required")
    consent = None
    if not legal_basis.strip():
        try:
            consent = require_consent(client, "meeting", meeting.area.coordinator_org)
        except ServiceError as exc:
            raise ServiceError(
                _(
                    "%(refusal)s Without her consent, a case can be proposed only on a recorded "
                    "legal basis."
                )
                % {"refusal": exc.message},
                "no_basis",
            ) from exc
    band = latest_band(client)
    since = timezone.localdate() - timedelta(days=365)
    repeat = AgendaItem.objects.filter(
        client=client,
        meeting__date__gte=since,
        status__in=[AgendaItem.Status.ACCEPTED, AgendaItem.Status.DISCUSSED],
    ).exists()
    with transaction.atomic():
        if AgendaItem.objects.filter(meeting=meeting, client=client).exists():
            raise ServiceError(_("This case is already proposed for this meeting."), "duplicate")
        item = AgendaItem(
            meeting=meeting,
            client=client,
            data_key_id=client.data_key_id,
            proposed_by=by.name,
            risk_level=band or "unknown",
            summary=summary.strip(),
            consent=consent,
            legal_basis=legal_basis.strip()[:300],
            repeat=repeat,
        )
        item.save()
        _event(
            by,
            "meeting.propose",
            item,
            client.organisation.slug,
            meeting=meeting.pk,
            basis="consent" if consent else "legal_basis",
            repeat=repeat,
        )
    return item


def agenda_decide(*, by: Principal, item: AgendaItem, accept: bool) -> AgendaItem:
    _coordinator(by, item.meeting.area)
    with transaction.atomic():
        item.status = AgendaItem.Status.ACCEPTED if accept else AgendaItem.Status.DECLINED
        item.save(update_fields=["status"])
        _event(by, "meeting.agenda_decide", item, item.client.organisation.slug, accept=accept)
    return item


def action_assign(
    *, by: Principal, item: AgendaItem, organisation: Organisation, description: str, due_on: date
) -> Action:
    _coordinator(by, item.meeting.area)
    if item.status not in (AgendaItem.Status.ACCEPTED, AgendaItem.Status.DISCUSSED):
        raise ServiceError(_("Actions go with cases on the agenda."))
    if not item.meeting.area.members.filter(pk=organisation.pk).exists():
        raise ServiceError(_("This agency does not take part in the area's meetings."))
    if not description.strip():
        raise ServiceError(_("Describe the action."))
    with transaction.atomic():
        action = Action(
            item=item,
            data_key_id=item.data_key_id,
            assigned_org=organisation,
            description=description.strip(),
            due_on=due_on,
            created_by=by.name,
        )
        action.save()
        _event(
            by,
            "meeting.action_assign",
            action,
            item.client.organisation.slug,
            agency=organisation.slug,
        )
    return action


def action_complete(*, by: Principal, action: Action, note: str = "") -> Action:
    if not (by.org_id == action.assigned_org_id and by.role == Role.PARTNER) and not (
        by.role == Role.COORDINATOR and by.org_id == action.item.meeting.area.coordinator_org_id
    ):
        raise ServiceError(
            _("Only the agency the action is assigned to, or the coordinator, can close it."),
            "forbidden",
        )
    with transaction.atomic():
        action.status, action.done_note, action.done_at = (
            Action.Status.DONE,
            note.strip(),
            timezone.now(),
        )
        action.save(update_fields=["status", "done_note", "done_at"])
        _event(by, "meeting.action_done", action, action.item.client.organisation.slug)
    return action


def item_conclude(*, by: Principal, item: AgendaItem, stays: bool, reason: str = "") -> AgendaItem:
    """After discussion: the case stays on the list for the next meeting, or leaves it with a reason."""
    _coordinator(by, item.meeting.area)
    if not stays and not reason.strip():
        raise ServiceError(_("Record why the case leaves the list."), "reason_required")
    with transaction.atomic():
        item.status = AgendaItem.Status.DISCUSSED
        item.next_step = AgendaItem.Next.CONTINUE if stays else AgendaItem.Next.LEAVES
        item.left_reason = "" if stays else reason.strip()[:200]
        item.save(update_fields=["status", "next_step", "left_reason"])
        _event(by, "meeting.item_conclude", item, item.client.organisation.slug, stays=stays)
    return item


def meeting_hold(*, by: Principal, meeting: Meeting) -> Meeting:
    _coordinator(by, meeting.area)
    with transaction.atomic():
        meeting.status = Meeting.Status.HELD
        meeting.save(update_fields=["status"])
        _event(by, "meeting.held", meeting, meeting.area.coordinator_org.slug)
    return meeting
