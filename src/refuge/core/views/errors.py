"""Error pages that say what happened in plain words and leak nothing else."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _

_MESSAGES = {
    400: ("bad_request", lambda: _("The request could not be understood.")),
    403: ("forbidden", lambda: _("You do not have access to this page.")),
    404: ("not_found", lambda: _("This page does not exist, or you do not have access to it.")),
    405: (
        "method_not_allowed",
        lambda: _("This address cannot be opened like that. Go back and use the page's buttons."),
    ),
    500: (
        "server_error",
        lambda: _(
            "Something went wrong on our side. Nothing you entered was lost "
            "unless you see it missing; please try again or call the hub."
        ),
    ),
}


def _render(request: HttpRequest, status: int) -> HttpResponse:
    code, message = _MESSAGES[status]
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message(), "details": None}, status=status)
    if request.path.startswith("/help/"):
        # The public pages never show the staff layout, even when they fail (issue 14).
        from refuge.help.views import public_error_page

        return public_error_page(request.path, status)
    try:
        body = loader.render_to_string("error.html", {"status": status, "message": message()})
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        body = f"<!doctype html><title>{status}</title><p>{status}</p>"
    return HttpResponse(body, status=status)


def bad_request(request, exception=None):
    return _render(request, 400)


def forbidden(request, exception=None):
    return _render(request, 403)


def not_found(request, exception=None):
    return _render(request, 404)


def server_error(request):
    return _render(request, 500)


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """A GET on a form's POST-only address (a bookmark, a reloaded result) gets a page like the
    other errors instead of an empty one; the Allow header stays."""
    response = _render(request, 405)
    response["Allow"] = allowed
    return response
