from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from refuge.core.fields import EncryptedTextField
from refuge.core.models import DataKey, Organisation


class AgeBand(models.TextChoices):
    UNDER_18 = "u18", _("under 18")
    A18_24 = "18-24", "18–24"
    A25_34 = "25-34", "25–34"
    A35_44 = "35-44", "35–44"
    A45_54 = "45-54", "45–54"
    A55_64 = "55-64", "55–64"
    A65 = "65+", _("65 and over")
    UNKNOWN = "", _("not known")


class Document(models.TextChoices):
    PASSPORT = "passport", _("passport")
    RESIDENCE_PERMIT = "residence_permit", _("residence permit")
    LOCAL_REGISTRATION = "local_registration", _("local registration")


class Need(models.TextChoices):
    WHEELCHAIR = "wheelchair", _("wheelchair access")
    SUBSTANCE_USE = "substance_use", _("substance use")
    MENTAL_HEALTH = "mental_health", _("mental-health condition")


class Client(models.Model):
    """A pseudonymous client record. Identity fields are encrypted with her own data key.

    The case code is what staff say and write; names stay in the encrypted fields.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case_code = models.CharField(max_length=20, unique=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clients")
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    name = EncryptedTextField(_("name or alias"), blank=True)
    birth_date = EncryptedTextField(_("date of birth"), blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    # Keyed HMAC of the normalised full name (services.name_index): exact look-up only.
    name_index = models.CharField(max_length=64, blank=True, db_index=True)
    age_band = models.CharField(_("age band"), max_length=8, choices=AgeBand.choices, blank=True)
    safe_contact = EncryptedTextField(_("safe contact"), blank=True)
    safe_times = EncryptedTextField(_("safe times to call"), blank=True)
    health_notes = EncryptedTextField(_("health and disability needs"), blank=True)
    # Not identifying on their own, and needed unencrypted for matching and statistics.
    languages = models.JSONField(_("languages"), default=list, blank=True)
    citizenship = models.CharField(_("citizenship"), max_length=2, blank=True)
    documents = models.JSONField(_("documents she has"), default=list, blank=True)
    residence_region = models.CharField(_("region of residence"), max_length=10, blank=True)
    needs = models.JSONField(_("needs"), default=list, blank=True)
    pets = models.PositiveSmallIntegerField(_("pets"), default=0)
    reporting_consent = models.BooleanField(
        _("may be counted in network statistics"), default=False
    )
    legal_hold = models.BooleanField(_("legal hold"), default=False)
    legal_hold_reason = EncryptedTextField(_("reason for the legal hold"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.case_code

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PersonalPart(models.Model):
    """Base of every record that belongs to a client: encrypted with her data key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE)
    data_key = models.ForeignKey(DataKey, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        abstract = True


class Sex(models.TextChoices):
    FEMALE = "female", _("girl / woman")
    MALE = "male", _("boy / man")


class HouseholdMember(PersonalPart):
    class Relation(models.TextChoices):
        CHILD = "child", _("child")
        ADULT = "adult", _("accompanying adult")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="household")
    relation = models.CharField(
        _("relation"), max_length=10, choices=Relation.choices, default=Relation.CHILD
    )
    age = models.PositiveSmallIntegerField(_("age"))
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    name = EncryptedTextField(_("name"), blank=True)

    class Meta:
        ordering = ["-age"]

    def __str__(self) -> str:
        return f"{self.relation} {self.age}"


class OtherParty(PersonalPart):
    """The person causing harm (or another person she fears). Never in her own copy."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="other_parties")
    relation = EncryptedTextField(_("relation to her"))
    name = EncryptedTextField(_("name"), blank=True)
    details = EncryptedTextField(_("details (address, car, workplace, ...)"), blank=True)
    region = models.CharField(_("region where he is"), max_length=10, blank=True)

    def __str__(self) -> str:
        return self.relation


class RiskAssessment(PersonalPart):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        COMPLETE = "complete", _("complete")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assessments")
    instrument_id = models.CharField(max_length=60)
    instrument_version = models.PositiveIntegerField()
    # Raw answers as JSON, encrypted; the result is kept as computed then and never re-scored.
    answers = EncryptedTextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    score = models.FloatField(null=True, blank=True)
    computed_band = models.CharField(max_length=30, blank=True)
    judgement_band = models.CharField(max_length=30, blank=True)
    judgement_reason = EncryptedTextField(blank=True)
    band = models.CharField(max_length=30, blank=True)
    flags = models.JSONField(default=list, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.instrument_id}@{self.instrument_version} {self.status}"


class SafetyPlan(PersonalPart):
    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="safety_plan")
    sections = EncryptedTextField(default="{}")  # JSON {section id: text}
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"safety plan {self.client_id}"


class CaseNote(PersonalPart):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notes")
    body = EncryptedTextField()
    # Notes about other people (residents, relatives) are withheld from her own copy.
    about_others = models.BooleanField(_("mentions other people"), default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"note {self.created_at:%Y-%m-%d}"


class Incident(models.Model):
    """A recorded incident (date and forms only), for escalation after N in a window."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="incidents")
    occurred_on = models.DateField(_("date"))
    forms = models.JSONField(_("forms of abuse"), default=list, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on"]

    def __str__(self) -> str:
        return f"incident {self.occurred_on}"


class ConsentScope(models.TextChoices):
    REFERRAL = "referral", _("share for a referral or placement")
    MEETING = "meeting", _("discuss at a multi-agency meeting")
    REPORTING = "reporting", _("count in anonymous statistics")
    CONTACT = "contact", _("contact her on her safe number")


class Consent(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    recipient = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient organisation"),
    )
    scope = models.CharField(_("scope"), max_length=20, choices=ConsentScope.choices)
    given_at = models.DateTimeField()
    expires_at = models.DateTimeField(_("expires"))
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.scope} until {self.expires_at:%Y-%m-%d}"


