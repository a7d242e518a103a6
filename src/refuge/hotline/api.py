"""Telephony webhooks and hotline figures under /api/v1/.

The Mango and Twilio webhooks are authenticated by their signature (``auth=None``; the
signature is checked here, in constant time, before anything is read), the plain JSON webhook
by an API key of an organisation (role operator, manager or coordinator).

Every refusal is ``{"code", "message", "details"}`` with a 4xx status, is logged with its code
and never with the body (which holds the caller's number), and saves nothing: a wrong
signature (403), a body too large (413) or a form that cannot be read (400). A Mango or
Twilio event that is signed correctly but cannot be parsed is not refused: it is kept in
quarantine without its phone numbers (services.event_quarantine) and answered 200
``{"status": "quarantined"}``, since a PBX retries anything else, and the same unreadable
event would come back for ever. The plain JSON webhook's sender sees its 4xx and fixes it.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Literal

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from refuge.api_responses import errors
from refuge.core.access import principal, require
from refuge.core.roles import can_take_calls, can_view_hotline_figures
from refuge.core.services import ServiceError

from . import adapters, conf, figures, selectors, services, signatures

log = logging.getLogger("refuge.hotline")
router = Router(tags=["telephony"])


# --- schemas ---------------------------------------------------------------------------------


class IngestOut(Schema):
    """``quarantined``: the event was signed correctly but could not be read; it is kept
    (without its phone numbers) for the hotline's managers and replayed once fixed, so the
    PBX need not send it again. ``accepted``: with batched ingest, the event is kept and will
    be merged into its call within about a second (``state`` is then null)."""

    status: Literal["recorded", "duplicate", "quarantined", "accepted"]
    entry_id: str | None = None
    state: str | None = None
    code: str | None = None


class RangeIn(Schema):
    from_: date = Field(..., alias="from", description="First day, YYYY-MM-DD (site time zone).")
    to: date = Field(..., description="Last day, included.")


class CallOut(Schema):
    entry_id: str
    direction: str
    state: str
    answered: bool
    wait_seconds: int | None
    talk_seconds: int | None
    line: str | None
    region: str | None
    repeat_caller: bool


class StatsOut(Schema):
    """The period's figures (definitions: refuge/hotline/figures.py). Averages and
    percentages are null for a period without the calls they need."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    asa_seconds: float | None
    answered_within_20s_pct: float | None
    longest_wait_seconds: int | None
    aht_seconds: float | None
    repeat_caller_pct: float | None
    out_of_region_pct: float | None
    unmet_requests: int


# What a webhook refuses (401 for a missing key and 422 are added by refuge.api where they apply).
WEBHOOK_ERRORS = errors(400, 403, 409, 413, 422)
FIGURES_ERRORS = errors(400, 403)


# --- helpers ---------------------------------------------------------------------------------


def _refuse(
    provider: str, code: str, message: str, status: int, details: Any = None
) -> JsonResponse:
    log.warning("telephony %s event refused: %s (HTTP %s)", provider, code, status)
    return JsonResponse({"code": code, "message": message, "details": details}, status=status)


def _body(request: HttpRequest) -> bytes:
    """The request body, refused (413) before it is read if it is too large."""
    limit = conf.max_event_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise adapters.EventError("bad_request", "Bad Content-Length.", status=400) from None
    if declared > limit:
        raise adapters.EventError(
            "too_large", f"The event is larger than {limit} bytes.", status=413
        )
    try:
        body = request.body
    except RequestDataTooBig:
        raise adapters.EventError(
            "too_large", f"The event is larger than {limit} bytes.", status=413
        ) from None
    if len(body) > limit:
        raise adapters.EventError(
            "too_large", f"The event is larger than {limit} bytes.", status=413
        )
    return body


