"""The HSDS 3.0 read API of the public profile (SPEC Contracts), under /api/v1/hsds.

Public: no key, no session (``auth=None``), and readable from any web page: every answer,
errors included, carries ``Access-Control-Allow-Origin: *`` and
``Cross-Origin-Resource-Policy: cross-origin``, and preflight requests are answered. Nothing
here reads a key or a cookie, and no credentials are ever allowed, so that is safe; the
staff API keeps the same-origin defaults.

Every endpoint and filter of the official HSDS 3.0 OpenAPI document is served and honoured
(feed.py); lists are paginated as the protocol's Page, or streamed whole as NDJSON with
``format=ndjson``. ``/api/v1/hsds/openapi.json`` describes this part alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import wraps
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import AwareDatetime, Field, NaiveDatetime, StringConstraints

from refuge.api_responses import errors
from refuge.core.models import Organisation
from refuge.directory.hsds import feed
from refuge.directory.hsds.export import (
    organisation_basics,
    organization_doc,
    public_facilities,
    public_organisations,
    sal_doc,
    sal_list_doc,
    service_basics,
    service_doc,
    service_list_doc,
)
from refuge.directory.hsds.taxonomy import TAXONOMY
from refuge.directory.models import Facility

PREFIX = "/hsds"
router = Router(tags=["hsds"])
HSDS_PROFILE = "https://docs.openreferral.org/en/latest/hsds/profiles.html"
SPEC = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
NDJSON = "application/x-ndjson"


# --- CORS: the public feed is readable from any origin ------------------------------------------


def _public_feed(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(run)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = run(request, *args, **kwargs)
        response["Access-Control-Allow-Origin"] = "*"
        response["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    return wrapper


router.add_decorator(_public_feed, mode="view")


def _preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    # "*" covers any header but Authorization (Fetch standard): nothing here takes a key.
    response["Access-Control-Allow-Headers"] = "*"
    response["Access-Control-Max-Age"] = "86400"
    return response


def _preflight_one(request: HttpRequest, id: str) -> HttpResponse:  # noqa: A002
    return _preflight(request)


# --- parameters ---------------------------------------------------------------------------------

# Text parameters: bounded, and never a NUL byte (PostgreSQL cannot compare one).
Text = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]
Id = Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")]


class Paged(Schema):
    page: int = Field(1, ge=1, le=1_000_000, description="Page number of paginated result.")
    per_page: int | None = Field(
        None,
        ge=1,
        description=f"Number of results requested in a single page (default "
        f"{feed.DEFAULT_PER_PAGE}). More than {feed.MAX_PER_PAGE} (with `minimal`, "
        f"{feed.MAX_PER_PAGE_MINIMAL}) is capped: the page then says `per_page_capped`.",
    )
    format: Literal["json", "ndjson"] = Field(
        "json",
        description="`ndjson` streams every result, one JSON document per line, without "
        "pagination (`page` and `per_page` are ignored).",
    )
    search: Text = Field("", description="Full text search: every word, in any text field.")


class ServiceFilter(Paged):
    taxonomy_term_id: Id | None = Field(
        None,
        description="Services with an attribute of this taxonomy term or of a term under it.",
    )
    taxonomy_id: Id | None = Field(None, description="Services with any term of this taxonomy.")
    organization_id: Id | None = Field(None, description="Services of this organization.")
    modified_after: AwareDatetime | NaiveDatetime | None = Field(
        None,
        description="Only what was modified on or after this moment (ISO 8601; UTC when no "
        "offset is given).",
    )
    full: bool = Field(False, description="Return fully nested documents.")

    def filters(self) -> feed.ServiceFilters:
        after = self.modified_after
        if after is not None and after.tzinfo is None:
            after = after.replace(tzinfo=UTC)
        if after is not None:
            # In UTC before it reaches the database: PostgreSQL refuses offsets beyond ±15:59,
            # which ISO 8601 and Python allow (schemathesis sent +23:56: a 500 before).
            try:
                after = after.astimezone(UTC)
            except OverflowError:  # the first or last moment of the calendar, shifted out
                first, last = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
                after = first if after.year < 2 else last
        return feed.ServiceFilters(
            search=self.search,
            taxonomy_term_id=self.taxonomy_term_id,
            taxonomy_id=self.taxonomy_id,
            organization_id=self.organization_id,
            modified_after=after,
        )


class ServicesQuery(ServiceFilter):
    minimal: bool = Field(
        False,
        description="Only what identifies each service and when it changed (`id`, `name`, "
        "`status`, `last_modified`), all in one page.",
    )


class ServiceAtLocationsQuery(ServiceFilter):
    postcode: Annotated[str, StringConstraints(max_length=20, pattern=r"^[^\x00]*$")] = Field(
        "",
        description="Services whose service area (their region) holds this postcode, as the "
        "public addresses of the directory place it; with `proximity`, those within that "
        "distance of the postcode's centre (the centre of the public points that carry it).",
    )
    proximity: float | None = Field(
        None,
        ge=0,
        le=40_075_000,
        description="Metres from the centre of `postcode` (which it needs); nearest first.",
    )


class OrganizationsQuery(Paged):
    full: bool = Field(False, description="Return fully nested organizations.")
    full_service: bool = Field(
        False, description="Fully nested organizations with fully nested services."
    )


class TaxonomyTermsQuery(Paged):
    taxonomy_id: Id | None = Field(None, description="Terms of this taxonomy.")
    top_only: bool = Field(False, description="Only the terms at the top of the hierarchy.")
    parent_id: Id | None = Field(None, description="Only the terms directly under this term.")


# --- response documents (the official schemas are the contract; these describe the shape) ------


def _official(name: str) -> dict[str, Any]:
    return {"description": f"An HSDS 3.0 document valid against {SPEC}{name}.json."}


class HsdsAbout(Schema):
    version: str
    profile: str
    openapi_url: str


class HsdsService(Schema, json_schema_extra=_official("compiled/service")):
    id: str
    name: str
    status: str


class HsdsServiceAtLocation(Schema, json_schema_extra=_official("compiled/service_at_location")):
    id: str


class HsdsOrganization(Schema, json_schema_extra=_official("compiled/organization")):
    id: str
    name: str
    description: str


class HsdsTaxonomy(Schema, json_schema_extra=_official("taxonomy")):
    id: str
    name: str
    description: str


class HsdsTaxonomyTerm(Schema, json_schema_extra=_official("taxonomy_term")):
    id: str
    name: str
    description: str


class HsdsPage(Schema):
    """The HSDS 3.0 API protocol's Page."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    per_page: int = Field(..., description="The page size used.")
    per_page_requested: int | None = Field(
        None, description="Only when capped: the page size asked for."
    )
    per_page_capped: bool | None = Field(None, description="Only when capped: true.")


