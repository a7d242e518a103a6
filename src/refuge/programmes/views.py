from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refuge.core import crypto, roles
from refuge.core.access import principal, role_required
from refuge.core.once import once
from refuge.core.services import ServiceError

from . import selectors, services, surveys
from .forms import ConcernForm, EndForm, EnrolForm, SupportForm, outcome_form
from .models import Attendance, OutcomeResponse, Participant, Session

ENDED = (Participant.Status.COMPLETED, Participant.Status.EXITED)

facilitator = role_required(roles.can_run_programmes)
victim_side = role_required(roles.can_view_cases)


@login_required
@facilitator
def home(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    return render(
        request,
        "programmes/home.html",
        {
            "groups": selectors.groups_for_principal(p),
            "programmes": selectors.programmes_for_principal(p),
        },
    )


@login_required
@facilitator
def group(request: HttpRequest, group_id: int) -> HttpResponse:
    g = selectors.group_for_principal(principal(request), group_id)
    summary = selectors.attendance_summary(g)
    sessions = list(g.sessions.all())
    next_number = (sessions[-1].number + 1) if sessions else 1
    return render(
        request,
        "programmes/group.html",
        {
            "group": g,
            "participants": [summary[pp.pk] for pp in g.participants.all()],
            "sessions": sessions,
            "next_number": next_number if next_number <= g.programme.sessions else None,
            "today": timezone.localdate(),
        },
    )


@login_required
@facilitator
@once
def enrol(request: HttpRequest, group_id: int) -> HttpResponse:
    p = principal(request)
    g = selectors.group_for_principal(p, group_id)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            participant = services.participant_enrol(by=p, group=g, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Enrolled. Support has been offered to his partner."))
            return redirect("programmes:participant", code=participant.code)
    return render(request, "programmes/enrol.html", {"group": g, "form": form})


@login_required
@facilitator
@require_POST
def session_new(request: HttpRequest, group_id: int) -> HttpResponse:
    p = principal(request)
    g = selectors.group_for_principal(p, group_id)
    try:
        number = int(request.POST.get("number", "0"))
        session = services.session_record(
            by=p, group=g, number=number, held_on=timezone.localdate()
        )
    except (ServiceError, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("Choose a session number.")))
        return redirect("programmes:group", group_id=g.pk)
    return redirect("programmes:register", group_id=g.pk, number=session.number)


@login_required
@facilitator
def register(request: HttpRequest, group_id: int, number: int) -> HttpResponse:
    """The register on a phone: one tap per participant (htmx swaps just his row)."""
    p = principal(request)
    g = selectors.group_for_principal(p, group_id)
    try:
        session = g.sessions.get(number=number)
    except Session.DoesNotExist:
        return redirect("programmes:group", group_id=g.pk)
    if request.method == "POST":
        participant = g.participants.filter(code=request.POST.get("participant", "")).first()
        if participant is None:
            return HttpResponse(status=404)
        try:
            services.attendance_mark(
                by=p, session=session, participant=participant, mark=request.POST.get("mark", "")
            )
        except ServiceError as exc:
            return HttpResponse(exc.message, status=400)
        participant.refresh_from_db(fields=["status"])
        marks = dict(session.attendance.values_list("participant_id", "mark"))
        if request.headers.get("HX-Request"):
            return render(
                request,
                "programmes/_register_row.html",
                {
                    "pp": participant,
                    "mark": marks.get(participant.pk),
                    "session": session,
                    "group": g,
                },
            )
        return redirect("programmes:register", group_id=g.pk, number=number)
    marks = dict(session.attendance.values_list("participant_id", "mark"))
    people = list(g.participants.filter(status__in=["active", "review"]))
    crypto.prefetch_data_keys(pp.data_key_id for pp in people)
    rows = [(pp, marks.get(pp.pk)) for pp in people]
    return render(
        request,
        "programmes/register.html",
        {"group": g, "session": session, "rows": rows, "marks": Attendance.Mark.choices},
    )


@login_required
@facilitator
@once
def participant(request: HttpRequest, code: str) -> HttpResponse:
    p = principal(request)
    pp = selectors.participant_for_principal(p, code)
    concern_form = ConcernForm(request.POST if "concern" in request.POST else None)
    end_form = EndForm(request.POST if "end" in request.POST else None)
    survey = surveys.for_respondent("participant")
    measure = outcome_form(
        survey, get_language(), request.POST if "measure" in request.POST else None
    )
    try:
        if "concern" in request.POST and concern_form.is_valid():
            services.risk_concern_raise(by=p, participant=pp, **concern_form.cleaned_data)
            messages.success(request, _("Delivered to the partner's support worker."))
            return redirect("programmes:participant", code=code)
        if "end" in request.POST and pp.status in ENDED:  # the form is no longer shown
            messages.error(request, _("He has already left the programme."))
        elif "end" in request.POST and end_form.is_valid():
            services.participant_end(by=p, participant=pp, **end_form.cleaned_data)
            return redirect("programmes:participant", code=code)
        if "measure" in request.POST and measure.is_valid():
            data = dict(measure.cleaned_data)
            phase = data.pop("phase")
            services.outcome_record(
                by=p, participant=pp, respondent="participant", phase=phase, answers=data
            )
            messages.success(request, _("Saved."))
            return redirect("programmes:participant", code=code)
    except ServiceError as exc:
        messages.error(request, exc.message)
    attendance = pp.attendance.select_related("session").order_by("session__number")
    return render(
        request,
        "programmes/participant.html",
        {
            "pp": pp,
            "partner": selectors.partner_view_for_programme(pp),
            "attendance": attendance,
            "concern_form": concern_form,
            "end_form": end_form,
            "measure": measure,
            "measured": list(
                pp.outcomes.filter(respondent="participant").values_list("phase", flat=True)
            ),
        },
    )


@login_required
@facilitator
def outcomes(request: HttpRequest, programme_id: int) -> HttpResponse:
    p = principal(request)
    try:
        programme = selectors.programmes_for_principal(p).get(pk=programme_id)
    except Exception:  # noqa: BLE001 - any miss is a 404
        from django.http import Http404

        raise Http404 from None
    lang = get_language()
    return render(
        request,
        "programmes/outcomes.html",
        {
            "programme": programme,
            "completion": selectors.completion(programme),
            "partner": selectors.outcome_report(programme, "partner", lang),
            "participant": selectors.outcome_report(programme, "participant", lang),
            "threshold": selectors.SMALL_CELL,
        },
    )


# --- victim side -------------------------------------------------------------------------------


@login_required
@victim_side
def partner_support_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "programmes/partner_support_list.html",
        {"supports": selectors.partner_supports_for_principal(principal(request))},
    )


