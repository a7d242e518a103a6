"""The HSDS 3.0 read API of the public profile (SPEC Contracts), under /api/v1/hsds/.

Public: no key, no session (``auth=None``). Paginated as the HSDS 3.0 API protocol's Page:
``total_items``, ``total_pages``, ``page_number``, ``size``, ``first_page``, ``last_page``,
``empty`` and ``contents`` (plus ``per_page``), with the ``page`` and ``per_page`` query
parameters.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from refuge.directory.hsds.export import (
    organisation_basics,
    organization_doc,
    page,
    public_facilities,
    public_organisations,
    sal_doc,
    sal_list_doc,
    service_doc,
    service_list_doc,
)
from refuge.directory.models import AddressVisibility, Facility

PREFIX = "/hsds"
router = Router(tags=["hsds"])
MAX_PER_PAGE = 200


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=100000, description="Page number of paginated result.")
    per_page: int = Field(
        50, ge=1, le=MAX_PER_PAGE, description="Number of results requested in a single page."
    )
    search: str = Field("", max_length=200, description="Words in the name or description.")
    organization_id: uuid.UUID | None = Field(None, description="Only this organization's.")


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Http404 from exc


def _facilities(q: PageQuery) -> QuerySet[Facility]:
    qs = public_facilities()
    if q.search:
        qs = qs.filter(Q(name__icontains=q.search) | Q(description__icontains=q.search))
    if q.organization_id:
        qs = qs.filter(organisation__directory_profile__hsds_id=q.organization_id)
    return qs


def _slice(qs: QuerySet, q: PageQuery) -> tuple[list[Any], int]:
    total = qs.count()
    start = (q.page - 1) * q.per_page
    return list(qs[start : start + q.per_page]), total


@router.get(
    "/",
    auth=None,
    summary="About this API and its relationship with HSDS",
    url_name="hsds_root",
)
def root(request: HttpRequest) -> dict[str, Any]:
    return {
        "version": "3.0",
        "profile": "https://docs.openreferral.org/en/latest/hsds/profiles.html",
        "openapi_url": request.build_absolute_uri("/api/v1/openapi.json"),
    }


@router.get(
    "/services",
    auth=None,
    summary="Paginated services of the public profile (one-to-one fields)",
    url_name="hsds_services",
)
def services(request: HttpRequest, q: Query[PageQuery], full: bool = False) -> dict[str, Any]:
    rows, total = _slice(_facilities(q), q)
    contents = [service_doc(f) if full else service_list_doc(f) for f in rows]
    return page(contents, total=total, page_number=q.page, per_page=q.per_page)


@router.get(
    "/services/{service_id}",
    auth=None,
    summary="One fully nested service of the public profile",
    url_name="hsds_service",
)
def service(request: HttpRequest, service_id: str) -> dict[str, Any]:
    facility = public_facilities().filter(hsds_id=_uuid(service_id)).first()
    if facility is None:
        raise Http404
    return service_doc(facility)


@router.get(
    "/organizations",
    auth=None,
    summary="Paginated organizations of the public profile",
    url_name="hsds_organizations",
)
def organizations(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    qs = public_organisations()
    if q.search:
        qs = qs.filter(
            Q(name__icontains=q.search) | Q(directory_profile__description__icontains=q.search)
        )
    if q.organization_id:
        qs = qs.filter(directory_profile__hsds_id=q.organization_id)
    rows, total = _slice(qs, q)
    return page(
        [organisation_basics(o) for o in rows], total=total, page_number=q.page, per_page=q.per_page
    )


@router.get(
    "/organizations/{organization_id}",
    auth=None,
    summary="One fully nested organization with its public services",
    url_name="hsds_organization",
)
def organization(
    request: HttpRequest, organization_id: str, full_service: bool = False
) -> dict[str, Any]:
    org = public_organisations().filter(directory_profile__hsds_id=_uuid(organization_id)).first()
    if org is None:
        raise Http404
    facilities = list(public_facilities().filter(organisation=org))
    return organization_doc(org, facilities, full_services=full_service)


@router.get(
    "/service_at_locations",
    auth=None,
    summary="Paginated services at public locations",
    url_name="hsds_service_at_locations",
)
def service_at_locations(request: HttpRequest, q: Query[PageQuery]) -> dict[str, Any]:
    # Only public addresses have a location; the rest are services without one.
    qs = (
        _facilities(q)
        .filter(address_visibility=AddressVisibility.PUBLIC)
        .exclude(address="", locality="", latitude__isnull=True)
    )
    rows, total = _slice(qs, q)
    contents = [doc for f in rows if (doc := sal_list_doc(f)) is not None]
    return page(contents, total=total, page_number=q.page, per_page=q.per_page)


@router.get(
    "/service_at_locations/{sal_id}",
    auth=None,
    summary="One service at a public location",
    url_name="hsds_service_at_location",
)
def service_at_location(request: HttpRequest, sal_id: str) -> dict[str, Any]:
    facility = (
        public_facilities()
        .filter(hsds_sal_id=_uuid(sal_id), address_visibility=AddressVisibility.PUBLIC)
        .first()
    )
    doc = sal_doc(facility, with_service=True) if facility else None
    if doc is None:
        raise Http404
    return doc