class ServicePage(HsdsPage):
    contents: list[HsdsService]


class ServiceAtLocationPage(HsdsPage):
    contents: list[HsdsServiceAtLocation]


class OrganizationPage(HsdsPage):
    contents: list[HsdsOrganization]


class TaxonomyPage(HsdsPage):
    contents: list[HsdsTaxonomy]


class TaxonomyTermPage(HsdsPage):
    contents: list[HsdsTaxonomyTerm]


def _ndjson_declared(item: type[Schema]) -> dict[str, Any]:
    """The NDJSON form of a list in the OpenAPI document, beside its JSON page."""
    return {
        "responses": {
            200: {
                "content": {
                    # format=ndjson: one document per line, every result, no pages.
                    NDJSON: {"schema": {"$ref": f"#/components/schemas/{item.__name__}"}}
                }
            }
        }
    }


# --- helpers ---------------------------------------------------------------------------------


def _json(body: Any) -> JsonResponse:
    # Built here, not by the response models: they describe the shape, the official schemas
    # are the contract (tests/directory/test_hsds_conformance.py checks every body).
    return JsonResponse(body, safe=False, json_dumps_params={"ensure_ascii": False})


def _ndjson(items: Iterator[dict[str, Any]]) -> StreamingHttpResponse:
    return StreamingHttpResponse(feed.ndjson_lines(items), content_type=NDJSON)


CHUNK = 200


def _facility_docs(pks: list, doc: Callable[[Facility], dict[str, Any] | None]) -> Iterator[dict]:
    """Documents of these facilities in this order, loaded a chunk at a time."""
    for start in range(0, len(pks), CHUNK):
        chunk = pks[start : start + CHUNK]
        loaded = {f.pk: f for f in public_facilities().filter(pk__in=chunk)}
        for pk in chunk:
            if pk in loaded and (item := doc(loaded[pk])) is not None:
                yield item


