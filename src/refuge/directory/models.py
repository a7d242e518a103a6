"""Regions, facilities, the services they offer, their public contacts and their house rules.

An organisation (refuge.core) runs one or more facilities: a shelter, a crisis centre's office,
a hotline. House rules are data (HouseRules), because they decide who can be taken (see
refuge.placement.fit). Addresses carry their own visibility (SPEC S1); who may see one is
decided in refuge.directory.selectors only.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from refuge.core.models import Organisation
from refuge.directory.fields import SealedFloatField, SealedTextField


class Region(models.Model):
    """A first-level subdivision (ISO 3166-2), with an approximate centre for distances."""

    code = models.CharField(_("code"), max_length=8, primary_key=True)
    country = models.CharField(_("country"), max_length=2, db_index=True)
    kind = models.CharField(max_length=20)
    district = models.CharField(max_length=12, blank=True)
    name_en = models.CharField(max_length=100)
    name_ru = models.CharField(max_length=100)
    name_ky = models.CharField(max_length=100, blank=True)
    name_cs = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["country", "name_en"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return region_name(self.code, self.name_en, self.name_ru, self.name_ky, self.name_cs)

    @property
    def point(self) -> tuple[float, float]:
        return (self.latitude, self.longitude)


def region_name(code: str, en: str, ru: str, ky: str = "", cs: str = "") -> str:
    """The region's name in the active language (English when there is none)."""
    lang = (get_language() or "en")[:2]
    return {"ru": ru, "ky": ky or ru, "cs": cs}.get(lang) or en


class AddressVisibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PROFESSIONALS = "professionals", _("Professionals only")
    CONFIDENTIAL = "confidential", _("Confidential")


class FacilityKind(models.TextChoices):
    LOW_THRESHOLD_REFUGE = "low_threshold_refuge", _("Low-threshold refuge")
    CRISIS_CENTRE_SHELTER = "crisis_centre_shelter", _("Crisis centre with shelter")
    CRISIS_CENTRE = "crisis_centre", _("Crisis centre without shelter")
    YOUNG_MOTHERS = "young_mothers_shelter", _("Shelter for young mothers")
    NIGHT_SHELTER = "night_shelter", _("Night shelter")
    FAITH_BASED = "faith_based_shelter", _("Faith-based shelter")
    TRAFFICKING = "trafficking_safe_house", _("Safe house for trafficking victims")
    TRANSIT = "transit_house", _("Transit house")
    STATE_REHABILITATION = "state_rehabilitation_centre", _("State social-rehabilitation centre")
    HOTLINE = "hotline", _("Hotline")
    PERPETRATOR_PROGRAMME = "perpetrator_programme", _("Perpetrator programme")
    OTHER = "other", _("Other service")


# Kinds that offer a bed: these are on the vacancy board and in placement search.
ACCOMMODATION_KINDS = frozenset(
    {
        FacilityKind.LOW_THRESHOLD_REFUGE,
        FacilityKind.CRISIS_CENTRE_SHELTER,
        FacilityKind.YOUNG_MOTHERS,
        FacilityKind.NIGHT_SHELTER,
        FacilityKind.FAITH_BASED,
        FacilityKind.TRAFFICKING,
        FacilityKind.TRANSIT,
        FacilityKind.STATE_REHABILITATION,
    }
)


class Faith(models.TextChoices):
    NONE = "", _("—")
    ORTHODOX = "orthodox", _("Orthodox")
    PROTESTANT = "protestant", _("Protestant")
    MUSLIM = "muslim", _("Muslim")


