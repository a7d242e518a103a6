"""Federation endpoints (SPEC C12) under /api/v1/federation/. Authenticated by the signature of
each message, not by a key or a session (``auth=None``): a message must come from a trusted
peer's key, to this instance, within the clock window, with a nonce never seen before."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from ninja import Field, Router, Schema

from refuge.api_responses import errors
from refuge.core.access import client_ip

from . import conf, services
from .signing import BadMessage

PREFIX = "/federation/"
router = Router(tags=["federation"])

_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["envelope", "signature"],
    "additionalProperties": False,
    "properties": {
        "envelope": {
            "type": "object",
            "description": "Signed in its canonical form: keys sorted, no whitespace, UTF-8.",
            "required": [
                "v",
                "id",
                "sender",
                "sender_key",
                "recipient_key",
                "sent_at",
                "nonce",
                "kind",
                "body",
            ],
            "additionalProperties": False,
            "properties": {
                "v": {"type": "integer", "enum": [1]},
                "id": {"type": "string", "format": "uuid"},
                "sender": {"type": "string", "maxLength": 100},
                "sender_key": {"type": "string", "description": "Ed25519, base64 of 32 bytes"},
                "recipient_key": {"type": "string", "description": "Ed25519, base64"},
                "sent_at": {"type": "integer", "description": "Seconds since the epoch"},
                "nonce": {"type": "string", "maxLength": 100},
                "kind": {"type": "string", "maxLength": 100},
                "body": {"type": "object"},
            },
        },
        "signature": {"type": "string", "description": "Ed25519 over the envelope, base64"},
    },
}
_SIGNED_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
    }
}
_REFUSALS = errors(400, 401, 403, 404, 409, 413, 422, 503)


class IdentityOut(Schema):
    name: str
    base_url: str
    public_key: str = Field(..., description="Ed25519 public key, base64 of its 32 bytes")
    sealing_key: str = Field(
        "",
        description="X25519 public key for case records sealed to this instance, base64 of "
        "its 32 bytes; empty when it cannot receive records",
    )


class ReceivedOut(Schema):
    id: str
    duplicate: bool = Field(..., description="Received before: acknowledged, not acted on again")


class SignedOut(Schema):
    envelope: dict[str, Any]
    signature: str


def _refused(exc: BadMessage) -> JsonResponse:
    return JsonResponse(
        {"code": exc.code, "message": exc.message, "details": None}, status=exc.status
    )


def _body(request: HttpRequest) -> bytes:
    limit = conf.max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadMessage("bad_request", "Bad Content-Length.") from None
    if declared > limit:
        raise BadMessage("too_large", "The message is too large.", 413)
    try:
        return request.body
    except RequestDataTooBig:
        raise BadMessage("too_large", "The message is too large.", 413) from None


def _read(request: HttpRequest) -> bytes:
    """The body; a refusal before it is read is audited like any other."""
    try:
        return _body(request)
    except BadMessage as exc:
        services.refusal_record(exc.code, None, client_ip(request))
        raise


@router.get(
    "/identity",
    auth=None,
    response={200: IdentityOut, **errors(503)},
    summary="This instance's federation name, address and public key",
)
def federation_identity(request: HttpRequest):
    if not conf.enabled():
        return _refused(BadMessage("federation_disabled", "Federation is off here.", 503))
    me = conf.identity()
    return {
        "name": me.name,
        "base_url": me.base_url,
        "public_key": me.public_key,
        "sealing_key": me.sealing_public_key,
    }


@router.post(
    "/inbox",
    auth=None,
    response={200: ReceivedOut, **_REFUSALS},
    summary="A signed message from a trusted peer",
    openapi_extra=_SIGNED_BODY,
)
def federation_inbox(request: HttpRequest):
    """Accepted once per message id: a message received before is acknowledged again
    (``duplicate``) and not acted on; a replayed envelope (same nonce) is refused (409)."""
    try:
        got = services.receive(raw=_read(request), ip=client_ip(request))
    except BadMessage as exc:
        return _refused(exc)
    return {"id": got.envelope.id, "duplicate": got.duplicate}


@router.post(
    "/availability",
    auth=None,
    response={200: SignedOut, **_REFUSALS},
    summary="A trusted peer asks for the anonymised availability snapshot",
    openapi_extra=_SIGNED_BODY,
)
def federation_availability(request: HttpRequest):
    """The question is a signed ``availability.request``; the answer a signed
    ``availability.snapshot`` to the asking peer, naming the question in ``in_reply_to``."""
    try:
        got = services.receive(
            raw=_read(request), ip=client_ip(request), expect_kind="availability.request"
        )
    except BadMessage as exc:
        return _refused(exc)
    return services.snapshot_answer(question=got)