def _list(q: Paged, pks: list, doc: Callable[[Facility], dict | None], **kw) -> HttpResponse:
    if q.format == "ndjson":
        return _ndjson(_facility_docs(pks, doc))
    paging = feed.Paging.of(q.page, q.per_page, **kw)
    return _json(paging.page_doc(list(_facility_docs(paging.window(pks), doc)), total=len(pks)))


def _minimal(f: Facility) -> dict[str, Any]:
    basics = service_basics(f)
    return {k: basics[k] for k in ("id", "name", "status", "last_modified")}


def _one(qs, **lookup: Any):
    ids = {k: feed.as_uuid(v) for k, v in lookup.items()}
    if None in ids.values():
        raise Http404
    found = qs.filter(**ids).first()
    if found is None:
        raise Http404
    return found


def _route(path: str, name: str, **kwargs: Any):
    """A public GET operation and its preflight (OPTIONS, not in the document)."""
    preflight = _preflight_one if "{id}" in path else _preflight
    router.add_api_operation(
        path, ["OPTIONS"], preflight, auth=None, include_in_schema=False, url_name=name
    )
    return router.get(path, auth=None, url_name=name, **kwargs)


# --- endpoints ---------------------------------------------------------------------------------


@_route(
    "",
    "hsds_root",
    response={200: HsdsAbout},
    summary="About this API and its relationship with HSDS",
)
def root(request: HttpRequest) -> HttpResponse:
    return _json(
        {
            "version": "3.0",
            "profile": HSDS_PROFILE,
            "openapi_url": request.build_absolute_uri("/api/v1/hsds/openapi.json"),
        }
    )


# HSDS clients join "/" to the base URL; the same document answers there (not listed twice).
router.add_api_operation(
    "/", ["OPTIONS"], _preflight, auth=None, include_in_schema=False, url_name="hsds_root_slash"
)
router.add_api_operation(
    "/", ["GET"], root, auth=None, include_in_schema=False, url_name="hsds_root_slash"
)


@_route(
    "/openapi.json",
    "hsds_openapi",
    include_in_schema=False,
    summary="The OpenAPI document of the HSDS part alone",
)
def openapi(request: HttpRequest) -> HttpResponse:
    from refuge.api import hsds_openapi

    return _json(hsds_openapi(request))


@_route(
    "/services",
    "hsds_services",
    response={200: ServicePage, **errors(422)},
    summary="Paginated services of the public profile (one-to-one fields)",
    openapi_extra=_ndjson_declared(HsdsService),
)
def services(request: HttpRequest, q: Query[ServicesQuery]) -> HttpResponse:
    pks = list(feed.service_pks(q.filters()))
    doc = _minimal if q.minimal else service_doc if q.full else service_list_doc
    return _list(q, pks, doc, minimal=q.minimal)


@_route(
    "/services/{id}",
    "hsds_service",
    response={200: HsdsService, **errors(404)},
    summary="One fully nested service of the public profile",
)
def service(request: HttpRequest, id: str) -> HttpResponse:  # noqa: A002 (the protocol's name)
    return _json(service_doc(_one(public_facilities(), hsds_id=id)))


@_route(
    "/organizations",
    "hsds_organizations",
    response={200: OrganizationPage, **errors(422)},
    summary="Paginated organizations of the public profile",
    openapi_extra=_ndjson_declared(HsdsOrganization),
)
def organizations(request: HttpRequest, q: Query[OrganizationsQuery]) -> HttpResponse:
    qs = public_organisations()
    if q.search:
        qs = qs.filter(feed.search_q(q.search, *feed.ORGANIZATION_SEARCH))
    nested = q.full or q.full_service

    def docs(rows: list[Organisation]) -> Iterator[dict[str, Any]]:
        if not nested:
            yield from (organisation_basics(o) for o in rows)
            return
        facilities: dict[int, list[Facility]] = {}
        for f in public_facilities().filter(organisation__in=rows):
            facilities.setdefault(f.organisation_id, []).append(f)
        for o in rows:
            yield organization_doc(o, facilities.get(o.pk, []), full_services=q.full_service)

    if q.format == "ndjson":
        everything = list(qs)

        def chunks() -> Iterator[dict[str, Any]]:
            for start in range(0, len(everything), CHUNK):
                yield from docs(everything[start : start + CHUNK])

        return _ndjson(chunks())
    paging = feed.Paging.of(q.page, q.per_page)
    total = qs.count()
    return _json(paging.page_doc(list(docs(list(paging.slice(qs)))), total=total))


