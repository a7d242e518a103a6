from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from refuge.core.models import Organisation
from refuge.core.roles import MANAGER_GRANTABLE, OrgKind, Role


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=_("Six-digit code from your authenticator app"),
        regex=r"^\s*\d{6}\s*$",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
    )


class PasswordChangeForm(forms.Form):
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 12 characters; not a common password."),
    )
    repeat = forms.CharField(
        label=_("Repeat the new password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("repeat"):
            raise forms.ValidationError(_("The two passwords are not the same."))
        return data


class StaffForm(forms.Form):
    username = forms.SlugField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles=MANAGER_GRANTABLE, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in roles]


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(label=_("Short name (in addresses)"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgKind.choices)


class AuditFilterForm(forms.Form):
    target = forms.CharField(label=_("Record"), required=False, max_length=64)
    actor = forms.CharField(label=_("Member of staff"), required=False, max_length=150)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), required=False, queryset=Organisation.objects.all()
    )
