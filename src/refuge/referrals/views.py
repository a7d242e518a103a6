from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from refuge.cases import intake as case_intake
from refuge.cases import selectors as case_selectors
from refuge.cases.forms import children_text
from refuge.core import limits, roles
from refuge.core.access import audited_read, principal, role_required
from refuge.core.ids import uuid_or_none
from refuge.core.models import User
from refuge.core.once import once
from refuge.core.services import ServiceError
from refuge.directory import services as directory_services
from refuge.directory.models import Facility
from refuge.directory.selectors import address_for_display
from refuge.hotline import wrapup_hints
from refuge.vacancies.availability import NO_ROOMS
from refuge.vacancies.forms import ReportForm
from refuge.vacancies.models import Room
from refuge.vacancies.reasons import reason_text, unverified_text

from . import patterns, search, selectors, services, wording
from .forms import (
    DeclineForm,
    RelocationForm,
    SearchForm,
    ThreatRegionsForm,
    TurnAwayForm,
)
from .models import NoHoldReason

if TYPE_CHECKING:
    from refuge.placement.evacuation import Plan

searcher = role_required(roles.can_search_placements)
case_staff = role_required(roles.can_view_cases)


def _initial_from_case(p, code: str) -> dict:
    client = case_selectors.client_for_principal(p, code, what="placement_search")
    h = search.household_of(client)
    # Where he is, from her record: the regions she must avoid need not be chosen again.
    avoid = sorted({r for r in client.other_parties.values_list("region", flat=True) if r})
    return {**h, "children": children_text(h["children"]), "avoid_regions": avoid}


def _network_label(other) -> str:
    """A peer network's facility: its network's name as staff read it; a local one: ""."""
    return (other.network_label or other.network) if other is not None else ""


@login_required
@searcher
def search_page(request: HttpRequest) -> HttpResponse:
    """Who can take this household now, best first, and who cannot and why."""
    p = principal(request)
    code = request.GET.get("case", "").strip().upper()
    # A case code that cannot be one is no case: the page is the plain search (her case's
    # pages check access themselves; a malformed code must not reach their addresses).
    code = code if case_selectors.CASE_CODE.fullmatch(code) else ""
    if code and request.GET.get("go") == "1" and "woman_age" not in request.GET:
        # From the guided intake: search at once with everything her case file says, as an
        # ordinary search (so the page's address holds the household, as when typed).
        initial = _initial_from_case(p, code)
        avoid = case_intake.avoid_of(request)
        if avoid and avoid not in initial["avoid_regions"]:
            initial["avoid_regions"] = [*initial["avoid_regions"], avoid]
        query = {k: v for k, v in initial.items() if v not in ("", None, [])}
        return redirect(f"{request.path}?{urlencode({'case': code, **query}, doseq=True)}")
    data = request.GET if "woman_age" in request.GET else None
    form = SearchForm(data, initial=_initial_from_case(p, code) if code and data is None else None)
    result, household, error, retry_after = None, None, None, None
    if form.is_bound and form.is_valid():
        household = form.household()
        try:
            limits.check(p, "search")
            asked = search.household_from(household)
            patterns.search_pattern_note(by=p, household=asked.household)
            found = search.search(p, asked, external=True)
        except ServiceError as exc:
            error, retry_after = exc.message, getattr(exc, "retry_after", None)
        else:
            # A trusted peer network's facility: its network's name and its figure's time; it
            # cannot be sent a referral from here yet (issue 20, next slice).
            other = found.external
            result = {
                "results": [
                    {
                        "r": r,
                        "why": [wording.why_text(x) for x in r.reasons],
                        "check": [unverified_text(x) for x in r.unverified],
                        "network": _network_label(other.get(r.facility_id)),
                        "figure_at": other[r.facility_id].figure_at
                        if r.facility_id in other
                        else None,
                    }
                    for r in found.ranking.results
                ],
                "excluded": [
                    {
                        "e": e,
                        "why": [reason_text(x) for x in e.reasons],
                        "network": _network_label(other.get(e.facility_id)),
                    }
                    for e in found.ranking.excluded
                ],
            }
    response = render(
        request,
        "referrals/search.html",
        {
            "form": form,
            "result": result,
            "case": code,
            "steps": case_intake.steps(code, "search") if code else None,
            "error": error,
            "turn_away_form": TurnAwayForm(),
            "hold_default": services.DEFAULT_HOLD_MINUTES,
            "hold_max": settings.REFUGE_HOLD_MAX_MINUTES,
        },
        status=429 if retry_after is not None else 200,
    )
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _minutes(raw: str | None) -> int | None:
    try:
        return int(raw or services.DEFAULT_HOLD_MINUTES)
    except ValueError:
        return None  # refused by the service with its own message


