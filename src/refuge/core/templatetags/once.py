"""``{% load once %}{% form_token %}`` inside a form whose view is wrapped in ``@once``."""

from django import template
from django.utils.html import format_html

from refuge.core.once import FIELD, new_token

register = template.Library()


@register.simple_tag
def form_token() -> str:
    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_token())
