from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refuge.directory.pickers import RegionField, RegionsField, country_label
from refuge.directory.regions import countries

from . import merge, regions, windows
from .models import AttemptOutcome, ContactType, Line, Need, UnmetReason, WrapUp
from .services import CLOSE_REASONS, WrapUpData

ABUSE_CHOICES = [
    ("physical", _("physical")),
    ("psychological", _("psychological")),
    ("economic", _("economic")),
    ("sexual", _("sexual")),
    ("digital", _("digital (phone, online)")),
]
OUTCOME_CHOICES = [
    ("information", _("information given")),
    ("counselling", _("counselling on the phone")),
    ("referral", _("referral to a service")),
    ("placement", _("placement in a shelter")),
    ("callback", _("callback agreed")),
]
NEED_STATUS = [("", _("not asked")), ("met", _("met")), ("unmet", _("not met"))]
DIRECTION_CHOICES = [(merge.INCOMING, _("she called us")), (merge.OUTGOING, _("we called"))]
DAY_CHOICES = [(str(i), WEEKDAYS_ABBR[i]) for i in range(7)]
# Time zones of the network's callers; her own zone decides when it is safe to call.
TIMEZONE_CHOICES = [
    ("Europe/Kaliningrad", _("Kaliningrad (UTC+2)")),
    ("Europe/Moscow", _("Moscow (UTC+3)")),
    ("Europe/Samara", _("Samara (UTC+4)")),
    ("Asia/Yekaterinburg", _("Yekaterinburg (UTC+5)")),
    ("Asia/Omsk", _("Omsk (UTC+6)")),
    ("Asia/Novosibirsk", _("Novosibirsk (UTC+7)")),
    ("Asia/Krasnoyarsk", _("Krasnoyarsk (UTC+7)")),
    ("Asia/Irkutsk", _("Irkutsk (UTC+8)")),
    ("Asia/Yakutsk", _("Yakutsk (UTC+9)")),
    ("Asia/Vladivostok", _("Vladivostok (UTC+10)")),
    ("Asia/Magadan", _("Magadan (UTC+11)")),
    ("Asia/Kamchatka", _("Kamchatka (UTC+12)")),
    ("Asia/Bishkek", _("Bishkek (UTC+6)")),
    ("Asia/Almaty", _("Almaty (UTC+5)")),
    ("Asia/Tashkent", _("Tashkent (UTC+5)")),
    ("Asia/Dushanbe", _("Dushanbe (UTC+5)")),
    ("Europe/Kyiv", _("Kyiv (UTC+2/+3)")),
    ("Europe/Chisinau", _("Chișinău (UTC+2/+3)")),
    ("Europe/Minsk", _("Minsk (UTC+3)")),
    ("Europe/Prague", _("Prague (UTC+1/+2)")),
]
COUNTRY_TIMEZONE = {"RU": "Europe/Moscow", "KG": "Asia/Bishkek", "CZ": "Europe/Prague"}


