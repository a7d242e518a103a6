"""Roles and what each may do: the one place where SPEC.md "Who uses it" is written down as code.

Views, API endpoints, templates and tests ask these functions; nothing else decides access.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    OPERATOR = "operator", _("Hotline operator")
    CASEWORKER = "caseworker", _("Caseworker")
    MANAGER = "manager", _("Manager")
    PARTNER = "partner", _("Partner agency")
    FACILITATOR = "facilitator", _("Programme facilitator")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


class OrgKind(models.TextChoices):
    HUB = "hub", _("Network hub")
    SHELTER = "shelter", _("Shelter")
    CRISIS_CENTRE = "crisis_centre", _("Crisis centre")
    HOTLINE = "hotline", _("Hotline")
    PROGRAMME = "programme", _("Perpetrator programme")
    PARTNER = "partner", _("Partner agency")


# Roles that see client records of their own organisation (victim side).
CASE_ROLES = frozenset({Role.CASEWORKER, Role.MANAGER, Role.OPERATOR, Role.COORDINATOR})
# Roles that ever see a person's data and therefore must use a second factor. Analysts see
# only suppressed aggregates; everyone else can reach a person one way or another.
SECOND_FACTOR_ROLES = frozenset(set(Role) - {Role.ANALYST})


def requires_second_factor(role: str) -> bool:
    return role in SECOND_FACTOR_ROLES


def can_view_cases(role: str) -> bool:
    """Victim-side case records (always limited to the user's own organisation, see access)."""
    return role in CASE_ROLES


def can_create_cases(role: str) -> bool:
    return role in {Role.CASEWORKER, Role.MANAGER, Role.OPERATOR}


def can_manage_staff(role: str) -> bool:
    return role == Role.MANAGER


def can_erase_cases(role: str) -> bool:
    """Erase a woman's record at her request (crypto-shred now): her organisation's manager."""
    return role == Role.MANAGER


def can_read_audit_of_own_org(role: str) -> bool:
    """Managers see who read their organisation's records."""
    return role in {Role.MANAGER, Role.ADMIN}


def can_administer(role: str) -> bool:
    return role == Role.ADMIN


def can_use_api_keys_for(role: str) -> bool:
    """Machine clients may act as these roles; admin keys are never issued."""
    return role != Role.ADMIN


# --- other domains (each app's views and API ask these; tests in tests/<app>/matrix.py) -------

# Everyone who works with people. Analysts (ministries, funders, researchers) see aggregate,
# suppressed figures and nothing else (SPEC.md "Who uses it"; issue "Insights").
PROFESSIONAL_ROLES = frozenset(set(Role) - {Role.ANALYST})


# Who browses the professional directory (professionals-only addresses and phones). Partners
# (police, social services) and facilitators (perpetrator programmes) do not: a partner never
# sees an address and a facilitator never a shelter's location (SPEC roles), and the public help
# pages give both what they need to send a woman on. Analysts see aggregates only.
DIRECTORY_ROLES = frozenset(PROFESSIONAL_ROLES - {Role.PARTNER, Role.FACILITATOR})


def can_view_directory(role: str) -> bool:
    """The professional directory (facility profiles and rules). Addresses are decided per
    facility by refuge.directory.selectors, never here."""
    return role in DIRECTORY_ROLES


def can_view_vacancy_board(role: str) -> bool:
    return role in {Role.COORDINATOR, Role.OPERATOR, Role.CASEWORKER, Role.MANAGER}


def can_manage_facility(role: str) -> bool:
    """Edit the profile, rules, rooms and availability of the organisation's own facilities."""
    return role in {Role.MANAGER, Role.CASEWORKER}


def can_take_calls(role: str) -> bool:
    return role in {Role.OPERATOR, Role.COORDINATOR, Role.CASEWORKER, Role.MANAGER}


def can_set_up_hotline(role: str) -> bool:
    """The hotline's set-up page: managers give their staff PBX extensions; administrators
    also register lines and give them to organisations."""
    return role in {Role.MANAGER, Role.ADMIN}


def can_view_hotline_figures(role: str) -> bool:
    """Not analysts: figures for any date range, however well each is suppressed, can be
    subtracted from one another (or from the published quarters) to reveal a hidden cell.
    Analysts get call counts from the suppressed network exports of refuge.insights."""
    return role in {Role.OPERATOR, Role.COORDINATOR, Role.MANAGER}


def can_search_placements(role: str) -> bool:
    return role in {Role.COORDINATOR, Role.OPERATOR, Role.CASEWORKER, Role.MANAGER}


def can_run_programmes(role: str) -> bool:
    return role == Role.FACILITATOR


def can_view_insights(role: str) -> bool:
    return role in {Role.COORDINATOR, Role.MANAGER, Role.ANALYST}


def can_coordinate_meetings(role: str) -> bool:
    return role == Role.COORDINATOR


def can_attend_meetings(role: str) -> bool:
    """Agencies (partner role) and coordinators see meeting agendas, each only its minimum."""
    return role in {Role.PARTNER, Role.COORDINATOR}


def can_propose_to_meetings(role: str) -> bool:
    return role in {Role.CASEWORKER, Role.MANAGER}


def can_see_meetings(role: str) -> bool:
    return (
        can_coordinate_meetings(role) or can_attend_meetings(role) or can_propose_to_meetings(role)
    )


def can_edit_help_pages(role: str) -> bool:
    """The public help texts and leaflets (no personal data)."""
    return role in {Role.COORDINATOR, Role.ADMIN}


# --- who may give which role (staff accounts and API keys alike) ----------------------------

# Roles a manager may give to the staff of their own organisation. Network-wide roles
# (coordinator, analyst) and admin are granted by an administrator only.
MANAGER_GRANTABLE = (Role.CASEWORKER, Role.MANAGER, Role.OPERATOR, Role.PARTNER, Role.FACILITATOR)
# Roles an administrator may give, in any organisation. Never the roles that work with people
# inside an organisation (caseworker, operator, partner, facilitator): those are given by the
# organisation's own manager, so an administrator cannot make herself a caseworker somewhere and
# read its cases (issue 14, H3).
ADMIN_GRANTABLE = (Role.MANAGER, Role.COORDINATOR, Role.ANALYST, Role.ADMIN)
# Of those, the ones that read case content. An administrator creating such an account, or
# resetting its password or second factor, could sign in as it: that is break-glass-grade (a
# written reason, a fresh re-authentication, an entry in the break-glass register, the
# organisation's managers told at once).
ADMIN_GRANT_NEEDS_REASON = frozenset({Role.MANAGER, Role.COORDINATOR})

# How far each role reaches, for "no one gives a role higher than their own". Roles of one
# rank are alternatives, not steps (a partner is not "below" a caseworker in any useful sense).
RANK = {
    Role.ADMIN: 4,
    Role.COORDINATOR: 3,
    Role.MANAGER: 2,
    Role.CASEWORKER: 1,
    Role.OPERATOR: 1,
    Role.PARTNER: 1,
    Role.FACILITATOR: 1,
    Role.ANALYST: 1,
}


def grantable_by(role: str | None) -> tuple[Role, ...]:
    """The roles a member with ``role`` may give (to staff or to API keys)."""
    if role == Role.ADMIN:
        return ADMIN_GRANTABLE
    if role == Role.MANAGER:
        return MANAGER_GRANTABLE
    return ()


def can_manage_api_keys(role: str) -> bool:
    """List, issue and revoke API keys: managers for their own organisation, administrators
    for every organisation (within the roles each may give)."""
    return role in {Role.MANAGER, Role.ADMIN}


def can_open_break_glass(role: str) -> bool:
    """Only administrators reach case content outside their own organisation, and only through
    break-glass (refuge.core.services). Coordinators never see other organisations' notes."""
    return role == Role.ADMIN


def can_see_break_glass_register(role: str) -> bool:
    """Managers see the break-glass sessions on their organisation; administrators see all."""
    return role in {Role.MANAGER, Role.ADMIN}
