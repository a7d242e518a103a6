"""The administrator's page of peer networks: this instance's identity, trusted peers (trust,
untrust) and which organisations share their anonymised availability."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refuge.core import roles
from refuge.core.access import ReauthRequired, principal, role_required
from refuge.core.models import Organisation
from refuge.core.once import once
from refuge.core.services import ServiceError

from . import conf, selectors, services
from . import referrals as referrals_services
from .forms import AnswerForm, SharingForm, TrustForm
from .models import (
    IncomingReferral,
    OutboxMessage,
    OutgoingReferral,
    Peer,
    PeerFacility,
    SharingOrganisation,
)


def _reauth_first(request: HttpRequest) -> HttpResponse:
    """Trusting, untrusting or rotating a key asks for her password and a fresh code first
    (refuge.core.access); she comes back to this page, where nothing has changed."""
    query = urlencode({"next": reverse("federation:peers")})
    return redirect(f"{reverse('core:reauth')}?{query}")


@login_required
@role_required(roles.can_administer)
@once
def peers(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    if request.method == "POST" and not p.reauthenticated:
        return _reauth_first(request)
    form = TrustForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                peer = services.peer_trust(
                    by=p,
                    name=data["name"],
                    base_url=data["base_url"],
                    public_key=data["public_key"],
                    rotate=data["rotate"],
                    sealing_key=data["sealing_key"].strip(),
                    title=data["title"],
                )
                services.outbox_put(peer=peer, kind="hello")
        except ServiceError as exc:
            form.add_error(None, exc.message)
        except ReauthRequired:
            return _reauth_first(request)
        else:
            if data["rotate"]:
                messages.success(
                    request, _("%(name)s is trusted under its new key.") % {"name": peer.label}
                )
            else:
                messages.success(request, _("%(name)s is trusted.") % {"name": peer.label})
            return redirect("federation:peers")
    identity = conf.identity() if conf.enabled() else None
    shared = set(SharingOrganisation.objects.values_list("organisation_id", flat=True))
    organisations = [(org, org.pk in shared) for org in Organisation.objects.order_by("name")]
    waiting = {
        row["peer_id"]: row["n"]
        for row in OutboxMessage.objects.filter(status=OutboxMessage.Status.QUEUED)
        .values("peer_id")
        .annotate(n=Count("pk"))
    }
    peer_rows = [
        (peer, waiting.get(peer.pk, 0), getattr(peer, "snapshot", None))
        for peer in Peer.objects.select_related("snapshot").order_by("-trusted", "name")
    ]
    silent = list(selectors.silent_peers().values())
    return render(
        request,
        "federation/peers.html",
        {
            "identity": identity,
            "form": form,
            "peers": peer_rows,
            "organisations": organisations,
            "silent": silent,
            "reauthenticated": p.reauthenticated,
            "reauth_url": f"{reverse('core:reauth')}?"
            + urlencode({"next": reverse("federation:peers")}),
        },
    )


@login_required
@role_required(roles.can_administer)
@require_POST
def peer_untrust(request: HttpRequest, peer_id) -> HttpResponse:
    p = principal(request)
    if not p.reauthenticated:
        return _reauth_first(request)
    peer = Peer.objects.filter(pk=peer_id).first()
    if peer is None:
        raise Http404
    try:
        services.peer_untrust(by=p, peer=peer)
    except ReauthRequired:
        return _reauth_first(request)
    messages.success(request, _("%(name)s is no longer trusted.") % {"name": peer.label})
    return redirect("federation:peers")


@login_required
@role_required(roles.can_administer)
@require_POST
def sharing(request: HttpRequest) -> HttpResponse:
    form = SharingForm(request.POST)
    org = None
    if form.is_valid():
        org = Organisation.objects.filter(pk=form.cleaned_data["organisation"]).first()
    if org is None:
        messages.error(request, _("Choose an organisation."))
        return redirect("federation:peers")
    share = form.cleaned_data["share"]
    services.sharing_set(by=principal(request), organisation=org, share=share)
    if share:
        messages.success(request, _("%(name)s now shares its free places.") % {"name": org.name})
    else:
        messages.success(
            request, _("%(name)s no longer shares its free places.") % {"name": org.name}
        )
    return redirect("federation:peers")


# --- referrals across networks --------------------------------------------------------------


@login_required
@role_required(roles.can_view_cases)
def referrals(request: HttpRequest) -> HttpResponse:
    """Peers' referrals to our organisation's facilities (to answer), and ours to peers."""
    from refuge.referrals.models import DeclineReason

    p = principal(request)
    incoming = list(
        IncomingReferral.objects.filter(facility__organisation_id=p.org_id)
        .select_related("peer", "facility", "hold_room")
        .order_by("-received_at")[:200]
    )
    outgoing = list(
        OutgoingReferral.objects.filter(from_org_id=p.org_id)
        .select_related("peer", "client")
        .order_by("-created_at")[:200]
    )
    labels = dict(DeclineReason.choices)
    waiting = [row for row in outgoing if row.status == OutgoingReferral.Status.SENT]
    undelivered = selectors.undelivered(
        kind=referrals_services.OFFER, subject_ids=[str(row.pk) for row in waiting]
    )
    silent = selectors.silent_peers() if waiting else {}
    # The peer's facility by the name its snapshot gives it (gone from a later one: no name).
    names = {
        (f.peer_id, f.remote_id): f.name
        for f in PeerFacility.objects.filter(
            remote_id__in={row.remote_facility_id for row in outgoing}
        ).only("peer_id", "remote_id", "name")
    }
    for row in outgoing:
        row.facility_name = names.get((row.peer_id, row.remote_facility_id), "")
        row.reason_label = labels.get(row.decline_reason, row.decline_reason)
        row.undelivered = undelivered.get(str(row.pk), "")
        row.silence = silent.get(row.peer_id) if row in waiting else None
    warnings = []
    for silence in silent.values():
        mine = [row for row in waiting if row.peer_id == silence.peer_id]
        if mine:
            warnings.append(
                {
                    "silence": silence,
                    "queued": sum(row.undelivered == OutboxMessage.Status.QUEUED for row in mine),
                    "failed": sum(row.undelivered == OutboxMessage.Status.FAILED for row in mine),
                }
            )
    return render(
        request,
        "federation/referrals.html",
        {
            "incoming": incoming,
            "outgoing": outgoing,
            "reasons": DeclineReason.choices,
            "warnings": warnings,
            "can_search": roles.can_search_placements(p.role or ""),
        },
    )


def _incoming_here(p, referral_id) -> IncomingReferral:
    """A peer's referral to one of the principal's organisation's facilities, or 404."""
    incoming = IncomingReferral.objects.filter(
        pk=referral_id, facility__organisation_id=p.org_id
    ).first()
    if incoming is None:
        raise Http404
    return incoming


