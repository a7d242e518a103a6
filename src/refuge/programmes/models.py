"""Perpetrator programmes (DVPP) and the wall between them and the victim side (SPEC.md C9, S6).

Programme side (facilitators): programmes, groups, participants, sessions, attendance, exits.
Victim side (caseworkers of the partner-support organisation): PartnerSupport holds the
(ex-)partner's contact details and the support offered; RiskConcern carries a facilitator's
concern one way, to her support worker. The programme side reads only `PartnerSupport.status`
and `RiskConcern.delivered_at` through refuge.programmes.selectors; it never reads a partner's
contact, her organisation, a case or a shelter.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core.fields import EncryptedTextField
from refuge.core.models import DataKey, Organisation


class Programme(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programmes"
    )
    name = models.CharField(_("name"), max_length=200)
    sessions = models.PositiveSmallIntegerField(_("number of weekly sessions"), default=30)
    accreditation = models.CharField(_("accreditation standard"), max_length=200, blank=True)
    missed_sessions_review = models.PositiveSmallIntegerField(
        _("missed sessions before a review"), default=3
    )
    # The victim-services organisation that offers support to every participant's partner.
    partner_support_org = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("partner support by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Group(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(_("name"), max_length=100)
    start_date = models.DateField(_("first session"))
    facilitators = models.ManyToManyField("core.User", related_name="programme_groups", blank=True)

    class Meta:
        ordering = ["-start_date"]

    def __str__(self) -> str:
        return self.name


class ReferralSource(models.TextChoices):
    COURT = "court", _("court")
    PROBATION = "probation", _("probation")
    POLICE = "police", _("police")
    SELF = "self", _("self-referral")
    OTHER = "other", _("other agency")


class Participant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("in the programme")
        REVIEW = "review", _("under review (missed sessions)")
        COMPLETED = "completed", _("completed")
        EXITED = "exited", _("left the programme")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=20, unique=True)
    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="participants")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    name = EncryptedTextField(_("name"))
    phone = EncryptedTextField(_("phone"), blank=True)
    intake_notes = EncryptedTextField(_("intake assessment"), blank=True)
    referral_source = models.CharField(
        _("referred by"), max_length=12, choices=ReferralSource.choices
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    exit_reason = EncryptedTextField(_("reason for leaving"), blank=True)
    joined_on = models.DateField(_("joined"))
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Session(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    held_on = models.DateField()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="session_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.group} #{self.number}"


class Attendance(models.Model):
    class Mark(models.TextChoices):
        PRESENT = "present", _("present")
        ABSENT = "absent", _("absent")
        EXCUSED = "excused", _("excused")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="attendance"
    )
    mark = models.CharField(max_length=8, choices=Mark.choices)
    marked_by = models.CharField(max_length=150)
    marked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "participant"], name="attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.participant} {self.mark}"


class PartnerSupport(models.Model):
    """Victim side. The programme only ever learns `status`."""

    class Status(models.TextChoices):
        TO_OFFER = "to_offer", _("support to be offered")
        OFFERED = "offered", _("contact offered")
        MADE = "made", _("contact made")
        DECLINED = "declined", _("declined")
        NO_PARTNER = "no_partner", _("no partner to contact")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="partner_support"
    )
    support_org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partner_supports"
    )
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    partner_name = EncryptedTextField(blank=True)
    partner_contact = EncryptedTextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.TO_OFFER)
    support_worker = models.CharField(max_length=150, blank=True)
    # Set by the victim side when she becomes a client; never shown to the programme.
    client = models.ForeignKey(
        "cases.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"partner support {self.status}"


class RiskConcern(models.Model):
    """A facilitator's concern (a disclosure in group, a threat, a breach), one way."""

    class Kind(models.TextChoices):
        DISCLOSURE = "disclosure", _("disclosure in group")
        THREAT = "threat", _("threat against the partner or children")
        BREACH = "breach", _("breach of an order or agreement")
        OTHER = "other", _("other concern")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    support = models.ForeignKey(PartnerSupport, on_delete=models.CASCADE, related_name="concerns")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    text = EncryptedTextField()
    raised_by = models.CharField(max_length=150)
    raised_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"concern {self.kind}"


class OutcomeResponse(models.Model):
    """A before or after measure, for a participant (programme side) or for his partner (victim
    side, answers never shown to the programme: only aggregate percentages)."""

    class Phase(models.TextChoices):
        BEFORE = "before", _("before")
        AFTER = "after", _("after")

    class Respondent(models.TextChoices):
        PARTICIPANT = "participant", _("participant")
        PARTNER = "partner", _("partner")

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="outcomes")
    respondent = models.CharField(max_length=12, choices=Respondent.choices)
    phase = models.CharField(max_length=8, choices=Phase.choices)
    survey = models.CharField(max_length=60)
    answers = models.JSONField(
        default=dict
    )  # item id -> "yes"/"no"; no free text, nothing identifying
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "respondent", "phase"], name="one_measure_per_phase"
            )
        ]

    def __str__(self) -> str:
        return f"{self.respondent} {self.phase}"
