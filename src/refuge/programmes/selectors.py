"""Reads on both sides of the wall. The programme side never touches a PartnerSupport field
other than `status`, nor a RiskConcern field other than `kind`, `raised_at` and `delivered_at`."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from refuge.core import crypto
from refuge.core.access import Principal, audited_read
from refuge.core.roles import can_run_programmes, can_view_cases

from . import surveys
from .models import Group, OutcomeResponse, Participant, PartnerSupport, Programme, RiskConcern

# --- programme side ----------------------------------------------------------------------------


def programmes_for_principal(p: Principal) -> QuerySet[Programme]:
    if p.role is None or not can_run_programmes(p.role):
        raise PermissionDenied
    return Programme.objects.filter(organisation_id=p.org_id)


def groups_for_principal(p: Principal) -> QuerySet[Group]:
    return (
        Group.objects.filter(programme__in=programmes_for_principal(p))
        .select_related("programme")
        .annotate(n_participants=Count("participants"))
    )


def group_for_principal(p: Principal, group_id: int) -> Group:
    try:
        return groups_for_principal(p).get(pk=group_id)
    except Group.DoesNotExist as exc:
        raise Http404 from exc


def participant_for_principal(p: Principal, code: str) -> Participant:
    try:
        participant = (
            Participant.objects.filter(group__programme__in=programmes_for_principal(p))
            .select_related("group__programme")
            .get(code=code)
        )
    except Participant.DoesNotExist as exc:
        raise Http404 from exc
    audited_read(p, participant, target_org_slug=participant.group.programme.organisation.slug)
    return participant


@dataclass(frozen=True)
class PartnerView:
    """All the programme may know about the partner side."""

    status: str
    status_label: str
    concerns: list[tuple[str, object, object]]  # (kind label, raised_at, delivered_at)


def partner_view_for_programme(participant: Participant) -> PartnerView:
    row = (
        PartnerSupport.objects.filter(participant=participant)
        .only("status", "participant_id")
        .first()
    )
    status = row.status if row else PartnerSupport.Status.TO_OFFER
    concerns = [
        (RiskConcern.Kind(k).label, raised, delivered)
        for k, raised, delivered in RiskConcern.objects.filter(
            support__participant=participant
        ).values_list("kind", "raised_at", "delivered_at")
    ]
    return PartnerView(
        status=status, status_label=PartnerSupport.Status(status).label, concerns=concerns
    )


def attendance_summary(group: Group) -> dict:
    rows = group.participants.annotate(
        present=Count("attendance", filter=Q(attendance__mark="present")),
        absent=Count("attendance", filter=Q(attendance__mark="absent")),
        excused=Count("attendance", filter=Q(attendance__mark="excused")),
    )
    return {r.pk: r for r in rows}


# --- victim side -----------------------------------------------------------------------------


def partner_supports_for_principal(p: Principal) -> QuerySet[PartnerSupport]:
    if p.role is None or not can_view_cases(p.role):
        raise PermissionDenied
    return (
        PartnerSupport.objects.filter(support_org_id=p.org_id)
        .select_related("participant__group__programme")
        .annotate(open_concerns=Count("concerns", filter=Q(concerns__acknowledged_at__isnull=True)))
        .order_by("-open_concerns", "-updated_at")
    )


def partner_support_for_principal(p: Principal, support_id) -> PartnerSupport:
    try:
        support = partner_supports_for_principal(p).get(pk=support_id)
    except (PartnerSupport.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    crypto.prefetch_data_keys([support.data_key_id])
    audited_read(p, support, target_org_slug=support.support_org.slug)
    return support


# --- outcomes (aggregate only) ------------------------------------------------------------------

SMALL_CELL = 5


@dataclass(frozen=True)
class OutcomeLine:
    label: str
    before_yes: int
    before_n: int
    after_yes: int
    after_n: int

    @property
    def before_pct(self) -> float | None:
        return None if self.before_n < SMALL_CELL else round(100 * self.before_yes / self.before_n)

    @property
    def after_pct(self) -> float | None:
        return None if self.after_n < SMALL_CELL else round(100 * self.after_yes / self.after_n)


def outcome_report(programme: Programme, respondent: str, lang: str = "en") -> list[OutcomeLine]:
    """Before/after percentages per item; groups smaller than 5 answers are not shown."""
    survey = surveys.for_respondent(respondent)
    rows = OutcomeResponse.objects.filter(
        participant__group__programme=programme, respondent=respondent
    )
    lines = []
    for item in survey.items:
        counts = {"before": [0, 0], "after": [0, 0]}
        for phase, answers in rows.values_list("phase", "answers"):
            if item.id in answers:
                counts[phase][1] += 1
                counts[phase][0] += answers[item.id] == "yes"
        label = item.label.get(lang) or item.label["en"]
        lines.append(
            OutcomeLine(
                label,
                counts["before"][0],
                counts["before"][1],
                counts["after"][0],
                counts["after"][1],
            )
        )
    return lines


def completion(programme: Programme) -> dict[str, int]:
    qs = Participant.objects.filter(group__programme=programme)
    return {status: qs.filter(status=status).count() for status in Participant.Status.values} | {
        "total": qs.count()
    }
