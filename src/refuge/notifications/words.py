"""The one place that knows what a notification says (SPEC C11, S7).

Every channel sends the same neutral words: something is waiting, sign in. No woman, no
household, no facility, no place, no region, no kind of event: a message read over her
shoulder, on a seized phone or in a leaked bot log tells nobody anything.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

STAFF_LANGUAGES = ("en", "ru")


def language_for(preferred: str) -> str:
    return preferred if preferred in STAFF_LANGUAGES else settings.LANGUAGE_CODE


def text(language: str) -> str:
    with translation.override(language_for(language)):
        return _("Refuge: 1 new item is waiting for you. Sign in to see it.")


def subject(language: str) -> str:
    with translation.override(language_for(language)):
        return _("Refuge: something is waiting for you")


def sign_in_url() -> str:
    base = (settings.REFUGE_PUBLIC_URL or "").rstrip("/")
    return f"{base}/" if base else ""


def email_body(language: str) -> str:
    url = sign_in_url()
    return text(language) + ("\n\n" + url if url else "") + "\n"
