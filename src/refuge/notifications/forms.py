from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

ZONES = [
    ("Europe/Moscow", _("Moscow time")),
    ("Asia/Bishkek", _("Bishkek time")),
    ("Europe/Prague", _("Prague time")),
    ("Europe/Samara", _("Samara time")),
    ("Asia/Yekaterinburg", _("Yekaterinburg time")),
    ("UTC", _("Coordinated universal time")),
]


class ChannelSettingsForm(forms.Form):
    email = forms.BooleanField(label=_("Email"), required=False)
    telegram = forms.BooleanField(label=_("Telegram"), required=False)
    push = forms.BooleanField(label=_("Notifications on my phone or computer"), required=False)
    quiet_from = forms.TimeField(
        label=_("Quiet from"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_until = forms.TimeField(
        label=_("Quiet until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    timezone = forms.ChoiceField(label=_("My time"), choices=ZONES)

    def clean(self):
        data = super().clean()
        if (data.get("quiet_from") is None) != (data.get("quiet_until") is None):
            raise forms.ValidationError(_("Give both ends of the quiet hours, or neither."))
        return data


class RotaForm(forms.Form):
    facility = forms.ChoiceField(label=_("Facility"))
    week = forms.DateField(label=_("Week starting"), widget=forms.DateInput(attrs={"type": "date"}))
    users = forms.MultipleChoiceField(
        label=_("On call for night alerts"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, facilities=(), staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = [(str(f.pk), f.name) for f in facilities]
        self.fields["users"].choices = [(str(u.pk), u.get_full_name() or u.username) for u in staff]


class PolicyForm(forms.Form):
    escalate_after_minutes = forms.IntegerField(
        label=_("A referral nobody has opened goes to the facility's manager after (minutes)"),
        min_value=1,
        max_value=240,
    )
