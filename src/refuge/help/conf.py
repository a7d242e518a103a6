"""Settings of the public help pages, read with defaults (the project settings need not know us).

REFUGE_QUICK_EXIT_URL: where the quick exit goes. A string for every language, or a mapping
from language code to URL (missing languages use the default for that language). The default
is the Wikipedia main page in the page's language: neutral, in the reader's own language,
and reachable in every country the network works in.
"""

from __future__ import annotations

from django.conf import settings

# The languages of the public pages, in the order of the language switch.
PUBLIC_LANGUAGES: tuple[str, ...] = ("en", "ru", "ky", "uk", "cs")
DEFAULT_LANGUAGE = "en"

# Each language in its own name, for the language switch (the convention readers look for).
LANGUAGE_SELF_NAMES = {
    "en": "English",
    "ru": "Русский",
    "ky": "Кыргызча",
    "uk": "Українська",
    "cs": "Čeština",
}

DEFAULT_EXIT_URLS = {lang: f"https://{lang}.wikipedia.org/" for lang in PUBLIC_LANGUAGES}


def quick_exit_url(lang: str) -> str:
    configured = getattr(settings, "REFUGE_QUICK_EXIT_URL", None)
    if isinstance(configured, str) and configured:
        return configured
    if isinstance(configured, dict) and configured.get(lang):
        return str(configured[lang])
    return DEFAULT_EXIT_URLS.get(lang, DEFAULT_EXIT_URLS[DEFAULT_LANGUAGE])


def is_public_language(code: str) -> bool:
    return code in PUBLIC_LANGUAGES