@login_required
@victim_side
def partner_support(request: HttpRequest, support_id: str) -> HttpResponse:
    p = principal(request)
    support = selectors.partner_support_for_principal(p, support_id)
    form = SupportForm(
        request.POST if "update" in request.POST else None,
        initial={"status": support.status, "support_worker": support.support_worker or p.name},
    )
    survey = surveys.for_respondent("partner")
    measure = outcome_form(
        survey, get_language(), request.POST if "measure" in request.POST else None
    )
    try:
        if "update" in request.POST and form.is_valid():
            services.partner_support_update(by=p, support=support, **form.cleaned_data)
            return redirect("programmes:partner_support", support_id=support.pk)
        if "acknowledge" in request.POST:
            concern = support.concerns.filter(pk=request.POST["acknowledge"]).first()
            if concern is not None:
                services.risk_concern_acknowledge(by=p, concern=concern)
            return redirect("programmes:partner_support", support_id=support.pk)
        if "measure" in request.POST and measure.is_valid():
            data = dict(measure.cleaned_data)
            phase = data.pop("phase")
            services.outcome_record(
                by=p,
                participant=support.participant,
                respondent=OutcomeResponse.Respondent.PARTNER,
                phase=phase,
                answers=data,
            )
            messages.success(request, _("Saved."))
            return redirect("programmes:partner_support", support_id=support.pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return render(
        request,
        "programmes/partner_support.html",
        {
            "support": support,
            "form": form,
            "concerns": support.concerns.all(),
            "measure": measure,
            "measured": list(
                support.participant.outcomes.filter(respondent="partner").values_list(
                    "phase", flat=True
                )
            ),
        },
    )
