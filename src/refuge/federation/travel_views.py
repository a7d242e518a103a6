"""Her journey across the border (refuge.federation.travel): the receiving side's journey page
(plan, carriers, the address for the carriers only, arrival) and the sending side's view of
what the receiving network shared."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from refuge.core import roles
from refuge.core.access import principal, role_required
from refuge.core.once import once
from refuge.core.services import ServiceError

from . import travel
from .models import IncomingReferral, Journey, OutgoingReferral

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class JourneyForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("How"), choices=Journey.Mode.choices)
    departs_at = forms.DateTimeField(label=gettext_lazy("Departure"), required=False, widget=_WHEN)
    arrives_at = forms.DateTimeField(
        label=gettext_lazy("Expected arrival"),
        required=False,
        help_text=gettext_lazy("The carriers see the address until some hours after this."),
        widget=_WHEN,
    )
    meeting_point = forms.CharField(
        label=gettext_lazy("Meeting point (told to the other network)"),
        max_length=travel.MAX_MEETING_POINT,
        required=False,
        help_text=gettext_lazy(
            "A station or a town where your staff meet her. Never the facility's address."
        ),
    )
    escort = forms.CharField(
        label=gettext_lazy("Escort (stays here)"), max_length=200, required=False
    )
    escort_role = forms.ChoiceField(
        label=gettext_lazy("Escort's role (told to the other network)"),
        choices=Journey.EscortRole.choices,
    )
    carriers = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Staff carrying it out (they will see the address)"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carriers"].queryset = staff

    def clean(self):
        """Dates that make sense (a typo in the year would keep the address open for years)."""
        data = super().clean()
        now = timezone.now()
        earliest, latest = now - timedelta(days=1), now + timedelta(days=366)
        for name in ("departs_at", "arrives_at"):
            when = data.get(name)
            if when and not earliest <= when <= latest:
                self.add_error(name, _("Give a date between yesterday and a year from now."))
        departs, arrives = data.get("departs_at"), data.get("arrives_at")
        if departs and arrives and arrives < departs:
            self.add_error("arrives_at", _("The expected arrival cannot be before the departure."))
        return data


def _initial(journey: Journey | None) -> dict:
    if journey is None:
        return {}
    local = lambda v: v and timezone.localtime(v).replace(tzinfo=None)  # noqa: E731
    return {
        "mode": journey.mode,
        "departs_at": local(journey.departs_at),
        "arrives_at": local(journey.arrives_at),
        "meeting_point": journey.meeting_point,
        "escort": journey.escort,
        "escort_role": journey.escort_role,
        "carriers": list(journey.carriers.values_list("pk", flat=True)),
    }


def _incoming_for(p, referral_id) -> IncomingReferral:
    """A peer's referral to one of this organisation's facilities, else 404."""
    incoming = (
        IncomingReferral.objects.filter(pk=referral_id, facility__organisation_id=p.org_id)
        .select_related("facility__organisation", "peer")
        .first()
    )
    if incoming is None or incoming.status != IncomingReferral.Status.ACCEPTED:
        raise Http404
    return incoming


@login_required
@role_required(roles.can_view_cases)
@once
def journey(request: HttpRequest, referral_id) -> HttpResponse:
    """The receiving side: plan her journey; the carriers see the address here."""
    p = principal(request)
    incoming = _incoming_for(p, referral_id)
    plan = Journey.objects.filter(incoming=incoming).first()
    staff = travel.journey_carrier_staff(incoming)
    form = JourneyForm(request.POST or None, staff=staff, initial=_initial(plan))
    if request.method == "POST" and form.is_valid():
        try:
            travel.journey_plan(by=p, incoming=incoming, **form.cleaned_data)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("The journey is planned; the other network is told what it needs.")
            )
            return redirect("federation:journey", referral_id=incoming.pk)
    return render(
        request,
        "federation/journey.html",
        {
            "incoming": incoming,
            "plan": plan,
            "form": form,
            "address": travel.journey_address_for(p, incoming),
            "carriers": list(plan.carriers.order_by("username")) if plan else [],
        },
    )


@login_required
@role_required(roles.can_view_cases)
@require_POST
def journey_arrive(request: HttpRequest, referral_id) -> HttpResponse:
    p = principal(request)
    incoming = _incoming_for(p, referral_id)
    try:
        travel.journey_arrive(by=p, incoming=incoming)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Her arrival is recorded; the other network is told."))
    return redirect("federation:journey", referral_id=incoming.pk)


@login_required
@role_required(roles.can_view_cases)
def journey_sent(request: HttpRequest, referral_id) -> HttpResponse:
    """The sending side: what the receiving network shared to put her on the way."""
    p = principal(request)
    row = (
        OutgoingReferral.objects.filter(pk=referral_id, from_org_id=p.org_id)
        .select_related("peer", "client")
        .first()
    )
    if row is None:
        raise Http404
    plan = dict(row.journey or {})
    for name in ("departs_at", "arrives_at"):
        if plan.get(name):
            from datetime import datetime

            plan[name] = datetime.fromisoformat(plan[name])
    plan["mode_label"] = dict(Journey.Mode.choices).get(plan.get("mode"), "")
    plan["escort_label"] = dict(Journey.EscortRole.choices).get(plan.get("escort_role"), "")
    return render(
        request,
        "federation/journey_sent.html",
        {"row": row, "plan": plan if row.journey else None},
    )
