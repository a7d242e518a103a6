from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from refuge.cases.models import Client
from refuge.core import roles
from refuge.core.access import principal, role_required
from refuge.core.models import Organisation
from refuge.core.once import once
from refuge.core.roles import Role
from refuge.core.services import ServiceError

from . import selectors, services
from .models import Area

attendee = role_required(roles.can_see_meetings)


class ProposeForm(forms.Form):
    case_code = forms.CharField(label=gettext_lazy("Case code"), max_length=20)
    summary = forms.CharField(
        label=gettext_lazy("Summary the agencies may see"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Only what the agencies need to act: no address, no names of other people, no notes."
        ),
    )
    legal_basis = forms.CharField(
        label=gettext_lazy("Legal basis, if she has not consented"), max_length=300, required=False
    )


class ActionForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Agency"), queryset=Organisation.objects.none()
    )
    description = forms.CharField(label=gettext_lazy("Action"), max_length=500)
    due_on = forms.DateField(
        label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, area: Area, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = area.members.all()


@login_required
@attendee
@once
def meeting_list(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    areas = (
        Area.objects.filter(coordinator_org_id=p.org_id)
        if p.role == Role.COORDINATOR
        else Area.objects.none()
    )
    if request.method == "POST" and p.role == Role.COORDINATOR:
        try:
            area = areas.get(pk=request.POST.get("area"))
            on = date.fromisoformat(request.POST.get("date", ""))
            meeting = services.meeting_schedule(by=p, area=area, on=on)
        except (Area.DoesNotExist, ValueError):
            messages.error(request, _("Choose an area and a date."))
        else:
            return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(
        request,
        "meetings/list.html",
        {
            "meetings": selectors.meetings_for_principal(p),
            "areas": areas,
            "due": selectors.proposals_due(p),
            "today": timezone.localdate(),
        },
    )


@login_required
@attendee
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = principal(request)
    meeting = selectors.meeting_for_principal(p, meeting_id)
    items = selectors.agenda_for_principal(p, meeting)
    is_coordinator = p.role == Role.COORDINATOR and meeting.area.coordinator_org_id == p.org_id
    return render(
        request,
        "meetings/detail.html",
        {
            "meeting": meeting,
            "items": items,
            "is_coordinator": is_coordinator,
            "action_form": ActionForm(area=meeting.area) if is_coordinator else None,
            "can_propose": roles.can_propose_to_meetings(p.role) and meeting.status == "planned",
            "org_id": p.org_id,
            "role": p.role,
        },
    )


@login_required
@role_required(roles.can_propose_to_meetings)
def propose(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = principal(request)
    meeting = selectors.meeting_for_principal(p, meeting_id)
    form = ProposeForm(request.POST or None, initial={"case_code": request.GET.get("case", "")})
    if request.method == "POST" and form.is_valid():
        client = Client.objects.filter(
            organisation_id=p.org_id, case_code=form.cleaned_data["case_code"]
        ).first()
        if client is None:
            form.add_error("case_code", _("No open case of your organisation has this code."))
        else:
            try:
                services.agenda_propose(
                    by=p,
                    meeting=meeting,
                    client=client,
                    summary=form.cleaned_data["summary"],
                    legal_basis=form.cleaned_data["legal_basis"],
                )
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Proposed for the meeting."))
                return redirect("meetings:detail", meeting_id=meeting.pk)
    return render(request, "meetings/propose.html", {"meeting": meeting, "form": form})


def _back(item) -> HttpResponse:
    return redirect("meetings:detail", meeting_id=item.meeting_id)


@login_required
@role_required(roles.can_coordinate_meetings)
@require_POST
def item_decide(request: HttpRequest, item_id: str) -> HttpResponse:
    p = principal(request)
    item = selectors.item_for_principal(p, item_id)
    services.agenda_decide(by=p, item=item, accept=request.POST.get("accept") == "1")
    return _back(item)


@login_required
@role_required(roles.can_coordinate_meetings)
@require_POST
def item_conclude(request: HttpRequest, item_id: str) -> HttpResponse:
    p = principal(request)
    item = selectors.item_for_principal(p, item_id)
    try:
        services.item_conclude(
            by=p,
            item=item,
            stays=request.POST.get("stays") == "1",
            reason=request.POST.get("reason", ""),
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    return _back(item)


@login_required
@role_required(roles.can_coordinate_meetings)
@require_POST
@once
def action_new(request: HttpRequest, item_id: str) -> HttpResponse:
    p = principal(request)
    item = selectors.item_for_principal(p, item_id)
    form = ActionForm(request.POST, area=item.meeting.area)
    if form.is_valid():
        try:
            services.action_assign(by=p, item=item, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose the agency, describe the action and give a due date."))
    return _back(item)


@login_required
@role_required(roles.can_attend_meetings)
@require_POST
def action_done(request: HttpRequest, action_id: str) -> HttpResponse:
    p = principal(request)
    action = selectors.action_for_principal(p, action_id)
    services.action_complete(by=p, action=action, note=request.POST.get("note", ""))
    return redirect("meetings:detail", meeting_id=action.item.meeting_id)


@login_required
@role_required(roles.can_coordinate_meetings)
@require_POST
def hold(request: HttpRequest, meeting_id: int) -> HttpResponse:
    p = principal(request)
    meeting = selectors.meeting_for_principal(p, meeting_id)
    try:
        services.meeting_hold(by=p, meeting=meeting)
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("meetings:detail", meeting_id=meeting.pk)


@login_required
@attendee
def minutes(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Printable minutes, with the same minimum as the agenda for this viewer."""
    p = principal(request)
    meeting = selectors.meeting_for_principal(p, meeting_id)
    return render(
        request,
        "meetings/minutes.html",
        {
            "meeting": meeting,
            "items": selectors.agenda_for_principal(p, meeting),
            "viewer": p.organisation,
        },
    )


@login_required
@attendee
def case(request: HttpRequest, meeting_id: int, code: str) -> HttpResponse:
    """One case as this viewer may see it at this meeting; 404 if it is not on its agenda."""
    p = principal(request)
    meeting = selectors.meeting_for_principal(p, meeting_id)
    view = selectors.agenda_item_for_principal(p, meeting, code)
    return render(request, "meetings/case.html", {"meeting": meeting, "v": view})
