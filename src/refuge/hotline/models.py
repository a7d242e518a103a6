"""Calls from the shared PBX, their wrap-up codes, and callbacks.

A call never holds the caller's number: only a keyed HMAC of it (`caller_key`, for
repeat-caller detection, forgotten after the repeat window, see services.caller_keys_forget)
and the region it comes from. Callbacks are different: the woman gives a safe number to be
called on, so it is kept, encrypted with her own data key, like a client record.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refuge.core.fields import EncryptedTextField
from refuge.core.models import DataKey, Organisation

from . import merge


class Provider(models.TextChoices):
    MANGO = "mango", "Mango Office"
    TWILIO = "twilio", "Twilio"
    JSON = "json", _("Other PBX (JSON)")
    MANUAL = "manual", _("Entered by hand")


class CallState(models.TextChoices):
    APPEARED = merge.APPEARED, _("ringing")
    CONNECTED = merge.CONNECTED, _("in progress")
    ON_HOLD = merge.ON_HOLD, _("on hold")
    DISCONNECTED = merge.DISCONNECTED, _("ended")


class Direction(models.TextChoices):
    INCOMING = merge.INCOMING, _("incoming")
    OUTGOING = merge.OUTGOING, _("outgoing")
    INTERNAL = merge.INTERNAL, _("internal")


class RegionSource(models.TextChoices):
    NUMBER = "number", _("area code of the number")
    LINE = "line", _("regional line")
    COUNTRY = "country", _("country only")
    PBX = "pbx", _("given by the PBX")
    MANUAL = "manual", _("entered by the operator")
    UNKNOWN = "", _("not known")


class Line(models.Model):
    """A number (or PBX line name) calls come in on. Lines are the organisations' own numbers,
    never a caller's. An unknown line is registered on its first call, without an owner: its
    calls are seen by coordinators until an administrator gives it to an organisation."""

    number = models.CharField(_("number or line name"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotline_lines",
        verbose_name=_("organisation"),
    )
    default_country = models.CharField(
        _("country for national-format numbers"), max_length=2, default="RU"
    )
    region = models.CharField(_("region of the line"), max_length=10, blank=True)
    service_area = models.CharField(
        _("service area"),
        max_length=300,
        blank=True,
        help_text=_("Region or country codes, comma-separated, e.g. KG or RU-MOW,RU-MOS."),
    )
    region_from_line = models.BooleanField(
        _("callers are in the line's region"),
        default=False,
        help_text=_(
            "A regional number: when the caller's number gives only the country (a mobile), "
            "the call is counted in the line's region."
        ),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "number"]

    def __str__(self) -> str:
        return self.name or self.number


class OperatorExtension(models.Model):
    """Which member of staff a PBX extension (or Twilio client/SIP identity) belongs to."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hotline_extensions"
    )
    # A SIP address (up to 255 characters) or a Twilio client name can be an identity.
    identity = models.CharField(_("extension"), max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.identity


class Call(models.Model):
    """One call (a PBX ``entry_id``), whatever the number of legs, kept once per provider."""

    provider = models.CharField(max_length=10, choices=Provider.choices)
    entry_id = models.CharField(max_length=128)
    # Indexes are few on purpose: an event's update then changes no indexed column (state,
    # times, the aggregate are not indexed), so PostgreSQL can update the row in place (HOT).
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
        db_index=False,  # covered by hotline_call_org_time
    )
    line = models.ForeignKey(
        Line, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.INCOMING
    )
    state = models.CharField(max_length=14, choices=CallState.choices, default=CallState.APPEARED)
    operator_group = models.CharField(max_length=100, blank=True)
    operator_extension = models.CharField(max_length=255, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hotline_calls",
        db_index=False,  # covered by hotline_call_operator
    )
    # PBX times. Derived from the events (see merge.py) each time one arrives.
    created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    forwarded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    answered = models.BooleanField(default=False)
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    disconnect_reason = models.CharField(max_length=20, blank=True)
    entry_result = models.CharField(max_length=20, blank=True)
    has_summary = models.BooleanField(default=False)
    # The caller, without the number.
    caller_key = models.CharField(max_length=64, blank=True)
    caller_known = models.BooleanField(default=False)
    caller_region = models.CharField(max_length=10, blank=True)
    region_source = models.CharField(
        max_length=10, choices=RegionSource.choices, blank=True, default=""
    )
    out_of_region = models.BooleanField(null=True, blank=True)
    repeat_caller = models.BooleanField(default=False)
    # The fold of every event received (merge.py); the source of the fields above.
    aggregate = models.JSONField(default=merge.new_aggregate)
    event_count = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "entry_id"], name="hotline_call_once"),
        ]
        indexes = [
            models.Index(fields=["organisation", "created_at"], name="hotline_call_org_time"),
            models.Index(fields=["caller_key", "created_at"], name="hotline_call_caller"),
            models.Index(fields=["answered_by", "answered"], name="hotline_call_operator"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.entry_id}"

    @property
    def is_live(self) -> bool:
        return self.state != CallState.DISCONNECTED

    @property
    def legs(self) -> list[dict]:
        """The call's legs, as the PBX reported them (derived from the events)."""
        return merge.derive(self.aggregate).legs if self.aggregate.get("v") else []


class CallEvent(models.Model):
    """Every distinct PBX event received, without any number: what was recorded, and when.

    The unique constraint is the last line of defence against recording an event twice; the
    service detects duplicates first, under the call's row lock.
    """

    # No index of its own: the unique constraint below starts with the call.
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(max_length=8)  # "call" or "summary"
    leg_id = models.CharField(max_length=128, blank=True)
    seq = models.BigIntegerField(default=0)
    state = models.CharField(max_length=14, blank=True)
    location = models.CharField(max_length=10, blank=True)
    at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["call", "kind", "leg_id", "seq"], name="hotline_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.kind} {self.leg_id}#{self.seq}"


class PendingEvent(models.Model):
    """A signed, parsed PBX event accepted by the webhook and not yet merged into its call
    (batched ingest, docs/decisions.md). The merger (`refuge hotline-merge`, and the live
    queue's own read) folds these into calls in id order and deletes them in the same
    transaction, so each is merged exactly once. The caller's number is sealed
    (``services.pending_dumps``): it is never stored here in clear.
    """

    id = models.BigAutoField(primary_key=True)
    payload = models.TextField()  # the Inbound as JSON text: no jsonb parsing on the hot path
    received_at = models.DateTimeField()
    # Failed merges of this event (an error in Refuge, logged each time). After
    # `store.MAX_MERGE_ATTEMPTS` it is set aside (`stuck_at`): kept, counted on the quarantine
    # page, no longer retried, so it cannot slow every batch; `refuge hotline-merge
    # --retry-stuck` puts it back once the code is fixed.
    attempts = models.PositiveSmallIntegerField(default=0)
    stuck_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"pending event {self.pk}"


class QuarantinedEvent(models.Model):
    """A correctly signed PBX event that could not be read, kept so that nothing is lost.

    The PBX was answered 2xx (it would otherwise retry for ever); the event waits here until
    the parser is fixed and `refuge replay-calls --quarantine` records it. Every phone number
    in it was replaced by its keyed hash (and the region it comes from) before it was stored:
    "hmac:<key>:<region>:<source>", which is what the call would have kept anyway.
    """

    provider = models.CharField(max_length=10, choices=Provider.choices)
    kind = models.CharField(max_length=10)  # "call", "summary" (Mango) or "status" (Twilio)
    # The event as received, numbers replaced: {"json": …} (Mango) or {"params": …} (Twilio).
    payload = models.JSONField()
    location = models.CharField(max_length=10, blank=True)  # Twilio's ?location=
    digest = models.CharField(max_length=64, unique=True)  # the same event is kept once
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error_code = models.CharField(max_length=32)
    error_field = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    times_received = models.PositiveIntegerField(default=1)
    replayed_at = models.DateTimeField(null=True, blank=True)
    # "recorded" or "duplicate" once replayed; "" while it still cannot be read.
    outcome = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} event ({self.error_code})"


