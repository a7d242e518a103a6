from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from refuge.core import roles

# (url name, label, rule). Apps add their entries here, so navigation follows the same
# rules as the views (refuge.core.roles), never a separate list in a template.
# Entries of apps not installed yet are skipped (NoReverseMatch).
NAVIGATION = [
    ("core:home", _("Home"), lambda role: True),
    ("vacancies:board", _("Vacancy board"), roles.can_view_vacancy_board),
    ("referrals:search", _("Find a place"), roles.can_search_placements),
    ("referrals:inbox", _("Referrals"), roles.can_view_cases),
    (
        "referrals:partner_requests",
        _("Requests for a place"),
        lambda role: role == roles.Role.PARTNER,
    ),
    ("referrals:evacuation", _("Evacuation"), lambda role: role == roles.Role.COORDINATOR),
    ("directory:list", _("Directory"), roles.can_view_directory),
    ("hotline:queue", _("Calls"), roles.can_take_calls),
    ("hotline:figures", _("Hotline figures"), roles.can_view_hotline_figures),
    ("hotline:setup", _("Lines and extensions"), roles.can_set_up_hotline),
    ("cases:list", _("Cases"), roles.can_view_cases),
    ("meetings:list", _("Risk meetings"), roles.can_see_meetings),
    ("programmes:home", _("Programmes"), roles.can_run_programmes),
    ("programmes:partner_support_list", _("Partner support"), roles.can_view_cases),
    ("insights:dashboard", _("Insights"), roles.can_view_insights),
    ("insights:simulation", _("Simulation"), roles.can_view_insights),
    (
        "core:staff_list",
        _("Staff"),
        lambda role: roles.can_manage_staff(role) or roles.can_administer(role),
    ),
    ("core:organisations", _("Organisations"), roles.can_administer),
    ("core:audit_log", _("Audit log"), roles.can_read_audit_of_own_org),
    ("notifications:mine", _("My notifications"), lambda role: True),
]


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    items = []
    if (
        user is not None
        and user.is_authenticated
        and user.role
        and (not roles.requires_second_factor(user.role) or user.is_verified())
    ):
        current = request.resolver_match.view_name if request.resolver_match else ""
        for name, label, rule in NAVIGATION:
            if not rule(user.role):
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            items.append({"url": url, "label": label, "current": current == name})
    return {
        "nav_items": items,
        "staff_languages": [(c, n) for c, n in settings.LANGUAGES if c in settings.STAFF_LANGUAGES],
    }
