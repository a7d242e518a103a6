"""What the guided intake tells the wrap-up of the call it started from (issue 16).

Calls stay unlinked to cases (`docs/decisions.md`): nothing here names her or her case. The
operator's own session keeps, per call, only the coded answers the wrap-up form asks for (who
called, which outcome), so the form opens prefilled; the operator still reads and saves it.
The hints go with the session (sign-out, expiry) and are dropped when the wrap-up is saved.
"""

from __future__ import annotations

from django.http import HttpRequest

from .models import ContactType, Need

KEY = "wrapup_hints"
CURRENT = "intake_call"
KEEP = 20  # calls an operator may have open hints for at once (older ones are dropped)


def _hints(request: HttpRequest) -> dict[str, dict]:
    return dict(request.session.get(KEY) or {})


def _save(request: HttpRequest, hints: dict[str, dict]) -> None:
    request.session[KEY] = dict(list(hints.items())[-KEEP:])


def intake_started(request: HttpRequest, call_pk: int) -> None:
    """Her intake started from this call: she is the one who called, about herself."""
    hints = _hints(request)
    hints.setdefault(str(call_pk), {"contact_type": ContactType.VICTIM.value, "outcomes": []})
    _save(request, hints)
    request.session[CURRENT] = call_pk


def referral_sent(request: HttpRequest) -> None:
    """The intake of the current call ended in a referral: placement, and her need for a safe
    place met."""
    call_pk = request.session.get(CURRENT)
    if call_pk is None:
        return
    hints = _hints(request)
    hint = hints.setdefault(str(call_pk), {"contact_type": ContactType.VICTIM.value})
    hint["outcomes"] = sorted({*hint.get("outcomes", []), "placement"})
    hint[f"need_{Need.SHELTER.value}"] = "met"
    _save(request, hints)


def initial_for(request: HttpRequest, call_pk: int) -> dict:
    return dict(_hints(request).get(str(call_pk)) or {})


def forget(request: HttpRequest, call_pk: int) -> None:
    hints = _hints(request)
    if hints.pop(str(call_pk), None) is not None:
        _save(request, hints)
    if request.session.get(CURRENT) == call_pk:
        del request.session[CURRENT]
