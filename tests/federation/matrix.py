"""Federation's page: administrators only (the API endpoints are signed, not session pages)."""

from refuge.core.roles import Role as R
from tests.matrix_base import Case, roles


def _peer(ctx):
    from refuge.federation import services, signing

    key = signing.public_key_text(signing.private_key(signing.new_seed()))
    name = "matrix-" + signing.new_seed()[:8].lower().replace("+", "x").replace("/", "y")
    peer = services.peer_trust(by=None, name=name, base_url="https://x.test", public_key=key)
    return {"peer_id": peer.pk}


def _incoming(ctx):
    import uuid

    from refuge.federation.models import IncomingReferral
    from tests.directory.factories import make_facility

    peer = _peer(ctx)["peer_id"]
    facility = make_facility(ctx.orgs["a"], "Matrix refuge " + uuid.uuid4().hex[:6])
    row = IncomingReferral.objects.create(
        peer_id=peer, remote_id=uuid.uuid4(), facility=facility, offer={"woman_age": 30}
    )
    return {"referral_id": row.pk}


def _outgoing(ctx):
    from refuge.cases.services import client_create
    from refuge.federation.models import OutgoingReferral, Peer

    peer = Peer.objects.get(pk=_peer(ctx)["peer_id"])
    client = client_create(by=ctx.personas["operator_a"].principal)
    row = OutgoingReferral.objects.create(
        client=client,
        from_org=ctx.orgs["a"],
        created_by="operator-a",
        peer=peer,
        remote_facility_id="x",
        offer={},
    )
    return {"referral_id": row.pk}


def _accepted_incoming(ctx):
    from refuge.federation.models import IncomingReferral

    ids = _incoming(ctx)
    IncomingReferral.objects.filter(pk=ids["referral_id"]).update(status="accepted")
    return ids


CASE_STAFF = roles(R.CASEWORKER, R.MANAGER, R.OPERATOR, R.COORDINATOR)

CASES = [
    Case("federation:peers", allowed=roles(R.ADMIN)),
    # An administrator without a recent re-authentication is sent to it first (302).
    Case("federation:peer_untrust", method="post", setup=_peer, allowed=roles(R.ADMIN), ok=302),
    # No organisation chosen: back to the page with a message.
    Case("federation:sharing", method="post", allowed=roles(R.ADMIN), ok=302),
    # Referrals across networks: the staff who see cases (each sees its own organisation's).
    Case("federation:referrals", allowed=CASE_STAFF),
    # No household: back to the search with a message.
    Case(
        "federation:referral_send",
        method="post",
        allowed=roles(R.COORDINATOR, R.OPERATOR, R.CASEWORKER, R.MANAGER),
        ok=302,
    ),
    Case(
        "federation:referral_withdraw",
        method="post",
        setup=_outgoing,
        allowed=CASE_STAFF,
        ok=302,
    ),
    # Her consent to the record hand-over: not ticked (and not accepted), back with a message.
    Case(
        "federation:record_consent",
        method="post",
        setup=_outgoing,
        allowed=CASE_STAFF,
        ok=302,
    ),
    # No answer chosen: back to the page with a message.
    Case(
        "federation:referral_answer",
        method="post",
        setup=_incoming,
        allowed=CASE_STAFF,
        ok=302,
    ),
    # "She is not coming": the receiving facility's case staff give up the held place (an
    # accepted referral with no hold: released all the same, back with a message; a second
    # post: refused with a message).
    Case(
        "federation:referral_release",
        method="post",
        setup=_accepted_incoming,
        allowed=CASE_STAFF,
        ok=302,
    ),
    # Her journey across the border: the receiving facility's case staff plan it and record
    # her arrival (a second arrival: back with a message); the sender's case staff read it.
    Case("federation:journey", setup=_accepted_incoming, allowed=CASE_STAFF),
    Case(
        "federation:journey_arrive",
        method="post",
        setup=_accepted_incoming,
        allowed=CASE_STAFF,
        ok=302,
    ),
    Case("federation:journey_sent", setup=_outgoing, allowed=CASE_STAFF),
    # The API: signed messages, not keys or sessions. The identity is public; a post that is
    # no signed message from a trusted peer is refused the same way for everyone.
    Case("api:federation_identity", ok=200, denied=200, anon=200),
    Case("api:federation_inbox", method="post", ok=400, denied=400, anon=400),
    Case("api:federation_availability", method="post", ok=400, denied=400, anon=400),
]
