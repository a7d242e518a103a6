from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refuge.core import roles, selectors, services
from refuge.core.access import principal, role_required
from refuge.core.forms import AuditFilterForm, OrganisationForm, StaffForm
from refuge.core.models import Organisation
from refuge.core.roles import Role


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# What the home page shows is decided by the apps that know what waits for whom: each registers
# a section (a function of the request returning a template name and its context), the way
# apps register occupancy sources, so that the core never imports them. The worklist
# (refuge.notifications) registers itself; with no section, home lists the pages instead.
HomeSection = Callable[[HttpRequest], dict]
_home_sections: list[HomeSection] = []


def register_home_section(section: HomeSection) -> None:
    if section not in _home_sections:
        _home_sections.append(section)


def unregister_home_section(section: HomeSection) -> None:
    if section in _home_sections:
        _home_sections.remove(section)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    sections = [section(request) for section in _home_sections]
    return render(
        request, "core/home.html", {"principal": principal(request), "sections": sections}
    )


# --- staff (managers: own organisation; administrators: anyone) -----------------------------


def _can_manage(role: str) -> bool:
    return roles.can_manage_staff(role) or roles.can_administer(role)


@login_required
@role_required(_can_manage)
def staff_list(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    return render(request, "core/staff_list.html", {"members": selectors.staff_for_principal(p)})


@login_required
@role_required(roles.can_manage_staff)
def staff_new(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.staff_create(by=p, organisation=p.organisation, **form.cleaned_data)
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return render(
                request,
                "core/temporary_password.html",
                {"member": new.user, "password": new.temporary_password},
            )
    return render(request, "core/staff_form.html", {"form": form})


@login_required
@role_required(_can_manage)
@require_POST
def staff_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    p = principal(request)
    member = selectors.staff_member_for_principal(p, user_id)
    try:
        if action == "reset-password":
            temp = services.staff_reset_password(by=p, member=member)
            return render(
                request, "core/temporary_password.html", {"member": member, "password": temp}
            )
        if action == "reset-2fa":
            services.staff_reset_second_factor(by=p, member=member)
            messages.success(
                request,
                _("The second factor was reset; %(user)s will enrol again at the next sign-in.")
                % {"user": member.username},
            )
        elif action in ("deactivate", "activate"):
            services.staff_set_active(by=p, member=member, active=action == "activate")
            messages.success(request, _("Saved."))
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("core:staff_list")


# --- administration: organisations --------------------------------------------------------


@login_required
@role_required(roles.can_administer)
def organisations(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(by=p, **form.cleaned_data)
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Organisation created."))
            return redirect("core:organisation", slug=org.slug)
    return render(
        request,
        "core/organisations.html",
        {"organisations": Organisation.objects.all(), "form": form},
    )


@login_required
@role_required(roles.can_administer)
def organisation(request: HttpRequest, slug: str) -> HttpResponse:
    p = principal(request)
    org = selectors.organisation_for_admin(slug)
    form = StaffForm(request.POST or None, roles=tuple(Role))
    if request.method == "POST" and form.is_valid():
        try:
            new = services.staff_create(by=p, organisation=org, **form.cleaned_data)
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return render(
                request,
                "core/temporary_password.html",
                {"member": new.user, "password": new.temporary_password},
            )
    members = org.memberships.select_related("user").order_by("user__username")
    return render(request, "core/organisation.html", {"org": org, "members": members, "form": form})


# --- audit -------------------------------------------------------------------------------


@login_required
@role_required(roles.can_read_audit_of_own_org)
def audit_log(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = AuditFilterForm(request.GET or None)
    events = selectors.audit_events_for_principal(p)
    if form.is_valid():
        if form.cleaned_data["target"]:
            events = events.filter(target_id=form.cleaned_data["target"])
        if form.cleaned_data["actor"]:
            events = events.filter(actor=form.cleaned_data["actor"])
        if form.cleaned_data["organisation"] and p.role == Role.ADMIN:
            events = events.filter(target_org_slug=form.cleaned_data["organisation"].slug)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page, "form": form})