class AftercareTask(PersonalPart):
    class Kind(models.TextChoices):
        HOUSING = "housing", _("housing")
        EMPLOYMENT = "employment", _("employment")
        LEGAL = "legal", _("legal")
        PSYCHOLOGICAL = "psychological", _("psychological")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="aftercare")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    due_on = models.DateField(_("due"))
    assignee = models.CharField(_("caseworker"), max_length=150, blank=True)
    note = EncryptedTextField(_("note"), blank=True)
    done_on = models.DateField(null=True, blank=True)
    outcome = EncryptedTextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["done_on", "due_on"]

    def __str__(self) -> str:
        return f"{self.kind} due {self.due_on}"


class ServiceDelivery(models.Model):
    """A consultation or support act without a stay (seeds 002, 003): counted for funders and
    ministries without naming anyone."""

    class Kind(models.TextChoices):
        LEGAL = "legal", _("legal consultation")
        PSYCHOLOGICAL = "psychological", _("psychological consultation")
        SOCIAL = "social", _("social support")
        MEDICAL = "medical", _("medical help")
        EMPLOYMENT = "employment", _("employment help")
        COURT = "accompaniment_court", _("accompaniment to court")
        POLICE = "accompaniment_police", _("accompaniment to the police")
        INTERPRETATION = "interpretation", _("interpretation")

    class Channel(models.TextChoices):
        IN_PERSON = "in_person", _("in person")
        PHONE = "phone", _("by phone")
        CHAT = "chat", _("by chat")
        HOME = "home_visit", _("at her home")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="services")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("what"), max_length=24, choices=Kind.choices)
    channel = models.CharField(
        _("how"), max_length=12, choices=Channel.choices, default=Channel.IN_PERSON
    )
    language = models.CharField(_("language (interpretation)"), max_length=8, blank=True)
    minutes = models.PositiveSmallIntegerField(_("minutes"), null=True, blank=True)
    delivered_on = models.DateField(_("date"))
    delivered_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-delivered_on", "-created_at"]
        indexes = [models.Index(fields=["organisation", "delivered_on"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.delivered_on}"


class Stay(models.Model):
    """A household in a room. ``bed`` 0 is a whole family room; 1..n a bed of a shared room.

    The partial unique index is the last guard against two women in one bed: the services lock
    the room first, so the index only ever catches a bug.
    """

    class Outcome(models.TextChoices):
        INDEPENDENT = "independent_housing", _("independent housing")
        RELATIVES = "relatives", _("with relatives or friends")
        RETURNED = "returned_to_abuser", _("returned to the abuser")
        MOVED = "moved_to_another_shelter", _("moved to another shelter")
        STATE = "state_housing", _("state or social housing")
        OTHER = "other", _("other")
        UNKNOWN = "unknown", _("left without saying where")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="stays")
    facility = models.ForeignKey(
        "directory.Facility", on_delete=models.PROTECT, related_name="stays"
    )
    room = models.ForeignKey("vacancies.Room", on_delete=models.PROTECT, related_name="stays")
    bed = models.PositiveSmallIntegerField()
    household_size = models.PositiveSmallIntegerField()
    admitted_at = models.DateTimeField()
    admitted_by = models.CharField(max_length=150)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.CharField(max_length=150, blank=True)
    outcome = models.CharField(_("outcome"), max_length=30, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["-admitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "bed"],
                condition=models.Q(discharged_at__isnull=True),
                name="one_active_stay_per_bed",
            ),
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(discharged_at__isnull=True),
                name="one_active_stay_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"stay {self.admitted_at:%Y-%m-%d}"

    @property
    def days(self) -> int:
        from django.utils import timezone

        return ((self.discharged_at or timezone.now()) - self.admitted_at).days