def _form(request: HttpRequest) -> Any:
    _body(request)
    try:
        return request.POST
    except RequestDataTooBig:
        raise adapters.EventError("too_large", "The event is too large.", status=413) from None
    except (MultiPartParserError, TooManyFieldsSent):
        # A multipart body without its boundary, or a flood of fields: nothing can be read,
        # not even the signature, so nothing is kept.
        raise adapters.EventError(
            "bad_form",
            "The form could not be read (a multipart body needs its boundary).",
            status=400,
        ) from None


def _quarantine(provider: str, kind: str, body, exc: adapters.EventError, location: str = ""):
    """A signed event we cannot read: kept for the managers, and the PBX is told 2xx."""
    services.event_quarantine(provider=provider, kind=kind, body=body, error=exc,
                              location=location)  # fmt: skip
    return JsonResponse(
        {"status": "quarantined", "entry_id": None, "state": None, "code": exc.code}
    )


def _accept(provider: str, inbound: adapters.Inbound) -> JsonResponse:
    """A signed, parsed Mango or Twilio event: merged now, or kept for the batched merge."""
    if not conf.batched_ingest():
        return _ingest(provider, inbound)
    services.event_accept(inbound=inbound)
    return JsonResponse({"status": "accepted", "entry_id": inbound.entry_id, "state": None})


def _ingest(provider: str, inbound: adapters.Inbound, organisation=None) -> JsonResponse:
    try:
        result = services.call_event_ingest(inbound=inbound, organisation=organisation)
    except ServiceError as exc:
        status = 403 if exc.code == "forbidden" else 409
        return _refuse(provider, exc.code, exc.message, status)
    return JsonResponse(
        {"status": result.status, "entry_id": result.call.entry_id, "state": result.call.state}
    )


_MANGO_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["vpbx_api_key", "sign", "json"],
                    "properties": {
                        "vpbx_api_key": {"type": "string"},
                        "sign": {"type": "string", "description": "sha256(key + json + salt)"},
                        "json": {"type": "string", "description": "The event, as JSON text."},
                    },
                }
            }
        },
    }
}


def _mango(request: HttpRequest, parse, kind: str) -> JsonResponse:
    provider = "mango"
    try:
        form = _form(request)
        text = form.get("json", "")
        if not signatures.mango_verify(form.get("vpbx_api_key", ""), text, form.get("sign", "")):
            return _refuse(provider, "signature_invalid", "The signature does not match.", 403)
    except adapters.EventError as exc:
        return _refuse(provider, exc.code, exc.message, exc.status, exc.details)
    try:
        inbound = parse(text)
    except adapters.EventError as exc:
        return _quarantine(provider, kind, text, exc)
    return _accept(provider, inbound)


# --- webhooks --------------------------------------------------------------------------------


@router.post(
    "/telephony/mango/events/call",
    auth=None,
    response={200: IngestOut, **WEBHOOK_ERRORS},
    summary="Mango Office VPBX: call state event",
    openapi_extra=_MANGO_FORM,
)
def telephony_mango_call(request: HttpRequest):
    """Mango Office's ``/events/call`` notification (form fields ``vpbx_api_key``, ``sign``,
    ``json``). 403 unless ``sign`` = sha256(api key + json + salt)."""
    return _mango(request, adapters.parse_mango_call, "call")


@router.post(
    "/telephony/mango/events/summary",
    auth=None,
    response={200: IngestOut, **WEBHOOK_ERRORS},
    summary="Mango Office VPBX: call summary",
    openapi_extra=_MANGO_FORM,
)
def telephony_mango_summary(request: HttpRequest):
    """Mango Office's ``/events/summary`` notification, sent once when a call is over."""
    return _mango(request, adapters.parse_mango_summary, "summary")