@login_required
@searcher
@require_POST
@once
def send(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = SearchForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The household is not complete; search again."))
        return redirect("referrals:search")
    client = case_selectors.client_for_principal(p, request.POST.get("case", ""), what="referral")
    try:
        limits.check(p, "referral_create")
        referral = services.referral_create(
            by=p,
            client=client,
            household=form.household(),
            facility_ids=request.POST.getlist("facility"),
            hold_minutes=_minutes(request.POST.get("hold_minutes")),
            shared_fields=request.POST.getlist("share"),
            note=request.POST.get("note", ""),
            keep_avoid_regions=request.POST.get("keep_avoid") == "1",
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(f"{request.META.get('HTTP_REFERER') or '/referrals/search/'}")
    if referral.not_held_by_cap:
        messages.warning(
            request,
            _(
                "Referral sent. %(n)s of the shelters are asked without a place held: the "
                "limit of places held at once is reached (%(case)s per case, %(sender)s per "
                "sender). Withdraw referrals you no longer need to hold places again."
            )
            % {
                "n": referral.not_held_by_cap,
                "case": settings.REFUGE_HOLDS_PER_CASE,
                "sender": settings.REFUGE_HOLDS_PER_SENDER,
            },
        )
    else:
        messages.success(request, _held_message(referral))
    wrapup_hints.referral_sent(request)
    return redirect("referrals:detail", referral_id=referral.pk)


def _held_message(referral) -> str:
    """What was held, said as it is: the referral page says per shelter why none was."""
    targets = list(referral.targets.values_list("hold_active", flat=True))
    held, asked = sum(1 for h in targets if h), len(targets)
    if held == asked:
        return ngettext(
            "Referral sent; the place is held while the shelter answers.",
            "Referral sent; a place is held at each of the %(n)s shelters while they answer.",
            asked,
        ) % {"n": asked}
    if not held:
        return ngettext(
            "Referral sent, without a place held: see why below.",
            "Referral sent to %(n)s shelters, without a place held at any: see why below.",
            asked,
        ) % {"n": asked}
    return _(
        "Referral sent to %(n)s shelters; a place is held at %(held)s of them. See below why "
        "not at the others."
    ) % {"n": asked, "held": held}


@login_required
@searcher
@require_POST
@once
def turn_away(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form, reasons = SearchForm(request.POST), TurnAwayForm(request.POST)
    if form.is_valid() and reasons.is_valid():
        try:
            row = services.turn_away_record(
                by=p, household=form.household(), reasons=reasons.cleaned_data["reasons"]
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            if row.unnecessary:
                messages.warning(
                    request,
                    _("Recorded. Note: %(n)s facilities could have taken her right now.")
                    % {"n": len(row.could_have)},
                )
            else:
                messages.info(request, _("Recorded."))
    else:
        messages.error(request, _("Choose at least one reason."))
    return redirect("referrals:turnaways")


def _carriers(referral):
    """Who may be named to carry out the journey (and so see the address): active case staff
    of the sending organisation and of the accepting shelter's."""
    accepted = referral.accepted_target
    orgs = [referral.from_org_id] + ([accepted.facility.organisation_id] if accepted else [])
    return User.objects.filter(
        membership__organisation_id__in=orgs,
        membership__is_active=True,
        membership__role__in=roles.CASE_ROLES,
    ).order_by("username")


def _plan_initial(relocation) -> dict:
    """The saved plan, so that saving the form again changes only what she changes (a blank
    form would quietly drop the carriers, and with them their sight of the address)."""
    if relocation is None:
        return {}
    return {
        "mode": relocation.mode,
        "escort": relocation.escort,
        "departs_at": relocation.departs_at
        and timezone.localtime(relocation.departs_at).replace(tzinfo=None),
        "arrives_at": relocation.arrives_at
        and timezone.localtime(relocation.arrives_at).replace(tzinfo=None),
        "cost": relocation.cost,
        "paid_by": relocation.paid_by,
        "carriers": list(relocation.carriers.values_list("pk", flat=True)),
    }


@login_required
@case_staff
def detail(request: HttpRequest, referral_id) -> HttpResponse:
    p = principal(request)
    referral = selectors.referral_for_principal(p, referral_id)
    if referral.from_org_id != p.org_id:
        services.referral_opened(by=p, referral=referral)
    return _detail_page(request, p, referral)


def _detail_page(request: HttpRequest, p, referral, relocation_form=None) -> HttpResponse:
    """The referral page; ``relocation_form`` is a travel plan sent back with its errors."""
    sender = referral.from_org_id == p.org_id
    targets = referral.targets.select_related("facility", "hold_room")
    if not sender:
        targets = targets.filter(facility__organisation_id=p.org_id)
    now = timezone.now()
    rows = []
    for t in targets:
        mine = t.facility.organisation_id == p.org_id
        expired = services.hold_expired(t, now)
        rows.append(
            {
                "t": t,
                "expired": expired,
                "mine": mine,
                "put_right": _put_right(p, referral, t, now)
                if mine and referral.status == "open" and (expired or not t.hold_active)
                else None,
            }
        )
    address = None
    accepted = referral.accepted_target
    if accepted is not None and referral.status == "accepted":
        address = address_for_display(p, accepted.facility, what="relocation")
    relocation = getattr(referral, "relocation", None) if hasattr(referral, "relocation") else None
    staff = _carriers(referral)
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "rows": rows,
            "sender": sender,
            "address": address,
            "relocation": relocation,
            "decline_form": DeclineForm(),
            "relocation_form": relocation_form
            or RelocationForm(staff=staff, initial=_plan_initial(relocation)),
            "receiving": accepted is not None and accepted.facility.organisation_id == p.org_id,
            "household": referral.household,
            "children": children_text(referral.household.get("children") or []),
            "shared": _shared(p, referral, sender),
        },
    )


def _put_right(p, referral, target, now) -> dict | None:
    """For the receiving staff of a shelter asked without a place held (or whose hold lapsed):
    whether a place is free for her now by the one figure (refuge.vacancies.free), and if not,
    why, with the means to put the figures right on this page and accept (issue 15, item 3)."""
    if target.status not in ("holding", "pending") or not roles.can_manage_facility(p.role):
        return None
    from refuge.vacancies.free import free_places, room_can_take

    size = services.household_size(referral.household)
    places = free_places([target.facility_id], now)[str(target.facility_id)]
    rooms = list(Room.objects.filter(facility_id=target.facility_id, in_service=True))
    if any(places.fits(r, size) for r in rooms):
        return {"fits": True}
    a = places.availability
    if a.unknown_reason == NO_ROOMS:
        why = NoHoldReason.NO_ROOMS
    elif not a.known:
        why = NoHoldReason.UNKNOWN
    elif not any(room_can_take(r.kind, r.beds, size) for r in rooms):
        why = NoHoldReason.NO_FIT
    else:
        why = NoHoldReason.TAKEN
    return {
        "fits": False,
        "why": NoHoldReason(why).label,
        "why_code": why,
        "system": a.source == "system",
        "facility": target.facility,
        "form": ReportForm(rooms=sorted(rooms, key=lambda r: r.name), current=places.rooms)
        if rooms and a.source != "system"
        else None,
    }


def _shared(p, referral, sender: bool) -> list[tuple[str, str]]:
    """What the receiving side may see before it accepts: the fields the sender chose. Showing
    them is a read of her record, so it is audited like any other (SPEC S2)."""
    labels = {
        "name": _("Name or alias"),
        "phone": _("Phone"),
        "birth_date": _("Date of birth"),
        "safe_contact": _("Safe contact"),
        "health_notes": _("Health and disability needs"),
        "languages": _("Languages"),
        "citizenship": _("Citizenship"),
    }
    client = referral.client
    out = []
    for field in referral.shared_fields:
        value = getattr(client, field, "")
        out.append(
            (labels.get(field, field), ", ".join(value) if isinstance(value, list) else value)
        )
    if out:
        audited_read(p, client, target_org_slug=client.organisation.slug, what="referral_shared")
    return out


@login_required
@case_staff
@require_POST
def act(request: HttpRequest, referral_id, action: str) -> HttpResponse:
    p = principal(request)
    referral = selectors.referral_for_principal(p, referral_id)
    try:
        if action in ("accept", "decline"):
            facility = Facility.objects.get(pk=request.POST.get("facility"))
            if action == "accept":
                services.referral_accept(by=p, referral=referral, facility=facility)
            else:
                form = DeclineForm(request.POST)
                services.referral_decline(
                    by=p, referral=referral, facility=facility, reason=form.data.get("reason", "")
                )
        elif action == "put_right":
            _put_right_and_accept(request, p, referral)
        elif action == "withdraw":
            if request.POST.get("sure") != "1":
                raise ServiceError(_("Tick the box to confirm."), "confirm_required")
            services.referral_withdraw(by=p, referral=referral)
        elif action == "arrive":
            services.referral_arrive(by=p, referral=referral)
            messages.success(request, _("Welcome: her stay has started and her case is now yours."))
            return redirect("cases:stays", code=referral.client.case_code)
        elif action == "relocation":
            # A plan that is refused comes back with what was typed and the reason beside the
            # field, instead of a redirect that loses it.
            form = RelocationForm(request.POST, staff=_carriers(referral))
            if form.is_valid():
                try:
                    services.relocation_plan(by=p, referral=referral, **form.cleaned_data)
                except ServiceError as exc:
                    form.add_error(None, exc.message)
            if not form.is_valid():
                return _detail_page(request, p, referral, relocation_form=form)
        else:
            raise Http404
    except (ServiceError, Facility.DoesNotExist, ValidationError, ValueError) as exc:
        # A facility id that is no facility (or not a uuid) is a message, never a 500 (L1).
        messages.error(
            request, exc.message if isinstance(exc, ServiceError) else _("Unknown facility.")
        )
    return redirect("referrals:detail", referral_id=referral.pk)


def _put_right_and_accept(request: HttpRequest, p, referral) -> None:
    """The receiving staff correct their facility's figures (a full report, as on the facility
    page, prefilled with the figures now) and accept, from the referral page: the report stands
    even if the accept then fails, since it is what they know of their rooms."""
    from refuge.vacancies import services as vacancy_services

    facility = Facility.objects.get(pk=request.POST.get("facility"))
    if not referral.targets.filter(
        facility=facility, facility__organisation_id=p.org_id
    ).exists() or not roles.can_manage_facility(p.role):
        raise ServiceError(_("This facility was not asked in this referral."), "unknown_target")
    rooms = list(Room.objects.filter(facility=facility, in_service=True))
    form = ReportForm(request.POST, rooms=rooms)
    if not form.is_valid():
        raise ServiceError(_("Some figures were not numbers; nothing was saved."), "invalid")
    vacancy_services.availability_report(by=p, facility=facility, free_beds=form.free_beds())
    try:
        services.referral_accept(by=p, referral=referral, facility=facility)
    except ServiceError as exc:
        raise ServiceError(
            _("The figures are saved, but the referral is not accepted: %(why)s")
            % {"why": exc.message},
            exc.code,
        ) from exc
    messages.success(request, _("The figures are saved and the referral is accepted."))


@login_required
@case_staff
def inbox(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    now = timezone.now()
    rows = [
        {"t": t, "expired": services.hold_expired(t, now)}
        for t in selectors.inbox_for_principal(p)[:200]
    ]
    return render(request, "referrals/inbox.html", {"rows": rows})


@login_required
@searcher
def sent(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "referrals/sent.html",
        {"referrals": selectors.sent_for_principal(principal(request))[:200]},
    )


@login_required
@searcher
def turnaways(request: HttpRequest) -> HttpResponse:
    rows = selectors.turnaways_for_principal(principal(request))
    return render(
        request,
        "referrals/turnaways.html",
        {
            "rows": rows[:200],
            "total": rows.count(),
            "unnecessary": rows.filter(unnecessary=True).count(),
        },
    )


@login_required
@searcher
def waitlist(request: HttpRequest) -> HttpResponse:
    """Women waiting for a place, each with the facilities that could take her right now
    (derived on every view: nothing has to run when a place frees up)."""
    from .models import WaitlistEntry

    p = principal(request)
    if request.method == "POST":
        try:
            if "add" in request.POST:
                client = case_selectors.client_for_principal(
                    p, request.POST.get("case", ""), what="waitlist"
                )
                services.waitlist_add(by=p, client=client, household=search.household_of(client))
                messages.success(request, _("She is on the waiting list."))
            else:
                entry = WaitlistEntry.objects.get(
                    pk=request.POST.get("entry"), organisation_id=p.org_id
                )
                services.waitlist_called_back(
                    by=p,
                    entry=entry,
                    close="close" in request.POST,
                    reason=request.POST.get("reason", ""),
                )
        except (ServiceError, WaitlistEntry.DoesNotExist, ValueError) as exc:
            messages.error(request, getattr(exc, "message", _("Not found.")))
        return redirect("referrals:waitlist")
    entries = list(
        WaitlistEntry.objects.filter(
            organisation_id=p.org_id, closed_at__isnull=True
        ).select_related("client")
    )
    rows = []
    for entry in entries:
        found = search.search(p, search.household_from(entry.household))
        rows.append(
            {
                "entry": entry,
                "matches": [r for r in found.ranking.results if r.availability != "unknown"],
            }
        )
    return render(request, "referrals/waitlist.html", {"rows": rows})


@login_required
@role_required(
    lambda role: role in (roles.Role.PARTNER, roles.Role.COORDINATOR, roles.Role.OPERATOR)
)
@once
def partner_requests(request: HttpRequest) -> HttpResponse:
    """Partners (police, social services) send a request and see only its status; the hub's
    coordinators and operators handle them."""
    from .forms import PartnerRequestForm
    from .models import PartnerRequest

    p = principal(request)
    form = PartnerRequestForm(request.POST if "create" in request.POST else None)
    try:
        if "create" in request.POST and form.is_valid():
            services.partner_request_create(by=p, **form.request_kwargs())
            messages.success(request, _("Sent. The network's coordinators will find her a place."))
            return redirect("referrals:partner_requests")
        if "status" in request.POST and p.role != roles.Role.PARTNER:
            req = selectors.partner_requests_for_principal(p).get(pk=request.POST.get("request"))
            services.partner_request_update(by=p, request=req, status=request.POST["status"])
            return redirect("referrals:partner_requests")
    except (ServiceError, PartnerRequest.DoesNotExist, ValueError) as exc:
        messages.error(request, getattr(exc, "message", _("Not found.")))
    rows = selectors.partner_requests_for_principal(p)[:200]
    return render(
        request,
        "referrals/partner_requests.html",
        {
            "rows": rows,
            "form": form,
            "is_partner": p.role == roles.Role.PARTNER,
            "statuses": PartnerRequest.Status.choices,
        },
    )


def _reasons(codes):
    labels = dict(directory_services.CompromiseReason.choices)
    return [(c, labels[c]) for c in codes]


def _evacuation_threat(request: HttpRequest, facility: Facility | None) -> tuple:
    """The threat as the coordinator set it in the page's query: (threat, the form's values,
    the regions' form, an error message or ""). The threat is the compromised facility's own
    point (SPEC C13), not its region's centre, and whatever the coordinator adds; None
    without a facility."""
    threat_form = {
        "min_km": request.GET.get("min_km") or str(search.EVACUATION_MIN_KM),
        "avoid_regions": request.GET.getlist("avoid_regions"),
        "avoid_points": request.GET.get("avoid_points", ""),
    }
    regions_form = ThreatRegionsForm({"avoid_regions": threat_form["avoid_regions"]})
    if facility is None:
        return None, threat_form, regions_form, ""
    try:
        min_km = min(max(float(threat_form["min_km"]), 0.0), 5000.0)
    except ValueError:
        min_km = float(search.EVACUATION_MIN_KM)
    if min_km != min_km:  # NaN
        min_km = float(search.EVACUATION_MIN_KM)
    try:
        threat = search.threat_of(
            facility,
            min_km=min_km,
            regions=regions_form.cleaned_data["avoid_regions"] if regions_form.is_valid() else [],
            points=search.parse_points(threat_form["avoid_points"]),
        )
    except ServiceError as exc:
        return search.threat_of(facility, min_km=min_km), threat_form, regions_form, exc.message
    return threat, threat_form, regions_form, ""


# The planner's budget on a page request; past it the plan is the best found so far, flagged.
EVACUATION_TIME_LIMIT_S = 10.0


def _stopped_early_text(plan: Plan) -> str:
    if not plan.stopped_early:
        return ""
    return _(
        "The planner ran out of time and stopped early: this plan places %(placed)s people, "
        "and at most %(bound)s could be placed. Check the people left without a place by hand, "
        "or plan again."
    ) % {"placed": plan.people_placed, "bound": plan.bound_people}


@login_required
@role_required(lambda role: role == roles.Role.COORDINATOR)
def evacuation(request: HttpRequest) -> HttpResponse:
    """Mark a facility compromised; plan the move of all its residents (exact, beside greedy
    first-fit); one confirmation turns the plan into referrals."""
    from refuge.cases.models import Stay
    from refuge.placement.evacuation import Destination, Evacuee, plan_evacuation
    from refuge.vacancies.facts import load_facts

    p = principal(request)
    facility = None
    wanted = uuid_or_none(request.GET.get("facility") or request.POST.get("facility"))
    if wanted is not None:
        facility = Facility.objects.filter(pk=wanted).first()
    try:
        if "compromise" in request.POST and facility is not None:
            if request.POST.get("sure") != "1":
                raise ServiceError(_("Tick the box to confirm."), "confirm_required")
            services.facility_compromise(
                by=p, facility=facility, reason=request.POST.get("reason", "")
            )
            return redirect(f"{request.path}?facility={facility.pk}")
        if "lift" in request.POST and facility is not None:
            if request.POST.get("sure") != "1":
                raise ServiceError(_("Tick the box to confirm."), "confirm_required")
            directory_services.facility_set_compromised(
                by=p, facility=facility, compromised=False, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("The facility is open to referrals again."))
            return redirect(f"{request.path}?facility={facility.pk}")
        if "confirm" in request.POST and facility is not None:
            # "stay:facility" pairs as the plan's form sends them; a malformed one is left out.
            pairs = [
                (stay, target)
                for stay, _sep, target in (v.partition(":") for v in request.POST.getlist("assign"))
                if uuid_or_none(stay) and uuid_or_none(target)
            ]
            # Checked again against the threat as the coordinator set it for this plan (the
            # form posts to the plan's own address, with its query).
            made = services.evacuation_confirm(
                by=p,
                facility=facility,
                assignments=pairs,
                threat=_evacuation_threat(request, facility)[0],
            )
            held = sum(
                1 for r in made for h in r.targets.values_list("hold_active", flat=True) if h
            )
            messages.success(
                request,
                _("%(n)s referrals sent; %(held)s places held (the others: see each referral).")
                % {"n": len(made), "held": held}
                if held < len(made)
                else _("%(n)s referrals sent; the places are held.") % {"n": len(made)},
            )
            return redirect("referrals:sent")
    except ServiceError as exc:
        messages.error(request, exc.message)
    facilities = (
        search.accommodation().select_related("region").order_by("-compromised_since", "name")[:500]
    )
    plan = None
    threat, threat_form, regions_form, threat_error = _evacuation_threat(request, facility)
    if threat_error:
        messages.error(request, threat_error)
    if facility is not None and facility.compromised_since is not None:
        assert threat is not None
        stays = list(
            Stay.objects.filter(facility=facility, discharged_at__isnull=True).select_related(
                "client"
            )
        )
        evacuees = []
        for stay in stays:
            h = search.household_from(search.household_of(stay.client)).household
            evacuees.append(Evacuee(str(stay.pk), search.household_under_threat(h, threat)))
        facts = load_facts(
            search.accommodation().exclude(pk=facility.pk), at=timezone.now(), viewer=p
        )
        dests = [
            Destination(
                f.facility,
                f.availability.capacity.free_family_rooms or (),
                f.availability.capacity.free_dorm_beds or 0,
            )
            for f in facts
            if f.availability.known
        ]
        # Travel is measured from where the residents are: the facility's own point.
        origin = threat.points[0] if threat.points else None
        comparison = plan_evacuation(
            evacuees, dests, origin=origin, time_limit_s=EVACUATION_TIME_LIMIT_S
        )
        names = {str(f.id): f.name for f in facts}
        hidden = {str(f.id) for f in facts if f.point_hidden}
        codes = {str(s.pk): s.client.case_code for s in stays}
        plan = {
            "c": comparison,
            "names": names,
            "codes": codes,
            # A confidential destination's distance is shown to the nearest 10 km only.
            "rows": [
                (
                    a,
                    codes[a.evacuee_id],
                    names.get(a.facility_id, ""),
                    round(a.km, -1) if a.facility_id in hidden else round(a.km),
                )
                for a in comparison.optimal.assignments
            ],
            "unplaced": [codes[u] for u in comparison.optimal.unplaced],
            "stopped": _stopped_early_text(comparison.optimal),
        }
    return render(
        request,
        "referrals/evacuation.html",
        {
            "facilities": facilities,
            "facility": facility,
            "plan": plan,
            "threat": threat_form,
            "regions_form": regions_form,
            "mark_reasons": _reasons(directory_services.MARK_REASONS),
            "lift_reasons": _reasons(directory_services.LIFT_REASONS),
        },
    )
