from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from refuge.core import audit_words, lockout, roles, selectors, services
from refuge.core.access import (
    BREAK_GLASS_SESSION_KEY,
    principal,
    reauth_required,
    role_required,
)
from refuge.core.forms import (
    AdminStaffForm,
    ApiKeyForm,
    AuditFilterForm,
    BreakGlassForm,
    OrganisationForm,
    ReasonForm,
    RevokeForm,
    StaffForm,
)
from refuge.core.models import DeactivateReason, Organisation
from refuge.core.once import once
from refuge.core.roles import ADMIN_GRANTABLE, Role, grantable_by


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
    members = list(selectors.staff_for_principal(p))
    locks = lockout.lock_states([m.username for m in members])
    rows = [
        {"member": m, "actions": services.staff_actions(p, m), "lock": locks[m.username]}
        for m in members
    ]
    return render(
        request,
        "core/staff_list.html",
        {"rows": rows, "deactivate_reasons": DeactivateReason.choices},
    )


def _temporary_password_page(request: HttpRequest, member, password: str) -> HttpResponse:
    return render(request, "core/temporary_password.html", {"member": member, "password": password})


@login_required
@role_required(roles.can_manage_staff)
@reauth_required
@once
def staff_new(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.staff_create(by=p, organisation=p.organisation, **form.cleaned_data)
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            page = _temporary_password_page(request, new.user, new.temporary_password)
            page.once_result = reverse("core:staff_list")
            return page
    return render(request, "core/staff_form.html", {"form": form})


STAFF_ACTIONS = {"reset-password", "reset-2fa", "unlock", "deactivate", "activate"}


@login_required
@role_required(_can_manage)
def staff_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    """POST does the action. An action that is break-glass-grade for this member (an
    administrator resetting a manager's or coordinator's sign-in) first asks, on GET, for a
    re-authentication and a written reason."""
    p = principal(request)
    member = selectors.staff_member_for_principal(p, user_id)
    offered = services.staff_actions(p, member)
    graded = f"{action}:reason" in offered
    if action not in STAFF_ACTIONS:
        return redirect("core:staff_list")
    if graded and not p.reauthenticated:
        return reauth_required(lambda _request: None)(request)  # back here afterwards
    if request.method != "POST" and not graded:
        return HttpResponse(status=405, headers={"Allow": "POST"})
    reason_form = ReasonForm(request.POST or None) if graded else None
    if graded and (request.method != "POST" or not reason_form.is_valid()):
        return render(
            request,
            "core/staff_reason.html",
            {"member": member, "action": action, "form": reason_form},
        )
    reason = reason_form.cleaned_data["reason"] if graded else ""
    try:
        if action == "reset-password":
            temp = services.staff_reset_password(by=p, member=member, reason=reason)
            return _temporary_password_page(request, member, temp)
        if action == "reset-2fa":
            services.staff_reset_second_factor(by=p, member=member, reason=reason)
            messages.success(
                request,
                _("The second factor was reset; %(user)s will enrol again at the next sign-in.")
                % {"user": member.username},
            )
        elif action == "unlock":
            services.staff_unlock(by=p, member=member)
            messages.success(request, _("%(user)s can sign in again.") % {"user": member.username})
        else:
            reason = ""
            if action == "deactivate":
                reason = request.POST.get("reason", "")
                if reason not in DeactivateReason.values:
                    raise services.ServiceError(
                        _("Choose why the account is deactivated."), "reason_required"
                    )
                if request.POST.get("sure") != "1":
                    raise services.ServiceError(_("Tick the box to confirm."), "confirm_required")
            services.staff_set_active(
                by=p, member=member, active=action == "activate", reason=reason
            )
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
    org = selectors.organisation_for_admin(slug)
    members = org.memberships.select_related("user").order_by("user__username")
    return render(request, "core/organisation.html", {"org": org, "members": members})


@login_required
@role_required(roles.can_administer)
@reauth_required
def organisation_staff_new(request: HttpRequest, slug: str) -> HttpResponse:
    """An administrator adds a manager, a coordinator, an analyst or an administrator. The
    organisation's case staff are added by its own managers."""
    p = principal(request)
    org = selectors.organisation_for_admin(slug)
    form = AdminStaffForm(request.POST or None, roles=ADMIN_GRANTABLE)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.staff_create(by=p, organisation=org, **form.cleaned_data)
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return _temporary_password_page(request, new.user, new.temporary_password)
    return render(request, "core/organisation_staff_form.html", {"org": org, "form": form})


# --- API keys (managers: their organisation's; administrators: every one) ---------------------


@login_required
@role_required(roles.can_manage_api_keys)
def api_keys(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    return render(
        request,
        "core/api_keys.html",
        {
            "keys": selectors.api_keys_for_principal(p),
            "revoke_form": RevokeForm(),
            "now": timezone.now(),
            "show_org": p.role == Role.ADMIN,
        },
    )


@login_required
@role_required(roles.can_manage_api_keys)
@reauth_required
@once
def api_key_new(request: HttpRequest) -> HttpResponse:
    p = principal(request)
    grantable = tuple(r for r in grantable_by(p.role) if roles.can_use_api_keys_for(r))
    organisations = selectors.break_glass_organisations() if p.role == Role.ADMIN else None
    form = ApiKeyForm(request.POST or None, roles=grantable, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key, text = services.api_key_create(
                by=p,
                organisation=data.get("organisation") or p.organisation,
                role=data["role"],
                name=data["name"],
                days=data["days"],
                reason=data.get("reason") or "",
            )
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            page = render(request, "core/api_key_created.html", {"key": key, "text": text})
            page.once_result = reverse("core:api_keys")
            return page
    return render(request, "core/api_key_form.html", {"form": form})


@login_required
@role_required(roles.can_manage_api_keys)
@require_POST
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    p = principal(request)
    key = selectors.api_key_for_principal(p, key_id)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose why the key is revoked."))
        return redirect("core:api_keys")
    try:
        services.api_key_revoke(by=p, key=key, reason=form.cleaned_data["reason"])
    except services.ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The key %(label)s no longer works.") % {"label": key.name})
    return redirect("core:api_keys")


# --- break-glass -----------------------------------------------------------------------------


@login_required
@never_cache
@role_required(roles.can_open_break_glass)
@reauth_required
def break_glass(request: HttpRequest) -> HttpResponse:
    """An administrator opens read-only access to one organisation's cases."""
    p = principal(request)
    form = BreakGlassForm(request.POST or None, organisations=selectors.break_glass_organisations())
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.break_glass_open(
                by=p,
                organisation=form.cleaned_data["organisation"],
                reason=form.cleaned_data["reason"],
            )
        except services.ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            request.session[BREAK_GLASS_SESSION_KEY] = str(entry.pk)
            return redirect("cases:list")
    return render(
        request,
        "core/break_glass.html",
        {
            "form": form,
            "minutes": settings.REFUGE_BREAK_GLASS_MINUTES,
            "entries": selectors.break_glass_register_for_principal(p, limit=10),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def break_glass_close(request: HttpRequest, entry_id) -> HttpResponse:
    """End break-glass now: the administrator who opened it, or a manager of the organisation."""
    p = principal(request)
    entry = selectors.break_glass_entry_for_principal(p, entry_id)
    try:
        services.break_glass_close(by=p, entry=entry)
    except services.ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("core:home")
    if request.session.get(BREAK_GLASS_SESSION_KEY) == str(entry.pk):
        del request.session[BREAK_GLASS_SESSION_KEY]
        messages.success(request, _("Break-glass ended."))
        return redirect("core:break_glass")
    messages.success(request, _("Break-glass ended."))
    return redirect("core:audit_log")


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
        if form.cleaned_data["break_glass"]:
            events = events.filter(details__break_glass=str(form.cleaned_data["break_glass"]))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # The page's own list, so the template iterates the events that were given their sentences.
    page.object_list = audit_words.describe(page.object_list, reader=p)
    return render(
        request,
        "core/audit_log.html",
        {
            "page": page,
            "form": form,
            "register": selectors.break_glass_register_for_principal(p),
            "now": timezone.now(),
        },
    )
