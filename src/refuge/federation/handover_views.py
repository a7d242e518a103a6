"""Her consent to hand her record over to the network that accepted her: one form on the
referrals page (the rest of that page lives in views.py)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from refuge.cases import selectors as case_selectors
from refuge.core import roles
from refuge.core.access import principal, require, role_required
from refuge.core.services import ServiceError

from . import handover
from .models import OutgoingReferral


class ConsentForm(forms.Form):
    consent = forms.BooleanField(
        label=gettext_lazy("She agrees that her record is handed over to this network."),
    )


@login_required
@role_required(roles.can_view_cases)
@require_POST
def record_consent(request: HttpRequest, referral_id) -> HttpResponse:
    p = principal(request)
    require(p, roles.can_search_placements)
    row = (
        OutgoingReferral.objects.filter(pk=referral_id, from_org_id=p.org_id)
        .select_related("client", "peer")
        .first()
    )
    if row is None:
        raise Http404
    # Her case, through the access helper (404 if not visible here; the read is audited).
    case_selectors.client_for_principal(p, row.client.case_code, what="record hand-over")
    form = ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box once she has agreed to the hand-over."))
        return redirect("federation:referrals")
    try:
        handover.federated_record_consent(by=p, referral=row)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Her consent is recorded. Her record is sealed so that only the network "
                "%(network)s can open it, and it is on its way."
            )
            % {"network": row.peer.label},
        )
    return redirect("federation:referrals")
