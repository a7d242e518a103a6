"""Multi-agency risk meetings (seed 001: police, prosecutors, health, education and social
departments meet regularly): high-risk cases on an agenda with the minimum shared, actions
assigned to agencies and followed up. Every sharing rests on consent or a recorded legal basis.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core.fields import EncryptedTextField
from refuge.core.models import DataKey, Organisation


class Area(models.Model):
    name = models.CharField(_("name"), max_length=200)
    coordinator_org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("coordinated by")
    )
    members = models.ManyToManyField(
        Organisation, related_name="meeting_areas", verbose_name=_("agencies")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Meeting(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        HELD = "held", _("held")

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="meetings")
    date = models.DateField(_("date"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PLANNED)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.area} {self.date}"


class AgendaItem(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        ACCEPTED = "accepted", _("on the agenda")
        DECLINED = "declined", _("not taken")
        DISCUSSED = "discussed", _("discussed")

    class Next(models.TextChoices):
        CONTINUE = "continue", _("stays on the list")
        LEAVES = "leaves", _("leaves the list")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    client = models.ForeignKey("cases.Client", on_delete=models.PROTECT, related_name="+")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    proposed_by = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    risk_level = models.CharField(_("risk level"), max_length=30)
    # The agreed minimum shared with the agencies; encrypted with her data key.
    summary = EncryptedTextField(_("agreed summary"))
    consent = models.ForeignKey(
        "cases.Consent", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    legal_basis = EncryptedTextField(_("legal basis (if no consent)"), blank=True)
    repeat = models.BooleanField(default=False)  # on an agenda within the last 12 months
    next_step = models.CharField(max_length=10, choices=Next.choices, blank=True)
    left_reason = EncryptedTextField(_("reason it leaves the list"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "client"], name="client_once_per_meeting")
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.client_id}"


class Action(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        DONE = "done", _("done")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="actions")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    assigned_org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency")
    )
    description = EncryptedTextField(_("action"))
    due_on = models.DateField(_("due"))
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    done_note = EncryptedTextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"action due {self.due_on}"
