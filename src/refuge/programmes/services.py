"""State changes of the programme side and of partner support (victim side)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.models import Organisation, User
from refuge.core.roles import Role, can_run_programmes, can_view_cases
from refuge.core.services import ServiceError, data_key_create
from refuge.notifications.services import notify

from . import surveys
from .models import (
    Attendance,
    Group,
    OutcomeResponse,
    Participant,
    PartnerSupport,
    Programme,
    ReferralSource,
    RiskConcern,
    Session,
)


def _programme_side(by: Principal | None, programme: Programme) -> None:
    if by is None:
        return
    require(by, can_run_programmes)
    if by.org_id != programme.organisation_id:
        raise ServiceError(_("This programme belongs to another organisation."), "forbidden")


def _victim_side(by: Principal, support: PartnerSupport) -> None:
    require(by, can_view_cases)
    if by.org_id != support.support_org_id:
        raise ServiceError(_("Only the partner-support organisation can do this."), "forbidden")


def _event(by: Principal | None, action: str, obj, org_slug: str, **details) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type=obj._meta.label_lower,
        target_id=obj.pk,
        target_org_slug=org_slug,
        details=details or None,
    )


# --- programme side ---------------------------------------------------------------------------


def programme_create(
    *,
    by: Principal | None,
    organisation: Organisation,
    name: str,
    partner_support_org: Organisation,
    sessions: int = 30,
    accreditation: str = "",
    missed_sessions_review: int = 3,
) -> Programme:
    if (
        by is not None
        and not (by.role == Role.FACILITATOR and by.org_id == organisation.pk)
        and by.role != Role.ADMIN
    ):
        raise ServiceError(
            _("Only the programme's facilitators or an administrator can create it."), "forbidden"
        )
    if not 1 <= sessions <= 100:
        raise ServiceError(_("A programme has between 1 and 100 sessions."))
    with transaction.atomic():
        prog = Programme.objects.create(
            organisation=organisation,
            name=name,
            sessions=sessions,
            accreditation=accreditation,
            partner_support_org=partner_support_org,
            missed_sessions_review=missed_sessions_review,
        )
        _event(by, "programme.create", prog, organisation.slug)
    return prog


def group_create(
    *,
    by: Principal | None,
    programme: Programme,
    name: str,
    start_date: date,
    facilitators: list[User] = (),
) -> Group:
    _programme_side(by, programme)
    with transaction.atomic():
        group = Group.objects.create(programme=programme, name=name, start_date=start_date)
        group.facilitators.set(facilitators)
        _event(by, "programme.group_create", group, programme.organisation.slug)
    return group


def _participant_code() -> str:
    return "P-" + "".join(secrets.choice("ABCDEFGHJKMNPQRSTVWXYZ23456789") for _ in range(6))


def participant_enrol(
    *,
    by: Principal | None,
    group: Group,
    name: str,
    referral_source: str,
    phone: str = "",
    intake_notes: str = "",
    partner_name: str = "",
    partner_contact: str = "",
    no_partner: bool = False,
    joined_on: date | None = None,
) -> Participant:
    """Enrol a man in a group; his (ex-)partner is offered support by the victim side at once.

    The partner's details are written here but can never be read back by the programme."""
    _programme_side(by, group.programme)
    if referral_source not in ReferralSource.values:
        raise ServiceError(_("Unknown referral source %(source)r.") % {"source": referral_source})
    if not name.strip():
        raise ServiceError(_("The participant's name is needed."))
    with transaction.atomic():
        p = Participant(
            code=_participant_code(),
            group=group,
            data_key=data_key_create(),
            name=name.strip(),
            phone=phone,
            intake_notes=intake_notes,
            referral_source=referral_source,
            joined_on=joined_on or timezone.localdate(),
            created_by=by.name if by else "system",
        )
        p.save()
        support = PartnerSupport(
            participant=p,
            support_org=group.programme.partner_support_org,
            data_key=data_key_create(),
            partner_name=partner_name.strip(),
            partner_contact=partner_contact.strip(),
            status=PartnerSupport.Status.NO_PARTNER
            if no_partner
            else PartnerSupport.Status.TO_OFFER,
        )
        support.save()
        _event(by, "programme.enrol", p, group.programme.organisation.slug)
        _event(by, "partner_support.open", support, support.support_org.slug)
    return p


def session_record(*, by: Principal | None, group: Group, number: int, held_on: date) -> Session:
    _programme_side(by, group.programme)
    if not 1 <= number <= group.programme.sessions:
        raise ServiceError(
            _("Sessions are numbered 1 to %(last)s.") % {"last": group.programme.sessions}
        )
    with transaction.atomic():
        session, created = Session.objects.get_or_create(
            group=group, number=number, defaults={"held_on": held_on}
        )
        if created:
            _event(
                by, "programme.session", session, group.programme.organisation.slug, number=number
            )
    return session


