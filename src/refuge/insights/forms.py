from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .figures import Filters
from .labels import region_choices
from .periods import Period, completed_quarters

MAX_DAYS = 3 * 366


def _date_field(label) -> forms.DateField:
    # Browsers' date pickers read and send ISO dates whatever the page's language.
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )


def _region_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Region"),
        required=False,
        # A callable, so the names are in the language of each request, not of the import.
        choices=lambda: [("", _("All regions")), *region_choices()],
        error_messages={"invalid_choice": _("“%(value)s” is not a region we know.")},
    )


class RangeForm(forms.Form):
    """Coordinators and managers: any period of up to three years, one country or region."""

    start = _date_field(_("From"))
    end = _date_field(_("To"))
    region = _region_field()

    @staticmethod
    def default_range(today: date) -> tuple[date, date]:
        return today - timedelta(days=89), today

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("The end is before the start."))
            elif end > timezone.localdate():
                self.add_error("end", _("The end is in the future: choose today or earlier."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", _("Choose at most three years."))
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(Period(d["start"], d["end"]), d.get("region") or "")


class QuarterForm(forms.Form):
    """Analysts and exports: one completed calendar quarter (see periods.py for why)."""

    period = forms.ChoiceField(
        label=_("Quarter"),
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not a quarter you can choose: figures are published for "
                "completed calendar quarters only."
            )
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quarters = {q.key: q for q in completed_quarters()}
        self.fields["period"].choices = [(k, q.label) for k, q in self.quarters.items()]

    def chosen(self) -> Period:
        return self.quarters[self.cleaned_data["period"]]

    def filters(self) -> Filters:
        return Filters(self.chosen())


class ExportForm(QuarterForm):
    format = forms.ChoiceField(
        label=_("File"),
        choices=[("xlsx", _("Excel workbook (XLSX)")), ("csv", _("CSV, one figure a line"))],
        error_messages={"invalid_choice": _("Choose XLSX or CSV.")},
    )


class FindCaseForm(forms.Form):
    code = forms.CharField(label=_("Case code"), max_length=20)

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()


ANSWER_CHOICES = [
    ("yes", _("yes")),
    ("no", _("no")),
    ("dk", _("does not know or prefers not to say")),
]


def outcome_form(survey, lang: str, data=None, initial=None) -> forms.Form:
    """The phase, then one question per item of the survivor survey."""
    from .models import SurvivorOutcome

    class OutcomeForm(forms.Form):
        phase = forms.ChoiceField(
            label=_("When"), choices=SurvivorOutcome.Phase.choices, widget=forms.RadioSelect
        )

    form = OutcomeForm(data, initial=initial)
    for item in survey.items:
        choices = ANSWER_CHOICES if item.type == "yes_no_dk" else ANSWER_CHOICES[:2]
        form.fields[item.id] = forms.ChoiceField(
            label=item.label.get(lang) or item.label["en"],
            choices=choices,
            widget=forms.RadioSelect,
            error_messages={"required": _("Choose an answer (or “does not know”).")},
        )
    return form


class SimulationForm(forms.Form):
    """Demand for the model, and the "what if" question. Fields for the regions' demand are
    added per region (``arrivals_<code>``), households a year."""

    demand = forms.ChoiceField(
        label=_("Demand"),
        widget=forms.RadioSelect,
        choices=[
            ("recorded", _("admissions and turn-aways recorded in the last 365 days")),
            ("hotline", _("hotline calls that asked for safe accommodation, last 365 days")),
            ("entered", _("households a year per region, entered below")),
        ],
    )
    sizes = forms.CharField(
        label=_("Household sizes (people: percent)"),
        required=False,
        max_length=200,
        help_text=_(
            "Used when too few admissions are recorded to know them, e.g. “1: 40, 2: 30, 3: 20, "
            "4: 10”: a household of 1 is a woman alone, 2 a woman with one child."
        ),
    )
    stay_mean = forms.FloatField(
        label=_("Mean length of stay (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty to use the stays that ended in the last 365 days."),
    )
    places = forms.IntegerField(
        label=_("What if we add this many places"),
        required=False,
        min_value=1,
        max_value=500,
    )
    region = forms.ChoiceField(label=_("in region"), required=False)
    policy = forms.ChoiceField(label=_("under the policy"), required=False)

    def __init__(self, *args, regions=(), entered_regions=(), policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "—"), *regions]
        self.fields["policy"].choices = list(policies)
        self.entered_regions = list(entered_regions)
        for code, label in self.entered_regions:
            self.fields[f"arrivals_{code}"] = forms.FloatField(
                label=label, required=False, min_value=0, max_value=100000
            )

    def entered_fields(self):
        return [self[f"arrivals_{code}"] for code, _label in self.entered_regions]

    def clean(self):
        from .simfront import parse_sizes

        data = super().clean()
        sizes = (data.get("sizes") or "").strip()
        data["sizes_parsed"] = None
        if sizes:
            try:
                data["sizes_parsed"] = parse_sizes(sizes)
            except ValueError:
                self.add_error(
                    "sizes",
                    _("Write sizes and percents as “1: 40, 2: 30”: sizes from 1 to 20."),
                )
        if data.get("places") and not data.get("region"):
            self.add_error("region", _("Choose the region for the new places."))
        if data.get("demand") == "entered":
            entered = {
                code: data.get(f"arrivals_{code}") or 0 for code, _label in self.entered_regions
            }
            if not any(entered.values()):
                self.add_error(None, _("Enter the households a year for at least one region."))
            data["entered"] = entered
        return data


FILTER_KEYS = ("start", "end", "region", "period")


def dashboard_filters(params, basis):
    """(the filter form, Filters) for a request's query ``params``; Filters is None when the
    filters are wrong (the form says why). Without any filter: the default period."""
    given = any(k in params for k in FILTER_KEYS)
    if basis.fixed_periods:
        latest = completed_quarters()[0]
        if not given:
            return QuarterForm(initial={"period": latest.key}), Filters(latest)
        form = QuarterForm({"period": params.get("period", latest.key)})
        if any(k in params for k in ("start", "end", "region")):
            form.is_valid()
            form.add_error(
                None,
                _(
                    "Published figures cover whole calendar quarters of the whole network: "
                    "choose a quarter. The tables show each region as a row."
                ),
            )
            return form, None
    else:
        start, end = RangeForm.default_range(timezone.localdate())
        defaults = {"start": start.isoformat(), "end": end.isoformat(), "region": ""}
        if not given:
            return RangeForm(initial=defaults), Filters(Period(start, end))
        data = {
            **defaults,
            **{k: params[k] for k in ("start", "end", "region") if k in params},
        }
        form = RangeForm(data)
    if not form.is_valid():
        return form, None
    return form, form.filters()