class ContactType(models.TextChoices):
    VICTIM = "victim", _("the woman herself")
    FRIEND_FAMILY = "friend_family", _("friend or family")
    PROFESSIONAL = "professional", _("professional")
    PERSON_CAUSING_HARM = "causing_harm", _("person causing harm")
    SILENT_OTHER = "silent_other", _("silent or other")


class Need(models.TextChoices):
    SHELTER = "shelter", _("safe accommodation")
    COUNSELLING = "counselling", _("psychological support")
    LEGAL = "legal", _("legal advice")
    MEDICAL = "medical", _("medical help")
    SAFETY = "safety", _("safety planning or police")
    SOCIAL = "social", _("social services, money, documents")
    CHILDREN = "children", _("help for children")
    INFORMATION = "information", _("information")
    OTHER = "other", pgettext_lazy("need", "other")


class UnmetReason(models.TextChoices):
    NO_PLACE = "no_place", _("no place free anywhere")
    DOES_NOT_FIT = "does_not_fit", _("household does not fit any rules")
    NO_SERVICE = "no_service", _("service not offered in her region")
    DOCUMENTS = "documents", _("documents or registration required")
    LANGUAGE = "language", _("no common language")
    DECLINED = "declined", _("she declined")
    CALL_ENDED = "call_ended", _("the call ended first")
    OTHER = "other", pgettext_lazy("reason", "other")


