from datetime import UTC, datetime, timedelta

from twilio.request_validator import RequestValidator

from refuge.core.roles import Role as R
from refuge.hotline import adapters, merge, services
from refuge.hotline.services import WrapUpData
from refuge.hotline.windows import Window
from tests.hotline.helpers import TWILIO_TOKEN, mango_event, mango_form, mango_summary
from tests.matrix_base import ALL_ROLES, Case, roles

TAKERS = roles(R.OPERATOR, R.COORDINATOR, R.CASEWORKER, R.MANAGER)
FIGURES = roles(R.OPERATOR, R.COORDINATOR, R.MANAGER)
LISTERS = roles(R.OPERATOR, R.COORDINATOR, R.MANAGER)
NOW = int(datetime.now(UTC).timestamp())
_counter = iter(range(10**9))


def _answered_call(ctx):
    op = ctx.personas["operator_a"].principal
    call = services.call_manual_create(
        by=op,
        started_at=datetime.now(UTC) - timedelta(minutes=20),
        talk_minutes=5,
        wrapup=WrapUpData("victim", outcomes=frozenset({"information"})),
    )
    return {"pk": call.pk}


def _live_call(ctx):
    n = next(_counter)
    event = merge.Event(leg_id="l", seq=1, state="appeared", at=NOW - 30.0)
    inbound = adapters.Inbound("json", f"matrix-{n}", event=event, line="matrix-line")
    result = services.call_event_ingest(inbound=inbound, organisation=ctx.orgs["a"])
    return {"pk": result.call.pk}


def _callback(ctx):
    cb = services.callback_create(
        by=ctx.personas["operator_a"].principal,
        safe_number="+74951234567",
        safe_times=[Window(tuple(range(7)), datetime.min.time(), datetime.max.time())],
        tz="Europe/Moscow",
    )
    return {"pk": cb.pk}


def _twilio():
    params = {"CallSid": "CAmatrix", "CallStatus": "ringing", "From": "+74951234567",
              "To": "+74950000000", "Direction": "inbound", "SequenceNumber": "0"}  # fmt: skip
    url = "http://testserver/api/v1/telephony/twilio/status"
    sig = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return params, {"X-Twilio-Signature": sig}


_TW_PARAMS, _TW_HEADERS = _twilio()
_RANGE = {"from": "2025-01-01", "to": "2025-01-31"}

CASES = [
    Case("hotline:queue", allowed=TAKERS),
    Case("hotline:queue_live", allowed=TAKERS),
    Case("hotline:call_new", allowed=TAKERS),
    Case("hotline:call", setup=_answered_call, allowed=TAKERS),
    Case("hotline:call_take", method="post", setup=_live_call, allowed=TAKERS, ok=302),
    Case("hotline:wrapup", setup=_answered_call, allowed=TAKERS),
    Case("hotline:callbacks", allowed=TAKERS),
    Case("hotline:callback_new", allowed=TAKERS),
    Case("hotline:callback", setup=_callback, allowed=TAKERS),
    Case(
        "hotline:callback_attempt",
        method="post",
        setup=_callback,
        data={"outcome": "no_answer"},
        allowed=TAKERS,
        ok=302,
    ),
    Case(
        "hotline:callback_close",
        method="post",
        setup=_callback,
        data={"reason": "not_needed"},
        allowed=TAKERS,
        ok=302,
    ),
    Case("hotline:figures", allowed=FIGURES),
    Case("hotline:setup", allowed=roles(R.MANAGER, R.ADMIN)),
    Case("hotline:quarantine", allowed=roles(R.MANAGER, R.ADMIN)),
    # The PBX webhooks are authenticated by their signature, whoever sends them.
    Case(
        "api:telephony_mango_call",
        method="post",
        data=mango_form(mango_event("matrix-e", "matrix-c", 1, "Appeared", NOW - 5)),
        allowed=ALL_ROLES,
        anon=200,
    ),
    Case(
        "api:telephony_mango_summary",
        method="post",
        data=mango_form(mango_summary("matrix-s", created=NOW - 60, talk=NOW - 50, ended=NOW - 5)),
        allowed=ALL_ROLES,
        anon=200,
    ),
    Case(
        "api:telephony_twilio_status",
        method="post",
        data=_TW_PARAMS,
        headers=_TW_HEADERS,
        allowed=ALL_ROLES,
        anon=200,
    ),
    # An API key only: a browser session cannot post PBX events.
    Case("api:telephony_events", method="post", ok=401, denied=401, anon=401),
    Case("api:hotline_calls", data=_RANGE, allowed=LISTERS, anon=401),
    Case("api:hotline_stats", data=_RANGE, allowed=FIGURES, anon=401),
]
