from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuge.cases.forms import LANGUAGE_CHOICES, ChildrenField
from refuge.cases.models import Document, Need
from refuge.directory.models import ServiceKind
from refuge.directory.pickers import CountryField, RegionField, RegionsField

from .models import DeclineReason, Relocation, TurnAwayReason


class SearchForm(forms.Form):
    woman_age = forms.IntegerField(label=_("Her age"), min_value=10, max_value=120)
    children = ChildrenField()
    other_adults = forms.IntegerField(
        label=_("Other adults"), min_value=0, max_value=10, initial=0, required=False
    )
    pets = forms.IntegerField(label=_("Pets"), min_value=0, max_value=10, initial=0, required=False)
    needs = forms.MultipleChoiceField(
        label=_("Needs"), choices=Need.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    documents = forms.MultipleChoiceField(
        label=_("Documents she has"),
        choices=Document.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    citizenship = CountryField(label=_("Citizenship"))
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=LANGUAGE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    services = forms.MultipleChoiceField(
        label=_("Services she would like"),
        choices=ServiceKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    home_region = RegionField(label=_("Home region"))
    avoid_regions = RegionsField(
        label=_("Regions she must avoid"),
        help_text=_(
            "From her record where it says where he is; choose more with Ctrl or ⌘. "
            "Used for this search only; not stored."
        ),
    )
    min_distance_km = forms.IntegerField(
        label=_("At least this far from them (km)"), min_value=0, max_value=5000, required=False
    )
    stay_days = forms.IntegerField(
        label=_("Days she needs"), min_value=1, max_value=3650, required=False
    )

    def household(self) -> dict:
        d = self.cleaned_data
        return {
            "woman_age": d["woman_age"],
            "children": d["children"],
            "other_adults": d.get("other_adults") or 0,
            "pets": d.get("pets") or 0,
            "needs": d["needs"],
            "documents": d["documents"],
            "citizenship": d.get("citizenship") or "",
            "languages": d["languages"],
            "services": d["services"],
            "home_region": d.get("home_region") or "",
            "avoid_regions": list(d.get("avoid_regions") or []),
            "min_distance_km": d.get("min_distance_km") or 0,
            "stay_days": d.get("stay_days"),
        }


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=DeclineReason.choices)


class TurnAwayForm(forms.Form):
    reasons = forms.MultipleChoiceField(
        label=_("Why she goes without a place"),
        choices=TurnAwayReason.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class RelocationForm(forms.Form):
    mode = forms.ChoiceField(label=_("How"), choices=Relocation.Mode.choices)
    escort = forms.CharField(label=_("Escort"), max_length=200, required=False)
    departs_at = forms.DateTimeField(
        label=_("Departure"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    arrives_at = forms.DateTimeField(
        label=_("Expected arrival"),
        required=False,
        help_text=_("The carriers see the address until some hours after this."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    cost = forms.DecimalField(
        label=_("Cost"), max_digits=10, decimal_places=2, required=False, min_value=0
    )
    paid_by = forms.CharField(label=_("Paid by"), max_length=200, required=False)
    carriers = forms.ModelMultipleChoiceField(
        label=_("Staff carrying it out (they will see the address)"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carriers"].queryset = staff

    def clean(self):
        """Dates that make sense: a typo in the year (1900, 9999) would keep the address
        visible to the carriers for years, or hide it before she travels."""
        data = super().clean()
        now = timezone.now()
        earliest, latest = now - timedelta(days=1), now + timedelta(days=366)
        for name in ("departs_at", "arrives_at"):
            when = data.get(name)
            if when and not earliest <= when <= latest:
                self.add_error(name, _("Give a date between yesterday and a year from now."))
        departs, arrives = data.get("departs_at"), data.get("arrives_at")
        if departs and arrives and arrives < departs:
            self.add_error("arrives_at", _("The expected arrival cannot be before the departure."))
        return data


class ThreatRegionsForm(forms.Form):
    """The regions a coordinator adds to an evacuation's threat, by name."""

    avoid_regions = RegionsField(label=_("Regions to avoid as well"))


class PartnerRequestForm(forms.Form):
    region = RegionField(label=_("Region where she is"), required=True)
    woman_age = forms.IntegerField(label=_("Her age"), min_value=10, max_value=120)
    children = ChildrenField()
    contact = forms.CharField(label=_("How the shelter can reach her safely"), max_length=300)
    details = forms.CharField(
        label=_("What the shelter needs to know (no address)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def request_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "region": d["region"],
            "contact": d["contact"],
            "details": d["details"],
            "household": {"woman_age": d["woman_age"], "children": d["children"]},
        }
