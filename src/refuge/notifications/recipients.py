"""Who hears of each kind of event (SPEC C11 "What notifies whom"), as one rule per kind.

A rule reads the event's subject by id in the worker and returns user ids; nothing here is
passed on to a channel but the ids. Other apps never decide recipients: they call `notify`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.apps import apps
from django.db.models import Q

from refuge.core.models import User
from refuge.core.roles import Role

from .models import Event

CASE_STAFF = (Role.CASEWORKER, Role.MANAGER)
Rule = Callable[[Event], Iterable[int]]
RULES: dict[str, Rule] = {}


def rule(*kinds: str) -> Callable[[Rule], Rule]:
    def deco(fn: Rule) -> Rule:
        for kind in kinds:
            RULES[kind] = fn
        return fn

    return deco


def _active() -> Q:
    return Q(is_active=True, membership__is_active=True, membership__organisation__is_active=True)


def staff_of(org_ids: Iterable[int], roles: Iterable[str]) -> list[int]:
    return list(
        User.objects.filter(
            _active(),
            membership__organisation_id__in=list(org_ids),
            membership__role__in=list(roles),
        ).values_list("pk", flat=True)
    )


def coordinators() -> list[int]:
    return list(
        User.objects.filter(_active(), membership__role=Role.COORDINATOR).values_list(
            "pk", flat=True
        )
    )


def by_username(username: str, org_id: int) -> list[int]:
    return list(
        User.objects.filter(
            _active(), username=username, membership__organisation_id=org_id
        ).values_list("pk", flat=True)
    )


def _model(label: str):
    return apps.get_model(label)


def _subject(event: Event):
    return _model(event.about_type).objects.filter(pk=event.about_id).first()


def _facility_orgs(facility_ids: Iterable[str]) -> list[int]:
    Facility = _model("directory.Facility")
    return list(
        Facility.objects.filter(pk__in=list(facility_ids)).values_list("organisation_id", flat=True)
    )


def _sender(referral) -> list[int]:
    """The member of staff who sent the referral; her organisation's referrers if she left."""
    return by_username(referral.created_by, referral.from_org_id) or staff_of(
        [referral.from_org_id], (Role.OPERATOR, Role.COORDINATOR, *CASE_STAFF)
    )


@rule("referral.sent", "referral.withdrawn")
def _receiving_staff(event: Event) -> list[int]:
    return staff_of(_facility_orgs(event.context.get("facility_ids", [])), CASE_STAFF)


@rule("referral.accepted", "referral.declined")
def _referral_sender(event: Event) -> list[int]:
    referral = _subject(event)
    return _sender(referral) if referral else []


@rule("referral.hold_expiring")
def _hold_expiring(event: Event) -> list[int]:
    target = _subject(event)
    if target is None:
        return []
    managers = staff_of([target.facility.organisation_id], (Role.MANAGER,))
    return _sender(target.referral) + managers


@rule("referral.unopened")
def _unopened(event: Event) -> list[int]:
    target = _subject(event)
    if target is None:
        return []
    if event.context.get("step") == 1:
        return staff_of([target.facility.organisation_id], (Role.MANAGER,))
    return coordinators()


@rule("partner_request.created")
def _partner_request(event: Event) -> list[int]:
    return coordinators()


@rule("risk_concern.raised")
def _concern(event: Event) -> list[int]:
    concern = _subject(event)
    if concern is None:
        return []
    support = concern.support
    named = by_username(support.support_worker, support.support_org_id)
    return named or staff_of([support.support_org_id], CASE_STAFF)


@rule("risk_concern.unacknowledged")
def _concern_unacknowledged(event: Event) -> list[int]:
    concern = _subject(event)
    return staff_of([concern.support.support_org_id], (Role.MANAGER,)) if concern else []


@rule("callback.due")
def _callback_due(event: Event) -> list[int]:
    callback = _subject(event)
    if callback is None:
        return []
    return staff_of([callback.organisation_id], (Role.OPERATOR,)) or staff_of(
        [callback.organisation_id], (Role.COORDINATOR, *CASE_STAFF)
    )


@rule("availability.decaying")
def _decaying(event: Event) -> list[int]:
    return staff_of(_facility_orgs([event.about_id]), CASE_STAFF)


@rule("evacuation.proposed")
def _evacuation_proposed(event: Event) -> list[int]:
    return staff_of(_facility_orgs([event.about_id]), CASE_STAFF) + coordinators()


@rule("evacuation.confirmed")
def _evacuation_confirmed(event: Event) -> list[int]:
    orgs = _facility_orgs([event.about_id, *event.context.get("facility_ids", [])])
    return staff_of(orgs, CASE_STAFF)


@rule("meeting.action_due")
def _action_due(event: Event) -> list[int]:
    action = _subject(event)
    if action is None:
        return []
    return list(
        User.objects.filter(_active(), membership__organisation_id=action.assigned_org_id)
        .exclude(membership__role__in=[Role.ANALYST, Role.ADMIN, Role.FACILITATOR])
        .values_list("pk", flat=True)
    )


def _security(event: Event) -> list[int]:
    owner = [event.context["user_id"]] if event.context.get("user_id") else []
    org = event.context.get("organisation_id")
    return owner + (staff_of([org], (Role.MANAGER,)) if org else [])


def resolve(event: Event) -> list[int]:
    """The user ids who hear of this event, each once, without the person who caused it."""
    fn = _security if event.kind.startswith("security.") else RULES.get(event.kind)
    if fn is None:
        return []
    by = event.context.get("by_user_id")
    out = []
    for uid in fn(event):
        if uid not in out and (uid != by or event.kind.startswith("security.")):
            out.append(uid)
    return out
