"""Referrals with holds, relocation, turn-aways, the waiting list and partner requests (SPEC C6).

A hold lives on the ReferralTarget row (room, bed, expiry): no separate table is scanned. A
hold counts while the target is holding and unexpired, or accepted (until arrival). Expiry is
derived from `hold_expires_at`; `hold_active` is only cleared lazily, under the room lock, so
the partial unique index on (room, bed) stays a true last guard against a double promise.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core.fields import EncryptedTextField
from refuge.core.models import DataKey, Organisation


class Referral(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("waiting for an answer")
        ACCEPTED = "accepted", _("accepted")
        ARRIVED = "arrived", _("arrived")
        WITHDRAWN = "withdrawn", _("withdrawn")
        ENDED = "ended", _("ended without a place")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("cases.Client", on_delete=models.PROTECT, related_name="referrals")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    from_org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals_sent"
    )
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # What matching needs (ages, sexes, needs, languages…): nothing identifying.
    household = models.JSONField()
    # What the receiving side sees before it accepts: the fields the sender chose to share.
    shared_fields = models.JSONField(default=list, blank=True)
    note = EncryptedTextField(_("message to the shelter"), blank=True)
    # The regions she must avoid: kept only with her consent (SPEC C6).
    avoid_regions = models.JSONField(default=list, blank=True)
    hold_minutes = models.PositiveIntegerField(default=120)
    accepted_target = models.ForeignKey(
        "ReferralTarget", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"referral {self.created_at:%Y-%m-%d %H:%M}"


class DeclineReason(models.TextChoices):
    NO_PLACE = "no_place", _("no place after all")
    HOUSEHOLD = "household_does_not_fit", _("the household does not fit our rules")
    SAFETY = "safety", _("not safe for her here")
    NEEDS = "needs_not_met", _("we cannot meet her needs")
    DOCUMENTS = "documents", _("documents required")
    LANGUAGE = "language", _("no common language")
    OTHER = "other", _("other")


class NoHoldReason(models.TextChoices):
    """Why a facility asked in a referral holds no place for her (shown on the referral)."""

    NO_ROOMS = "no_rooms", _("its rooms are not set up in Refuge")
    UNKNOWN = "unknown", _("its free places are not known (no recent report)")
    NO_FIT = "no_fit", _("no room there fits this household")
    TAKEN = "taken", _("the free place was taken before the hold")
    CAP = "cap", _("the limit on open holds was reached")
    LAPSED = "lapsed", _("the hold lapsed")


class ReferralTarget(models.Model):
    class Status(models.TextChoices):
        HOLDING = "holding", _("place held, waiting for an answer")
        PENDING = "pending", _("waiting for an answer (no place held)")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        WITHDRAWN = "withdrawn", _("withdrawn")
        ARRIVED = "arrived", _("arrived")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="targets")
    facility = models.ForeignKey(
        "directory.Facility", on_delete=models.PROTECT, related_name="referral_targets"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    hold_room = models.ForeignKey(
        "vacancies.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="holds"
    )
    hold_bed = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_expires_at = models.DateTimeField(
        null=True, blank=True
    )  # null while accepted: until arrival
    hold_active = models.BooleanField(default=False)
    # When the place was held (a hold placed after a facility's hand report takes a place from
    # that report: refuge.vacancies.availability), and why none is held when none is.
    held_at = models.DateTimeField(null=True, blank=True)
    no_hold_reason = models.CharField(
        max_length=12, choices=NoHoldReason.choices, blank=True, default=""
    )
    decline_reason = models.CharField(max_length=30, choices=DeclineReason.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["referral", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "facility"], name="one_target_per_facility"
            ),
            models.UniqueConstraint(
                fields=["hold_room", "hold_bed"],
                condition=models.Q(hold_active=True),
                name="one_active_hold_per_bed",
            ),
        ]

    def __str__(self) -> str:
        return f"target {self.status}"


class Relocation(models.Model):
    class Mode(models.TextChoices):
        TAXI = "taxi", _("taxi")
        TRAIN = "train", _("train")
        BUS = "bus", _("bus")
        CAR = "car", _("staff car")
        PLANE = "plane", _("plane")
        OTHER = "other", _("other")

    referral = models.OneToOneField(Referral, on_delete=models.CASCADE, related_name="relocation")
    from_region = models.CharField(_("from region"), max_length=10)
    to_region = models.CharField(_("to region"), max_length=10)
    mode = models.CharField(_("how"), max_length=8, choices=Mode.choices)
    # Her data key (the referral's): escort and payer are free text about people.
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    escort = EncryptedTextField(_("escort"), blank=True, bind_to="referral_id")
    departs_at = models.DateTimeField(_("departure"), null=True, blank=True)
    arrives_at = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=10, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="RUB")
    paid_by = EncryptedTextField(_("paid by"), blank=True, bind_to="referral_id")
    # The people carrying it out: they, and only they, see the destination's address.
    carriers = models.ManyToManyField("core.User", related_name="relocations", blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    arrived_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"relocation {self.from_region}→{self.to_region}"

    @property
    def carriers_see_address_until(self):
        """The carriers' sight of the confidential address ends this long after the expected
        arrival (else the departure, else when the plan was made), arrived or not."""
        from datetime import timedelta

        from django.conf import settings

        start = self.arrives_at or self.departs_at or self.created_at
        return start + timedelta(hours=settings.REFUGE_CARRIER_ADDRESS_HOURS)


class TurnAwayReason(models.TextChoices):
    NO_PLACE = "no_place_anywhere", _("no place anywhere")
    HOUSEHOLD = "household_does_not_fit", _("the household does not fit")
    DOCUMENTS = "documents", _("documents")
    LANGUAGE = "language", _("language")
    DISABILITY = "disability", _("disability")
    SUBSTANCE = "substance_use", _("substance use")
    SAFETY = "distance_safety", _("distance or safety")
    DECLINED = "declined_by_her", _("declined by the woman")


class TurnAway(models.Model):
    """A request that ended without a place. Nothing identifying is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    at = models.DateTimeField()
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.CharField(max_length=150)
    region = models.CharField(max_length=10, blank=True)
    household_size = models.PositiveSmallIntegerField()
    household = models.JSONField()
    reasons = models.JSONField(default=list)
    # Unnecessary: at that moment some facility with known availability could have taken her.
    unnecessary = models.BooleanField(default=False)
    could_have = models.JSONField(default=list, blank=True)  # facility ids
    referral = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"turn-away {self.at:%Y-%m-%d}"


class WaitlistEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("cases.Client", on_delete=models.CASCADE, related_name="waitlist")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    household = models.JSONField()
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=150)
    called_back_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["added_at"]

    def __str__(self) -> str:
        return f"waiting since {self.added_at:%Y-%m-%d}"


class PartnerRequest(models.Model):
    """A partner agency (police, social services) asks for a place; it follows only the status."""

    class Status(models.TextChoices):
        NEW = "new", _("received")
        WORKING = "working", _("being handled")
        PLACED = "placed", _("a place was found")
        NOT_PLACED = "not_placed", _("no place was found")
        CLOSED = "closed", _("closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    from_org = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partner_requests"
    )
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    region = models.CharField(_("region"), max_length=10)
    household = models.JSONField()
    contact = EncryptedTextField(_("how to reach her safely"))
    details = EncryptedTextField(_("what the shelter needs to know"), blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.NEW)
    handled_by = models.CharField(max_length=150, blank=True)
    client = models.ForeignKey(
        "cases.Client", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"request {self.status}"


class SearchProbe(models.Model):
    """One search with a distance threshold by one member of staff, kept for an hour only, to
    see unusual patterns (many searches varying the threshold: someone may be locating a
    confidential shelter from yes/no answers; docs/security.md). Nothing about the household or
    her regions: who searched, when, and the threshold as used (rounded to 10 km)."""

    actor = models.CharField(max_length=150)
    at = models.DateTimeField()
    threshold_km = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.at:%Y-%m-%d %H:%M} {self.threshold_km} km"
