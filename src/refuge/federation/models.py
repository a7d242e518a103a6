"""Trusted peers, the nonces and message ids already seen, the outbox, and peers' snapshots.

No row here carries a personal field (SPEC S7): an outbox row names a kind and an id, the body
is made when it is sent; the inbox keeps ids; a peer's snapshot is about facilities only.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core.fields import EncryptedTextField


class Peer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The name this instance trusts it under: what the search shows as "network".
    name = models.SlugField(max_length=50, unique=True)
    # What staff read (a slug is an identifier, not a name): "Crisis centres of Kyrgyzstan".
    title = models.CharField(max_length=120, blank=True)
    base_url = models.URLField(max_length=300)
    public_key = models.CharField(max_length=44, unique=True)  # base64 of 32 raw bytes
    # X25519, base64 of 32 bytes: case records are sealed to it. Empty for a peer trusted
    # before sealing keys existed: it cannot receive a record until it is trusted again with one.
    sealing_key = models.CharField(max_length=44, blank=True)
    trusted = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The network's name as staff read it: its title, or the name it is trusted under."""
        return self.title or self.name


class SeenNonce(models.Model):
    """Each signed envelope is accepted once; kept until it would be stale anyway."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=100)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "nonce"], name="federation_nonce_once")
        ]

    def __str__(self) -> str:
        return f"nonce of {self.peer_id}"


class InboxMessage(models.Model):
    """A message id acted on once: a retry after a lost answer is acknowledged, not redone."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="+")
    message_id = models.UUIDField()
    kind = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "message_id"], name="federation_inbox_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        DELIVERED = "delivered"
        FAILED = "failed"  # gave up after the last attempt
        CANCELLED = "cancelled"  # the peer was untrusted before delivery

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)  # the message id
    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="outbox")
    kind = models.CharField(max_length=100)
    subject_id = models.CharField(max_length=64, blank=True)  # an id, never a personal field
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.CharField(max_length=60, blank=True)  # a code, not a text from the peer
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class PeerSnapshot(models.Model):
    """When a peer's availability was last fetched, and what it said its figures' time was."""

    peer = models.OneToOneField(Peer, on_delete=models.CASCADE, related_name="snapshot")
    fetched_at = models.DateTimeField()
    generated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"snapshot of {self.peer_id}"


class PeerFacility(models.Model):
    """One facility of a peer's anonymised snapshot: rules and free places, never a point."""

    peer = models.ForeignKey(Peer, on_delete=models.CASCADE, related_name="facilities")
    remote_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, blank=True)
    region = models.CharField(max_length=10, blank=True)  # ISO 3166-2, the coarsest it shares
    country = models.CharField(max_length=2, blank=True)
    rules = models.JSONField(default=dict)
    services = models.JSONField(default=list)
    capacity = models.JSONField(default=dict)
    availability = models.CharField(max_length=10)  # confirmed | reported | unknown
    figure_at = models.DateTimeField(null=True, blank=True)  # the age of the peer's figure

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["peer", "remote_id"], name="federation_peer_facility")
        ]
        ordering = ["peer", "remote_id"]

    def __str__(self) -> str:
        return f"{self.peer_id}:{self.remote_id}"


class SharingOrganisation(models.Model):
    """An organisation that opts in to share its facilities' anonymised availability."""

    organisation = models.OneToOneField(
        "core.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    since = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"sharing {self.organisation_id}"


class OutgoingReferral(models.Model):
    """A referral of one of our cases to a peer's facility (issue 20, second slice).

    Nothing personal beyond the local case it is about: ``offer`` is exactly what travelled
    (household shape, needs, languages, documents, risk level, regions to avoid)."""

    class Status(models.TextChoices):
        SENT = "sent"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        WITHDRAWN = "withdrawn"
        RELEASED = "released"  # accepted, then the place given up there: she did not come

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey("cases.Client", on_delete=models.PROTECT, related_name="+")
    from_org = models.ForeignKey("core.Organisation", on_delete=models.PROTECT, related_name="+")
    created_by = models.CharField(max_length=150)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="referrals_sent")
    remote_facility_id = models.CharField(max_length=64)
    offer = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    decline_reason = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The hand-over of her record (issue 20, item 4). Her consent to it, for this referral only:
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_by = models.CharField(max_length=150, blank=True)
    # Sealed for the peer's X25519 key (ciphertext only: not even this instance can open it),
    # kept until the peer confirms receipt, then emptied.
    sealed_record = models.JSONField(null=True, blank=True)
    record_sent_at = models.DateTimeField(null=True, blank=True)  # queued to the peer
    record_received_at = models.DateTimeField(null=True, blank=True)  # the peer confirmed
    # Her journey as the receiving network shared it (issue 20, item 5; refuge.federation.
    # travel): way of travel, times, a meeting point it chose to share, the escort's role.
    # Never an address: the receiving network's whitelist and ours (``clean_plan``) agree.
    journey = models.JSONField(null=True, blank=True)
    journey_received_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)  # the peer told us she arrived

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"referral to {self.peer_id} ({self.status})"


