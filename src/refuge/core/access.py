"""Who is acting, and the helpers every view and endpoint uses to fetch what it may see.

A Principal is a signed-in member of staff or a machine client with an API key; both carry an
organisation and a role. Person records are never fetched with a bare ``Model.objects.get`` in
a view: apps expose ``<thing>_for_principal`` helpers (see refuge.cases.selectors) built on
`require` and `audited_read` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from refuge.core import audit
from refuge.core.models import ApiKey, Organisation, User


@dataclass(frozen=True)
class Principal:
    name: str
    role: str | None
    organisation: Organisation | None
    user: User | None = None
    api_key: ApiKey | None = None
    ip: str = ""

    @property
    def org_slug(self) -> str | None:
        return self.organisation.slug if self.organisation else None

    @property
    def org_id(self) -> int | None:
        return self.organisation.pk if self.organisation else None

    @classmethod
    def for_user(cls, user: User, ip: str = "") -> Principal:
        return cls(
            name=user.username, role=user.role, organisation=user.organisation, user=user, ip=ip
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


def principal(request: HttpRequest) -> Principal:
    """The principal of a request: API key (set by the API auth) or the signed-in user."""
    cached = getattr(request, "_refuge_principal", None)
    if cached is not None:
        return cached
    auth = getattr(request, "auth", None)
    if isinstance(auth, Principal):
        p = auth
    elif request.user.is_authenticated:
        p = Principal.for_user(request.user, client_ip(request))
    else:
        p = Principal(name="anonymous", role=None, organisation=None, ip=client_ip(request))
    request._refuge_principal = p  # type: ignore[attr-defined]
    return p


def require(p: Principal, allowed: Callable[[str], bool] | bool) -> None:
    """Raise 403 unless the principal's role passes the rule from refuge.core.roles."""
    ok = allowed if isinstance(allowed, bool) else (p.role is not None and allowed(p.role))
    if not ok:
        raise PermissionDenied


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
