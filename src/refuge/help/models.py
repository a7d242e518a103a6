"""Edited help texts. The shipped texts live in code (refuge.help.texts); a row here is a
coordinator's edit of one block in one language and replaces the shipped text until it is
reset. Keeping only edits means a release that improves a shipped text reaches every block
nobody has changed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class HelpText(models.Model):
    key = models.CharField(_("text block"), max_length=40)
    language = models.CharField(_("language"), max_length=5)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    # Fingerprint of the shipped text this edit was made over: when a release changes the
    # shipped text, the editors are told their edit may need the same change.
    shipped_hash = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="one_help_text_per_language")
        ]
        ordering = ["key", "language"]

    def __str__(self) -> str:
        return f"{self.key}/{self.language}"
