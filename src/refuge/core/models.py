from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core import roles
from refuge.core.roles import OrgKind, Role


class Organisation(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    # Some centres will not report to the ministry (seed 002); honoured by network exports.
    in_network_exports = models.BooleanField(_("include in network exports"), default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. Personal data of clients never lives here."""

    must_change_password = models.BooleanField(default=False)
    preferred_language = models.CharField(max_length=8, blank=True)

    @property
    def membership_or_none(self) -> Membership | None:
        try:
            return self.membership
        except Membership.DoesNotExist:
            return None

    @property
    def role(self) -> str | None:
        m = self.membership_or_none
        return m.role if m and m.is_active else None

    @property
    def organisation(self) -> Organisation | None:
        m = self.membership_or_none
        return m.organisation if m and m.is_active else None


class Membership(models.Model):
    """Each user belongs to one organisation with one role (SPEC.md, roles)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.user.username} ({self.role}, {self.organisation.slug})"

    @property
    def requires_second_factor(self) -> bool:
        return roles.requires_second_factor(self.role)

    @property
    def can_view_cases(self) -> bool:
        return roles.can_view_cases(self.role)

    @property
    def can_manage_staff(self) -> bool:
        return roles.can_manage_staff(self.role)

    @property
    def can_administer(self) -> bool:
        return roles.can_administer(self.role)


class ApiKey(models.Model):
    """A machine client's key. Only a SHA-256 of the secret is kept; the key is shown once."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix} ({self.role}, {self.organisation.slug})"


class AuditEvent(models.Model):
    """Append-only and chained: each event's MAC covers its content and the previous MAC.

    Database triggers refuse UPDATE and DELETE (migration 0002); `refuge audit-verify`
    recomputes the chain and reports the first event that does not match.
    """

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True)  # username or "api:<prefix>" or "system"
    actor_role = models.CharField(max_length=20, blank=True)
    organisation_slug = models.CharField(max_length=50, blank=True)  # the actor's
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_org_slug = models.CharField(max_length=50, blank=True)  # owner of what was touched
    details = models.JSONField(default=dict, blank=True)
    ip = models.CharField(max_length=45, blank=True)
    prev_mac = models.CharField(max_length=64)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["target_org_slug", "at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_type}:{self.target_id}"


class AuditHead(models.Model):
    """One row, locked while an event is appended so the chain has no forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head at {self.seq}"


class DataKey(models.Model):
    """A person's data key, wrapped (AES-GCM) by a master key. Shredding erases `wrapped`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    master_key_id = models.CharField(max_length=32)
    wrapped = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)
    destroyed_reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return str(self.id)