@login_required
@role_required(roles.can_view_cases)
@require_POST
def referral_answer(request: HttpRequest, referral_id) -> HttpResponse:
    p = principal(request)
    incoming = _incoming_here(p, referral_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose to accept or decline."))
        return redirect("federation:referrals")
    accept = form.cleaned_data["answer"] == AnswerForm.ACCEPT
    try:
        referrals_services.incoming_referral_answer(
            by=p, incoming=incoming, accept=accept, reason=form.cleaned_data["reason"]
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("The referral is accepted and a place is held for her; the other network is told.")
            if accept
            else _("The referral is declined; the other network is told."),
        )
    return redirect("federation:referrals")


@login_required
@role_required(roles.can_search_placements)
@require_POST
@once
def referral_send(request: HttpRequest) -> HttpResponse:
    """From the search's results: refer her case to one peer's facility (``<network>:<id>``)."""
    from refuge.cases import selectors as case_selectors
    from refuge.referrals.forms import SearchForm

    p = principal(request)
    form = SearchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The household is not complete; search again."))
        return redirect("referrals:search")
    client = case_selectors.client_for_principal(p, request.POST.get("case", ""), what="referral")
    network, _sep, remote_id = request.POST.get("peer_facility", "").partition(":")
    peer_facility = PeerFacility.objects.filter(
        peer__name=network, peer__trusted=True, remote_id=remote_id
    ).first()
    if peer_facility is None:
        messages.error(request, _("This network's facility is no longer listed; search again."))
        return redirect("referrals:search")
    try:
        referrals_services.federated_referral_send(
            by=p, client=client, peer_facility=peer_facility, household=form.household()
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("referrals:search")
    messages.success(
        request,
        _("Referral sent to %(facility)s (network %(network)s); you will be told of its answer.")
        % {"facility": peer_facility.name, "network": network},
    )
    return redirect("federation:referrals")


@login_required
@role_required(roles.can_search_placements)
@require_POST
def referral_withdraw(request: HttpRequest, referral_id) -> HttpResponse:
    p = principal(request)
    row = OutgoingReferral.objects.filter(pk=referral_id, from_org_id=p.org_id).first()
    if row is None:
        raise Http404
    try:
        referrals_services.federated_referral_withdraw(by=p, referral=row)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The referral is withdrawn; the other network is told."))
    return redirect("federation:referrals")


@login_required
@role_required(roles.can_view_cases)
@require_POST
def referral_release(request: HttpRequest, referral_id) -> HttpResponse:
    """She is not coming: give up the place held for a peer's accepted referral."""
    p = principal(request)
    incoming = _incoming_here(p, referral_id)
    try:
        referrals_services.incoming_referral_release(by=p, incoming=incoming)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The place is given up; the other network is told."))
    return redirect("federation:referrals")
