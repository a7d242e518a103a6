"""Request guards of the help app.

Public pages: no cookie may be sent from them, not even the deletion of a stale staff session
cookie that SessionMiddleware sends when a browser still holds one. The page itself never
uses the session, so the session is detached before the response goes back through the
middleware, which then leaves cookies alone.

Staff pages: the project's middleware exempts everything under /help/ from the second-factor
and idle-timeout checks (the public pages have no session to check). The staff pages of this
app live under /help/manage/ and must not lose those checks, so they are repeated here.
"""

from __future__ import annotations

import time
from functools import wraps

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from refuge.core.roles import requires_second_factor


class _NoSession:
    """Stands in for the session on public pages. It has no attributes at all, so
    SessionMiddleware's response step (which reads ``accessed``, ``modified`` and
    ``is_empty``) stops before it can set or delete a cookie."""

    __slots__ = ()


def detach_session(request: HttpRequest) -> None:
    request.session = _NoSession()  # type: ignore[assignment]


def verified_staff(view):
    """The second factor and the idle timeout, as refuge.core.middleware applies them
    elsewhere. Use after login_required."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.role is None:
            logout(request)
            return redirect(settings.LOGIN_URL)
        if requires_second_factor(user.role) and not user.is_verified():
            has_device = user.totpdevice_set.filter(confirmed=True).exists()
            return redirect("core:login_code" if has_device else "core:enrol")
        now = time.time()
        last = request.session.get("last_activity")
        if last is not None and now - last > settings.REFUGE_IDLE_TIMEOUT.total_seconds():
            logout(request)
            return redirect(f"{reverse(settings.LOGIN_URL)}?timeout=1")
        request.session["last_activity"] = now
        if user.must_change_password:
            return redirect("core:password_change")
        return view(request, *args, **kwargs)

    return wrapper
