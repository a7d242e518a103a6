"""Insights pages: dashboards, CSV of each table, exports, outcome surveys, the simulation.

Who sees what is decided in selectors.basis_for; the period rules in periods.py; the figures in
figures.py; what a section shows in pages.py. Every download writes an audit event.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refuge.cases.selectors import client_for_principal
from refuge.core import roles
from refuge.core.access import principal, role_required
from refuge.core.models import Organisation
from refuge.core.services import ServiceError

from . import charts, exports, figures, pages, selectors, services, simfront, surveys
from .forms import ExportForm, FindCaseForm, SimulationForm, dashboard_filters, outcome_form
from .labels import region_label
from .models import SurvivorOutcome
from .periods import completed_quarters
from .selectors import Basis

insights = role_required(roles.can_view_insights)
case_side = role_required(roles.can_view_cases)


# --- filters ----------------------------------------------------------------------------------


def _query(f: figures.Filters, basis: Basis) -> str:
    if basis.fixed_periods:
        return urlencode({"period": f.period.key})
    return urlencode(
        {"start": f.period.start.isoformat(), "end": f.period.end.isoformat(), "region": f.region}
    )


def _filter_details(f: figures.Filters, basis: Basis) -> dict[str, Any]:
    return {
        "basis": basis.scope,
        "start": f.period.start.isoformat(),
        "end": f.period.end.isoformat(),
        "region": f.region,
        "suppressed": basis.suppress,
    }


def _bad_filters(request: HttpRequest, template: str, ctx: dict[str, Any]) -> HttpResponse:
    return render(request, template, {**ctx, "bad_filters": True}, status=400)


# --- dashboard -----------------------------------------------------------------------------------


@login_required
@insights
def dashboard(request: HttpRequest) -> HttpResponse:
    basis = selectors.basis_for(principal(request))
    form, f = dashboard_filters(request.GET, basis)
    ctx: dict[str, Any] = {"form": form, "basis": basis}
    if f is None:
        return _bad_filters(request, "insights/dashboard.html", ctx)
    d = figures.dashboard(basis, f)
    return render(
        request,
        "insights/dashboard.html",
        {
            **ctx,
            "d": d,
            "filters": f,
            "region_name": region_label(f.region) if f.region else "",
            "sections": pages.sections(d),
            "query": _query(f, basis),
        },
    )


@login_required
@insights
def table_csv(request: HttpRequest, key: str) -> HttpResponse:
    p = principal(request)
    basis = selectors.basis_for(p)
    if key not in CSV_KEYS:
        raise Http404
    form, f = dashboard_filters(request.GET, basis)
    if f is None:
        return _bad_filters(request, "insights/dashboard.html", {"form": form, "basis": basis})
    if key in OUTCOME_KEYS:
        report = _outcome_reports(basis, f)[key]
        body = _report_csv(report)
    else:
        d = figures.dashboard(basis, f)  # all tables: hidden figures are decided together
        body = pages.section_tables(d)[key].csv()
    services.export_record(
        by=p, what=f"table:{key}", details={"format": "csv", **_filter_details(f, basis)}
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="refuge-{key}-{f.period.key}.csv"'
    return response


# --- exports -----------------------------------------------------------------------------------


@login_required
@insights
def exports_page(request: HttpRequest) -> HttpResponse:
    latest = completed_quarters()[0]
    form = ExportForm(initial={"period": latest.key, "format": "xlsx"})
    return render(request, "insights/exports.html", _exports_ctx(request, form))


def _exports_ctx(request: HttpRequest, form) -> dict[str, Any]:
    p = principal(request)
    return {
        "form": form,
        "basis": selectors.reporting_basis(),
        "tables": list(_table_titles().items()),
        # a manager decides for her organisation (refreshed: the principal may be cached)
        "own_org": (
            Organisation.objects.get(pk=p.org_id)
            if p.role is not None and roles.can_manage_staff(p.role) and p.org_id
            else None
        ),
    }


@login_required
@role_required(roles.can_manage_staff)
@require_POST
def exports_participation(request: HttpRequest) -> HttpResponse:
    include = request.POST.get("include") == "1"
    services.exports_participation_set(by=principal(request), include=include)
    if include:
        messages.success(request, _("Your organisation's figures now go into network exports."))
    else:
        messages.success(
            request, _("Your organisation's figures are left out of network exports from now on.")
        )
    return redirect("insights:exports")


def _table_titles() -> dict[str, str]:
    return {
        "women": _("Women first recorded in the period, each counted once"),
        "calls_by_day": _("Calls by day"),
        "calls_by_region": _("Calls by region and who called"),
        "demand": _("Demand and capacity by region"),
        "referrals_by_month": _("Referrals by month and what came of them"),
        "referrals_by_region": _("Referrals by the woman's region"),
        "time_to_place": _("Time from referral to an accepted place"),
        "turnaways_by_reason": _("Turn-aways by reason"),
        "turnaways_by_region": _("Turn-aways by the woman's region"),
        "occupancy": _("Occupancy"),
        "out_of_region": _("Admissions in and out of the woman's own region"),
        "discharges": _("Stays that ended: where she went, and how long she stayed"),
        "services": _("Services delivered without a stay"),
    }


@login_required
@insights
def export_download(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = ExportForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "insights/exports.html",
            {**_exports_ctx(request, form), "bad_filters": True},
            status=400,
        )
    basis = selectors.reporting_basis()
    f = form.filters()
    d = figures.dashboard(basis, f)
    fmt = form.cleaned_data["format"]
    name = f"refuge-network-{f.period.key}"
    services.export_record(
        by=p, what=f"network:{f.period.key}", details={"format": fmt, **_filter_details(f, basis)}
    )
    if fmt == "xlsx":
        response = HttpResponse(
            exports.xlsx(d),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    response = HttpResponse(exports.long_csv(d), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


# --- outcome surveys -------------------------------------------------------------------------------

OUTCOME_KEYS = ("survivor_outcomes", "partner_outcomes")
CSV_KEYS = frozenset(exports.ORDER) | frozenset(OUTCOME_KEYS)


def _outcome_reports(basis: Basis, f: figures.Filters) -> dict[str, surveys.Report]:
    lang = get_language() or "en"
    return {
        "survivor_outcomes": surveys.survivor_report(basis, f, lang, _("Women supported")),
        "partner_outcomes": surveys.partner_report(
            basis, f, lang, _("Partners of perpetrator programme participants")
        ),
    }


def _report_csv(report: surveys.Report) -> str:
    import csv
    import io

    from .tables import safe_cell

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([_("Question"), _("Women answering both times"), _("Yes before (%)"),
                _("Yes after (%)")])  # fmt: skip
    for line in report.lines:
        w.writerow([safe_cell(x) for x in (line.label, line.shown_n, line.before_pct,
                                           line.after_pct)])  # fmt: skip
    return buf.getvalue()


@login_required
@insights
def outcomes(request: HttpRequest) -> HttpResponse:
    basis = selectors.basis_for(principal(request))
    form, f = dashboard_filters(request.GET, basis)
    ctx: dict[str, Any] = {"form": form, "basis": basis}
    if f is None:
        return _bad_filters(request, "insights/outcomes.html", ctx)
    reports = _outcome_reports(basis, f)
    blocks = []
    for key, report in reports.items():
        # questions nobody answered both times are not drawn; a hidden share draws its mark
        lines = [line for line in report.lines if line.n]
        chart = charts.bars(
            [line.label for line in lines],
            [
                ([line.before_pct for line in lines], _("before")),
                ([line.after_pct for line in lines], _("after")),
            ],
            stacked=False,
            suffix="%",
        )
        blocks.append({"key": key, "report": report, "chart": chart})
    return render(
        request,
        "insights/outcomes.html",
        {
            **ctx,
            "filters": f,
            "blocks": blocks,
            "query": _query(f, basis),
            "survey": surveys.get(),
            "about": surveys.description((get_language() or "en")[:2]),
        },
    )


@login_required
@case_side
def outcome_find(request: HttpRequest) -> HttpResponse:
    form = FindCaseForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect("insights:outcome_case", code=form.cleaned_data["code"])
    return render(request, "insights/outcome_find.html", {"form": form})


@login_required
@case_side
def outcome_case(request: HttpRequest, code: str) -> HttpResponse:
    p = principal(request)
    client = client_for_principal(p, code, what="outcome_survey")
    survey = surveys.get()
    lang = (get_language() or "en")[:2]
    recorded = {
        o.phase: o for o in SurvivorOutcome.objects.filter(client=client).order_by("recorded_at")
    }
    if request.method == "POST":
        form = outcome_form(survey, lang, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            phase = data.pop("phase")
            try:
                services.survivor_outcome_record(by=p, client=client, phase=phase, answers=data)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Her answers are saved."))
                return redirect("insights:outcome_case", code=client.case_code)
    else:
        phase = request.GET.get("phase", "")
        if phase not in SurvivorOutcome.Phase.values:
            phase = "after" if "before" in recorded else "before"
        existing = recorded.get(phase)
        form = outcome_form(
            survey, lang, initial={"phase": phase, **(existing.answers if existing else {})}
        )
    return render(
        request,
        "insights/outcome_case.html",
        {
            "client": client,
            "tab": "outcomes",
            "form": form,
            "recorded": recorded,
            "phases": SurvivorOutcome.Phase.choices,
            "about": surveys.description(lang),
            "survey_title": survey.title.get(lang) or survey.title["en"],
            "items": [(i.id, i.label.get(lang) or i.label["en"]) for i in survey.items],
        },
    )


# --- simulation ----------------------------------------------------------------------------------


def _policy_labels() -> dict[str, str]:
    return {
        "isolated": _("each shelter alone"),
        "first_fit": _("the phone chain (first that can take her)"),
        "network": _("the platform's ranking"),
        "network_reserve": _("the platform, keeping family rooms for families"),
    }


@login_required
@insights
def simulation(request: HttpRequest) -> HttpResponse:
    basis = selectors.basis_for(principal(request))
    network = simfront.facilities_by_region()
    demands = {
        "recorded": simfront.recorded_demand(basis),
        "hotline": simfront.hotline_demand(basis),
    }
    default = next((k for k in ("recorded", "hotline") if demands[k].total > 0), "entered")
    regions = sorted({r["region"] for r in network} | set(demands["hotline"].counts)
                     | set(demands["recorded"].counts))  # fmt: skip
    region_choices = [(r, region_label(r)) for r in regions]
    policies = list(_policy_labels().items())
    run = "run" in request.GET
    form = SimulationForm(
        request.GET if run else None,
        initial={"demand": default, "policy": "network", "sizes": "1: 40, 2: 30, 3: 20, 4: 10"},
        regions=region_choices,
        entered_regions=[(r["region"], region_label(r["region"])) for r in network],
        policies=policies,
    )
    ctx: dict[str, Any] = {
        "form": form,
        "basis": basis,
        "network": [{**r, "label": region_label(r["region"])} for r in network],
        "network_beds": sum(r["beds"] for r in network),
        "demands": {k: _demand_view(v, basis) for k, v in demands.items()},
        "policy_labels": _policy_labels(),
        "years": 1,
        "replications": 5,
    }
    if not run:
        return render(request, "insights/simulation.html", ctx)
    if not form.is_valid():
        return render(request, "insights/simulation.html", {**ctx, "bad_filters": True}, status=400)
    data = form.cleaned_data
    source = data["demand"]
    if source == "entered":
        demand = simfront.Demand(
            "entered", {r: float(n) for r, n in data["entered"].items() if n}, 365.0
        )
    else:
        demand = demands[source]
    try:
        plan = simfront.plan(
            basis=basis,
            demand=demand,
            entered_sizes=data.get("sizes_parsed"),
            stay_mean=data.get("stay_mean"),
            places=data.get("places"),
            region=data.get("region") or None,
            policy=data.get("policy") or "network",
        )
        outcome = simfront.run(plan)
    except (ValueError, simfront.ScenarioError) as exc:
        form.add_error(None, _simulation_problem(exc))
        return render(request, "insights/simulation.html", {**ctx, "bad_filters": True}, status=400)
    return render(
        request, "insights/simulation.html", {**ctx, **_results(plan, outcome), "ran": True}
    )


def _simulation_problem(exc: Exception) -> str:
    code = str(exc)
    return {
        "stay_needed": _(
            "Fewer than five stays ended in the last 365 days: enter the mean length of stay."
        ),
        "sizes_needed": _(
            "Too few admissions are recorded to know household sizes: enter them (e.g. “1: 40, "
            "2: 30, 3: 20, 4: 10”)."
        ),
        "no_demand": _("There is no demand to simulate: choose another source, or enter it."),
        "too_big": _(
            "This is too much to run inside a web page. Run it on the server with "
            "`refuge simulate --live`, which has no such limit."
        ),
    }.get(code, _("The scenario cannot run: %(problem)s") % {"problem": code})


def _demand_view(demand: simfront.Demand, basis: Basis) -> dict[str, Any]:
    """Demand by region a year, as this basis may see it (suppressed for analysts)."""
    from .tables import CountTable, publish

    per_year = demand.per_year()
    keys = sorted(demand.counts, key=lambda r: (-demand.counts[r], r))
    t = CountTable(
        key=f"demand_{demand.source}",
        title="",
        row_head=_("Region"),
        rows=[(r, region_label(r)) for r in keys],
        cols=[("n", _("recorded"))],
        cells=[[int(demand.recorded.get(r, round(demand.counts[r])))] for r in keys],
        row_totals=False,
    )
    publish([t], [], suppress=basis.suppress, threshold=basis.threshold)
    rows = []
    for (r, label), values in zip(t.rows, t.shown, strict=True):
        shown = values[0] is not None
        rows.append({"label": label, "per_year": _rate(per_year[r]) if shown else None})
    total = t.total
    return {
        "rows": rows,
        "total_per_year": _rate(demand.total * 365 / demand.days) if total is not None else None,
        "left_out": demand.left_out,
        "shared_out": demand.shared_out,
        "empty": demand.total == 0,
    }


def _rate(x: float) -> str:
    return f"{x:.1f}" if x < 10 else f"{x:.0f}"


def _results(plan: simfront.Plan, outcome: simfront.Outcome) -> dict[str, Any]:
    labels = _policy_labels()
    result = outcome.result
    names = list(result.policies)
    rows = [
        {
            "policy": name,
            "label": labels.get(name, name),
            "r": result.policies[name],
        }
        for name in names
    ]
    chart = charts.intervals(
        [labels.get(n, n) for n in names],
        [result.policies[n].turn_away_rate for n in names],
        [result.policies[n].ci95 for n in names],
    )
    sizes = sorted({d for r in result.policies.values() for d in r.by_household_size})
    ctx: dict[str, Any] = {
        "plan": plan,
        "result": result,
        "rows": rows,
        "sizes": sizes,
        "by_size": [
            {
                "label": labels.get(n, n),
                "values": [result.policies[n].by_household_size.get(d) for d in sizes],
            }
            for n in names
        ],
        "policy_chart": chart,
        "stay": plan.scenario["stay_days"],
        "stay_kind": {
            "exponential": _("exponential"),
            "lognormal": _("lognormal"),
            "fixed": _("fixed"),
        }.get(
            plan.scenario["stay_days"]["distribution"], plan.scenario["stay_days"]["distribution"]
        ),
        "arrivals_per_year": round(sum(a["per_day"] for a in plan.scenario["arrivals"]) * 365, 1),
    }
    w = outcome.what_if
    if w is not None:
        options = list(w.options)
        chosen = next((o for o in options if o.target == plan.region), None)
        top = options[:10]
        if chosen is not None and chosen not in top:
            top.append(chosen)
        ctx.update(
            {
                "what_if": w,
                "chosen": chosen,
                "chosen_label": region_label(plan.region or ""),
                "what_if_rows": [
                    {"label": region_label(o.target), "o": o, "chosen": o is chosen}
                    for o in options
                ],
                "what_if_chart": charts.intervals(
                    [region_label(o.target) for o in top],
                    [o.reduction for o in top],
                    [o.reduction_ci95 for o in top],
                    highlight=top.index(chosen) if chosen in top else None,
                    suffix=" " + _("pp"),
                ),
                "what_if_policy": labels.get(w.policy, w.policy),
            }
        )
    return ctx
