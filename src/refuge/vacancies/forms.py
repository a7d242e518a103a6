from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refuge.core.widgets import (
    QuickCheckboxInput,
    QuickCheckboxSelectMultiple,
    QuickLabels,
    QuickNumberInput,
    QuickSelect,
    QuickTextInput,
)
from refuge.directory.forms import region_choices
from refuge.directory.regions import region_centre
from refuge.placement import fit
from refuge.placement.geo import coarse_threshold_km

from .board import BoardQuery
from .models import AvailabilitySource, Room, RoomKind

NEED_CHOICES = [
    ("wheelchair", _("Uses a wheelchair")),
    ("substance_use", _("Uses alcohol or drugs")),
    ("mental_health", _("Mental-health condition")),
]


def parse_ages(text: str) -> list[int]:
    ages = []
    for token in re.split(r"[,;\s]+", (text or "").strip()):
        if not token:
            continue
        if not token.isdecimal() or int(token) > 25:  # "²" is a digit, not a number
            raise forms.ValidationError(
                _("Write the ages as numbers separated by commas, for example: 15, 9.")
            )
        ages.append(int(token))
    if len(ages) > 15:
        raise forms.ValidationError(_("That is more children than any room can hold."))
    return ages


class BoardForm(QuickLabels, forms.Form):
    region = forms.ChoiceField(label=_("Where"), required=False, widget=QuickSelect)
    woman_age = forms.IntegerField(
        label=_("Her age"), min_value=10, max_value=110, required=False, widget=QuickNumberInput
    )
    boys = forms.CharField(
        label=_("Sons' ages"),
        required=False,
        max_length=60,
        help_text=_("For example: 15, 9"),
        widget=QuickTextInput,
    )
    girls = forms.CharField(
        label=_("Daughters' ages"), required=False, max_length=60, widget=QuickTextInput
    )
    other_adults = forms.IntegerField(
        label=_("Other adults with her"),
        min_value=0,
        max_value=6,
        required=False,
        widget=QuickNumberInput,
    )
    pets = forms.BooleanField(label=_("Has a pet"), required=False, widget=QuickCheckboxInput)
    needs = forms.MultipleChoiceField(
        label=_("Needs"),
        choices=NEED_CHOICES,
        required=False,
        widget=QuickCheckboxSelectMultiple,
    )
    stay_days = forms.IntegerField(
        label=_("Days she needs"),
        min_value=1,
        max_value=3650,
        required=False,
        widget=QuickNumberInput,
    )
    from_region = forms.ChoiceField(
        label=_("Her home region (for distances)"), required=False, widget=QuickSelect
    )
    min_km = forms.IntegerField(
        label=_("At least this far from it (km)"),
        min_value=1,
        max_value=5000,
        required=False,
        widget=QuickNumberInput,
    )
    only_fitting = forms.BooleanField(
        label=_("Only those that can take her"), required=False, widget=QuickCheckboxInput
    )
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_choices(everywhere=_("Everywhere"))
        self.fields["from_region"].choices = region_choices(everywhere=_("—"), groups=False)

    def clean_boys(self):
        return parse_ages(self.cleaned_data.get("boys", ""))

    def clean_girls(self):
        return parse_ages(self.cleaned_data.get("girls", ""))

    def clean(self):
        data = super().clean()
        if data.get("min_km") and not data.get("from_region"):
            self.add_error("from_region", _("Choose the region she must stay away from."))
        return data

    def grid(self) -> SafeString:
        """The filter's fields as the board's template wrote them (a needs fieldset, boxes
        inside their labels, a label before every other input; help and errors after), in
        Python: eleven fields through the template's loop were a tenth of a region's board.
        tests/vacancies/test_board_grid.py compares it with that template."""
        parts = []
        for field in self:
            if field.is_hidden:
                continue
            label = conditional_escape(field.label)
            parts.append(f'<div class="field field-{escape(field.name)}">')
            if field.name == "needs":
                parts.append(f"<fieldset><legend>{label}</legend>{field}</fieldset>")
            elif getattr(field.field.widget, "input_type", None) == "checkbox":
                parts.append(f'<label class="check">{field} {label}</label>')
            else:
                parts.append(f"{field.label_tag()}{field}")
            if field.help_text:
                parts.append(f'<span class="helptext">{conditional_escape(field.help_text)}</span>')
            if field.errors:
                parts.append(str(field.errors))
            parts.append("</div>")
        return mark_safe("".join(parts))  # noqa: S308 (labels and help escaped; the rest Django's)

    def summary(self) -> str:
        """The household and place asked about, in a few words (for the folded filter)."""
        if not self.is_bound or not self.is_valid():
            return ""
        d = self.cleaned_data
        parts = []
        if d.get("woman_age"):
            parts.append(_("%(n)s years old") % {"n": d["woman_age"]})
        if d.get("boys"):
            parts.append(_("sons %(ages)s") % {"ages": ", ".join(map(str, d["boys"]))})
        if d.get("girls"):
            parts.append(_("daughters %(ages)s") % {"ages": ", ".join(map(str, d["girls"]))})
        if d.get("other_adults"):
            parts.append(_("%(n)s other adults") % {"n": d["other_adults"]})
        if d.get("pets"):
            parts.append(_("a pet"))
        labels = dict(NEED_CHOICES)
        parts += [str(labels[n]).lower() for n in d.get("needs") or []]
        if d.get("stay_days"):
            parts.append(_("%(n)s days") % {"n": d["stay_days"]})
        choices = dict(_flat(self.fields["region"].choices))
        if d.get("region"):
            parts.append(str(choices.get(d["region"], d["region"])))
        if d.get("from_region") and d.get("min_km"):
            parts.append(
                _("at least %(km)s km from %(region)s")
                % {"km": d["min_km"], "region": choices.get(d["from_region"], d["from_region"])}
            )
        return " · ".join(str(p) for p in parts)

    def query(self) -> BoardQuery:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        children = tuple(fit.Child(age, "male") for age in data.get("boys") or []) + tuple(
            fit.Child(age, "female") for age in data.get("girls") or []
        )
        from_region = data.get("from_region") or ""
        min_km = data.get("min_km") or 0
        avoid_points: tuple = ()
        if from_region and min_km:
            centre = region_centre(from_region)
            avoid_points = (centre,) if centre else ()
        household = fit.Household(
            # Without an age the minimum-age rules are not applied (an adult is assumed).
            woman_age=data.get("woman_age") or 30,
            children=children,
            other_adults=data.get("other_adults") or 0,
            pets=1 if data.get("pets") else 0,
            needs=frozenset(data.get("needs") or ()),
            stay_days=data.get("stay_days"),
            avoid_regions=frozenset({from_region}) if (from_region and min_km) else frozenset(),
            avoid_points=avoid_points,
            min_distance_km=coarse_threshold_km(float(min_km)),
        )
        return BoardQuery(
            household=household,
            region=data.get("region") or "",
            from_region=from_region,
            only_fitting=bool(data.get("only_fitting")),
            page=data.get("page") or 1,
        )


