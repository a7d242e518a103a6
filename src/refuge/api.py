"""The JSON API under /api/v1/: machine clients send ``Authorization: Bearer <key>``.

Every error is ``{"code": ..., "message": ..., "details": ...}``. Apps add their routers here.
The OpenAPI document (``/api/v1/openapi.json``) is ninja's, completed by ``complete_document``
so that it says everything a client or a linter needs: the server, the security of every
operation (``[]`` for public ones), the errors the framework itself answers, and no schema
that nothing uses (docs/architecture.md, "The API").
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from refuge.api_responses import ErrorOut
from refuge.core.access import Principal, client_ip, principal
from refuge.core.roles import requires_second_factor
from refuge.core.services import ServiceError, api_key_authenticate

log = logging.getLogger("refuge.api")


class ApiKeyAuth(HttpBearer):
    openapi_scheme = "bearer"

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        key = api_key_authenticate(token)
        return Principal.for_api_key(key, client_ip(request)) if key else None


class VerifiedSessionAuth:
    """A signed-in member of staff who has passed the second factor (for pages that fetch JSON).

    Only safe methods: state changes from the browser go through forms with CSRF tokens.
    """

    openapi_security_schema = {
        "type": "apiKey",
        "in": "cookie",
        "name": settings.SESSION_COOKIE_NAME,
        "description": "A signed-in member of staff's session, after the second factor "
        "(GET only: pages that fetch JSON).",
    }

    def __call__(self, request: HttpRequest) -> Principal | None:
        user = request.user
        if request.method not in ("GET", "HEAD") or not user.is_authenticated or user.role is None:
            return None
        if requires_second_factor(user.role) and not user.is_verified():
            return None
        return principal(request)


class RefugeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return complete_document(document)


api = RefugeAPI(
    title="Refuge API",
    version="1",
    description="Placement, referrals, telephony and directory for a network of shelters.",
    auth=[ApiKeyAuth(), VerifiedSessionAuth()],
    docs_url=None,  # the interactive docs load scripts from a CDN, which our CSP forbids
    urls_namespace="api",
)


def error(code: str, message: str, status: int, details=None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(ValidationError)
def _validation(request, exc: ValidationError):
    details = [
        {
            "loc": [str(p) for p in e.get("loc", [])],
            "msg": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in exc.errors
    ]
    return error("validation_error", "The request does not match the schema.", 422, details)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error("unauthorized", "A valid API key is required (Authorization: Bearer <key>).", 401)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error("forbidden", "This key or user may not do this.", 403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error("not_found", "Not found.", 404)


@api.exception_handler(ServiceError)
def _service_error(request, exc: ServiceError):
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:  # refuge.core.limits.RateLimited
        response = error(exc.code, exc.message, 429)
        response["Retry-After"] = str(retry_after)
        return response
    status = (
        403
        if exc.code == "forbidden"
        else 409
        if exc.code in {"conflict", "duplicate", "busy"}
        else 400
    )
    return error(exc.code, exc.message, status)


@api.exception_handler(DjangoValidationError)
def _django_validation(request, exc: DjangoValidationError):
    return error("validation_error", "; ".join(exc.messages), 400)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return error("too_large", "The request body is too large.", 413)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        422: "validation_error",
    }
    return error(codes.get(exc.status_code, "error"), str(exc), exc.status_code)


@api.exception_handler(Exception)
def _server_error(request, exc: Exception):
    log.exception("API error on %s %s", request.method, request.path)
    return error("server_error", "Something went wrong on our side.", 500)


def api_not_found(request: HttpRequest) -> JsonResponse:
    return error("not_found", "No such API endpoint.", 404)


class Me(Schema):
    name: str
    role: str | None
    organisation: str | None


def _mount_app_routers() -> None:
    """Each installed domain app with an ``api`` module exposing ``router`` gets mounted."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.conf import settings

    for app in settings.INSTALLED_APPS:
        if (
            app.startswith("refuge.")
            and app != "refuge.core"
            and find_spec(f"{app}.api") is not None
        ):
            module = import_module(f"{app}.api")
            router = getattr(module, "router", None)
            if router is not None:
                api.add_router(getattr(module, "PREFIX", "/"), router)


# --- the OpenAPI document -------------------------------------------------------------------

ERROR_REF = "#/components/schemas/ErrorOut"
LICENSE = {
    "name": "GNU Affero General Public License v3.0 or later",
    "identifier": "AGPL-3.0-or-later",
}
_FRAMEWORK_ERRORS = {
    400: "A NUL byte in the path, the query or the body (refused before the endpoint).",
    401: "No valid API key (Authorization: Bearer <key>) or staff session.",
    413: "The request body is too large.",
    422: "The parameters or the body do not match the schema.",
}
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


