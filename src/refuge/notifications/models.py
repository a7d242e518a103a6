"""The outbox and everything that decides who hears what, how and when (SPEC C11).

An Event is one thing that happened (a referral sent, a hold about to run out), named by a
unique key so that raising it twice is a no-op. A Delivery is the outbox row: one per event,
recipient and channel, moving queued → sending → sent (or failed, retried with back-off) →
acknowledged. Neither holds a word about a woman, a household or a place: an event points at
its subject by app label and id only (SPEC S7).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    APP = "app", _("in Refuge")
    EMAIL = "email", _("email")
    TELEGRAM = "telegram", _("Telegram")
    PUSH = "push", _("notifications on this phone or computer")


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique: the same event (kind, subject, occurrence) is recorded once, so nobody hears of it
    # twice however often a service or a scheduled check raises it.
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=60)
    about_type = models.CharField(max_length=60)  # "referrals.referral"
    about_id = models.CharField(max_length=64)
    # Ids that the recipient rules need (a facility, an organisation, a user): never content.
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dispatched_at", "created_at"], name="notif_event_todo")]

    def __str__(self) -> str:
        return f"{self.kind} {self.about_type}:{self.about_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("waiting to be sent")
        SENDING = "sending", _("being sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        ACKNOWLEDGED = "acknowledged", _("seen")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    # Whose manager sees a failure: the recipient's organisation when the row was made.
    organisation = models.ForeignKey(
        "core.Organisation", on_delete=models.CASCADE, null=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt may start (quiet hours, back-off); null when nothing is to be done.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Set when an attempt starts (the attempt is recorded before anything leaves the system).
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=60, blank=True)  # a reason code, never content
    provider_ref = models.CharField(max_length=120, blank=True)  # e.g. Telegram's message id
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user", "channel"], name="one_delivery_per_event_user_channel"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notif_delivery_due"),
            models.Index(fields=["organisation", "status"], name="notif_delivery_org"),
            models.Index(fields=["user", "channel", "status"], name="notif_delivery_user"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"


class ChannelSettings(models.Model):
    """Each channel is opt-in per person; quiet hours hold back everything but the in-app item
    unless she is on call (OnCall) for the facility concerned."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    email = models.BooleanField(_("by email"), default=False)
    telegram = models.BooleanField(_("by Telegram"), default=False)
    push = models.BooleanField(_("on this phone or computer"), default=False)
    quiet_from = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_until = models.TimeField(_("quiet until"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"notification settings of {self.user_id}"


class TelegramLink(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_link"
    )
    chat_id = models.BigIntegerField(unique=True)
    linked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"telegram link of {self.user_id}"


class TelegramLinkCode(models.Model):
    """A one-time code for `/start <code>`: only its SHA-256 is kept; 10 minutes, single use."""

    code_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"telegram code of {self.user_id}"


class PushSubscription(models.Model):
    """One per device (its push endpoint is unique). Dropped at sign-out of the session that
    made it, at deactivation, and when the push service answers 404 or 410."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    # SHA-256 of the session key that subscribed, so sign-out drops this device's subscription.
    session_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"push subscription of {self.user_id}"


class OnCall(models.Model):
    """Who gets night alerts for a facility in a week (Monday to Sunday), set by its manager."""

    facility = models.ForeignKey(
        "directory.Facility", on_delete=models.CASCADE, related_name="on_call"
    )
    week = models.DateField()  # the Monday
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    set_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["week"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "week", "user"], name="on_call_once")
        ]

    def __str__(self) -> str:
        return f"on call {self.week}"


class NetworkPolicy(models.Model):
    """One row: the network's notification settings (escalation times), set by a coordinator."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    escalate_after_minutes = models.PositiveSmallIntegerField(
        _("a referral nobody opened goes to the manager after (minutes)"), default=10
    )
    updated_by = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "notification policy"


class ScheduleRun(models.Model):
    """One row per scheduled job and period: whoever inserts it runs the job (two workers can
    tick at once; the unique constraint lets exactly one of them win)."""

    job = models.CharField(max_length=60)
    period = models.BigIntegerField()  # the period's start, in seconds since the epoch
    claimed_by = models.CharField(max_length=64)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "period"], name="schedule_once")]

    def __str__(self) -> str:
        return f"{self.job} {self.period}"
