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
    ("referrals:sent", _("Referrals sent"), roles.can_search_placements),
    ("federation:referrals", _("Referrals across networks"), roles.can_view_cases),
    ("referrals:waitlist", _("Waiting list"), roles.can_search_placements),
    (
        "referrals:partner_requests",
        _("Requests for a place"),
        # Partners send them and follow their status; the hub's coordinators and operators
        # handle them (as refuge.referrals.views.partner_requests allows).
        lambda role: role in (roles.Role.PARTNER, roles.Role.COORDINATOR, roles.Role.OPERATOR),
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
    ("core:api_keys", _("API keys"), roles.can_manage_api_keys),
    ("federation:peers", _("Peer networks"), roles.can_administer),
    ("core:break_glass", _("Break-glass"), roles.can_open_break_glass),
    ("core:audit_log", _("Audit log"), roles.can_read_audit_of_own_org),
    ("notifications:mine", _("My notifications"), lambda role: True),
]


# The URL name of the counts that the navigation polls for its badges (the worklist's, when
# installed: refuge.notifications.worklist_urls).
COUNTS_URL_NAME = "worklist:counts"


def navigation(request: HttpRequest) -> dict:
    """The entries the signed-in user's role may use. Each carries a ``slug`` that names its
    badge (``nav-count-<slug>``): the counts are filled in by polling ``COUNTS_URL_NAME``, so
    that a page render costs no query for them."""
    from refuge.core.access import principal
    from refuge.core.middleware import BREAK_GLASS_PAGES

    user = getattr(request, "user", None)
    items = []
    scope = None
    counts_url = None
    if (
        user is not None
        and user.is_authenticated
        and user.role
        and (not roles.requires_second_factor(user.role) or user.is_verified())
    ):
        p = principal(request)
        scope = p.break_glass
        current = request.resolver_match.view_name if request.resolver_match else ""
        for name, label, rule in NAVIGATION:
            if p.role is None or not rule(p.role):
                continue
            if scope is not None and name not in BREAK_GLASS_PAGES:
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            items.append(
                {
                    "name": name,
                    "slug": name.replace(":", "-").replace("_", "-"),
                    "url": url,
                    "label": label,
                    "current": current == name,
                }
            )
        if scope is None:  # break-glass opens case pages only, never her own worklist
            try:
                counts_url = reverse(COUNTS_URL_NAME)
            except NoReverseMatch:
                counts_url = None
    return {
        "nav_items": items,
        # The banner every page shows while break-glass is open (base.html).
        "break_glass": (
            {"id": scope.id, "organisation": p.organisation, "until": scope.expires_at}
            if scope is not None
            else None
        ),
        "nav_counts_url": counts_url,
        "nav_counts_every": int(getattr(settings, "REFUGE_WORKLIST_POLL_SECONDS", 30)),
        "staff_languages": [(c, n) for c, n in settings.LANGUAGES if c in settings.STAFF_LANGUAGES],
    }
