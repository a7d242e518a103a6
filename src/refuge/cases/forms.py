from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from refuge.core.models import Organisation
from refuge.directory.pickers import CountryField, RegionField

from .models import (
    AftercareTask,
    AgeBand,
    ConsentScope,
    Document,
    HouseholdMember,
    Need,
    ServiceDelivery,
    Sex,
)
from .retention import ErasureReason
from .services import SAFETY_PLAN_SECTIONS

LANGUAGE_CHOICES = [
    ("ru", "русский"),
    ("ky", "кыргызча"),
    ("uz", "oʻzbekcha"),
    ("tg", "тоҷикӣ"),
    ("uk", "українська"),
    ("cs", "čeština"),
    ("en", "English"),
    ("fa", "فارسی"),
    ("fr", "français"),
    ("es", "español"),
]


CHILD = re.compile(r"^\s*([mfмж])\s*(\d{1,2})\s*$", re.IGNORECASE)
MAX_CHILDREN = 20


def children_text(children: list[dict]) -> str:
    """Children as typed in one line: ``m15, f9`` (the inverse of `ChildrenField`)."""
    return ", ".join(("m" if c["sex"] == "male" else "f") + str(c["age"]) for c in children)


class ChildrenField(forms.CharField):
    """Her children in one line, sex and age each: ``m15, f9`` (Russian ``м``/``ж`` too)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Children (sex and age, e.g. m15, f9)"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        super().__init__(**kwargs)

    def clean(self, value):
        out = []
        for part in filter(None, (p.strip() for p in (super().clean(value) or "").split(","))):
            m = CHILD.match(part)
            if not m:
                raise forms.ValidationError(
                    _("Write each child as m or f and the age, e.g. m15, f9.")
                )
            out.append(
                {"sex": "male" if m.group(1).lower() in "mм" else "female", "age": int(m.group(2))}
            )
        if len(out) > MAX_CHILDREN:
            raise forms.ValidationError(_("At most 20 children."))
        return out


def _sensible_birth_date(value):
    """A birth date gives an age of 12 to 110 (a typo such as 2099 or 1800 is caught here,
    before a search prefills an age of -73 or 226)."""
    if value is None:
        return value
    from django.utils import timezone

    today = timezone.localdate()
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    if not 12 <= age <= 110:
        raise forms.ValidationError(
            _("Check the date of birth: it gives an age of %(age)s.") % {"age": age}
        )
    return value


class CaseSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Case code, phone or full name"),
        max_length=200,
        required=False,
        help_text=_(
            "Type her full name as recorded: a name is found only when it matches exactly."
        ),
    )


class _WhatTheSearchNeeds(forms.Form):
    """Her languages, citizenship, documents and needs: the same fields on the intake's first
    step and on her profile tab (each form keeps its own order with ``field_order``)."""

    languages = forms.MultipleChoiceField(
        label=_("Languages she speaks"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    citizenship = CountryField(label=_("Citizenship"))
    documents = forms.MultipleChoiceField(
        label=_("Documents she has"),
        choices=Document.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    needs = forms.MultipleChoiceField(
        label=_("Needs"), choices=Need.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class ClientForm(_WhatTheSearchNeeds):
    name = forms.CharField(
        label=_("Name or alias"),
        max_length=200,
        required=False,
        help_text=_("Use an alias if she prefers; it is encrypted either way."),
    )
    phone = forms.CharField(label=_("Safe phone number"), max_length=40, required=False)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    age_band = forms.ChoiceField(
        label=_("Age band (if the date is not known)"), choices=AgeBand.choices, required=False
    )

    residence_region = RegionField(label=_("Region where she lives"))

    # What the search needs to know about her; the rest of her profile is on the case's tab.
    PROFILE = ("residence_region", "languages", "citizenship", "documents", "needs")
    field_order = ("name", "phone", "birth_date", "age_band", *PROFILE)

    @classmethod
    def initial_for(cls, client) -> dict:
        initial = {f: getattr(client, f) for f in ("name", "age_band", *cls.PROFILE)}
        initial["birth_date"] = client.birth_date or None
        return initial

    def clean_birth_date(self):
        return _sensible_birth_date(self.cleaned_data.get("birth_date"))

    def clean(self):
        data = super().clean()
        if not data.get("birth_date") and not data.get("age_band") and not self.errors:
            raise forms.ValidationError(
                _("Give her date of birth or at least an age band: the search needs her age.")
            )
        return data


class ProfileForm(_WhatTheSearchNeeds):
    name = forms.CharField(label=_("Name or alias"), max_length=200, required=False)
    phone = forms.CharField(label=_("Safe phone number"), max_length=40, required=False)
    safe_contact = forms.CharField(
        label=_("Safe contact (person or way to reach her)"), max_length=300, required=False
    )
    safe_times = forms.CharField(
        label=_("Safe times to call"),
        max_length=200,
        required=False,
        help_text=_("For example: weekdays 10–12, never in the evening."),
    )
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    age_band = forms.ChoiceField(label=_("Age band"), choices=AgeBand.choices, required=False)

    def clean_birth_date(self):
        return _sensible_birth_date(self.cleaned_data.get("birth_date"))

    residence_region = RegionField(label=_("Region of residence"))
    health_notes = forms.CharField(
        label=_("Health and disability needs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    pets = forms.IntegerField(label=_("Pets"), min_value=0, max_value=20, initial=0)
    field_order = (
        "name", "phone", "safe_contact", "safe_times", "birth_date", "age_band", "languages",
        "citizenship", "documents", "residence_region", "needs", "health_notes", "pets",
    )  # fmt: skip


class HouseholdMemberForm(forms.Form):
    relation = forms.ChoiceField(label=_("Relation"), choices=HouseholdMember.Relation.choices)
    age = forms.IntegerField(label=_("Age"), min_value=0, max_value=120)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    name = forms.CharField(label=_("Name (optional)"), max_length=200, required=False)


class OtherPartyForm(forms.Form):
    relation = forms.CharField(
        label=_("Who he is to her (partner, ex-partner, relative…)"), max_length=60
    )
    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    details = forms.CharField(
        label=_("Details that help keep her safe (car, workplace, address)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    region = RegionField(label=_("Region where he is"))


class IntakeHouseholdForm(forms.Form):
    """The intake's second step: who comes with her, and who and where she must avoid."""

    children = ChildrenField(
        help_text=_("Everyone coming with her who is under 18; leave empty if nobody.")
    )
    pets = forms.IntegerField(label=_("Pets"), min_value=0, max_value=10, required=False)
    avoid_relation = forms.CharField(
        label=_("Who he is to her (partner, ex-partner, relative…)"),
        max_length=60,
        required=False,
    )
    avoid_region = RegionField(label=_("Region where he is"))
    keep_avoid = forms.BooleanField(
        label=_("She agrees that we keep who and where she must avoid in her case file"),
        required=False,
        help_text=_(
            "Without her agreement, the region is used for this placement search only and not "
            "stored."
        ),
    )

    def clean(self):
        data = super().clean()
        if data.get("keep_avoid") and not data.get("avoid_region"):
            self.add_error("avoid_region", _("Choose the region where he is, or untick the box."))
        if data.get("keep_avoid") and not data.get("avoid_relation"):
            self.add_error("avoid_relation", _("Say who he is to her, or untick the box."))
        return data


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 4}))
    about_others = forms.BooleanField(
        label=_("Mentions other people (withheld from her own copy)"), required=False
    )


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(label=_("She agrees to"), choices=ConsentScope.choices)
    recipient = forms.ModelChoiceField(
        label=_("With (leave empty for any organisation of the network)"),
        queryset=Organisation.objects.filter(is_active=True),
        required=False,
    )
    days = forms.IntegerField(
        label=_("For how many days"), min_value=1, max_value=3650, initial=180
    )


