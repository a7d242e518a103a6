"""The JSON API under /api/v1/: machine clients send ``Authorization: Bearer <key>``.

Every error is ``{"code": ..., "message": ..., "details": ...}``. Apps add their routers here.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

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

    openapi_type = "apiKey"

    def __call__(self, request: HttpRequest) -> Principal | None:
        user = request.user
        if request.method not in ("GET", "HEAD") or not user.is_authenticated or user.role is None:
            return None
        if requires_second_factor(user.role) and not user.is_verified():
            return None
        return principal(request)


api = NinjaAPI(
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
    status = (
        403 if exc.code == "forbidden" else 409 if exc.code in {"conflict", "duplicate"} else 400
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


@api.get("/me", response=Me, tags=["core"], summary="Who the key or user acts as")
def me(request):
    p = principal(request)
    return {"name": p.name, "role": p.role, "organisation": p.org_slug}


_mount_app_routers()