class ServiceKind(models.TextChoices):
    PSYCHOLOGIST = "psychologist", _("Psychologist")
    LAWYER = "lawyer", _("Lawyer")
    GYNAECOLOGIST = "gynaecologist", _("Gynaecologist")
    DOCTOR = "doctor", _("Other doctor")
    CHILD_PSYCHOLOGIST = "child_psychologist", _("Child psychologist")
    HELPLINE_24H = "helpline_24h", _("24-hour helpline")
    HELPLINE = "helpline", _("Helpline")
    COURT_SUPPORT = "court_support", _("Legal support in court")
    POLICE_ACCOMPANIMENT = "police_accompaniment", _("Accompaniment to police")
    PAPERWORK = "paperwork", _("Help with documents")
    SOCIAL_SUPPORT = "social_support", _("Social support")
    MATERIAL_AID = "material_aid", _("Material assistance")
    EMPLOYMENT = "employment", _("Employment help")
    CHILD_SCHOOLING = "child_schooling", _("School places for children")
    OUTREACH = "outreach", _("Counselling at home")
    REHABILITATION = "rehabilitation", _("Rehabilitation")
    AFTERCARE = "aftercare", _("Support after leaving")
    PERPETRATOR_PROGRAMME = "perpetrator_programme", _("Perpetrator programme")
    PARTNER_SUPPORT = "partner_support", _("Support for partners")
    INTERPRETATION = "interpretation", _("Interpretation")
    MIGRANT_ADVICE = "migrant_advice", _("Residence and migration advice")
    AWARENESS = "awareness", _("Information and prevention")