def _flat(choices):
    for value, label in choices:
        if isinstance(label, list | tuple):
            yield from label
        else:
            yield value, label


class RoomForm(forms.ModelForm):
    beds = forms.IntegerField(
        label=_("Beds"),
        min_value=1,
        max_value=200,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    class Meta:
        model = Room
        fields = ["name", "kind", "beds", "in_service"]


class SettingsForm(forms.Form):
    source = forms.ChoiceField(
        label=_("How availability is known"), choices=AvailabilitySource.choices
    )
    ttl_hours = forms.IntegerField(
        label=_("A report stays valid for (hours)"),
        min_value=1,
        max_value=336,
        help_text=_("After this the figure shows as unknown until someone reports or confirms it."),
    )
    publish_availability = forms.BooleanField(
        label=_("Publish the number of free beds in the public directory feed"),
        required=False,
        help_text=_(
            "Off by default: public figures bring floods of calls. Professionals always see them."
        ),
    )


class ReportForm(forms.Form):
    """One field per room in service: free beds (shared rooms) or free/taken (family rooms)."""

    def __init__(
        self, *args, rooms: list[Room], current: Mapping[Any, int] | None = None, **kwargs
    ):
        """``current``: the free beds per room as the board shows them now (refuge.vacancies.free),
        so that saving the form unchanged confirms what is shown, admissions since the last
        report included, rather than bringing back the old report."""
        super().__init__(*args, **kwargs)
        self.rooms = rooms
        current = current or {}
        for room in rooms:
            name = f"room_{room.pk}"
            now = current.get(room.pk, room.reported_free_beds)
            if room.kind == RoomKind.FAMILY:
                self.fields[name] = forms.TypedChoiceField(
                    label=_("%(room)s (family room, %(beds)s beds)")
                    % {"room": room.name, "beds": room.beds},
                    choices=[
                        (str(room.beds), pgettext_lazy("room", "Free")),
                        ("0", pgettext_lazy("room", "Taken")),
                    ],
                    coerce=int,
                    initial=str(room.beds if now and now >= room.beds else 0),
                    widget=forms.RadioSelect,
                )
            else:
                # No min/max here: the service refuses bad figures with a clear message.
                self.fields[name] = forms.IntegerField(
                    label=_("%(room)s (shared room, %(beds)s beds): free beds")
                    % {"room": room.name, "beds": room.beds},
                    initial=now if now is not None else 0,
                    widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                )

    def free_beds(self) -> dict[int, int]:
        return {room.pk: self.cleaned_data[f"room_{room.pk}"] for room in self.rooms}
