"""Who is acting, and the helpers every view and endpoint uses to fetch what it may see.

A Principal is a signed-in member of staff or a machine client with an API key; both carry an
organisation and a role. Person records are never fetched with a bare ``Model.objects.get`` in
a view: apps expose ``<thing>_for_principal`` helpers (see refuge.cases.selectors) built on
`require` and `audited_read` here.

Break-glass goes through the same helpers, not around them: while an administrator's session
has break-glass open on an organisation, `principal` returns her as a *caseworker of that
organisation* with ``break_glass`` set. Every selector then scopes and audits as for its own
staff; `refuge.core.audit` stamps each event with the break-glass id and refuses any state
change, and `BreakGlassMiddleware` lets such a session reach case pages only, read-only.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from refuge.core import audit
from refuge.core.models import ApiKey, BreakGlass, Organisation, User
from refuge.core.roles import Role, can_open_break_glass

BREAK_GLASS_SESSION_KEY = "refuge_break_glass"
REAUTH_SESSION_KEY = "refuge_reauth_at"


@dataclass(frozen=True)
class BreakGlassScope:
    """An open break-glass session: whose cases, until when, and who she is outside it."""

    id: uuid.UUID
    organisation_slug: str
    expires_at: datetime
    own_role: str
    own_org_slug: str


@dataclass(frozen=True)
class Principal:
    name: str
    role: str | None
    organisation: Organisation | None
    user: User | None = None
    api_key: ApiKey | None = None
    ip: str = ""
    # She gave her password and a fresh code within REFUGE_REAUTH_MINUTES (a session only).
    reauthenticated: bool = False
    break_glass: BreakGlassScope | None = None

    @property
    def org_slug(self) -> str | None:
        return self.organisation.slug if self.organisation else None

    @property
    def org_id(self) -> int | None:
        return self.organisation.pk if self.organisation else None

    @classmethod
    def for_user(cls, user: User, ip: str = "", *, reauthenticated: bool = False) -> Principal:
        return cls(
            name=user.username,
            role=user.role,
            organisation=user.organisation,
            user=user,
            ip=ip,
            reauthenticated=reauthenticated,
        )

    def under_break_glass(self, entry: BreakGlass) -> Principal:
        """This administrator as a read-only caseworker of the organisation break-glass opened."""
        scope = BreakGlassScope(
            id=entry.pk,
            organisation_slug=entry.organisation.slug,
            expires_at=entry.expires_at,
            own_role=self.role or "",
            own_org_slug=self.org_slug or "",
        )
        return replace(
            self,
            role=Role.CASEWORKER,
            organisation=entry.organisation,
            reauthenticated=False,
            break_glass=scope,
        )

    @classmethod
    def for_api_key(cls, key: ApiKey, ip: str = "") -> Principal:
        return cls(
            name=f"api:{key.prefix}",
            role=key.role,
            organisation=key.organisation,
            api_key=key,
            ip=ip,
        )


def client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR is set by the reverse proxy (docs/deployment.md); we do not trust
    # X-Forwarded-For here, so an attacker cannot choose the address written to the audit log.
    return request.META.get("REMOTE_ADDR", "")[:45]


def is_reauthenticated(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY) if hasattr(request, "session") else None
    return at is not None and time.time() - at < settings.REFUGE_REAUTH_MINUTES * 60


def mark_reauthenticated(request: HttpRequest) -> None:
    request.session[REAUTH_SESSION_KEY] = time.time()
    request.__dict__.pop("_refuge_principal", None)


def open_break_glass(request: HttpRequest) -> BreakGlass | None:
    """The break-glass entry this session has open, if it is still open (else forgotten)."""
    session = getattr(request, "session", None)
    if session is None or BREAK_GLASS_SESSION_KEY not in session:
        return None
    user = request.user
    entry = None
    if user.is_authenticated and user.role and can_open_break_glass(user.role):
        entry = (
            BreakGlass.objects.select_related("organisation")
            .filter(
                pk=session[BREAK_GLASS_SESSION_KEY],
                user=user,
                kind=BreakGlass.Kind.CASE_ACCESS,
                closed_at__isnull=True,
                expires_at__gt=timezone.now(),
                organisation__is_active=True,
            )
            .first()
        )
    if entry is None:
        del session[BREAK_GLASS_SESSION_KEY]
    return entry


def principal(request: HttpRequest) -> Principal:
    """The principal of a request: API key (set by the API auth) or the signed-in user
    (under break-glass, for pages, when her session has it open)."""
    cached = getattr(request, "_refuge_principal", None)
    if cached is not None:
        return cached
    auth = getattr(request, "auth", None)
    if isinstance(auth, Principal):
        p = auth
    elif request.user.is_authenticated:
        p = Principal.for_user(
            request.user, client_ip(request), reauthenticated=is_reauthenticated(request)
        )
        # The JSON API never runs under break-glass: its reads are not the pages audited here.
        entry = None if request.path_info.startswith("/api/") else open_break_glass(request)
        if entry is not None:
            p = p.under_break_glass(entry)
    else:
        p = Principal(name="anonymous", role=None, organisation=None, ip=client_ip(request))
    request._refuge_principal = p  # type: ignore[attr-defined]
    return p


def require(p: Principal, allowed: Callable[[str], bool] | bool) -> None:
    """Raise 403 unless the principal's role passes the rule from refuge.core.roles."""
    ok = allowed if isinstance(allowed, bool) else (p.role is not None and allowed(p.role))
    if not ok:
        raise PermissionDenied


class ReauthRequired(PermissionDenied):
    """A sensitive change asked of a session that has not re-authenticated recently."""


def require_reauthenticated(p: Principal | None) -> None:
    """For services: a person must have given her password and a fresh code just now. The
    server's console (``p`` is None) is trusted; a machine key never is."""
    if p is None:
        return
    if p.user is None or not p.reauthenticated or p.break_glass is not None:
        raise ReauthRequired


def reauth_required(view):
    """View decorator: send a session that has not re-authenticated recently to do so first,
    and bring it back here afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        if not principal(request).reauthenticated:
            target = request.get_full_path() if request.method == "GET" else request.path
            return redirect(f"{reverse('core:reauth')}?{urlencode({'next': target})}")
        return view(request, *args, **kwargs)

    return wrapper


def role_required(rule: Callable[[str], bool]):
    """View decorator: signed in (middleware guarantees the second factor) and allowed by rule."""

    def deco(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
            require(principal(request), rule)
            return view(request, *args, **kwargs)

        wrapper.refuge_rule = rule  # type: ignore[attr-defined]
        return wrapper

    return deco


def audited_read(p: Principal, obj: Any, *, target_org_slug: str, what: str = "") -> None:
    """Write the audit event for a read of a person's record (SPEC.md S2)."""
    audit.record(
        actor=p,
        action="read",
        target_type=obj._meta.label_lower,
        target_id=obj.pk,
        target_org_slug=target_org_slug,
        details={"what": what} if what else None,
    )
