"""Shared shape of the authorization matrix (see test_authorization_matrix.py).

Each app keeps ``tests/<app>/matrix.py`` with ``CASES: list[Case]``; one Case per URL pattern.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from refuge.core.roles import Role

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Case:
    """``name`` is a URL name (``app:name``), or ``re:<regex>`` for a pattern without a name.

    Roles in ``allowed`` get ``ok``; the other roles get ``denied``; anonymous gets ``anon``.
    ``setup(ctx)`` returns the URL kwargs (it may create objects in organisation a).
    ``path`` overrides reversing (for unnamed patterns).
    """

    name: str
    allowed: frozenset = ALL_ROLES
    ok: int | tuple[int, ...] = 200
    denied: int | tuple[int, ...] = 403
    anon: int | tuple[int, ...] = 302
    method: str = "get"
    data: dict[str, Any] = field(default_factory=dict)
    setup: Callable[[Any], dict[str, Any]] | None = None
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def roles(*names: Role) -> frozenset:
    return frozenset(names)


def all_but(*names: Role) -> frozenset:
    return ALL_ROLES - set(names)