class WrapUpForm(forms.Form):
    contact_type = forms.ChoiceField(
        label=_("Who called"), choices=ContactType.choices, widget=forms.RadioSelect
    )
    abuse = forms.MultipleChoiceField(
        label=_("Forms of abuse she described"),
        choices=ABUSE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    outcomes = forms.MultipleChoiceField(
        label=_("Outcome"),
        choices=OUTCOME_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for need, label in Need.choices:
            self.fields[f"need_{need}"] = forms.ChoiceField(
                label=label, choices=NEED_STATUS, required=False
            )
            self.fields[f"reason_{need}"] = forms.ChoiceField(
                label=_("Why not met"),
                choices=[("", "—"), *UnmetReason.choices],
                required=False,
            )

    def need_rows(self):
        return [
            (self[f"need_{need}"], self[f"reason_{need}"], label) for need, label in Need.choices
        ]

    @classmethod
    def initial_from(cls, wrapup: WrapUp | None) -> dict:
        if wrapup is None:
            return {}
        initial = {
            "contact_type": wrapup.contact_type,
            "abuse": wrapup.abuse,
            "outcomes": wrapup.outcomes,
        }
        for n in wrapup.needs.all():
            initial[f"need_{n.need}"] = "met" if n.met else "unmet"
            initial[f"reason_{n.need}"] = n.unmet_reason
        return initial

    def clean(self):
        data = super().clean()
        for need, _label in Need.choices:
            status = data.get(f"need_{need}")
            if status == "unmet" and not data.get(f"reason_{need}"):
                self.add_error(f"reason_{need}", _("Say why this need was not met."))
        if (
            data.get("contact_type")
            and data.get("contact_type") != ContactType.SILENT_OTHER
            and not data.get("outcomes")
        ):
            self.add_error("outcomes", _("Choose at least one outcome."))
        return data

    def wrapup_data(self) -> WrapUpData:
        d = self.cleaned_data
        needs: dict[str, str | None] = {}
        for need, _label in Need.choices:
            status = d.get(f"need_{need}")
            if status == "met":
                needs[need] = None
            elif status == "unmet":
                needs[need] = d.get(f"reason_{need}") or UnmetReason.OTHER
        return WrapUpData(
            contact_type=d["contact_type"],
            abuse=frozenset(d.get("abuse") or ()),
            outcomes=frozenset(d.get("outcomes") or ()),
            needs=needs,
        )


class ManualCallForm(WrapUpForm):
    field_order = [
        "line",
        "direction",
        "started_at",
        "talk_minutes",
        "caller_number",
        "region",
    ]

    line = forms.ModelChoiceField(
        label=_("Line"), queryset=Line.objects.none(), required=False, empty_label=_("other phone")
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=DIRECTION_CHOICES)
    started_at = forms.DateTimeField(
        label=_("Started at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    talk_minutes = forms.IntegerField(label=_("Length in minutes"), min_value=1, max_value=600)
    caller_number = forms.CharField(
        label=_("Caller's number (optional)"),
        max_length=40,
        required=False,
        help_text=_("Used only to spot repeat callers and her region; the number is not kept."),
    )
    region = forms.ChoiceField(label=_("Her region, if she said"), required=False)

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines if lines is not None else Line.objects.none()
        self.fields["region"].choices = [("", "—")] + sorted(
            ((code, str(name)) for code, name in regions.REGION_NAMES.items()),
            key=lambda c: c[1],
        )
        if not self.is_bound:
            self.initial.setdefault(
                "started_at", timezone.localtime().replace(second=0, microsecond=0)
            )

    def call_fields(self):
        return [self[name] for name in self.field_order]

    def clean_started_at(self):
        value = self.cleaned_data["started_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError(_("The call cannot start in the future."))
        return value


def _window_fields(n: int, required: bool):
    return {
        f"days{n}": forms.MultipleChoiceField(
            label=_("Days"),
            choices=DAY_CHOICES,
            required=required,
            widget=forms.CheckboxSelectMultiple,
        ),
        f"start{n}": forms.TimeField(
            label=_("From"),
            required=required,
            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        ),
        f"end{n}": forms.TimeField(
            label=_("Until"),
            required=required,
            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        ),
    }


class CallbackForm(forms.Form):
    safe_number = forms.CharField(
        label=_("Safe number to call"),
        max_length=40,
        help_text=_("Stored encrypted; shown to staff only during her safe times."),
    )
    name_to_ask = forms.CharField(
        label=_("Name to ask for"),
        max_length=100,
        required=False,
        help_text=_("The name she wants us to use on the phone (it may be an alias)."),
    )
    may_leave_message = forms.BooleanField(
        label=_("She agreed that we may leave a neutral message"), required=False
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    timezone = forms.ChoiceField(label=_("Her time zone"), choices=TIMEZONE_CHOICES)

    def __init__(self, *args, country: str = "RU", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(_window_fields(1, True))
        self.fields.update(_window_fields(2, False))
        self.fields["language"].choices = [("", "—")] + [
            (code, name) for code, name in settings.LANGUAGES
        ]
        if not self.is_bound:
            self.initial.setdefault("timezone", COUNTRY_TIMEZONE.get(country, "Europe/Moscow"))

    def clean(self):
        data = super().clean()
        safe = []
        for n in (1, 2):
            days, start, end = data.get(f"days{n}"), data.get(f"start{n}"), data.get(f"end{n}")
            if n == 2 and not (days or start or end):
                continue
            if not (days and start and end):
                self.add_error(f"days{n}", _("Give the days and both times."))
                continue
            if start >= end:
                self.add_error(
                    f"end{n}",
                    _("The end must be after the start (split a time across midnight in two)."),
                )
                continue
            safe.append(windows.Window(tuple(sorted(int(d) for d in days)), start, end))
        data["safe_times"] = safe
        return data

    def window_rows(self):
        return [(self[f"days{n}"], self[f"start{n}"], self[f"end{n}"]) for n in (1, 2)]


class AttemptForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("What happened"), choices=AttemptOutcome.choices, widget=forms.RadioSelect
    )


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why close it"),
        choices=[
            (CLOSE_REASONS[0], _("no longer needed")),
            (CLOSE_REASONS[1], _("gave up after several attempts")),
            (CLOSE_REASONS[2], _("calling is not safe for her")),
        ],
    )


class FiguresForm(forms.Form):
    # Browsers' date pickers read and send ISO dates whatever the page's language.
    start = forms.DateField(
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    end = forms.DateField(
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )
    line = forms.ModelChoiceField(
        label=_("Line"), queryset=Line.objects.none(), required=False, empty_label=_("all lines")
    )

    def __init__(self, *args, lines=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = lines if lines is not None else Line.objects.none()

    @staticmethod
    def default_range(today: date) -> tuple[date, date]:
        return today - timedelta(days=29), today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        for name, value in (("start", start), ("end", end)):
            if value and not 1900 <= value.year <= 2999:
                self.add_error(name, _("Choose a date between 1900 and 2999."))
                return data
        if start and end:
            if end < start:
                self.add_error("end", _("The end is before the start."))
            elif (end - start).days > 366:
                self.add_error("end", _("Choose at most a year."))
        return data


class ExtensionForm(forms.Form):
    """Give a member of staff the PBX extension (or Twilio client identity) she answers on."""

    user = forms.ModelChoiceField(label=_("Member of staff"), queryset=None)
    identity = forms.CharField(
        label=_("Extension"),
        max_length=255,
        help_text=_("As the PBX reports it: an extension number such as 101, or a client name."),
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.username


class LineForm(forms.Form):
    """Register a line, or change one, and give it to an organisation (administrators)."""

    number = forms.CharField(label=_("Number or PBX line name"), max_length=64)
    name = forms.CharField(label=pgettext_lazy("line", "Name"), max_length=120, required=False)
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=None,
        required=False,
        help_text=_("Calls on a line without an organisation are seen by coordinators only."),
    )
    region = RegionField(label=_("Region of the line"))
    service_area = RegionsField(
        label=_("Service area"),
        whole_countries=True,
        help_text=_("The regions, or whole countries, whose callers this line serves."),
    )
    default_country = forms.ChoiceField(
        label=_("Country of national-format numbers"),
        choices=lambda: [(c, country_label(c)) for c in countries()],
        initial="RU",
    )
    region_from_line = forms.BooleanField(
        label=_("A regional number: count mobile callers in the line's region"), required=False
    )

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean_service_area(self) -> str:
        return ",".join(self.cleaned_data["service_area"])
