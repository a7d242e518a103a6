"""Rooms and beds, and how each facility's availability is known.

Availability itself is never stored as a total: refuge.vacancies.availability derives it, from
the rooms and the occupancy the system knows (facilities that use the system) or from the
free beds a member of staff last reported for each room (facilities that do not).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.directory.models import Facility

DEFAULT_TTL_HOURS = 24


class RoomKind(models.TextChoices):
    FAMILY = "family", _("Family room (one household)")
    DORM = "dorm", _("Shared room (single women)")


class Room(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=8, choices=RoomKind.choices)
    beds = models.PositiveSmallIntegerField(_("beds"))
    in_service = models.BooleanField(_("in service"), default=True)
    # The last hand report for this room (facilities that do not use the system). A family
    # room is either free (all its beds) or taken (0).
    reported_free_beds = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="room_name_unique"),
            models.CheckConstraint(
                condition=models.Q(beds__gte=1) & models.Q(beds__lte=200), name="room_beds_range"
            ),
            models.CheckConstraint(
                condition=models.Q(reported_free_beds__isnull=True)
                | models.Q(reported_free_beds__lte=models.F("beds")),
                name="room_free_within_beds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.beds})"


class AvailabilitySource(models.TextChoices):
    REPORTED = "reported", _("Reported by hand")
    SYSTEM = "system", _("Derived from stays and holds in Refuge")


class FacilityAvailability(models.Model):
    """How a facility's figure is known, and how fresh the last hand report is."""

    facility = models.OneToOneField(
        Facility, on_delete=models.CASCADE, primary_key=True, related_name="availability"
    )
    source = models.CharField(
        _("how availability is known"),
        max_length=8,
        choices=AvailabilitySource.choices,
        default=AvailabilitySource.REPORTED,
    )
    ttl_hours = models.PositiveSmallIntegerField(
        _("a report is valid for (hours)"), default=DEFAULT_TTL_HOURS
    )
    # Live figures stay among professionals (SPEC C3: no call floods) unless the facility
    # chooses to publish them in the public HSDS feed.
    publish_availability = models.BooleanField(
        _("publish free beds in the public directory feed"), default=False
    )
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.CharField(max_length=150, blank=True)
    # "Still accurate": the figure was checked without change.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        verbose_name_plural = "facility availability"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ttl_hours__gte=1) & models.Q(ttl_hours__lte=24 * 14),
                name="availability_ttl_range",
            )
        ]

    def __str__(self) -> str:
        return f"availability of {self.facility_id}"

    @property
    def as_of(self):
        times = [t for t in (self.reported_at, self.confirmed_at) if t is not None]
        return max(times) if times else None


class FactsVersion(models.Model):
    """One row whose token changes with every write to what placement search keeps between
    searches (facilities, their house rules and services, regions, organisations): database
    triggers set a new random token in the writing transaction (migration 0002), so a write by
    any process, service, import or bulk statement is seen by the next search in every
    process, and a rolled-back write leaves no token behind (refuge.vacancies.facts)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=64, default="")

    class Meta:
        verbose_name_plural = "facts version"

    def __str__(self) -> str:
        return f"facts version {self.token}"


class RoomsVersion(models.Model):
    """Per facility, a token that database triggers change with every write to its rooms (a
    report's free beds included; migration 0003): placement search keeps each facility's rooms
    between searches and reads again only those of the facilities whose token moved
    (refuge.vacancies.facts). Not a foreign key: a deleted facility's rooms are deleted after
    their version, and their triggers write it again (a row left behind is never read)."""

    facility_id = models.UUIDField(primary_key=True)
    token = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "rooms versions"

    def __str__(self) -> str:
        return f"rooms of {self.facility_id}: {self.token}"
