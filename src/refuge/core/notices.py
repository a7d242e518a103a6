"""Security notices: what a member of staff must hear about her own account, and what an
organisation's managers must hear about access to their organisation (SPEC C1, C11; issue 14).

The core raises a notice inside the transaction of the change (a password changed, a second
factor replaced, break-glass opened, ...); whoever delivers messages registers a listener. This is
a registry, like `register_occupancy_source`, so the core never imports the notifications app.
A notice carries ids only: no name, no address, nothing about a woman (SPEC S7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecurityNotice:
    kind: str  # what happened, e.g. "password_changed" (the services that raise it list theirs)
    user_id: int  # whose account it concerns (the owner, or the person who opened break-glass)
    organisation_id: int | None  # whose managers must hear of it
    by_user_id: int | None = None  # who did it, when not the owner herself


SecurityListener = Callable[[SecurityNotice], None]
_listeners: list[SecurityListener] = []


def register_security_listener(listener: SecurityListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unregister_security_listener(listener: SecurityListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def announce(notice: SecurityNotice) -> None:
    """Tell every listener, inside the caller's transaction (a rolled-back change announces
    nothing that survives: listeners enqueue their work in the same transaction)."""
    for listener in tuple(_listeners):
        listener(notice)
