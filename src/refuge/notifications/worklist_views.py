"""The worklist on the home page, its live parts (htmx) and the printable daily sheets.

Thin: `refuge.notifications.worklist` decides what waits for whom.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from refuge.core import audit, roles
from refuge.core.access import Principal, principal, role_required
from refuge.core.context_processors import navigation
from refuge.directory.selectors import facility_for_manager
from refuge.referrals.models import DeclineReason

from .views import REASONS as FAILURE_REASONS
from .worklist import Worklist, daily_sheet, worklist_for

# The list on the home page is fetched again when the counts say it changed, and at least this
# often (what changes with time alone: a safe time to call her opens).
LIST_REFRESH_SECONDS = 120


def _sheets(p: Principal, wl: Worklist) -> list[dict]:
    """The daily sheets the reader may print: the network's for coordinators, each of her own
    facilities' for their staff."""
    if p.role == roles.Role.COORDINATOR:
        return [{"url": reverse("worklist:sheet_network"), "label": _("the network")}]
    if p.role is not None and roles.can_manage_facility(p.role):
        return [
            {"url": reverse("worklist:sheet_facility", args=[f.id]), "label": f.name}
            for f in wl.facilities
        ]
    return []


def _context(request: HttpRequest) -> dict:
    p = principal(request)
    wl = worklist_for(p, at=timezone.now(), decrypt=True)
    return {
        "worklist": wl,
        "sheets": _sheets(p, wl),
        "decline_reasons": DeclineReason.choices,
        "failure_reasons": FAILURE_REASONS,
        "refresh_seconds": LIST_REFRESH_SECONDS,
    }


def home_section(request: HttpRequest) -> dict:
    """The home page's section (registered with refuge.core.views.pages)."""
    return {"template": "notifications/worklist/home.html", **_context(request)}


@login_required
@require_GET
def items(request: HttpRequest) -> HttpResponse:
    """The list alone, for htmx: fetched when the counts say something changed."""
    return render(request, "notifications/worklist/_list.html", _context(request))


@login_required
@require_GET
def counts(request: HttpRequest) -> HttpResponse:
    """The badges of the navigation, swapped in by htmx (out of band, one per entry).

    Polled in the background (``X-Refuge-Background``), so it never keeps a session alive; it
    decrypts nothing and writes no audit event. When the caller sends the signature of the
    list it shows (``seen``) and the list has changed since, ``HX-Trigger: worklist-changed``
    tells the page to fetch the list again.
    """
    p = principal(request)
    wl = worklist_for(p, at=timezone.now(), decrypt=False)
    by_name = wl.counts()
    badges = [
        (item["slug"], by_name.get(item["name"], 0)) for item in navigation(request)["nav_items"]
    ]
    response = render(
        request, "notifications/worklist/_counts.html", {"badges": badges, "total": wl.total}
    )
    seen = request.GET.get("seen", "")
    if seen and seen != wl.signature:
        response["HX-Trigger"] = "worklist-changed"
    return response


def _sheet_response(request: HttpRequest, p: Principal, facility=None) -> HttpResponse:
    now = timezone.now()
    sheet = daily_sheet(p, at=now, facility=facility)
    # Who printed which sheet, when: paper leaves no other trace (no content in the event).
    audit.record(
        actor=p,
        action="worklist.daily_sheet",
        target_type="directory.facility" if facility is not None else "network",
        target_id=facility.pk if facility is not None else None,
        target_org_slug=p.org_slug or "",
    )
    return render(request, "notifications/worklist/sheet.html", {"sheet": sheet, "viewer": p})


@login_required
@role_required(roles.can_manage_facility)
@require_GET
def sheet_facility(request: HttpRequest, facility_id) -> HttpResponse:
    """A facility's daily sheet, for its own staff (any other facility is a 404)."""
    p = principal(request)
    return _sheet_response(request, p, facility_for_manager(p, facility_id))


@login_required
@role_required(lambda role: role == roles.Role.COORDINATOR)
@require_GET
def sheet_network(request: HttpRequest) -> HttpResponse:
    """The network's daily sheet, for its coordinators."""
    return _sheet_response(request, principal(request))