class OrganisationProfile(models.Model):
    """What the directory says about an organisation (core.Organisation holds who it is)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, primary_key=True, related_name="directory_profile"
    )
    hsds_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    alternate_name = models.CharField(_("other name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return str(self.organisation)


class Facility(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Identifiers in HSDS: the facility is one service, at one location.
    hsds_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    hsds_location_id = models.UUIDField(default=uuid.uuid4, editable=False)
    hsds_sal_id = models.UUIDField(default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="facilities"
    )
    name = models.CharField(_("name"), max_length=200)
    alternate_name = models.CharField(_("other name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=FacilityKind.choices)
    faith = models.CharField(_("faith"), max_length=12, choices=Faith.choices, blank=True)
    description = models.TextField(_("description"), blank=True)
    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilities",
        verbose_name=_("region"),
    )
    # The country is known even when the region is not (a confidential centre whose region
    # is not published); with a region it is always the region's.
    country = models.CharField(_("country"), max_length=2, blank=True, db_index=True)
    locality = models.CharField(_("town or village"), max_length=120, blank=True)
    # Sealed at rest under a network key when the address is confidential (issue 14, M4);
    # they read as plain text and floats (see refuge.directory.fields).
    address = SealedTextField(_("street address"), max_length=300, blank=True)
    postal_code = SealedTextField(_("postal code"), max_length=20, blank=True)
    latitude = SealedFloatField(_("latitude"), null=True, blank=True)
    longitude = SealedFloatField(_("longitude"), null=True, blank=True)
    address_visibility = models.CharField(
        _("who may see the address"),
        max_length=16,
        choices=AddressVisibility.choices,
        default=AddressVisibility.CONFIDENTIAL,
    )
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("website"), blank=True)
    stated_capacity = models.PositiveIntegerField(
        _("places as published (people)"), null=True, blank=True
    )
    listed_publicly = models.BooleanField(_("listed in the public directory"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Set when the threat knows where it is (evacuation, SPEC C6); placement never sends anyone.
    compromised_since = models.DateTimeField(null=True, blank=True)
    source_note = models.TextField(_("where these facts come from"), blank=True)
    # Weekly windows in the facility's local time, as refuge.directory.hours dumps them;
    # empty means not stated. Changed by services.facility_hours_set only.
    opening_hours = models.JSONField(_("opening hours"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"
        indexes = [models.Index(fields=["is_active", "kind"])]

    def __str__(self) -> str:
        return self.name

    @property
    def offers_accommodation(self) -> bool:
        return self.kind in ACCOMMODATION_KINDS

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Cost(models.TextChoices):
    NOT_STATED = "", _("not stated")
    FREE = "free", _("Free")
    PAID = "paid", _("Paid")


# The fields of a facility profile that its managers edit (forms, services, HSDS import).
FACILITY_PROFILE_FIELDS = (
    "name",
    "alternate_name",
    "kind",
    "faith",
    "description",
    "region",
    "country",
    "locality",
    "address",
    "postal_code",
    "latitude",
    "longitude",
    "address_visibility",
    "email",
    "website",
    "stated_capacity",
    "listed_publicly",
    "is_active",
    "source_note",
)
# House rules as data: the fields the household fit and the vacancy board read ...
HOUSE_RULE_FIELDS = (
    "women_only",
    "min_age",
    "children_accepted",
    "max_children",
    "boys_max_age",
    "girls_max_age",
    "pets_accepted",
    "wheelchair_accessible",
    "substance_use_accepted",
    "mental_health_accepted",
    "requires_passport",
    "requires_residence_permit",
    "requires_local_registration",
    "foreign_citizens_accepted",
    "staff_languages",
    "max_stay_days",
    "cost",
)
# ... and the free-text ones shown beside them.
HOUSE_RULE_TEXT_FIELDS = ("cost_note", "notes")


class HouseRules(models.Model):
    """Who the facility can take. On yes/no rules ``None`` means "not stated" (call to check);
    on number limits it means "no limit" (see refuge.placement.fit)."""

    facility = models.OneToOneField(
        Facility, on_delete=models.CASCADE, primary_key=True, related_name="rules"
    )
    women_only = models.BooleanField(_("women only"), default=True)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    children_accepted = models.BooleanField(_("children accepted"), null=True, blank=True)
    max_children = models.PositiveSmallIntegerField(
        _("most children per family"), null=True, blank=True
    )
    boys_max_age = models.PositiveSmallIntegerField(
        _("boys accepted up to age"), null=True, blank=True
    )
    girls_max_age = models.PositiveSmallIntegerField(
        _("girls accepted up to age"), null=True, blank=True
    )
    pets_accepted = models.BooleanField(_("pets accepted"), null=True, blank=True)
    wheelchair_accessible = models.BooleanField(_("wheelchair access"), null=True, blank=True)
    substance_use_accepted = models.BooleanField(
        _("women who use alcohol or drugs accepted"), null=True, blank=True
    )
    mental_health_accepted = models.BooleanField(
        _("women with mental-health conditions accepted"), null=True, blank=True
    )
    requires_passport = models.BooleanField(_("passport required"), null=True, blank=True)
    requires_residence_permit = models.BooleanField(
        _("residence permit required (foreign citizens)"), null=True, blank=True
    )
    requires_local_registration = models.BooleanField(
        _("local registration required"), null=True, blank=True
    )
    foreign_citizens_accepted = models.BooleanField(
        _("foreign citizens accepted"), null=True, blank=True
    )
    staff_languages = models.JSONField(_("languages the staff speak"), default=list, blank=True)
    max_stay_days = models.PositiveSmallIntegerField(
        _("longest stay (days)"), null=True, blank=True
    )
    cost = models.CharField(_("cost"), max_length=8, choices=Cost.choices, blank=True)
    cost_note = models.CharField(_("about the cost"), max_length=300, blank=True)
    notes = models.TextField(_("other rules"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "house rules"

    def __str__(self) -> str:
        return f"rules of {self.facility_id}"


class FacilityService(models.Model):
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(_("service"), max_length=32, choices=ServiceKind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "kind"], name="one_service_kind_per_facility"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.facility_id}"


class PhoneKind(models.TextChoices):
    VOICE = "voice", _("Phone")
    CELL = "cell", _("Mobile")
    TEXT = "text", _("SMS")
    FAX = "fax", _("Fax")


class ContactVisibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PROFESSIONALS = "professionals", _("Professionals only")


class Phone(models.Model):
    """A phone number of an organisation or of one of its facilities, kept in E.164."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="directory_phones"
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, null=True, blank=True, related_name="phones"
    )
    number = models.CharField(_("number"), max_length=20)
    extension = models.CharField(_("extension"), max_length=10, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=PhoneKind.choices, default="voice")
    description = models.CharField(_("description"), max_length=200, blank=True)
    visibility = models.CharField(
        _("who may see it"),
        max_length=16,
        choices=ContactVisibility.choices,
        default=ContactVisibility.PUBLIC,
    )
    # phonenumbers knows the number's plan; an unrecognised one is kept (as published) but flagged.
    recognised = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "number"]

    def __str__(self) -> str:
        return self.number
