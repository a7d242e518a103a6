"""Security notices: what a member of staff must hear about her own account, and what an
organisation's managers must hear about access to their organisation (SPEC C1, C11; issue 14).

The core raises a notice inside the transaction of the change (a password changed, a second
factor replaced, break-glass opened, ...); whoever delivers messages registers a listener. This is
a registry, like `register_occupancy_source`, so the core never imports the notifications app.
A notice carries ids only: no name, no address, nothing about a woman (SPEC S7).

The kinds the core raises (``KINDS`` below says the same to code). ``user_id`` is whose account it
concerns, ``organisation_id`` whose managers must hear of it, ``by_user_id`` who did it when it
was not the owner:

- ``password_changed``: she changed her own password (after re-authenticating).
- ``password_reset``: a manager or an administrator (``by_user_id``) gave her a temporary password.
- ``second_factor_enrolled``: an authenticator was set up on her account where there was none
  (first sign-in, or after a reset). After a reset this is the moment to check it was her.
- ``second_factor_changed``: she replaced her authenticator (after re-authenticating with the
  old one).
- ``second_factor_reset``: a manager or an administrator (``by_user_id``) removed her
  authenticator.
- ``staff_created``: an account was made for her by ``by_user_id``.
- ``api_key_issued``, ``api_key_revoked``: ``user_id`` issued or revoked an API key of
  ``organisation_id`` (keys issued from the server's console have no person and raise nothing;
  they are audited).
- ``sign_in_locked``: wrong passwords locked one address or browser out of her account for a while.
- ``sign_in_slowed``: wrong passwords from many addresses; browsers her account does not know are
  slowed to one attempt a minute (never locked).
- ``second_factor_locked``: wrong codes *after her right password* locked one address or browser
  out: someone may know her password.
- ``account_locked``: wrong codes after her right password from several places; the code step is
  closed to browsers her account does not know until she unlocks it by the e-mailed link or a
  manager does. Her known browsers still sign in.
- ``account_unlocked``: the locks on her account were lifted by ``by_user_id`` (a manager or an
  administrator), or by her own e-mailed link (``by_user_id`` is None).
- ``break_glass_opened``: ``user_id``, an administrator, opened break-glass on the cases of
  ``organisation_id`` (with a written reason, for a short time; every page she reads is audited).
- ``break_glass_closed``: a break-glass session on ``organisation_id`` was ended before its time by
  ``by_user_id`` (the administrator herself, or one of the organisation's managers).

An administrator creating a manager or a coordinator, or resetting the password or second factor
of one, raises ``staff_created``, ``password_reset`` or ``second_factor_reset`` with her as
``by_user_id``. That is break-glass-grade: she gave a written reason and re-authenticated, and the
act is in the organisation's break-glass register. Listeners should tell the organisation's
managers (every one, the person concerned included) and, for these, the other administrators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SecurityNotice:
    kind: str  # what happened: one of KINDS
    user_id: int  # whose account it concerns (the owner, or the person who opened break-glass)
    organisation_id: int | None  # whose managers must hear of it
    by_user_id: int | None = None  # who did it, when not the owner herself


KINDS: dict[str, str] = {
    "password_changed": "her own password changed",
    "password_reset": "temporary password set by someone else",
    "second_factor_enrolled": "authenticator set up where there was none",
    "second_factor_changed": "authenticator replaced by her",
    "second_factor_reset": "authenticator removed by someone else",
    "staff_created": "account created",
    "api_key_issued": "API key issued",
    "api_key_revoked": "API key revoked",
    "sign_in_locked": "one source locked out by wrong passwords",
    "sign_in_slowed": "unknown browsers slowed by wrong passwords from many sources",
    "second_factor_locked": "one source locked out by wrong codes after a right password",
    "account_locked": "code step closed to unknown browsers",
    "account_unlocked": "locks lifted",
    "break_glass_opened": "break-glass opened on the organisation's cases",
    "break_glass_closed": "break-glass ended early",
}

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
