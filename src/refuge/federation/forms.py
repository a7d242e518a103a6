from django import forms
from django.utils.translation import gettext_lazy as _


class TrustForm(forms.Form):
    name = forms.SlugField(
        label=_("Name"),
        max_length=50,
        help_text=_("How this instance knows the network, e.g. kyrgyz-centres."),
    )
    title = forms.CharField(
        label=_("Name shown to staff"),
        max_length=120,
        required=False,
        help_text=_("e.g. Crisis centres of Kyrgyzstan. Left empty, the name above is shown."),
    )
    base_url = forms.URLField(label=_("Address"), max_length=300, assume_scheme="https")
    public_key = forms.CharField(
        label=_("Public key"),
        max_length=60,
        help_text=_(
            "As the other instance's administrator reads it to you: refuge federation-identity."
        ),
    )
    sealing_key = forms.CharField(
        label=_("Key for case records"),
        max_length=60,
        required=False,
        help_text=_(
            "Its second key, read out the same way: without it, her record cannot be handed "
            "over to this network after she agrees. Left empty, a key already kept stays."
        ),
    )
    rotate = forms.BooleanField(
        label=_("Replace the key of the peer trusted under this name"),
        required=False,
        help_text=_("When its key was changed or stolen: the old key is refused from this moment."),
    )


class SharingForm(forms.Form):
    organisation = forms.IntegerField(widget=forms.HiddenInput)
    share = forms.BooleanField(required=False, widget=forms.HiddenInput)


class AnswerForm(forms.Form):
    ACCEPT, DECLINE = "accept", "decline"

    answer = forms.ChoiceField(
        choices=[(ACCEPT, _("Accept")), (DECLINE, _("Decline"))], widget=forms.HiddenInput
    )
    reason = forms.CharField(required=False, max_length=30)
