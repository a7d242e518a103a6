from __future__ import annotations

from django import forms
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from . import hours
from .models import (
    FACILITY_PROFILE_FIELDS,
    HOUSE_RULE_FIELDS,
    HOUSE_RULE_TEXT_FIELDS,
    ContactVisibility,
    Facility,
    FacilityKind,
    HouseRules,
    OrganisationProfile,
    PhoneKind,
    Region,
    ServiceKind,
    region_name,
)
from .regions import countries, country_name, district_name, region_data


def region_choices(*, everywhere: str, groups: bool = True) -> list:
    """Regions grouped by country (no query: from the shipped region file). With ``groups``
    a whole country or federal district can be chosen too."""
    data = region_data()
    choices: list = [("", everywhere)]
    for country in data["countries"]:
        options = []
        if groups:
            options.append(
                (
                    country["code"],
                    _("All of %(country)s") % {"country": country_name(country["code"])},
                )
            )
            for d in data["districts"]:
                if d["country"] == country["code"]:
                    options.append((d["code"], district_name(d["code"])))
        regions = [r for r in data["regions"] if r["country"] == country["code"]]
        named = sorted(
            (
                (
                    r["code"],
                    region_name(r["code"], r["name_en"], r["name_ru"], r["name_ky"], r["name_cs"]),
                )
                for r in regions
            ),
            key=lambda c: c[1],
        )
        options += named
        choices.append((country_name(country["code"]), options))
    return choices


TRI_STATE = [("", _("not stated")), ("true", _("yes")), ("false", _("no"))]


class TriStateField(forms.NullBooleanField):
    widget = forms.Select(choices=TRI_STATE)


class RegionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name} ({obj.code})"