@_route(
    "/organizations/{id}",
    "hsds_organization",
    response={200: HsdsOrganization, **errors(404, 422)},
    summary="One fully nested organization with its public services",
)
def organization(
    request: HttpRequest,
    id: str,  # noqa: A002
    full_service: bool = Query(
        False, description="Fully nested services (otherwise their one-to-one fields)."
    ),
) -> HttpResponse:
    org = _one(public_organisations(), directory_profile__hsds_id=id)
    facilities = list(public_facilities().filter(organisation=org))
    return _json(organization_doc(org, facilities, full_services=full_service))


@_route(
    "/service_at_locations",
    "hsds_service_at_locations",
    response={200: ServiceAtLocationPage, **errors(422)},
    summary="Paginated services at public locations",
    openapi_extra=_ndjson_declared(HsdsServiceAtLocation),
)
def service_at_locations(request: HttpRequest, q: Query[ServiceAtLocationsQuery]) -> HttpResponse:
    if q.proximity is not None and not q.postcode:
        from ninja.errors import HttpError

        raise HttpError(422, "proximity is measured from a postcode: give postcode too.")
    pks = feed.sal_pks(q.filters(), postcode=q.postcode, proximity_m=q.proximity)

    def doc(f: Facility) -> dict[str, Any] | None:
        return sal_doc(f, with_service=True) if q.full else sal_list_doc(f)

    return _list(q, pks, doc)


@_route(
    "/service_at_locations/{id}",
    "hsds_service_at_location",
    response={200: HsdsServiceAtLocation, **errors(404)},
    summary="One service at a public location, fully nested",
)
def service_at_location(request: HttpRequest, id: str) -> HttpResponse:  # noqa: A002
    facility = _one(public_facilities().filter(pk__in=feed.located()), hsds_sal_id=id)
    doc = sal_doc(facility, with_service=True)
    if doc is None:
        raise Http404
    return _json(doc)


def _static_list(q: Paged, items: list[dict[str, Any]]) -> HttpResponse:
    if q.format == "ndjson":
        return _ndjson(iter(items))
    paging = feed.Paging.of(q.page, q.per_page)
    return _json(paging.page_doc(paging.window(items), total=len(items)))


@_route(
    "/taxonomies",
    "hsds_taxonomies",
    response={200: TaxonomyPage, **errors(422)},
    summary="Paginated taxonomies (the Refuge directory taxonomy)",
    openapi_extra=_ndjson_declared(HsdsTaxonomy),
)
def taxonomies(request: HttpRequest, q: Query[Paged]) -> HttpResponse:
    return _static_list(q, feed.taxonomies(search=q.search))


@_route(
    "/taxonomies/{id}",
    "hsds_taxonomy",
    response={200: HsdsTaxonomy, **errors(404)},
    summary="One taxonomy",
)
def taxonomy(request: HttpRequest, id: str) -> HttpResponse:  # noqa: A002
    if str(feed.as_uuid(id)) != TAXONOMY["id"]:
        raise Http404
    return _json(TAXONOMY)


@_route(
    "/taxonomy_terms",
    "hsds_taxonomy_terms",
    response={200: TaxonomyTermPage, **errors(422)},
    summary="Paginated taxonomy terms",
    openapi_extra=_ndjson_declared(HsdsTaxonomyTerm),
)
def taxonomy_terms(request: HttpRequest, q: Query[TaxonomyTermsQuery]) -> HttpResponse:
    items = feed.terms(
        search=q.search, taxonomy_id=q.taxonomy_id, top_only=q.top_only, parent_id=q.parent_id
    )
    return _static_list(q, items)


@_route(
    "/taxonomy_terms/{id}",
    "hsds_taxonomy_term",
    response={200: HsdsTaxonomyTerm, **errors(404)},
    summary="One taxonomy term",
)
def taxonomy_term(request: HttpRequest, id: str) -> HttpResponse:  # noqa: A002
    wanted = str(feed.as_uuid(id))
    term = next((t for t in feed.terms() if t["id"] == wanted), None)
    if term is None:
        raise Http404
    return _json(term)