class IncomingReferral(models.Model):
    """A peer's referral to one of our shared facilities: the offer as received, whitelisted."""

    class Status(models.TextChoices):
        OPEN = "open"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        WITHDRAWN = "withdrawn"  # by the sending network
        RELEASED = "released"  # accepted, then the place given up here: she did not come

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    peer = models.ForeignKey(Peer, on_delete=models.PROTECT, related_name="referrals_received")
    remote_id = models.UUIDField()  # the sender's referral id
    facility = models.ForeignKey("directory.Facility", on_delete=models.PROTECT, related_name="+")
    offer = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decline_reason = models.CharField(max_length=30, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True)
    # Her case here, opened from the sealed record the sending network handed over.
    client = models.OneToOneField(
        "cases.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    record_received_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)  # she arrived at the facility
    arrived_by = models.CharField(max_length=150, blank=True)
    # The place held for her from acceptance until her stay begins or she is not coming (a
    # withdrawal by the sender, or a release here): a bed like a local referral's hold
    # (refuge.referrals.hooks.register_hold_table), so no local referral can take it while
    # she crosses the border. No expiry: an accepted place waits for her.
    hold_room = models.ForeignKey(
        "vacancies.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hold_bed = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_active = models.BooleanField(default=False)
    held_at = models.DateTimeField(null=True, blank=True)
    # Why accepting held no place (refuge.referrals.models.NoHoldReason), for the page.
    no_hold_reason = models.CharField(max_length=12, blank=True, default="")
    # Her stay here, begun in the held bed when she arrived and her record was here.
    stay = models.OneToOneField(
        "cases.Stay", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)  # the place given up here
    released_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["peer", "remote_id"], name="federation_referral_once"),
            models.UniqueConstraint(
                fields=["hold_room", "hold_bed"],
                condition=models.Q(hold_active=True),
                name="federation_one_hold_per_bed",
            ),
        ]

    def __str__(self) -> str:
        return f"referral from {self.peer_id} ({self.status})"


class Journey(models.Model):
    """Her journey to one of our facilities after a peer's referral was accepted (issue 20,
    item 5), planned here, by the receiving side, under this instance's rules.

    The carriers (case staff of the facility's organisation) see the facility's address on the
    journey page until she arrives (bounded by a window after the expected arrival), each
    display audited. The escort's name is encrypted under the journey's own data key and never
    leaves this instance; what the sending network is told is ``refuge.federation.travel``'s
    whitelist: way of travel, times, the meeting point typed here to be shared, the escort's
    role."""

    class Mode(models.TextChoices):
        TAXI = "taxi", _("taxi")
        TRAIN = "train", _("train")
        BUS = "bus", _("bus")
        CAR = "car", _("staff car")
        PLANE = "plane", _("plane")
        OTHER = "other", _("other")

    class EscortRole(models.TextChoices):
        NONE = "none", _("no escort")
        CASEWORKER = "caseworker", _("caseworker")
        VOLUNTEER = "volunteer", _("volunteer")
        DRIVER = "driver", _("driver")
        POLICE = "police", _("police officer")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incoming = models.OneToOneField(
        IncomingReferral, on_delete=models.CASCADE, related_name="journey"
    )
    mode = models.CharField(max_length=8, choices=Mode.choices)
    departs_at = models.DateTimeField(null=True, blank=True)
    arrives_at = models.DateTimeField(null=True, blank=True)
    # Not personal and not the facility's place: a station, a town; told to the sending side.
    meeting_point = models.CharField(max_length=200, blank=True)
    # The escort's name (a person): encrypted, never in a message; only the role travels.
    data_key = models.ForeignKey("core.DataKey", on_delete=models.PROTECT, related_name="+")
    escort = EncryptedTextField(blank=True)
    escort_role = models.CharField(
        max_length=12, choices=EscortRole.choices, default=EscortRole.NONE
    )
    carriers = models.ManyToManyField("core.User", related_name="+", blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"journey {self.pk}"

    @property
    def carriers_see_address_until(self):
        """As a local relocation: the carriers' sight of the address ends this long after the
        expected arrival (else the departure, else when the plan was made), arrived or not."""
        from datetime import timedelta

        from django.conf import settings

        start = self.arrives_at or self.departs_at or self.created_at
        return start + timedelta(hours=settings.REFUGE_CARRIER_ADDRESS_HOURS)