def attendance_mark(
    *, by: Principal | None, session: Session, participant: Participant, mark: str
) -> Attendance:
    """One tap in the register. Absences past the programme's limit put him under review."""
    programme = session.group.programme
    _programme_side(by, programme)
    if participant.group_id != session.group_id:
        raise ServiceError(_("He is not in this group."))
    if mark not in Attendance.Mark.values:
        raise ServiceError(_("Unknown mark %(mark)r.") % {"mark": mark})
    with transaction.atomic():
        row, _created = Attendance.objects.update_or_create(
            session=session,
            participant=participant,
            defaults={"mark": mark, "marked_by": by.name if by else "system"},
        )
        missed = participant.attendance.filter(mark=Attendance.Mark.ABSENT).count()
        if (
            missed >= programme.missed_sessions_review
            and participant.status == Participant.Status.ACTIVE
        ):
            Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.REVIEW)
            participant.status = Participant.Status.REVIEW
            _event(by, "programme.review", participant, programme.organisation.slug, missed=missed)
        _event(by, "programme.attendance", row, programme.organisation.slug, mark=mark)
    return row


def participant_end(
    *, by: Principal | None, participant: Participant, completed: bool, reason: str = ""
) -> Participant:
    programme = participant.group.programme
    _programme_side(by, programme)
    if participant.status in (Participant.Status.COMPLETED, Participant.Status.EXITED):
        raise ServiceError(_("He has already left the programme."), "conflict")
    if not completed and not reason.strip():
        raise ServiceError(_("Say why he left the programme."), "reason_required")
    with transaction.atomic():
        participant.status = (
            Participant.Status.COMPLETED if completed else Participant.Status.EXITED
        )
        participant.exit_reason = "" if completed else reason.strip()[:200]
        participant.ended_on = timezone.localdate()
        participant.save(update_fields=["status", "exit_reason", "ended_on"])
        _event(
            by,
            "programme.complete" if completed else "programme.exit",
            participant,
            programme.organisation.slug,
        )
    return participant


def risk_concern_raise(
    *, by: Principal, participant: Participant, kind: str, text: str
) -> RiskConcern:
    """Straight to the partner's support worker (in-app at once, and by email if she has one).
    The facilitator sees only that it was delivered."""
    _programme_side(by, participant.group.programme)
    if kind not in RiskConcern.Kind.values:
        raise ServiceError(_("Unknown kind of concern %(kind)r.") % {"kind": kind})
    if not text.strip():
        raise ServiceError(_("Describe the concern."))
    support = participant.partner_support
    with transaction.atomic():
        concern = RiskConcern(
            support=support,
            data_key_id=support.data_key_id,
            kind=kind,
            text=text.strip(),
            raised_by=by.name,
            delivered_at=timezone.now(),
        )
        concern.save()
        # The event is the victim side's (its manager sees it); it holds no text.
        _event(by, "partner_support.risk_concern", concern, support.support_org.slug, kind=kind)
        notify(event="risk_concern.raised", about=concern, by=by)
    return concern


# --- victim side ------------------------------------------------------------------------------


def partner_support_update(
    *,
    by: Principal,
    support: PartnerSupport,
    status: str | None = None,
    support_worker: str | None = None,
) -> PartnerSupport:
    _victim_side(by, support)
    if status is not None and status not in PartnerSupport.Status.values:
        raise ServiceError(_("Unknown status %(status)r.") % {"status": status})
    with transaction.atomic():
        if status is not None:
            support.status = status
        if support_worker is not None:
            support.support_worker = support_worker
        support.save(update_fields=["status", "support_worker", "updated_at"])
        _event(
            by, "partner_support.update", support, support.support_org.slug, status=support.status
        )
    return support


def risk_concern_acknowledge(*, by: Principal, concern: RiskConcern) -> RiskConcern:
    _victim_side(by, concern.support)
    with transaction.atomic():
        if concern.acknowledged_at is None:
            concern.acknowledged_at, concern.acknowledged_by = timezone.now(), by.name
            concern.save(update_fields=["acknowledged_at", "acknowledged_by"])
            _event(
                by,
                "partner_support.concern_acknowledged",
                concern,
                concern.support.support_org.slug,
            )
    return concern


# --- outcomes -------------------------------------------------------------------------------


def outcome_record(
    *,
    by: Principal,
    participant: Participant,
    respondent: str,
    phase: str,
    answers: Mapping[str, str],
) -> OutcomeResponse:
    """Participants' measures are the programme's; partners' measures are the victim side's."""
    if respondent == OutcomeResponse.Respondent.PARTICIPANT:
        _programme_side(by, participant.group.programme)
        org_slug = participant.group.programme.organisation.slug
    elif respondent == OutcomeResponse.Respondent.PARTNER:
        _victim_side(by, participant.partner_support)
        org_slug = participant.partner_support.support_org.slug
    else:
        raise ServiceError(_("Unknown respondent %(respondent)r.") % {"respondent": respondent})
    if phase not in OutcomeResponse.Phase.values:
        raise ServiceError(_("Unknown phase %(phase)r.") % {"phase": phase})
    survey = surveys.for_respondent(respondent)
    clean = surveys.clean(survey, answers)
    with transaction.atomic():
        row, _created = OutcomeResponse.objects.update_or_create(
            participant=participant,
            respondent=respondent,
            phase=phase,
            defaults={"survey": survey.key, "answers": clean, "recorded_by": by.name},
        )
        _event(by, "programme.outcome", row, org_slug, respondent=respondent, phase=phase)
    return row
