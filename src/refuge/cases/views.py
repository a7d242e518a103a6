from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refuge.core import limits, roles
from refuge.core.access import principal, reauth_required, role_required
from refuge.core.once import once
from refuge.core.services import ServiceError

from . import instruments, intake, retention, selectors, services
from .forms import (
    AftercareForm,
    CaseSearchForm,
    ClientForm,
    ConsentForm,
    EraseForm,
    HouseholdMemberForm,
    IncidentForm,
    IntakeHouseholdForm,
    JudgementForm,
    NoteForm,
    OtherPartyForm,
    ProfileForm,
    ReasonForm,
    SafetyPlanForm,
    ServiceForm,
)
from .models import RiskAssessment, ServiceDelivery, Stay
from .risk import engine
from .risk.refusals import unknown_instrument
from .services import SAFETY_PLAN_SECTIONS

case_view = role_required(roles.can_view_cases)


def _case(request: HttpRequest, code: str, what: str):
    p = principal(request)
    return p, selectors.client_for_principal(p, code, what=what)


def _tab(request, template: str, client, tab: str, **context) -> HttpResponse:
    return render(request, template, {"client": client, "tab": tab, **context})


def _saved(request, target: str, code: str) -> HttpResponse:
    messages.success(request, _("Saved."))
    return redirect(target, code=code)


