from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refuge.core.models import Organisation, RevokeReason
from refuge.core.roles import ADMIN_GRANT_NEEDS_REASON, MANAGER_GRANTABLE, OrgKind, Role


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


class ReauthForm(forms.Form):
    """Her password again, and a new code when she has an authenticator."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args, needs_code: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_code:
            self.fields["code"] = forms.RegexField(
                label=_("A new six-digit code from your authenticator app"),
                regex=r"^\s*\d{6}\s*$",
                widget=forms.TextInput(
                    attrs={
                        "autocomplete": "one-time-code",
                        "inputmode": "numeric",
                        "pattern": "[0-9 ]*",
                    }
                ),
            )


class UnlockRequestForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


def _reason_field(required: bool = True) -> forms.CharField:
    least = settings.REFUGE_BREAK_GLASS_MIN_REASON
    return forms.CharField(
        label=_("Reason"),
        required=required,
        min_length=least if required else None,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Why this is needed now, written out in a sentence or two. Say why, not whom: the "
            "organisation's managers read it."
        ),
    )


class BreakGlassForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation whose cases you need to read"), queryset=Organisation.objects.none()
    )
    reason = _reason_field()

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"].queryset = organisations


class ReasonForm(forms.Form):
    """The written reason of a break-glass-grade act on a staff account."""

    reason = _reason_field()


class StaffForm(forms.Form):
    username = forms.SlugField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles=MANAGER_GRANTABLE, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in roles]


class AdminStaffForm(StaffForm):
    """An administrator adds a member to an organisation: the roles she may give there, and a
    reason for the ones that read cases (break-glass-grade)."""

    reason = _reason_field(required=False)

    def clean(self):
        data = super().clean()
        if data.get("role") in ADMIN_GRANT_NEEDS_REASON and not (data.get("reason") or "").strip():
            self.add_error(
                "reason", _("Giving this role reaches case content: write why it is needed.")
            )
        return data


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Label"),
        max_length=100,
        help_text=_("What uses the key, e.g. the hotline's telephone exchange."),
    )
    role = forms.ChoiceField(label=_("Acts as"))
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), required=False
    )
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=5 * 366)
    reason = _reason_field(required=False)

    def __init__(self, *args, roles=(), organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in roles]
        self.fields["days"].initial = settings.REFUGE_API_KEY_DAYS
        if organisations is None:
            del self.fields["organisation"]
        else:
            self.fields["organisation"].queryset = organisations
            self.fields["organisation"].required = True
        if not any(r in ADMIN_GRANT_NEEDS_REASON for r in roles):
            del self.fields["reason"]


class RevokeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=RevokeReason.choices)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(label=_("Short name (in addresses)"), max_length=50)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgKind.choices)


class AuditFilterForm(forms.Form):
    target = forms.CharField(
        label=pgettext_lazy("audit log", "Record"), required=False, max_length=64
    )
    actor = forms.CharField(label=_("Member of staff"), required=False, max_length=150)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), required=False, queryset=Organisation.objects.all()
    )
    break_glass = forms.UUIDField(label=_("Break-glass session"), required=False)
