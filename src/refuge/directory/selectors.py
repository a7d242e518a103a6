"""Who sees what in the directory: addresses, points, phones, and which facilities one may edit.

SPEC S1: a confidential address is shown only to the staff of the facility's organisation and,
per placement, to the people carrying that placement out. The second part belongs to the
referrals app, which registers an `address_grant` (see `register_address_grant`). Every display
of a confidential address writes an audit event (`address_for_display`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from refuge.core import audit
from refuge.core.access import Principal
from refuge.core.roles import Role, can_manage_facility, can_view_directory

from .models import (
    ACCOMMODATION_KINDS,
    AddressVisibility,
    ContactVisibility,
    Facility,
    FacilityService,
    Phone,
)

# Roles that may see professionals-only addresses and phones. Partners never see an address
# and facilitators never a shelter's location (SPEC roles, C9); analysts see aggregates only.
ADDRESS_ROLES = frozenset({Role.COORDINATOR, Role.OPERATOR, Role.CASEWORKER, Role.MANAGER})

AddressGrant = Callable[[Principal, Facility], bool]
_address_grants: list[AddressGrant] = []


def register_address_grant(grant: AddressGrant) -> None:
    """Let another app open a confidential address to a principal (e.g. the people carrying
    out a current placement there). A grant returns True to allow; it must be cheap."""
    if grant not in _address_grants:
        _address_grants.append(grant)


def unregister_address_grant(grant: AddressGrant) -> None:
    if grant in _address_grants:
        _address_grants.remove(grant)


def _address_role(p: Principal) -> bool:
    # Break-glass opens an organisation's case content, never where anyone is: an administrator
    # under it sees the addresses she would see without it (public ones only).
    return p.role in ADDRESS_ROLES and p.break_glass is None


def is_own_staff(p: Principal, facility: Facility) -> bool:
    return p.org_id is not None and p.org_id == facility.organisation_id


def can_see_address(p: Principal, facility: Facility) -> bool:
    """Whether this principal may see the facility's street address and exact point."""
    visibility = facility.address_visibility
    if visibility == AddressVisibility.PUBLIC:
        return True
    if not _address_role(p):
        return False
    if visibility == AddressVisibility.PROFESSIONALS:
        return True
    if is_own_staff(p, facility):
        return True
    return any(grant(p, facility) for grant in _address_grants)


@dataclass(frozen=True)
class ShownAddress:
    locality: str
    address: str
    postal_code: str
    latitude: float | None
    longitude: float | None
    visibility: str

    @property
    def is_confidential(self) -> bool:
        return self.visibility == AddressVisibility.CONFIDENTIAL


def address_for_display(p: Principal, facility: Facility, *, what: str = "") -> ShownAddress | None:
    """The address if this principal may see it, else None. Showing a confidential address
    writes an audit event, so call this only when the address is actually displayed."""
    if not can_see_address(p, facility):
        return None
    if facility.address_visibility == AddressVisibility.CONFIDENTIAL:
        audit.record(
            actor=p,
            action="facility.address_read",
            target_type="directory.facility",
            target_id=facility.pk,
            target_org_slug=facility.organisation.slug,
            details={"what": what} if what else None,
        )
    return ShownAddress(
        locality=facility.locality,
        address=facility.address,
        postal_code=facility.postal_code,
        latitude=facility.latitude,
        longitude=facility.longitude,
        visibility=facility.address_visibility,
    )


def can_see_locality(p: Principal, facility: Facility) -> bool:
    """Whether lists may show the town. The town is part of the address (a confidential
    shelter in a village is found by its village), and lists write no audit events, so a
    confidential facility shows its region only, even to its own staff."""
    visibility = facility.address_visibility
    return visibility == AddressVisibility.PUBLIC or (
        visibility == AddressVisibility.PROFESSIONALS and _address_role(p)
    )


# A shelter whose address is confidential is never named to the public (the help pages count
# it, "a confidential shelter in this region: call ..."; the public HSDS feed leaves it out):
# its name ("Safe house for trafficking victims, Ryazan") and region together give it away.
CONFIDENTIAL_SHELTER = Q(
    address_visibility=AddressVisibility.CONFIDENTIAL, kind__in=list(ACCOMMODATION_KINDS)
)


def is_confidential_shelter(facility: Facility) -> bool:
    return (
        facility.address_visibility == AddressVisibility.CONFIDENTIAL
        and facility.kind in ACCOMMODATION_KINDS
    )


def phones_for(p: Principal, phones: list[Phone]) -> list[Phone]:
    """Every member of staff sees professionals-only phones (a way to reach a shelter is not
    its location); anyone else sees the public ones."""
    if p.role is not None and can_view_directory(p.role) and p.break_glass is None:
        return phones
    return [ph for ph in phones if ph.visibility == ContactVisibility.PUBLIC]


# --- fetching ---------------------------------------------------------------------------------


def facilities_for_directory() -> QuerySet[Facility]:
    """Active facilities of active organisations, ready for a list (no N+1)."""
    return (
        Facility.objects.filter(is_active=True, organisation__is_active=True)
        .select_related("organisation", "region")
        .prefetch_related(
            Prefetch("services", queryset=FacilityService.objects.order_by("kind")),
            Prefetch("phones", queryset=Phone.objects.order_by("position", "number")),
        )
        .order_by("name")
    )


def facility_for_view(p: Principal, facility_id) -> Facility:
    """An active facility (the directory is network-wide for professionals), or one of the
    principal's own organisation even when inactive; otherwise 404."""
    qs = (
        Facility.objects.filter(Q(is_active=True, organisation__is_active=True) | own_q(p))
        .select_related("organisation", "region", "rules", "organisation__directory_profile")
        .prefetch_related(
            Prefetch("services", queryset=FacilityService.objects.order_by("kind")),
            Prefetch("phones", queryset=Phone.objects.order_by("position", "number")),
        )
    )
    try:
        return qs.get(pk=facility_id)
    except (Facility.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def own_q(p: Principal) -> Q:
    return Q(organisation_id=p.org_id) if p.org_id is not None else Q(pk__in=[])


def facility_for_manager(p: Principal, facility_id) -> Facility:
    """A facility of the principal's own organisation that the principal may manage, or 404.

    Another organisation's facility does not exist for this purpose (no 403 hint)."""
    if p.role is None or not can_manage_facility(p.role) or p.org_id is None:
        raise Http404
    try:
        return (
            Facility.objects.select_related("organisation", "region", "rules")
            .prefetch_related("services", "phones")
            .get(pk=facility_id, organisation_id=p.org_id)
        )
    except (Facility.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def facilities_managed_by(p: Principal) -> QuerySet[Facility]:
    if p.role is None or not can_manage_facility(p.role) or p.org_id is None:
        return Facility.objects.none()
    return Facility.objects.filter(organisation_id=p.org_id).select_related("region")


def accommodation_kinds() -> frozenset[str]:
    return frozenset(str(k) for k in ACCOMMODATION_KINDS)