@login_required
@case_view
def client_list(request: HttpRequest) -> HttpResponse:
    """The organisation's cases; with ``q``, a search by case code, phone or full name."""
    p = principal(request)
    # POST, so what was typed (her name, her phone) stays out of URLs: access logs, browser
    # history and the Referer header would otherwise keep it.
    data = request.POST if request.method == "POST" else None
    show_closed = (data or request.GET).get("closed") == "1"
    form = CaseSearchForm(data)
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    clients, kind, error, retry_after = [], "", None, None
    if form.is_bound and not form.is_valid():
        pass  # the form shows why; nothing is searched
    elif query:
        try:
            limits.check(p, "case_search")
            kind, clients = selectors.search_clients_for_principal(
                p, query, show_closed=show_closed
            )
        except ServiceError as exc:
            error, retry_after = exc.message, getattr(exc, "retry_after", None)
    else:
        clients = selectors.clients_for_principal(p, show_closed=show_closed)
    response = render(
        request,
        "cases/list.html",
        {
            "clients": clients,
            "can_create": roles.can_create_cases(p.role),
            "show_closed": show_closed,
            "form": form,
            "searched": bool(query) or (form.is_bound and not form.is_valid()),
            "kind": kind,
            "error": error,
        },
        status=429 if retry_after is not None else 200,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@login_required
@role_required(roles.can_create_cases)
@once
def client_new(request: HttpRequest) -> HttpResponse:
    """The guided intake's first step: her, as much as the search needs (SPEC C5, issue 16)."""
    form = ClientForm(request.POST or None)
    call = intake.call_from(request)
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(by=principal(request), **form.cleaned_data)
        except ServiceError as exc:
            _refused(form, exc)
        else:
            if call is not None:
                intake.started_from_call(request, call)
            return redirect("cases:intake_household", code=client.case_code)
    return render(
        request,
        "cases/new.html",
        {"form": form, "steps": intake.steps(None, "her"), "call": call},
    )


def _refused(form, exc: ServiceError) -> None:
    """A service's refusal on the form: next to the phone when the number is the reason."""
    form.add_error("phone" if exc.code == "invalid_phone" else None, exc.message)


def _profile_saved(p, client, form) -> bool:
    """Her profile from a valid ClientForm or ProfileForm (the intake's first step, the tab)."""
    try:
        services.client_update(by=p, client=client, **form.cleaned_data)
    except ServiceError as exc:
        _refused(form, exc)
        return False
    return True


# --- the guided intake ---------------------------------------------------------------------


@login_required
@case_view
@once
def intake_her(request: HttpRequest, code: str) -> HttpResponse:
    """Step 1 again, for a case already opened (back from a later step): nothing is lost."""
    p, client = _case(request, code, "profile")
    initial = ClientForm.initial_for(client)
    initial["phone"] = client.phone
    form = ClientForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if _profile_saved(p, client, form):
            return redirect("cases:intake_household", code=code)
    return render(
        request,
        "cases/new.html",
        {"form": form, "client": client, "steps": intake.steps(client, "her")},
    )


@login_required
@case_view
@once
def intake_household(request: HttpRequest, code: str) -> HttpResponse:
    """Step 2: who comes with her, and who and where she must avoid (kept only with her
    agreement; otherwise carried to this search only)."""
    p, client = _case(request, code, "household")
    form = IntakeHouseholdForm(request.POST or None, initial=intake.household_initial(client))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.intake_household_save(
                by=p,
                client=client,
                children=d["children"],
                pets=d.get("pets") or 0,
                avoid_relation=d["avoid_relation"] if d["keep_avoid"] else "",
                avoid_region=d["avoid_region"] if d["keep_avoid"] else "",
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            avoid = "" if d["keep_avoid"] else d.get("avoid_region") or ""
            return redirect(intake.screening_url(client, avoid=avoid))
    return render(
        request,
        "cases/intake_household.html",
        {
            "form": form,
            "client": client,
            "parties": client.other_parties.all(),
            "steps": intake.steps(client, "household"),
        },
    )


@login_required
@case_view
def client_detail(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "profile")
    initial = {f: getattr(client, f) for f in ProfileForm.base_fields if f != "birth_date"}
    initial["birth_date"] = client.birth_date or None
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if _profile_saved(p, client, form):
            return _saved(request, "cases:detail", code)
    latest = client.assessments.filter(status="complete").first()
    return _tab(
        request,
        "cases/detail.html",
        client,
        "profile",
        form=form,
        latest=latest,
        can_manage=p.role == roles.Role.MANAGER,
    )


@login_required
@case_view
@once
def household(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "household")
    member_form = HouseholdMemberForm(request.POST if "add_member" in request.POST else None)
    party_form = OtherPartyForm(request.POST if "add_party" in request.POST else None)
    try:
        if "add_member" in request.POST and member_form.is_valid():
            services.household_member_add(by=p, client=client, **member_form.cleaned_data)
            return _saved(request, "cases:household", code)
        if "add_party" in request.POST and party_form.is_valid():
            data = dict(party_form.cleaned_data, region=party_form.cleaned_data["region"].upper())
            services.other_party_add(by=p, client=client, **data)
            return _saved(request, "cases:household", code)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _tab(
        request,
        "cases/household.html",
        client,
        "household",
        member_form=member_form,
        party_form=party_form,
        members=client.household.all(),
        parties=client.other_parties.all(),
    )


@login_required
@case_view
@require_POST
def household_remove(request: HttpRequest, code: str, member_id: str) -> HttpResponse:
    p, client = _case(request, code, "household")
    member = selectors.part_or_404(client.household.all(), member_id)
    services.household_member_remove(by=p, member=member)
    return _saved(request, "cases:household", code)


# --- risk ----------------------------------------------------------------------------------


def _label(labels: dict) -> str:
    return labels.get(get_language()) or labels.get("en") or next(iter(labels.values()), "")


def _items_for_display(inst: engine.Instrument, answers: dict):
    shown = {i.id for i in engine.visible_items(inst, answers)}
    return [
        {
            "id": i.id,
            "type": i.type,
            "label": _label(i.label),
            "value": answers.get(i.id),
            "hidden": i.id not in shown,
            "depends_on": (i.show_if or {}).get("item", ""),
            "choices": {
                "yes_no": ["yes", "no"],
                "yes_no_dk": ["yes", "no", "dk"],
                "severity": [1, 2, 3, 4, 5],
            }.get(i.type, []),
        }
        for i in inst.items
    ]


@login_required
@case_view
@once
def risk(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "risk")
    incident_form = IncidentForm(request.POST or None)
    if request.method == "POST" and incident_form.is_valid():
        try:
            services.incident_record(by=p, client=client, **incident_form.cleaned_data)
        except ServiceError as exc:
            incident_form.add_error(None, exc.message)
        else:
            return _saved(request, "cases:risk", code)
    return _tab(
        request,
        "cases/risk.html",
        client,
        "risk",
        assessments=client.assessments.all(),
        instruments=[(i, _label(i.title)) for i in instruments.current()],
        incidents=client.incidents.all()[:20],
        incident_form=incident_form,
    )


def _answers_from(request: HttpRequest, inst: engine.Instrument) -> dict:
    return {i.id: request.POST.get(f"item-{i.id}", "") for i in inst.items}


@login_required
@case_view
@once
def risk_form(request: HttpRequest, code: str, instrument: str, version: int) -> HttpResponse:
    """New assessment (or continue a draft with ?draft=<id>): save as draft or finish."""
    p, client = _case(request, code, "risk")
    try:
        inst = instruments.get(instrument, version)
    except instruments.UnknownInstrument:
        messages.error(request, unknown_instrument(instrument, version))
        return redirect("cases:risk", code=code)
    except engine.InstrumentError as exc:
        messages.error(request, str(exc))
        return redirect("cases:risk", code=code)
    draft = None
    if request.GET.get("draft") or request.POST.get("draft"):
        draft = selectors.part_or_404(
            client.assessments.filter(status="draft"),
            request.GET.get("draft") or request.POST.get("draft"),
        )
    answers = selectors.read_json(draft.answers) if draft else {}
    error = None
    if request.method == "POST":
        answers = _answers_from(request, inst)
        try:
            a, result = services.assessment_save(
                by=p,
                client=client,
                instrument_id=inst.id,
                version=inst.version,
                answers=answers,
                finish="finish" in request.POST,
                assessment=draft,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            guided = intake.query(request)
            if "finish" in request.POST and not result.complete:
                messages.warning(
                    request,
                    _("Saved as a draft: %(n)s questions still need an answer.")
                    % {"n": len(result.missing)},
                )
                return redirect(f"{request.path}?draft={a.pk}{'&' + guided if guided else ''}")
            if guided and "finish" in request.POST:
                # The guided intake goes on to the search, prefilled from all she said.
                messages.success(request, intake.screened_message(a))
                return redirect(intake.search_url(client, request))
            return redirect("cases:risk_detail", code=code, assessment_id=a.pk)
    live = (
        engine.score(inst, {k: v for k, v in answers.items() if v not in ("", None)})
        if answers
        else None
    )
    return _tab(
        request,
        "cases/risk_form.html",
        client,
        "risk",
        inst=inst,
        title=_label(inst.title),
        items=_items_for_display(inst, answers),
        draft=draft,
        error=error,
        live=live,
        steps=(
            intake.steps(client, "screening", avoid=intake.avoid_of(request))
            if intake.query(request)
            else None
        ),
        skip_url=intake.search_url(client, request) if intake.query(request) else "",
    )


@login_required
@case_view
@require_POST
def risk_score(request: HttpRequest, code: str, instrument: str, version: int) -> HttpResponse:
    """The live score while the form is filled in (htmx); nothing is saved."""
    _p, client = _case(request, code, "risk")
    inst = instruments.get(instrument, version)
    answers = {k: v for k, v in _answers_from(request, inst).items() if v not in ("", None)}
    try:
        answers = services._clean_answers(inst, answers)
        live = engine.score(inst, answers)
    except ServiceError as exc:
        return HttpResponse(exc.message, status=400)
    return render(
        request,
        "cases/_live_score.html",
        {
            "live": live,
            "inst": inst,
            "visible": [i.id for i in engine.visible_items(inst, answers)],
        },
    )


@login_required
@case_view
def risk_detail(request: HttpRequest, code: str, assessment_id: str) -> HttpResponse:
    p, client = _case(request, code, "risk")
    a = selectors.part_or_404(client.assessments.all(), assessment_id)
    if a.status == RiskAssessment.Status.DRAFT:
        return redirect(f"{_risk_form_url(client, a)}?draft={a.pk}")
    inst = instruments.get(a.instrument_id, a.instrument_version)
    bands = [
        (b["name"], _label(b.get("label", {"en": b["name"]})))
        for b in inst.bands
        if inst.band_rank(b["name"]) >= inst.band_rank(a.band)
    ]
    form = JudgementForm(request.POST or None, bands=bands)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_judge(by=p, assessment=a, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("cases:risk_detail", code=code, assessment_id=a.pk)
    answers = selectors.read_json(a.answers)
    return _tab(
        request,
        "cases/risk_detail.html",
        client,
        "risk",
        a=a,
        inst=inst,
        title=_label(inst.title),
        items=[i for i in _items_for_display(inst, answers) if not i["hidden"]],
        form=form,
        band_label=dict((b["name"], _label(b.get("label", {"en": b["name"]}))) for b in inst.bands),
    )


def _risk_form_url(client, a) -> str:
    from django.urls import reverse

    return reverse(
        "cases:risk_form",
        kwargs={
            "code": client.case_code,
            "instrument": a.instrument_id,
            "version": a.instrument_version,
        },
    )


# --- safety plan, notes, consent, aftercare --------------------------------------------------


@login_required
@case_view
def safety_plan(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "safety_plan")
    form = SafetyPlanForm(request.POST or None, initial=selectors.safety_plan_of(client))
    if request.method == "POST" and form.is_valid():
        services.safety_plan_save(by=p, client=client, sections=form.cleaned_data)
        return _saved(request, "cases:safety_plan", code)
    return _tab(request, "cases/safety_plan.html", client, "safety_plan", form=form)


@login_required
@case_view
def safety_plan_print(request: HttpRequest, code: str) -> HttpResponse:
    _p, client = _case(request, code, "safety_plan_print")
    from .forms import SECTION_LABELS

    plan = selectors.safety_plan_of(client)
    sections = [(SECTION_LABELS[k], plan.get(k, "")) for k in SAFETY_PLAN_SECTIONS if plan.get(k)]
    return render(
        request,
        "cases/safety_plan_print.html",
        {"client": client, "sections": sections, "today": timezone.localdate()},
    )


@login_required
@case_view
@once
def notes(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "notes")
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.note_add(by=p, client=client, **form.cleaned_data)
        return _saved(request, "cases:notes", code)
    return _tab(request, "cases/notes.html", client, "notes", form=form, notes=client.notes.all())


@login_required
@case_view
@once
def consent(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "consent")
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.consent_record(by=p, client=client, **form.cleaned_data)
        return _saved(request, "cases:consent", code)
    now = timezone.now()
    rows = [
        (c, c.withdrawn_at is None and c.expires_at > now)
        for c in client.consents.select_related("recipient")
    ]
    return _tab(request, "cases/consent.html", client, "consent", form=form, consents=rows)


@login_required
@case_view
@require_POST
def consent_withdraw(request: HttpRequest, code: str, consent_id: int) -> HttpResponse:
    p, client = _case(request, code, "consent")
    services.consent_withdraw(
        by=p, consent=selectors.part_or_404(client.consents.all(), consent_id)
    )
    return _saved(request, "cases:consent", code)


@login_required
@case_view
@once
def aftercare(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "aftercare")
    form = AftercareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.aftercare_add(by=p, client=client, **form.cleaned_data)
        return _saved(request, "cases:aftercare", code)
    return _tab(
        request,
        "cases/aftercare.html",
        client,
        "aftercare",
        form=form,
        tasks=client.aftercare.all(),
        today=timezone.localdate(),
    )


@login_required
@case_view
@require_POST
def aftercare_done(request: HttpRequest, code: str, task_id: str) -> HttpResponse:
    p, client = _case(request, code, "aftercare")
    task = selectors.part_or_404(client.aftercare.all(), task_id)
    services.aftercare_done(by=p, task=task, outcome=request.POST.get("outcome", ""))
    return _saved(request, "cases:aftercare", code)


@login_required
@case_view
def tasks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "cases/tasks.html",
        {
            "tasks": selectors.aftercare_due_for_principal(principal(request)),
            "today": timezone.localdate(),
        },
    )


@login_required
@case_view
@require_POST
def close(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "close")
    form = ReasonForm(request.POST)
    if form.is_valid():
        services.client_close(by=p, client=client, reason=form.cleaned_data["reason"])
        return _saved(request, "cases:detail", code)
    messages.error(request, _("Give a reason for closing the case."))
    return redirect("cases:detail", code=code)


@login_required
@role_required(lambda role: role == roles.Role.MANAGER)
@require_POST
def legal_hold(request: HttpRequest, code: str) -> HttpResponse:
    p, client = _case(request, code, "legal_hold")
    try:
        services.legal_hold_set(
            by=p,
            client=client,
            on=request.POST.get("on") == "1",
            reason=request.POST.get("reason", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("cases:detail", code=code)
    return _saved(request, "cases:detail", code)


@login_required
@case_view
def survivor_copy(request: HttpRequest, code: str) -> HttpResponse:
    copy = selectors.survivor_copy(principal(request), code)
    from .forms import SECTION_LABELS

    plan = [
        (SECTION_LABELS[k], copy.safety_plan.get(k))
        for k in SAFETY_PLAN_SECTIONS
        if copy.safety_plan.get(k)
    ]
    assessments = []
    for a, answers in copy.assessments:
        inst = instruments.get(a.instrument_id, a.instrument_version)
        assessments.append(
            (
                a,
                [
                    (it["label"], it["value"])
                    for it in _items_for_display(inst, answers)
                    if not it["hidden"] and it["value"] not in (None, "")
                ],
            )
        )
    return render(
        request,
        "cases/survivor_copy.html",
        {
            "copy": copy,
            "client": copy.client,
            "plan": plan,
            "assessments": assessments,
            "today": timezone.localdate(),
            "answer_json": json.dumps,
        },
    )


@login_required
@case_view
@once
def services_tab(request: HttpRequest, code: str) -> HttpResponse:
    """Consultations, accompaniment and interpretation: one tap for today, or the full form."""
    p, client = _case(request, code, "services")
    form = ServiceForm(
        request.POST if "full" in request.POST else None,
        initial={"channel": ServiceDelivery.Channel.IN_PERSON},
    )
    if request.method == "POST":
        try:
            if "full" in request.POST:
                if form.is_valid():
                    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
                    services.service_record(by=p, client=client, **data)
                    return _saved(request, "cases:services", code)
            else:
                services.service_record(
                    by=p,
                    client=client,
                    kind=request.POST.get("kind", ""),
                    channel=request.POST.get("channel") or ServiceDelivery.Channel.IN_PERSON,
                )
                return _saved(request, "cases:services", code)
        except ServiceError as exc:
            form.add_error(None, exc.message) if "full" in request.POST else messages.error(
                request, exc.message
            )
    quick = [k for k in ServiceDelivery.Kind.choices if k[0] != ServiceDelivery.Kind.INTERPRETATION]
    return _tab(
        request,
        "cases/services.html",
        client,
        "services",
        form=form,
        quick=quick,
        channels=ServiceDelivery.Channel.choices,
        rows=client.services.all()[:50],
    )


@login_required
@case_view
def stays(request: HttpRequest, code: str) -> HttpResponse:
    from refuge.vacancies.models import Room

    p, client = _case(request, code, "stays")
    current = (
        client.stays.filter(discharged_at__isnull=True).select_related("facility", "room").first()
    )
    try:
        if "admit" in request.POST:
            services.stay_admit(by=p, client=client, room_id=request.POST.get("room"))
            return _saved(request, "cases:stays", code)
        if "discharge" in request.POST and current is not None:
            if request.POST.get("sure") != "1":
                raise ServiceError(_("Tick the box to confirm."), "confirm_required")
            services.stay_discharge(by=p, stay=current, outcome=request.POST.get("outcome", ""))
            messages.info(request, _("Discharged. Plan the follow-ups she agreed to."))
            return redirect("cases:aftercare", code=code)
    except ServiceError as exc:
        messages.error(request, exc.message)
    rooms = (
        Room.objects.filter(
            facility__organisation_id=p.org_id, facility__is_active=True, in_service=True
        )
        .select_related("facility")
        .order_by("facility__name", "name")
    )
    return _tab(
        request,
        "cases/stays.html",
        client,
        "stays",
        current=current,
        rooms=rooms,
        history=client.stays.select_related("facility", "room"),
        outcomes=Stay.Outcome.choices,
    )


@login_required
@role_required(roles.can_erase_cases)
@reauth_required
def erase(request: HttpRequest, code: str) -> HttpResponse:
    """Erasure on request (issue 14, M6): a manager of her organisation, re-authenticated, a
    reason category and the case code typed back."""
    p, client = _case(request, code, "erase")
    if client.organisation_id != p.org_id:  # a receiving shelter sees it, but does not hold it
        raise Http404
    form = EraseForm(request.POST or None, case_code=client.case_code)
    if request.method == "POST" and form.is_valid():
        try:
            retention.client_erase(by=p, client=client, reason=form.cleaned_data["reason"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("The record was erased. Only the case code remains, for the statistics."),
            )
            return redirect("cases:list")
    return render(request, "cases/erase.html", {"client": client, "form": form})
