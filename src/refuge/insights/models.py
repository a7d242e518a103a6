"""Outcome surveys of survivors (SPEC C7): before and after, answers only, linked to her case.

Answers are the instrument's codes (yes / no / don't know), never free text, so a response
says nothing about who she is; it is still kept with her case (and deleted with it) because it
is about her. Reports show only aggregate percentages, small groups hidden (surveys.py).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core.models import Organisation


class SurvivorOutcome(models.Model):
    class Phase(models.TextChoices):
        BEFORE = "before", _("before support")
        AFTER = "after", _("after support")

    client = models.ForeignKey("cases.Client", on_delete=models.CASCADE, related_name="+")
    # The organisation that asked her (her case may move to another one later).
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    phase = models.CharField(_("when"), max_length=8, choices=Phase.choices)
    survey = models.CharField(max_length=60)  # instrument id@version
    answers = models.JSONField(default=dict)  # item id -> "yes" / "no" / "dk"
    recorded_by = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "phase"], name="insights_one_outcome_per_phase"
            )
        ]
        indexes = [models.Index(fields=["organisation", "recorded_at"])]

    def __str__(self) -> str:
        return f"outcome {self.phase} {self.recorded_at:%Y-%m-%d}"
