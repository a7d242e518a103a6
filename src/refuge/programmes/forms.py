from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PartnerSupport, ReferralSource, RiskConcern


class EnrolForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    referral_source = forms.ChoiceField(label=_("Referred by"), choices=ReferralSource.choices)
    intake_notes = forms.CharField(
        label=_("Intake assessment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    partner_name = forms.CharField(
        label=_("Partner or ex-partner: name"),
        max_length=200,
        required=False,
        help_text=_("Passed to the partner-support service. You will not see it again."),
    )
    partner_contact = forms.CharField(
        label=_("Partner or ex-partner: safe way to contact her"), max_length=200, required=False
    )
    no_partner = forms.BooleanField(label=_("There is no partner to contact"), required=False)


class ConcernForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of concern"), choices=RiskConcern.Kind.choices)
    text = forms.CharField(
        label=_("What happened or was said"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Goes at once to the partner's support worker. You will see only that it was delivered."
        ),
    )


class EndForm(forms.Form):
    completed = forms.TypedChoiceField(
        label=_("Outcome"),
        coerce=lambda v: v == "1",
        choices=[("1", _("completed the programme")), ("0", _("left the programme"))],
    )
    reason = forms.CharField(label=_("Reason for leaving"), max_length=200, required=False)


class SupportForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=PartnerSupport.Status.choices)
    support_worker = forms.CharField(label=_("Support worker"), max_length=150, required=False)


def outcome_form(survey, lang: str, data=None):
    class OutcomeForm(forms.Form):
        phase = forms.ChoiceField(
            label=_("When"), choices=[("before", _("before")), ("after", _("after"))]
        )

    form = OutcomeForm(data)
    for item in survey.items:
        form.fields[item.id] = forms.ChoiceField(
            label=item.label.get(lang) or item.label["en"],
            choices=[("yes", _("yes")), ("no", _("no"))],
            widget=forms.RadioSelect,
        )
    return form
