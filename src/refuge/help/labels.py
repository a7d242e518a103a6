"""Words for the public pages, in this app's own catalogue (context "public help").

The directory's own labels are written for staff and translated into the staff languages only;
the public pages need all five languages and plainer words, so they have their own. A test
checks that every facility kind and service kind of the directory has a label here.
"""

from __future__ import annotations

from django.utils.translation import get_language_info, pgettext_lazy

from refuge.directory.hours_display import HoursWords

FACILITY_KINDS = {
    "low_threshold_refuge": pgettext_lazy("public help", "Refuge open to every woman"),
    "crisis_centre_shelter": pgettext_lazy("public help", "Crisis centre with a shelter"),
    "crisis_centre": pgettext_lazy("public help", "Crisis centre"),
    "young_mothers_shelter": pgettext_lazy("public help", "Shelter for young mothers"),
    "night_shelter": pgettext_lazy("public help", "Night shelter"),
    "faith_based_shelter": pgettext_lazy("public help", "Shelter run by a faith community"),
    "trafficking_safe_house": pgettext_lazy("public help", "Safe house for victims of trafficking"),
    "transit_house": pgettext_lazy("public help", "Transit house"),
    "state_rehabilitation_centre": pgettext_lazy(
        "public help", "State social rehabilitation centre"
    ),
    "hotline": pgettext_lazy("public help", "Helpline"),
    "perpetrator_programme": pgettext_lazy("public help", "Programme for people who use violence"),
    "other": pgettext_lazy("public help", "Support service"),
}

SERVICE_KINDS = {
    "psychologist": pgettext_lazy("public help", "psychologist"),
    "lawyer": pgettext_lazy("public help", "lawyer"),
    "gynaecologist": pgettext_lazy("public help", "gynaecologist"),
    "doctor": pgettext_lazy("public help", "doctor"),
    "child_psychologist": pgettext_lazy("public help", "psychologist for children"),
    "helpline_24h": pgettext_lazy("public help", "helpline day and night"),
    "helpline": pgettext_lazy("public help", "helpline"),
    "court_support": pgettext_lazy("public help", "support in court"),
    "police_accompaniment": pgettext_lazy("public help", "going with you to the police"),
    "paperwork": pgettext_lazy("public help", "help with documents"),
    "social_support": pgettext_lazy("public help", "social support"),
    "material_aid": pgettext_lazy("public help", "material help"),
    "employment": pgettext_lazy("public help", "help finding work"),
    "child_schooling": pgettext_lazy("public help", "school places for children"),
    "outreach": pgettext_lazy("public help", "counselling at home"),
    "rehabilitation": pgettext_lazy("public help", "rehabilitation"),
    "aftercare": pgettext_lazy("public help", "support after leaving"),
    "perpetrator_programme": pgettext_lazy("public help", "programme for people who use violence"),
    "partner_support": pgettext_lazy("public help", "support for partners"),
    "interpretation": pgettext_lazy("public help", "interpreting"),
    "migrant_advice": pgettext_lazy("public help", "advice on residence and migration"),
    "awareness": pgettext_lazy("public help", "information and prevention"),
}

PHONE_KINDS = {
    "voice": pgettext_lazy("public help", "phone"),
    "cell": pgettext_lazy("public help", "mobile"),
    "text": pgettext_lazy("public help", "text messages only"),
    "fax": pgettext_lazy("public help", "fax"),
}

# Short weekday names, Monday first, as opening hours write them ("Mon–Fri 9:00–18:00").
WEEKDAYS = (
    pgettext_lazy("public help weekday", "Mon"),
    pgettext_lazy("public help weekday", "Tue"),
    pgettext_lazy("public help weekday", "Wed"),
    pgettext_lazy("public help weekday", "Thu"),
    pgettext_lazy("public help weekday", "Fri"),
    pgettext_lazy("public help weekday", "Sat"),
    pgettext_lazy("public help weekday", "Sun"),
)
EVERY_DAY = pgettext_lazy("public help", "Every day")
ALL_DAY = pgettext_lazy("public help", "24 hours")
ALWAYS_OPEN = pgettext_lazy("public help", "Open 24 hours, every day")

LANGUAGE_NAMES = {
    "en": pgettext_lazy("language name", "English"),
    "ru": pgettext_lazy("language name", "Russian"),
    "ky": pgettext_lazy("language name", "Kyrgyz"),
    "uk": pgettext_lazy("language name", "Ukrainian"),
    "cs": pgettext_lazy("language name", "Czech"),
    "uz": pgettext_lazy("language name", "Uzbek"),
    "tg": pgettext_lazy("language name", "Tajik"),
    "kk": pgettext_lazy("language name", "Kazakh"),
    "vi": pgettext_lazy("language name", "Vietnamese"),
    "de": pgettext_lazy("language name", "German"),
    "fr": pgettext_lazy("language name", "French"),
    "ar": pgettext_lazy("language name", "Arabic"),
    "tr": pgettext_lazy("language name", "Turkish"),
    "az": pgettext_lazy("language name", "Azerbaijani"),
    "hy": pgettext_lazy("language name", "Armenian"),
    "mn": pgettext_lazy("language name", "Mongolian"),
    "sk": pgettext_lazy("language name", "Slovak"),
    "pl": pgettext_lazy("language name", "Polish"),
}


def facility_kind(kind: str) -> str:
    return str(FACILITY_KINDS.get(kind, FACILITY_KINDS["other"]))


def service_kind(kind: str) -> str | None:
    label = SERVICE_KINDS.get(kind)
    return str(label) if label is not None else None


def phone_kind(kind: str) -> str:
    return str(PHONE_KINDS.get(kind, PHONE_KINDS["voice"]))


def language_name(code: str) -> str:
    """The language's name in the active language; a language we have no word for is named
    in itself (Django's table), which readers of that language will still recognise."""
    label = LANGUAGE_NAMES.get(code)
    if label is not None:
        return str(label)
    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code


def hours_words() -> HoursWords:
    """The words of opening hours in the active language."""
    return HoursWords(
        days=[str(d) for d in WEEKDAYS],
        every_day=str(EVERY_DAY),
        all_day=str(ALL_DAY),
        always=str(ALWAYS_OPEN),
    )
