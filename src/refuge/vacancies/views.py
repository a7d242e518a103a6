from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from refuge.core import roles
from refuge.core.access import principal, role_required
from refuge.core.roles import can_manage_facility
from refuge.core.services import ServiceError
from refuge.directory.models import Facility
from refuge.directory.selectors import facilities_managed_by, facility_for_manager

from . import services
from .board import board, board_row
from .facts import load_facts
from .forms import BoardForm, ReportForm, RoomForm, SettingsForm
from .free import free_places
from .models import FacilityAvailability, Room
from .rows import RowWriter

OWN_SHOWN = 12  # her own facilities shown above the board (the directory lists them all)


def _board_form(data: QueryDict) -> BoardForm:
    return BoardForm(data if data else None)


def _querystring(form: BoardForm) -> str:
    if not form.is_bound:
        return ""
    keep = {k: v for k, v in form.data.lists() if k != "page" and any(v)}
    return urlencode(keep, doseq=True)


def _board_context(request: HttpRequest, form: BoardForm) -> dict:
    from refuge.referrals.patterns import search_pattern_note

    p = principal(request)
    query = form.query()
    now = timezone.now()
    if not request.headers.get("X-Refuge-Background"):  # a poll repeats, it does not probe
        search_pattern_note(by=p, household=query.household, at=now)
    own = facilities_managed_by(p).filter(is_active=True).order_by("name")[:OWN_SHOWN]
    return {
        "board": board(p, query, at=now),
        "own": load_facts(own, at=now, viewer=p) if can_manage_facility(p.role) else [],
        "form": form,
        "household_summary": form.summary(),
        "querystring": _querystring(form),
        "errors": form.errors if form.is_bound else {},
    }


@login_required
@role_required(roles.can_view_vacancy_board)
@require_GET
def board_page(request: HttpRequest) -> HttpResponse:
    form = _board_form(request.GET)
    return render(request, "vacancies/board.html", _board_context(request, form))


@login_required
@role_required(roles.can_view_vacancy_board)
@require_GET
def board_rows(request: HttpRequest) -> HttpResponse:
    """The live part of the board (htmx polls it every 30 seconds)."""
    form = _board_form(request.GET)
    return render(request, "vacancies/_rows.html", _board_context(request, form))


def _back(request: HttpRequest, facility: Facility) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("vacancies:facility", facility_id=facility.pk)


@login_required
@role_required(roles.can_manage_facility)
def facility_page(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = facility_for_manager(p, facility_id)
    rooms = list(Room.objects.filter(facility=facility).order_by("-in_service", "name"))
    in_service = [r for r in rooms if r.in_service]
    status = FacilityAvailability.objects.filter(facility=facility).first()
    now = timezone.now()
    facts = load_facts(Facility.objects.filter(pk=facility.pk), at=now, viewer=p)[0]
    places = free_places([facility.pk], now)[str(facility.pk)]
    free_now = places.rooms or {}
    for room in rooms:
        room.free_now = free_now.get(room.pk) if places.rooms is not None else None
    return render(
        request,
        "vacancies/facility.html",
        {
            "facility": facility,
            "now": now,
            "rooms": rooms,
            "status": status,
            "availability": facts.availability,
            "report_form": ReportForm(rooms=in_service, current=places.rooms),
            "room_form": RoomForm(initial={"kind": "family", "beds": 3, "in_service": True}),
            "settings_form": SettingsForm(
                initial={
                    "source": status.source if status else "reported",
                    "ttl_hours": status.ttl_hours if status else 24,
                    "publish_availability": status.publish_availability if status else False,
                }
            ),
        },
    )


@login_required
@role_required(roles.can_manage_facility)
@require_POST
def report(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = facility_for_manager(p, facility_id)
    rooms = list(Room.objects.filter(facility=facility, in_service=True).order_by("name"))
    form = ReportForm(request.POST, rooms=rooms)
    if not form.is_valid():
        messages.error(request, _("Some figures were not numbers; nothing was saved."))
        return redirect("vacancies:facility", facility_id=facility.pk)
    try:
        services.availability_report(by=p, facility=facility, free_beds=form.free_beds())
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Availability saved."))
    return _back(request, facility)


@login_required
@role_required(roles.can_manage_facility)
@require_POST
def confirm(request: HttpRequest, facility_id) -> HttpResponse:
    """ "Still accurate" in one tap; from the board (htmx) it returns the refreshed row."""
    p = principal(request)
    facility = facility_for_manager(p, facility_id)
    error = ""
    try:
        services.availability_confirm(by=p, facility=facility)
    except ServiceError as exc:
        error = exc.message
    if request.headers.get("HX-Request"):
        form = _board_form(QueryDict(request.POST.get("q", "")))
        query = form.query()
        facts = load_facts(Facility.objects.filter(pk=facility.pk), at=timezone.now(), viewer=p)
        row = board_row(p, query, facts[0])
        writer = RowWriter(
            at=timezone.now(), querystring=request.POST.get("q", ""), csrf_token=get_token(request)
        )
        response = HttpResponse(writer.row(row, error=error))
        if not error:
            # The rest of the board (her own facilities' box) refreshes at once too.
            response["HX-Trigger"] = "board-changed"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Marked as still accurate."))
    return _back(request, facility)


@login_required
@role_required(roles.can_manage_facility)
def room_new(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = facility_for_manager(p, facility_id)
    form = RoomForm(request.POST or None, initial={"kind": "family", "beds": 3, "in_service": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.room_create(
                by=p,
                facility=facility,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                beds=form.cleaned_data["beds"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Room added. Report its free beds below."))
            return redirect("vacancies:facility", facility_id=facility.pk)
    return render(
        request, "vacancies/room_form.html", {"facility": facility, "form": form, "room": None}
    )


@login_required
@role_required(roles.can_manage_facility)
def room_edit(request: HttpRequest, facility_id, room_id: int) -> HttpResponse:
    p = principal(request)
    facility = facility_for_manager(p, facility_id)
    room = Room.objects.filter(facility=facility, pk=room_id).first()
    if room is None:
        raise Http404
    form = RoomForm(request.POST or None, instance=room)
    if request.method == "POST" and form.is_valid():
        try:
            services.room_update(
                by=p,
                room=room,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                beds=form.cleaned_data["beds"],
                in_service=form.cleaned_data["in_service"],
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Room saved."))
            return redirect("vacancies:facility", facility_id=facility.pk)
    return render(
        request, "vacancies/room_form.html", {"facility": facility, "form": form, "room": room}
    )


@login_required
@role_required(roles.can_manage_facility)
@require_POST
def settings(request: HttpRequest, facility_id) -> HttpResponse:
    p = principal(request)
    facility = facility_for_manager(p, facility_id)
    form = SettingsForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return redirect("vacancies:facility", facility_id=facility.pk)
    try:
        services.availability_settings_update(
            by=p,
            facility=facility,
            source=form.cleaned_data["source"],
            ttl_hours=form.cleaned_data["ttl_hours"],
            publish_availability=form.cleaned_data["publish_availability"],
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Settings saved."))
    return redirect("vacancies:facility", facility_id=facility.pk)
