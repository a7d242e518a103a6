"""Scheduled checks: what becomes urgent with time alone (no service call marks the moment).

Each check raises events with an occurrence key, so running it every minute, or on two workers
at once, notifies each person once per occurrence. Escalation steps are audited (no content).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from refuge.core import audit

from .services import notify, policy

HOLD_WARNING = timedelta(minutes=15)
DECAY_WARNING = timedelta(hours=2)
CONCERN_ESCALATION = timedelta(minutes=30)
CALLBACK_LEAD = timedelta(minutes=5)


def _escalate(*, event: str, about, step: int, org_slug: str) -> bool:
    with transaction.atomic():
        made = notify(event=event, about=about, occurrence=f"step{step}", step=step)
        if made is not None:
            audit.record(
                actor=None,
                action="notification.escalate",
                target_type=about._meta.label_lower,
                target_id=about.pk,
                target_org_slug=org_slug,
                details={"event": event, "step": step},
            )
    return made is not None


def referral_escalations(now: datetime | None = None) -> int:
    """A referral target nobody at the facility has opened within N minutes goes to the
    facility's manager; after 2N, to the network's coordinators."""
    ReferralTarget = apps.get_model("referrals", "ReferralTarget")
    now = now or timezone.now()
    n_minutes = timedelta(minutes=policy().escalate_after_minutes)
    waiting = ReferralTarget.objects.filter(
        status__in=["holding", "pending"],
        seen_at__isnull=True,
        referral__status="open",
        referral__created_at__lte=now - n_minutes,
    ).select_related("referral", "facility__organisation")
    done = 0
    for target in waiting[:500]:
        age = now - target.referral.created_at
        slug = target.facility.organisation.slug
        done += _escalate(event="referral.unopened", about=target, step=1, org_slug=slug)
        if age >= 2 * n_minutes:
            done += _escalate(event="referral.unopened", about=target, step=2, org_slug=slug)
    return done


def concern_escalations(now: datetime | None = None) -> int:
    RiskConcern = apps.get_model("programmes", "RiskConcern")
    now = now or timezone.now()
    done = 0
    for concern in RiskConcern.objects.filter(
        acknowledged_at__isnull=True, raised_at__lte=now - CONCERN_ESCALATION
    ).select_related("support__support_org")[:500]:
        done += _escalate(
            event="risk_concern.unacknowledged",
            about=concern,
            step=1,
            org_slug=concern.support.support_org.slug,
        )
    return done


def hold_expiry_warnings(now: datetime | None = None) -> int:
    """15 minutes before a hold runs out with no answer: the sender and the facility's manager."""
    ReferralTarget = apps.get_model("referrals", "ReferralTarget")
    now = now or timezone.now()
    done = 0
    for target in ReferralTarget.objects.filter(
        status="holding",
        hold_active=True,
        hold_expires_at__gt=now,
        hold_expires_at__lte=now + HOLD_WARNING,
    )[:500]:
        stamp = target.hold_expires_at.strftime("%Y%m%d%H%M")
        done += notify(event="referral.hold_expiring", about=target, occurrence=stamp) is not None
    return done


def decay_warnings(now: datetime | None = None) -> int:
    """2 hours before a hand-reported figure decays to unknown: the facility's staff."""
    FacilityAvailability = apps.get_model("vacancies", "FacilityAvailability")
    now = now or timezone.now()
    done = 0
    for row in FacilityAvailability.objects.filter(source="reported").exclude(
        reported_at__isnull=True, confirmed_at__isnull=True
    ):
        as_of = row.as_of
        expires = as_of + timedelta(hours=row.ttl_hours)
        if now < expires <= now + DECAY_WARNING:
            done += (
                notify(
                    event="availability.decaying",
                    about=("directory.facility", row.facility_id),
                    occurrence=as_of.strftime("%Y%m%d%H%M%S"),
                )
                is not None
            )
    return done


def callbacks_due(now: datetime | None = None) -> int:
    """A callback whose safe window opens within 5 minutes (or is open): its operators."""
    from refuge.hotline import windows

    Callback = apps.get_model("hotline", "Callback")
    now = now or timezone.now()
    done = 0
    for cb in Callback.objects.filter(status="open").select_related("data_key")[:2000]:
        opens = windows.next_open(windows.loads(cb.windows), cb.timezone, now)
        if opens is None or opens > now + CALLBACK_LEAD:
            return_value = 0
        else:
            # Once per window: the window's opening (or, if open, this hour) names the occurrence.
            stamp = (opens if opens > now else now).strftime("%Y%m%d%H")
            return_value = notify(event="callback.due", about=cb, occurrence=stamp) is not None
        done += return_value
    return done


def meeting_actions_due(now: datetime | None = None) -> int:
    """Open meeting actions due today or tomorrow: the agency they were given to, once a day."""
    Action = apps.get_model("meetings", "Action")
    today = timezone.localdate(now or timezone.now())
    done = 0
    for action in Action.objects.filter(status="open", due_on__lte=today + timedelta(days=1)).only(
        "pk", "due_on"
    )[:2000]:
        done += (
            notify(event="meeting.action_due", about=action, occurrence=today.isoformat())
            is not None
        )
    return done