def complete_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add what ninja leaves out: servers, the licence, ``security`` on every operation (``[]``
    when it is public; the staff session only where it is accepted, on GET), the 401 and 422
    answers that authentication and validation give, and no component that nothing uses."""
    document = copy.deepcopy(dict(document))
    document["servers"] = [{"url": "/", "description": "This Refuge server."}]
    document["info"] = {**document.get("info", {}), "license": LICENSE}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorOut", ErrorOut.model_json_schema())
    for method, operation in _operations(document):
        security = [
            req
            for req in operation.get("security", [])
            if method == "get" or "VerifiedSessionAuth" not in req
        ]
        operation["security"] = security
        responses = operation.setdefault("responses", {})
        # Any request can carry a NUL byte: NulByteMiddleware answers 400 (issue 14).
        responses.setdefault(400, _error_response(_FRAMEWORK_ERRORS[400]))
        if security:
            responses.setdefault(401, _error_response(_FRAMEWORK_ERRORS[401]))
        if operation.get("requestBody") or any(map(_can_fail, operation.get("parameters", []))):
            responses.setdefault(422, _error_response(_FRAMEWORK_ERRORS[422]))
        if operation.get("requestBody"):
            responses.setdefault(413, _error_response(_FRAMEWORK_ERRORS[413]))
        operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))
    _drop_unused_components(document)
    return document


def _can_fail(parameter: dict[str, Any]) -> bool:
    """Whether validation can refuse this parameter (any text fits a plain string in a path)."""
    schema = parameter.get("schema", {})
    any_text = schema.get("type") == "string" and not set(schema) - {"type", "title", "description"}
    missing_can_fail = parameter.get("required", False) and parameter.get("in") != "path"
    return missing_can_fail or not any_text


def _operations(document: dict[str, Any]):
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                yield method, operation


def _refs(node: Any) -> set[str]:
    text = json.dumps(node)
    found = set()
    marker = '"$ref": "#/components/schemas/'
    start = text.find(marker)
    while start != -1:
        end = text.index('"', start + len(marker))
        found.add(text[start + len(marker) : end])
        start = text.find(marker, end)
    return found


def _drop_unused_components(document: dict[str, Any]) -> None:
    """Keep the schemas reachable from the paths (ninja also lists the models it flattens
    into query parameters, which nothing refers to)."""
    schemas = document.get("components", {}).get("schemas", {})
    used: set[str] = set()
    todo = _refs(document.get("paths", {}))
    while todo:
        name = todo.pop()
        if name in used or name not in schemas:
            continue
        used.add(name)
        todo |= _refs(schemas[name])
    document["components"]["schemas"] = {k: v for k, v in schemas.items() if k in used}
    used_schemes = {
        name for _m, op in _operations(document) for req in op["security"] for name in req
    }
    schemes = document["components"].get("securitySchemes", {})
    schemes = {k: v for k, v in schemes.items() if k in used_schemes}
    if schemes:
        document["components"]["securitySchemes"] = schemes
    else:
        document["components"].pop("securitySchemes", None)


HSDS_PREFIX = "/api/v1/hsds"


def hsds_openapi(request: HttpRequest) -> dict[str, Any]:
    """The HSDS part of the document alone, its paths as the HSDS protocol names them
    (``/services``, ``/``) under a server at ``/api/v1/hsds`` (the root's ``openapi_url``)."""
    whole = api.get_openapi_schema()
    paths = {
        path[len(HSDS_PREFIX) :] or "/": item
        for path, item in whole["paths"].items()
        if path == HSDS_PREFIX or path.startswith(HSDS_PREFIX + "/")
    }
    document = {
        "openapi": whole["openapi"],
        "info": {
            "title": "Refuge directory: HSDS 3.0 API (public profile)",
            "version": "3.0",
            "description": "The public profile of the Refuge directory in Open Referral HSDS 3.0: "
            "no key, readable from any origin. Confidential shelters are not in it.",
            "license": LICENSE,
        },
        "servers": [{"url": request.build_absolute_uri(HSDS_PREFIX)}],
        "paths": paths,
        "components": {"schemas": dict(whole["components"]["schemas"])},
    }
    _drop_unused_components(document)
    return document


@api.get("/me", response=Me, tags=["core"], summary="Who the key or user acts as")
def me(request):
    p = principal(request)
    return {"name": p.name, "role": p.role, "organisation": p.org_slug}


_mount_app_routers()
