from __future__ import annotations

from django import forms
from django.utils.translation import pgettext_lazy

from .services import MAX_BODY, MAX_TITLE


class HelpTextForm(forms.Form):
    title = forms.CharField(label=pgettext_lazy("help text", "Title"), max_length=MAX_TITLE)
    body = forms.CharField(
        label=pgettext_lazy("help text", "Text"),
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 18}),
    )