class AftercareForm(forms.Form):
    kind = forms.ChoiceField(label=_("Follow-up"), choices=AftercareTask.Kind.choices)
    due_on = forms.DateField(
        label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class JudgementForm(forms.Form):
    band = forms.ChoiceField(label=_("Level by professional judgement"))
    reason = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, bands=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["band"].choices = list(bands)


class IncidentForm(forms.Form):
    occurred_on = forms.DateField(
        label=_("Date of the incident"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    forms = forms.MultipleChoiceField(
        label=_("Forms of abuse"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("physical", _("physical")),
            ("psychological", _("psychological")),
            ("economic", _("economic")),
            ("sexual", _("sexual")),
            ("digital", _("digital")),
        ],
    )


SECTION_LABELS = {
    "warning_signs": _("Warning signs that danger is rising"),
    "safe_places": _("Safe places she can go to"),
    "people_to_call": _("People and numbers to call"),
    "leaving_bag": _("What to take when leaving (documents, medicine, money)"),
    "children": _("Children: school, pick-up, what they know"),
    "digital_safety": _("Phone and online safety"),
    "at_work": _("Safety at work or on the way"),
    "after_leaving": _("After leaving: contact, court orders, routines"),
}


class SafetyPlanForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in SAFETY_PLAN_SECTIONS:
            self.fields[key] = forms.CharField(
                label=SECTION_LABELS[key], required=False, widget=forms.Textarea(attrs={"rows": 3})
            )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ServiceForm(forms.Form):
    kind = forms.ChoiceField(label=_("What"), choices=ServiceDelivery.Kind.choices)
    channel = forms.ChoiceField(label=_("How"), choices=ServiceDelivery.Channel.choices)
    delivered_on = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=1, max_value=1440
    )
    language = forms.ChoiceField(
        label=_("Language (for interpretation)"),
        required=False,
        choices=[("", "—"), *LANGUAGE_CHOICES],
    )


class EraseForm(forms.Form):
    """Erasure on request: why (a category), and the case code typed back as confirmation."""

    reason = forms.ChoiceField(
        label=_("Why is the record erased?"),
        choices=ErasureReason.choices,
        widget=forms.RadioSelect,
    )
    confirm = forms.CharField(
        label=_("Type the case code to confirm"),
        max_length=20,
        help_text=_("This cannot be undone: her record cannot be read again, even from a backup."),
    )

    def __init__(self, *args, case_code: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.case_code = case_code

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip().upper()
        if value != self.case_code.upper():
            raise forms.ValidationError(_("Type the case code exactly as it is shown."))
        return value