class WrapUp(models.Model):
    """The operator's coded account of a call, required before she takes the next one."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="wrapup")
    contact_type = models.CharField(max_length=16, choices=ContactType.choices)
    abuse_physical = models.BooleanField(default=False)
    abuse_psychological = models.BooleanField(default=False)
    abuse_economic = models.BooleanField(default=False)
    abuse_sexual = models.BooleanField(default=False)
    abuse_digital = models.BooleanField(default=False)
    outcome_information = models.BooleanField(default=False)
    outcome_counselling = models.BooleanField(default=False)
    outcome_referral = models.BooleanField(default=False)
    outcome_placement = models.BooleanField(default=False)
    outcome_callback = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField()

    ABUSE = ("physical", "psychological", "economic", "sexual", "digital")
    OUTCOMES = ("information", "counselling", "referral", "placement", "callback")

    def __str__(self) -> str:
        return f"wrap-up of {self.call_id}"

    @property
    def abuse(self) -> list[str]:
        return [a for a in self.ABUSE if getattr(self, f"abuse_{a}")]

    @property
    def outcomes(self) -> list[str]:
        return [o for o in self.OUTCOMES if getattr(self, f"outcome_{o}")]


class WrapUpNeed(models.Model):
    """One need she asked for, met or not (and why not)."""

    wrapup = models.ForeignKey(WrapUp, on_delete=models.CASCADE, related_name="needs")
    need = models.CharField(max_length=16, choices=Need.choices)
    met = models.BooleanField()
    unmet_reason = models.CharField(max_length=16, choices=UnmetReason.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wrapup", "need"], name="hotline_need_once"),
        ]

    def __str__(self) -> str:
        return f"{self.need} ({'met' if self.met else 'unmet'})"


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("to call back")
    DONE = "done", _("reached")
    CLOSED = "closed", _("closed")


class Callback(models.Model):
    """A promise to call her back on a safe number, at a safe time. Personal: encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="hotline_callbacks"
    )
    call = models.ForeignKey(
        Call, on_delete=models.SET_NULL, null=True, blank=True, related_name="callbacks"
    )
    safe_number = EncryptedTextField(_("safe number"))
    name_to_ask = EncryptedTextField(_("name to ask for"), blank=True)
    # JSON list of {"days": [0..6], "start": "HH:MM", "end": "HH:MM"} in her time zone.
    windows = EncryptedTextField(_("safe times"))
    timezone = models.CharField(_("her time zone"), max_length=64)
    may_leave_message = models.BooleanField(_("a message may be left"), default=False)
    language = models.CharField(_("language"), max_length=8, blank=True)
    status = models.CharField(
        max_length=8, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organisation", "status"], name="hotline_cb_org_status")]

    def __str__(self) -> str:
        return f"callback {self.pk}"


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", _("reached her, spoke")
    NO_ANSWER = "no_answer", _("no answer")
    BUSY = "busy", _("busy")
    NOT_SAFE = "not_safe", _("someone else answered or not safe to talk")
    WRONG_NUMBER = "wrong_number", _("number does not work")


class CallbackAttempt(models.Model):
    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    by = models.CharField(max_length=150)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.at:%Y-%m-%d %H:%M}"
