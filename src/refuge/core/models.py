from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuge.core import roles
from refuge.core.fields import EncryptedTextField
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


def default_api_key_expiry():
    return timezone.now() + timedelta(days=settings.REFUGE_API_KEY_DAYS)


class RevokeReason(models.TextChoices):
    """Why a key was revoked: a choice, not free text, so nothing personal is ever typed here."""

    UNUSED = "unused", _("No longer used")
    REPLACED = "replaced", _("Replaced by a new key")
    EXPOSED = "exposed", _("It may have been seen by someone else")
    ENDED = "ended", _("The work it was for has ended")


class DeactivateReason(models.TextChoices):
    """Why a member of staff is deactivated: a choice, so nothing personal is typed here."""

    LEFT = "left", _("Left the organisation")
    LEAVE = "leave", _("On long leave")
    EXPOSED = "exposed", _("Someone else may know the sign-in")
    OTHER = "other", _("Another reason")


class ApiKey(models.Model):
    """A machine client's key. Only a SHA-256 of the secret is kept; the key is shown once.

    Every key expires (``REFUGE_API_KEY_DAYS`` by default) and can be revoked with a reason.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="api_keys"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(default=default_api_key_expiry)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, blank=True, choices=RevokeReason.choices)

    def __str__(self) -> str:
        return f"{self.prefix} ({self.role}, {self.organisation.slug})"

    def is_usable(self, now=None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or timezone.now())


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
    """One row, locked while an event is appended so the chain has no forks.

    ``seal`` is an HMAC of (seq, mac) under a key the database does not hold
    (`refuge.core.audit.head_seal`), so the head cannot be moved back without the key; a trigger
    also refuses to move it back (migration 0004).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="0" * 64)
    seal = models.CharField(max_length=64, blank=True)

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


# --- sign-in protection (refuge.core.lockout) ------------------------------------------------


class KnownBrowser(models.Model):
    """A browser in which a member of staff has completed a sign-in (or opened an e-mailed
    unlock link). Its cookie exempts her from the locks that strangers' failures put on her
    account, so nobody can keep her out from afar (docs/decisions.md, "Lockout")."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_browsers")
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"browser {self.pk} of {self.user_id}"


class SignInFailure(models.Model):
    """One failed sign-in step, or one still being checked (it counts until proven right).

    Rows name the user name as typed (lower-cased), never a password or a code, and are
    forgotten after ``REFUGE_SECOND_FACTOR_MEMORY_DAYS``.
    """

    class Step(models.TextChoices):
        PASSWORD = "password", _("password")
        CODE = "code", _("code")

    username = models.CharField(max_length=150)
    step = models.CharField(max_length=10, choices=Step.choices)
    source = models.CharField(max_length=45, blank=True)
    browser = models.ForeignKey(KnownBrowser, null=True, on_delete=models.CASCADE)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "step", "at"])]

    def __str__(self) -> str:
        return f"{self.step} failure for {self.username}"


class UnlockLink(models.Model):
    """An e-mailed, one-time link that lifts every lock on an account and makes the browser
    that opens it a known one. Only a hash of the token is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="unlock_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"unlock link {self.pk} for {self.user_id}"


# --- break-glass (refuge.core.services) ----------------------------------------------------


class BreakGlass(models.Model):
    """The register of access from outside an organisation: an administrator reading its cases
    for a short time, or creating (or resetting the sign-in of) an account that reads them.

    Every entry has a written reason, kept encrypted under its own data key (a reason may
    name someone), and is listed on the organisation's managers' audit page.
    """

    class Kind(models.TextChoices):
        CASE_ACCESS = "case_access", _("Read the organisation's cases")
        ACCOUNT = "account", _("Created or reset an account that reads cases")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_opened")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="break_glass"
    )
    # For an account entry: whose account, and what was done (an audit action name).
    subject = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=40, blank=True)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    reason = EncryptedTextField()
    opened_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["organisation", "opened_at"])]

    def __str__(self) -> str:
        return f"break-glass {self.pk} ({self.kind}, {self.organisation_id})"

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.kind == self.Kind.CASE_ACCESS
            and self.closed_at is None
            and self.expires_at is not None
            and self.expires_at > now
        )


class RateCounter(models.Model):
    """How many times one principal did one thing in one fixed window (refuge.core.limits).

    Kept in the database, like sign-in failures, so that every web worker counts the same
    requests; rows of past windows are deleted as new windows start."""

    bucket = models.CharField(max_length=120)  # "referral_create:key:12", "search:user:7"
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["bucket", "window_start"], name="one_counter_per_window"
            )
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.bucket} since {self.window_start:%Y-%m-%d %H:%M}: {self.hits}"


class FormSubmission(models.Model):
    """A one-time form token that has been sent (issue 16: a double submit never makes two
    records). The first request with a token claims its row; a second one finds it and is sent
    where the first led. Holds no personal field: the token, who sent it and a local path."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    result = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("sent form")

    def __str__(self) -> str:
        return f"form {self.token[:6]}… by {self.user_id}"