class FacilityForm(forms.ModelForm):
    region = RegionField(
        queryset=Region.objects.order_by("country", "name_en"),
        required=False,
        label=_("Region"),
        empty_label=_("not known"),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    country = forms.ChoiceField(
        label=_("Country"),
        required=False,
        help_text=_("Needed only when the region is not known; a region decides the country."),
    )
    services = forms.MultipleChoiceField(
        label=_("Services offered"),
        choices=ServiceKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Facility
        fields = list(FACILITY_PROFILE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "source_note": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "address_visibility": _(
                "Confidential: only your organisation's staff (and, per placement, the people "
                "carrying it out) see the address; every display is logged. Public views show the "
                "region only."
            ),
            "faith": _("Only for a faith-based shelter."),
            "latitude": _("Optional. Decimal degrees, e.g. 55.7558."),
            "stated_capacity": _(
                "As the facility publishes it; the real figure comes from the rooms."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = FacilityKind.choices
        self.fields["country"].choices = [("", _("not known"))] + [
            (c, country_name(c)) for c in countries()
        ]
        if self.instance.pk:
            self.initial["services"] = [s.kind for s in self.instance.services.all()]


class RulesForm(forms.ModelForm):
    children_accepted = TriStateField(label=_("Children accepted"), required=False)
    pets_accepted = TriStateField(label=_("Pets accepted"), required=False)
    wheelchair_accessible = TriStateField(label=_("Wheelchair access"), required=False)
    substance_use_accepted = TriStateField(
        label=_("Women who use alcohol or drugs accepted"), required=False
    )
    mental_health_accepted = TriStateField(
        label=_("Women with mental-health conditions accepted"), required=False
    )
    requires_passport = TriStateField(label=_("Passport required"), required=False)
    requires_residence_permit = TriStateField(
        label=_("Residence permit required (foreign citizens)"), required=False
    )
    requires_local_registration = TriStateField(
        label=_("Local registration required"), required=False
    )
    foreign_citizens_accepted = TriStateField(label=_("Foreign citizens accepted"), required=False)
    staff_languages = forms.CharField(
        label=_("Languages the staff speak"),
        required=False,
        help_text=_("Two-letter codes separated by commas, for example: ru, ky, en."),
    )

    class Meta:
        model = HouseRules
        fields = [*HOUSE_RULE_FIELDS, *HOUSE_RULE_TEXT_FIELDS]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "women_only": _("Untick if men or mixed households are taken."),
            "max_children": _("Empty: no limit."),
            "boys_max_age": _("Boys up to and including this age. Empty: no limit."),
            "girls_max_age": _("Empty: no limit."),
            "max_stay_days": _("Empty: no limit."),
            "min_age": _("Empty: not stated."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["staff_languages"] = ", ".join(self.instance.staff_languages or [])

    def clean_staff_languages(self) -> list[str]:
        text = self.cleaned_data.get("staff_languages") or ""
        return [t.strip().lower() for t in text.replace(";", ",").split(",") if t.strip()]


class HoursWindowForm(forms.Form):
    """One line of the opening hours: days, and a time to open and to close. A line left
    wholly empty is no line."""

    days = forms.MultipleChoiceField(
        label=_("Days"),
        choices=[(str(d), WEEKDAYS_ABBR[d]) for d in hours.WEEK],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    opens = forms.CharField(label=_("Opens"), max_length=5, required=False)
    closes = forms.CharField(label=_("Closes"), max_length=5, required=False)

    def _time(self, name: str) -> int | None:
        text = (self.cleaned_data.get(name) or "").strip()
        if not text:
            return None
        try:
            return hours.parse_hhmm(text)
        except ValueError:
            raise forms.ValidationError(
                _("Write the time as HH:MM, from 00:00 to 24:00."), code="invalid"
            ) from None

    def clean_opens(self) -> int | None:
        return self._time("opens")

    def clean_closes(self) -> int | None:
        return self._time("closes")

    def clean(self) -> dict:
        data = super().clean()
        days, opens, closes = data.get("days"), data.get("opens"), data.get("closes")
        if self.errors or (not days and opens is None and closes is None):
            return data
        if not days:
            self.add_error("days", _("Choose at least one day."))
        if opens is None:
            self.add_error("opens", _("When does it open?"))
        if closes is None:
            self.add_error("closes", _("When does it close?"))
        if opens is not None and closes is not None and opens >= closes:
            self.add_error(
                "closes",
                _(
                    "It must close after it opens. Hours past midnight are two lines "
                    "(for example 19:00–24:00 and 00:00–08:00)."
                ),
            )
        return data

    @property
    def window(self) -> hours.Window | None:
        data = self.cleaned_data
        if not data.get("days"):
            return None
        return hours.Window(
            tuple(sorted(int(d) for d in data["days"])), data["opens"], data["closes"]
        )


class BaseHoursFormSet(forms.BaseFormSet):
    def windows(self) -> list[hours.Window]:
        return [w for form in self.forms if (w := form.window) is not None]


HoursFormSet = forms.formset_factory(
    HoursWindowForm, formset=BaseHoursFormSet, extra=2, max_num=14, validate_max=True
)


class HoursForm(forms.Form):
    always = forms.BooleanField(
        label=_("Open 24 hours, every day"),
        required=False,
        help_text=_("Tick for a service that never closes; the lines below are then ignored."),
    )


def hours_initial(stored: list | None) -> tuple[bool, list[dict]]:
    """(always open, formset rows) for a facility's stored hours."""
    try:
        windows = hours.loads(stored)
    except ValueError:
        windows = []
    if windows and hours.always_open(windows):
        return True, []
    rows = [
        {
            "days": [str(d) for d in w.days],
            "opens": hours.hhmm(w.opens),
            "closes": hours.hhmm(w.closes),
        }
        for w in windows
    ]
    return False, rows


class PhoneForm(forms.Form):
    number = forms.CharField(label=_("Phone number"), max_length=40)
    kind = forms.ChoiceField(label=_("Kind"), choices=PhoneKind.choices)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    visibility = forms.ChoiceField(label=_("Who may see it"), choices=ContactVisibility.choices)
    country = forms.ChoiceField(label=_("Country (for numbers without +)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", _("from the facility's region"))] + [
            (c, country_name(c)) for c in countries()
        ]


class OrganisationProfileForm(forms.ModelForm):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = OrganisationProfile
        fields = ["alternate_name", "description", "email", "website"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    region = forms.ChoiceField(label=_("Where"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    service = forms.ChoiceField(label=_("Service"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_choices(everywhere=_("Everywhere"))
        self.fields["kind"].choices = [("", _("Any"))] + list(FacilityKind.choices)
        self.fields["service"].choices = [("", _("Any"))] + list(ServiceKind.choices)
