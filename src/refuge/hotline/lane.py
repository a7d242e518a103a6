"""The lean lane for the PBX webhooks (``/api/v1/telephony/``): first in settings.MIDDLEWARE.

These requests carry no cookie and no session: Mango and Twilio sign each one, the plain JSON
webhook sends an API key, and every answer is a small JSON document. The site's middleware
for people (sessions, language, CSRF, authentication, the second factor, idle time-outs,
messages, clickjacking, CSP, django-axes) costs them about a millisecond of CPU each and does
nothing for them, at 500 events a second. So this middleware sends them straight to the view,
through only the middleware that still matters for a JSON answer:

- django.middleware.security.SecurityMiddleware: HTTPS redirect, HSTS, nosniff,
  Referrer-Policy, Cross-Origin-Opener-Policy;
- refuge.core.middleware.SecurityHeadersMiddleware: Cache-Control no-store,
  Cross-Origin-Resource-Policy, Permissions-Policy;
- refuge.core.middleware.NulByteMiddleware: a NUL byte in the path, query or body is a 400.

The answer gets its Content-Length, as CommonMiddleware would give it. Every other path takes
the full chain unchanged. The view is resolved and called as Django's
handler would, with exceptions turned into responses the same way (`convert_exception_to_
response`); ``request.user`` is the anonymous user, so the API's session authentication
refuses these requests (the JSON webhook needs its key). See docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, get_urlconf, resolve
from django.utils.module_loading import import_string

PREFIX = "/api/v1/telephony/"
LEAN_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "refuge.core.middleware.SecurityHeadersMiddleware",
    "refuge.core.middleware.NulByteMiddleware",  # a NUL byte is a 400 here too (issue 14)
)


_RESOLVED: dict[tuple[str, str | None], ResolverMatch] = {}
_RESOLVED_MAX = 16  # the lane has four fixed URLs; a bound all the same


def _resolve(path: str) -> ResolverMatch:
    """`resolve`, remembered for the lane's URLs: walking the site's URL patterns (the i18n
    prefixes first) was about a fifth of a webhook's CPU (profiled). Kept per URL
    configuration in force, so a test that swaps it is not answered from the old one."""
    key = (path, get_urlconf())
    match = _RESOLVED.get(key)
    if match is None:
        match = resolve(path)
        # Only the API's own routes: any other path under /api/ resolves to the JSON 404,
        # and remembering those would let a stranger fill the table.
        if match.route.startswith("api/v1/") and len(_RESOLVED) < _RESOLVED_MAX:
            _RESOLVED[key] = match
    return match


def _call_view(request: HttpRequest) -> HttpResponse:
    match = _resolve(request.path_info)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)


def lean_chain(middleware: tuple[str, ...] = LEAN_MIDDLEWARE) -> Callable:
    handler = convert_exception_to_response(_call_view)
    for path in reversed(middleware):
        handler = convert_exception_to_response(import_string(path)(handler))
    return handler


class TelephonyLaneMiddleware:
    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.lean = lean_chain()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(PREFIX):
            request.user = AnonymousUser()
            response = self.lean(request)
            # As CommonMiddleware would: a PBX's HTTP client need not handle chunked answers.
            if not response.streaming and not response.has_header("Content-Length"):
                response.headers["Content-Length"] = str(len(response.content))
            return response
        return self.get_response(request)