@router.post(
    "/telephony/twilio/status",
    auth=None,
    response={200: IngestOut, **WEBHOOK_ERRORS},
    summary="Twilio: voice status callback",
    openapi_extra={
        "parameters": [
            {
                "in": "query",
                "name": "location",
                "required": False,
                "schema": {"type": "string", "enum": ["ivr", "queue", "operator"]},
                "description": "Which part of the call flow this callback URL reports.",
            },
            {
                "in": "header",
                "name": "X-Twilio-Signature",
                "required": True,
                "schema": {"type": "string"},
            },
        ]
    },
)
def telephony_twilio_status(request: HttpRequest):
    """Twilio's voice status callback. 403 unless ``X-Twilio-Signature`` matches the full URL
    and the parameters, keyed with the account's auth token (see hotline/signatures.py for
    the URL behind a proxy)."""
    provider = "twilio"
    try:
        form = _form(request)
        if not signatures.twilio_verify(request):
            return _refuse(provider, "signature_invalid", "The signature does not match.", 403)
    except adapters.EventError as exc:
        return _refuse(provider, exc.code, exc.message, exc.status, exc.details)
    params = {name: form.get(name, "") for name in form}
    location = request.GET.get("location", "")
    try:
        inbound = adapters.parse_twilio_status(params, location=location)
    except adapters.EventError as exc:
        return _quarantine(provider, "status", params, exc, location)
    return _accept(provider, inbound)


@router.post(
    "/telephony/events",
    response={200: IngestOut, **WEBHOOK_ERRORS},
    summary="Any other PBX: one call event as JSON",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": adapters.PLAIN_EVENT.json_schema()}},
        }
    },
)
def telephony_events(request: HttpRequest):
    """A call event from any PBX, with an API key of the organisation whose calls these are
    (``Authorization: Bearer …``, role operator, manager or coordinator). The body is a
    `PlainEvent` (see hotline/adapters.py); unknown fields are refused."""
    provider = "json"
    p = principal(request)
    require(p, can_take_calls)
    try:
        inbound = adapters.from_plain_json(adapters.load_plain_event(_body(request)))
    except adapters.EventError as exc:
        return _refuse(provider, exc.code, exc.message, exc.status, exc.details)
    return _ingest(provider, inbound, organisation=p.organisation)


# --- figures ---------------------------------------------------------------------------------


def _range(q: RangeIn) -> tuple[date, date]:
    # The end of the calendar cannot be stepped past (found by fuzzing the OpenAPI document).
    if not (1900 <= q.from_.year <= 2999 and 1900 <= q.to.year <= 2999):
        raise HttpError(400, "Dates must lie between the years 1900 and 2999.")
    if q.to < q.from_:
        raise HttpError(400, "'to' is before 'from'.")
    if (q.to - q.from_).days > 366:
        raise HttpError(400, "Ask for at most 366 days at a time.")
    return q.from_, q.to


@router.get(
    "/hotline/calls",
    response={200: list[CallOut], **FIGURES_ERRORS},
    tags=["hotline"],
    summary="Calls of a period, one item per call",
)
def hotline_calls(request: HttpRequest, q: Query[RangeIn]):
    """Every call that came in between ``from`` and ``to`` (inclusive, site time zone) on the
    caller's organisation's lines (coordinators: the network). Not for analysts, who see only
    aggregate figures."""
    p = principal(request)
    require(p, lambda role: can_take_calls(role) and can_view_hotline_figures(role))
    start, end = _range(q)
    rows = (
        figures.calls_in(selectors.figure_calls(p), start, end)
        .order_by("created_at", "pk")
        .values_list(
            "entry_id",
            "direction",
            "state",
            "answered",
            "wait_seconds",
            "talk_seconds",
            "line__number",
            "caller_region",
            "repeat_caller",
        )
    )
    keys = list(CallOut.model_fields)
    return [
        {**dict(zip(keys, row, strict=True)), "region": row[7] or None} for row in rows.iterator()
    ]


@router.get(
    "/hotline/stats",
    response={200: StatsOut, **FIGURES_ERRORS},
    tags=["hotline"],
    summary="Hotline figures of a period",
)
def hotline_stats(request: HttpRequest, q: Query[RangeIn]):
    """Offered, answered and abandoned calls and the service figures for ``from``–``to``."""
    p = principal(request)
    require(p, can_view_hotline_figures)
    start, end = _range(q)
    return figures.stats(figures.calls_in(selectors.figure_calls(p), start, end))
