"""Calls as real PBXs report them, one scenario each, with the figures worked out by hand.

Sources (each scenario names its own):
- [MANGO-1.9] Mango Office, "API Mango Office" v1.9 (MangoOffice_VPBX_API_v1.9.pdf), the worked
  examples of /events/call: "Уведомление о вызове" pp. 328-329, "Маршрутизация вызова"
  pp. 331-333, "Перевод вызова без консультации" pp. 337-340, "Перевод вызова с
  консультацией" pp. 339-342; field lists of /events/call and /events/summary (location
  ivr/queue/abonent, to.acd_group, from.taken_from_call_id; the summary's forward_time and
  talk_time are 0 when nobody talked, and "to" is the first who missed an unanswered call).
  The examples' own values are kept (ids, times, numbers as strings or JSON numbers, the
  "locaton" misspelling), except where a note says otherwise.
- [MANGO-GO] TrashPony/Mango-api-wrapper, mango_objects/call.go: a Go client whose ``From``
  and ``To`` are pointers and whose ints default to 0, so it sends "from": null, "to": null,
  "dct": null and "disconnect_reason": 0.
- [MANGO-PHP] public Laravel integrations' test payloads (to.number as a SIP URI such as
  "sip:user106@vpbx.mangosip.ru", from.line_number, "acd_group": "", "dct": {"type": 0}).
- [TWILIO-STATUS] Twilio, "Tracking the Status of an Outbound Twilio Voice Call" (children
  created with <Dial> skip "queued": initiated, ringing, in-progress, completed) and the
  status callback parameters as public integrations receive them (boomerrang's test
  fixtures: CallbackSource=call-progress-events, SequenceNumber, Timestamp in RFC 2822,
  CallDuration, Direction outbound-api; tether/jarvis-style handlers: ParentCallSid with
  Direction=outbound-dial for the dialled leg).

Times are the examples' own (May 2014 for Mango) or T0 for built ones. Expected figures:
``wait`` = answer (or hang-up) − arrival, ``talk`` = last hang-up of a person − first answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from tests.hotline.helpers import MANGO_CALL, MANGO_SUMMARY, T0

OPERATOR_SIP = "sip:hotline.operator02@vpbx400212345.mangosip.ru"  # 48 characters


@dataclass
class Step:
    path: str  # MANGO_CALL, MANGO_SUMMARY or "twilio"
    body: dict
    query: str = ""
    state: str = ""  # the call's state after this step, when sent in the documented order


@dataclass
class Scenario:
    name: str
    entry: str
    steps: list[Step]
    expect: dict  # the call's figures at the end
    numbers: list[str] = field(default_factory=list)  # must never be stored


def _m(entry: str, body: dict, state: str) -> Step:
    return Step(MANGO_CALL, {"entry_id": entry, **body}, state=state)


def mango_routed_from_ivr(x: str = "") -> Scenario:
    """[MANGO-1.9] pp. 331-333: a call on DID 7800123456789 reaches the IVR, is routed to
    extension 123 (the IVR leg ends with 1100), she answers at 988, the caller hangs up at
    1008. The operator's to.number is our SIP address (48 characters, over the old 40).
    The summary is built from the /events/summary field list for the same call.
    By hand: wait 988 − 976 = 12 s; talk 1008 − 988 = 20 s."""
    e = "232wc3e3w3s222" + x
    frm = {"number": "79000000000"}
    routed = {"number": "79000000000", "taken_from_call_id": "100:500:256" + x}
    to = {"extension": "123", "number": OPERATOR_SIP, "line_number": "7800123456789"}
    ivr_to = {"number": "7800123456789", "line_number": "7800123456789"}
    return Scenario(
        "mango_routed_from_ivr",
        e,
        [
            _m(
                e,
                {
                    "call_id": "100:500:256" + x,
                    "timestamp": "1399906976",
                    "seq": "1",
                    "call_state": "Appeared",
                    "location": "ivr",
                    "from": frm,
                    "to": ivr_to,
                },
                "appeared",
            ),
            _m(
                e,
                {
                    "call_id": "100:500:256" + x,
                    "timestamp": "1399906976",
                    "seq": "2",
                    "call_state": "Disconnected",
                    "location": "ivr",
                    "from": frm,
                    "to": ivr_to,
                    "disconnect_reason": "1100",
                },
                "appeared",
            ),
            _m(
                e,
                {
                    "call_id": "100:500:257" + x,
                    "timestamp": "1399906977",
                    "seq": "1",
                    "command_id": "c111",
                    "call_state": "Appeared",
                    "location": "abonent",
                    "from": routed,
                    "to": to,
                },
                "appeared",
            ),
            _m(
                e,
                {
                    "call_id": "100:500:257" + x,
                    "timestamp": "1399906988",
                    "seq": "2",
                    "command_id": "c111",
                    "call_state": "Connected",
                    "location": "abonent",
                    "from": routed,
                    "to": to,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": "100:500:257" + x,
                    "timestamp": "1399907008",
                    "seq": "3",
                    "command_id": "c111",
                    "call_state": "Disconnected",
                    "location": "abonent",
                    "from": routed,
                    "to": to,
                    "disconnect_reason": "1120",
                },
                "disconnected",
            ),
            Step(
                MANGO_SUMMARY,
                {
                    "entry_id": e,
                    "call_direction": 1,
                    "from": frm,
                    "to": {"extension": "123", "number": OPERATOR_SIP},
                    "line_number": "7800123456789",
                    "create_time": 1399906976,
                    "forward_time": 1399906977,
                    "talk_time": 1399906988,
                    "end_time": 1399907008,
                    "entry_result": 1,
                    "disconnect_reason": 1120,
                },
                state="disconnected",
            ),
        ],  # fmt: skip
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 12,
            "talk": 20,
            "operator": "123",
            "region": "RU",
        },  # fmt: skip
        numbers=["79000000000", "9000000000"],
    )


def mango_blind_transfer(x: str = "") -> Scenario:
    """[MANGO-1.9] pp. 337-340: 74955404444 calls extension 333, who answers at 986, puts her
    on hold, dials 321 (an internal leg from 333), hangs up at 1006 (1120): the call passes to
    321 (taken_from_call_id 300:200), who answers at 1016; she hangs up at 1036 (1110). The
    example sends no location: for Mango that is a person's leg. No summary.
    By hand: wait 986 − 976 = 10 s; talk 1036 − 986 = 50 s (hold and transfer included)."""
    e = "transfer-blind" + x
    a, b = "300:200" + x, "400-200" + x
    caller = {"number": "74955404444"}
    to333 = {"extension": "333", "number": "44332211"}
    to321 = {"extension": "321", "number": "87654321"}
    taken = {"number": "74955404444", "taken_from_call_id": a}
    return Scenario(
        "mango_blind_transfer",
        e,
        [
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": 1399956976,
                    "seq": "1",
                    "call_state": "Appeared",
                    "from": caller,
                    "to": to333,
                },
                "appeared",
            ),
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": 1399956986,
                    "seq": "2",
                    "call_state": "Connected",
                    "from": caller,
                    "to": to333,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": 1399956986,
                    "seq": "3",
                    "call_state": "OnHold",
                    "from": caller,
                    "to": to333,
                },
                "on_hold",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": 1399956996,
                    "seq": "1",
                    "call_state": "Appeared",
                    "from": {"extension": "333", "number": "44332211"},
                    "to": to321,
                },
                "on_hold",
            ),
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": 1399957006,
                    "seq": "4",
                    "call_state": "Disconnected",
                    "from": caller,
                    "to": to333,
                    "disconnect_reason": "1120",
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": 1399957006,
                    "seq": "2",
                    "call_state": "Appeared",
                    "from": taken,
                    "to": to321,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": "1399957016",
                    "seq": "3",
                    "call_state": "Connected",
                    "from": taken,
                    "to": to321,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": 1399957036,
                    "seq": "4",
                    "call_state": "Disconnected",
                    "from": taken,
                    "to": to321,
                    "disconnect_reason": "1110",
                },
                "disconnected",
            ),
        ],  # fmt: skip
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 10,
            "talk": 50,
            "operator": "333",
            "region": "RU-MOW",
        },  # fmt: skip
        numbers=["74955404444", "4955404444"],
    )


def mango_consultative_transfer(x: str = "") -> Scenario:
    """[MANGO-1.9] pp. 339-342: 74955404444 reaches extension 123 (answers at 985, hold at
    995), who consults 321 on a new leg (202:515, 1005) and hangs up; the caller is connected
    to 321 and hangs up at 1015 (1110). The example spells location "locaton" and gives the
    hang-up of 200:514 the hold's time (995): kept as printed.
    By hand: wait 985 − 978 = 7 s; talk 1015 − 985 = 30 s."""
    e = "transfer-consult" + x
    a, b = "200:514" + x, "202:515" + x
    caller = {"number": "74955404444"}
    to123 = {"extension": "123", "number": "12345678"}
    to321 = {"extension": "321", "number": "87654321"}
    consult = {"extension": "123", "number": "12345678", "taken_from_call_id": a}
    after = {"number": "74955404444", "taken_from_call_id": a}
    return Scenario(
        "mango_consultative_transfer",
        e,
        [
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": "1398956978",
                    "seq": "1",
                    "locaton": "abonent",
                    "call_state": "Appeared",
                    "from": caller,
                    "to": to123,
                },
                "appeared",
            ),
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": 1398956985,
                    "seq": "2",
                    "locaton": "abonent",
                    "call_state": "Connected",
                    "from": caller,
                    "to": to123,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": "1398956995",
                    "seq": "3",
                    "locaton": "abonent",
                    "call_state": "OnHold",
                    "from": caller,
                    "to": to123,
                },
                "on_hold",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": "1398957005",
                    "seq": "1",
                    "locaton": "abonent",
                    "call_state": "Appeared",
                    "from": consult,
                    "to": to321,
                },
                "on_hold",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": 1398957005,
                    "seq": "2",
                    "locaton": "abonent",
                    "call_state": "Connected",
                    "from": consult,
                    "to": to321,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": a,
                    "timestamp": 1398956995,
                    "seq": "4",
                    "locaton": "abonent",
                    "call_state": "Disconnected",
                    "from": caller,
                    "to": to123,
                    "disconnect_reason": "1120",
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": 1398957005,
                    "seq": "3",
                    "locaton": "abonent",
                    "call_state": "Connected",
                    "from": after,
                    "to": to321,
                },
                "connected",
            ),
            _m(
                e,
                {
                    "call_id": b,
                    "timestamp": "1398957015",
                    "seq": "4",
                    "locaton": "abonent",
                    "call_state": "Disconnected",
                    "from": after,
                    "to": to321,
                    "disconnect_reason": "1110",
                },
                "disconnected",
            ),
        ],  # fmt: skip
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 7,
            "talk": 30,
            "operator": "123",
            "region": "RU-MOW",
        },  # fmt: skip
        numbers=["74955404444", "4955404444"],
    )


def _queue_leg(e: str, leg: str, seq: int, state: str, at: int, loc: str, **kw) -> dict:
    to = {"line_number": "74951112233", **kw.pop("to", {})}
    return {"entry_id": e, "call_id": leg, "timestamp": at, "seq": seq, "call_state": state,
            "location": loc, "from": kw.pop("frm", {"number": "74872123456"}), "to": to, **kw}  # fmt: skip


def mango_missed_in_queue(x: str = "") -> Scenario:
    """Built from [MANGO-1.9]'s field lists: the IVR leg moves to the queue of group 50
    (location queue, to.acd_group), extensions 101 and 102 ring on their own legs (taken
    from the queue leg), nobody answers, she hangs up at +75 s. The summary has talk_time 0
    and "to" = the first who missed it. An unanswered call is over only when Mango says so:
    the state stays "ringing" until the summary.
    By hand: not answered; wait 75 s (arrival to hang-up); abandoned (≥ 5 s)."""
    e, q = "missed-queue" + x, "q-" + x
    t = T0
    frm = {"number": "74872123456"}
    ring = {"frm": {"number": "74872123456", "taken_from_call_id": q}}
    steps = [
        Step(MANGO_CALL, _queue_leg(e, q, 1, "Appeared", t, "ivr"), state="appeared"),
        Step(MANGO_CALL, _queue_leg(e, q, 2, "Connected", t + 1, "ivr"), state="appeared"),
        Step(
            MANGO_CALL,
            _queue_leg(e, q, 3, "Appeared", t + 15, "queue", to={"acd_group": 50}),
            state="appeared",
        ),  # fmt: skip
        Step(
            MANGO_CALL,
            _queue_leg(
                e,
                "r101-" + x,
                1,
                "Appeared",
                t + 16,
                "abonent",
                to={"extension": 101, "number": OPERATOR_SIP},
                **ring,
            ),
            state="appeared",
        ),  # fmt: skip
        Step(
            MANGO_CALL,
            _queue_leg(
                e,
                "r102-" + x,
                1,
                "Appeared",
                t + 16,
                "abonent",
                to={"extension": 102, "number": "sip:user102@vpbx.mangosip.ru"},
                frm={"number": "74872123456", "taken_from_call_id": q},
            ),
            state="appeared",
        ),  # fmt: skip
        Step(
            MANGO_CALL,
            _queue_leg(
                e,
                "r101-" + x,
                2,
                "Disconnected",
                t + 75,
                "abonent",
                to={"extension": 101},
                disconnect_reason=1110,
                **ring,
            ),
            state="appeared",
        ),  # fmt: skip
        Step(
            MANGO_CALL,
            _queue_leg(
                e,
                "r102-" + x,
                2,
                "Disconnected",
                t + 75,
                "abonent",
                to={"extension": 102},
                disconnect_reason=1110,
                frm={"number": "74872123456", "taken_from_call_id": q},
            ),
            state="appeared",
        ),  # fmt: skip
        Step(
            MANGO_CALL,
            _queue_leg(e, q, 4, "Disconnected", t + 75, "queue", disconnect_reason=1110),
            state="appeared",
        ),  # fmt: skip
        Step(
            MANGO_SUMMARY,
            {
                "entry_id": e,
                "call_direction": 1,
                "from": frm,
                "to": {"extension": "101"},
                "line_number": "74951112233",
                "create_time": t,
                "forward_time": t + 15,
                "talk_time": 0,
                "end_time": t + 75,
                "entry_result": 0,
                "disconnect_reason": 1110,
            },
            state="disconnected",
        ),  # fmt: skip
    ]
    return Scenario(
        "mango_missed_in_queue",
        e,
        steps,
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": False,
            "wait": 75,
            "talk": None,
            "operator": "101",
            "region": "RU-TUL",
        },  # fmt: skip
        numbers=["74872123456", "4872123456"],
    )


def mango_abandoned_in_ivr(x: str = "") -> Scenario:
    """Built from [MANGO-1.9]'s field lists, sent by a Go client [MANGO-GO]: "dct": null,
    "to": {...} with "acd_group": "", "disconnect_reason": 0 until the hang-up, extension
    as a JSON number. She listens to the IVR and hangs up at +25 s; the summary's
    forward_time and talk_time are 0.
    By hand: not answered; wait 25 s; abandoned."""
    e, leg = "ivr-abandon" + x, "ivr-" + x
    t = T0 + 3600
    frm = {"extension": "", "number": "996312661592", "taken_from_call_id": ""}
    to = {"extension": "", "number": "", "line_number": "996312000117", "acd_group": ""}
    base = {"entry_id": e, "call_id": leg, "location": "ivr", "from": frm, "to": to,
            "dct": None, "command_id": "", "task_id": "", "callback_initiator": ""}  # fmt: skip
    return Scenario(
        "mango_abandoned_in_ivr",
        e,
        [
            Step(
                MANGO_CALL,
                {
                    **base,
                    "timestamp": t,
                    "seq": 1,
                    "call_state": "Appeared",
                    "disconnect_reason": 0,
                },
                state="appeared",
            ),  # fmt: skip
            Step(
                MANGO_CALL,
                {
                    **base,
                    "timestamp": t + 1,
                    "seq": 2,
                    "call_state": "Connected",
                    "disconnect_reason": 0,
                },
                state="appeared",
            ),  # fmt: skip
            Step(
                MANGO_CALL,
                {
                    **base,
                    "timestamp": t + 25,
                    "seq": 3,
                    "call_state": "Disconnected",
                    "disconnect_reason": 1110,
                },
                state="appeared",
            ),  # fmt: skip
            Step(
                MANGO_SUMMARY,
                {
                    "entry_id": e,
                    "call_direction": 1,
                    "from": {"extension": "", "number": "996312661592"},
                    "to": None,
                    "line_number": "996312000117",
                    "create_time": t,
                    "forward_time": 0,
                    "talk_time": 0,
                    "end_time": t + 25,
                    "entry_result": 0,
                    "disconnect_reason": 1110,
                },
                state="disconnected",
            ),  # fmt: skip
        ],
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": False,
            "wait": 25,
            "talk": None,
            "operator": "",
            "region": "KG-GB",
        },  # fmt: skip
        numbers=["996312661592", "312661592"],
    )


def mango_forwarded_to_mobile(x: str = "") -> Scenario:
    """Built from [MANGO-1.9] and [MANGO-PHP]: routed from the IVR to extension 105, whose
    calls are forwarded to her mobile (to.number is the mobile, a phone number that is never
    stored); she answers at +40 s and talks 300 s; from.line_number as PHP clients send it.
    By hand: wait 40 s; talk 300 s."""
    e, ivr, mob = "mobile-fwd" + x, "ivr-m" + x, "mob-" + x
    t = T0 + 7200
    frm = {"number": "79261234567", "line_number": "74951112233"}
    to = {"extension": "105", "number": "79161112233", "line_number": "74951112233"}

    def step(leg, seq, state, at, location, expect, **extra):
        return Step(MANGO_CALL, {"entry_id": e, "call_id": leg, "timestamp": at, "seq": seq,
                                 "call_state": state, "location": location, **extra},
                    state=expect)  # fmt: skip

    ivr_parties = {"from": frm, "to": {"line_number": "74951112233"}}
    mob_parties = {"from": {**frm, "taken_from_call_id": ivr}, "to": to, "dct": {"type": 0}}
    return Scenario(
        "mango_forwarded_to_mobile",
        e,
        [
            step(ivr, 1, "Appeared", t, "ivr", "appeared", **ivr_parties),
            step(
                ivr,
                2,
                "Disconnected",
                t + 9,
                "ivr",
                "appeared",
                disconnect_reason=1100,
                **ivr_parties,
            ),  # fmt: skip
            step(mob, 1, "Appeared", t + 10, "abonent", "appeared", **mob_parties),
            step(mob, 2, "Connected", t + 40, "abonent", "connected", **mob_parties),
            step(
                mob,
                3,
                "Disconnected",
                t + 340,
                "abonent",
                "disconnected",
                disconnect_reason=1110,
                **mob_parties,
            ),  # fmt: skip
        ],
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 40,
            "talk": 300,
            "operator": "105",
            "region": "RU",
        },  # fmt: skip
        numbers=["79261234567", "9261234567", "79161112233", "9161112233"],
    )


def _tw(sid, seq, status, at, *, parent="", direction="inbound", frm="+74951234567",
        to="+74950000002", duration=None, query="") -> Step:  # fmt: skip
    params = {"AccountSid": "AC47ebdee5f6d2049fe18cf3ca151ff3a7", "ApiVersion": "2010-04-01",
              "CallSid": sid, "CallStatus": status, "SequenceNumber": str(seq),
              "Timestamp": format_datetime(datetime.fromtimestamp(at, UTC)),
              "CallbackSource": "call-progress-events", "Direction": direction, "From": frm,
              "To": to, "Called": to, "Caller": frm, "CallerCountry": "RU", "CallerCity": "MOSCOW",
              "CalledCountry": "RU"}  # fmt: skip
    if parent:
        params["ParentCallSid"] = parent
    if duration is not None:
        params["CallDuration"] = str(duration)
        params["Duration"] = str(-(-duration // 60))
    return Step("twilio", params, query=query)


def twilio_dial_to_operator(x: str = "") -> Scenario:
    """[TWILIO-STATUS]: an incoming call; Twilio answers to run the TwiML (the parent's
    in-progress at +1 s, not an answer), <Dial><Sip> rings the operator (the child:
    initiated, ringing, in-progress at +30 s, completed at +270 s with CallDuration 240),
    and the parent completes at +270 s (CallDuration 269). This is the issue's measured case:
    before, wait 1 s and talk 269 s.
    By hand: wait 30 s; talk 270 − 30 = 240 s."""
    p, c = "CAparent" + x, "CAchild" + x
    t = T0 + 10800
    sip = "sip:hotline.operator02@refuge-hotline.sip.twilio.com"
    child = {"parent": p, "direction": "outbound-dial", "frm": "+74950000002", "to": sip}
    steps = [
        _tw(p, 0, "ringing", t, query="location=ivr"),
        _tw(p, 1, "in-progress", t + 1, query="location=ivr"),
        _tw(c, 0, "initiated", t + 2, **child),
        _tw(c, 1, "ringing", t + 3, **child),
        _tw(c, 2, "in-progress", t + 30, **child),
        _tw(c, 3, "completed", t + 270, duration=240, **child),
        _tw(p, 2, "completed", t + 270, duration=269, query="location=ivr"),
    ]
    # The child's end leaves the call live: she is back in Twilio's hands until the parent ends.
    for step, state in zip(steps, ["appeared"] * 4 + ["connected"] * 2 + ["disconnected"],
                           strict=True):  # fmt: skip
        step.state = state
    return Scenario(
        "twilio_dial_to_operator",
        p,
        steps,
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 30,
            "talk": 240,
            "operator": sip,
            "region": "RU-MOW",
        },  # fmt: skip
        numbers=["74951234567", "4951234567"],
    )


def twilio_transfer_in_turn(x: str = "") -> Scenario:
    """[TWILIO-STATUS]: the number's callback without ?location (only the parent's completed,
    as Twilio sends for incoming calls), the first operator (client:olga) answers at +10 s
    and the call is redirected to a second <Dial> (client:anna), who answers at +70 s; she
    hangs up at +200 s. The second child's callbacks arrive before the parent's end.
    By hand: wait 10 s; talk 200 − 10 = 190 s; the first to answer is the operator."""
    p = "CAturn" + x
    a, b = "CAolga" + x, "CAanna" + x
    t = T0 + 14400
    ca = {"parent": p, "direction": "outbound-dial", "frm": "+74950000002", "to": "client:olga"}
    cb = {**ca, "to": "client:anna"}
    steps = [
        _tw(a, 0, "initiated", t + 1, **ca),
        _tw(a, 1, "ringing", t + 2, **ca),
        _tw(a, 2, "in-progress", t + 10, **ca),
        _tw(b, 0, "initiated", t + 60, **cb),
        _tw(a, 3, "completed", t + 61, duration=51, **ca),
        _tw(b, 1, "ringing", t + 61, **cb),
        _tw(b, 2, "in-progress", t + 70, **cb),
        _tw(b, 3, "completed", t + 200, duration=130, **cb),
        _tw(p, 4, "completed", t + 200, duration=200),
    ]
    for step, state in zip(steps, ["appeared"] * 2 + ["connected"] * 5 + ["disconnected"] * 2,
                           strict=True):  # fmt: skip
        step.state = state
    return Scenario(
        "twilio_transfer_in_turn",
        p,
        steps,
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 10,
            "talk": 190,
            "operator": "client:olga",
            "region": "RU-MOW",
        },  # fmt: skip
        numbers=["74951234567", "4951234567"],
    )


def twilio_forwarded_to_mobile(x: str = "") -> Scenario:
    """[TWILIO-STATUS]: <Dial><Number> forwards the call to the operator's mobile; the child's
    To is her number, which is not kept (not even as the operator's name).
    By hand: wait 20 s; talk 120 s; no operator named."""
    p, c = "CAfwd" + x, "CAmob" + x
    t = T0 + 18000
    child = {"parent": p, "direction": "outbound-dial", "frm": "+74950000002",
             "to": "+79161112233"}  # fmt: skip
    steps = [
        _tw(p, 0, "ringing", t, frm="+79031234567", query="location=ivr"),
        _tw(c, 0, "initiated", t + 2, **child),
        _tw(c, 1, "in-progress", t + 20, **child),
        _tw(c, 2, "completed", t + 140, duration=120, **child),
        _tw(p, 1, "completed", t + 141, frm="+79031234567", duration=141, query="location=ivr"),
    ]
    for step, state in zip(steps, ["appeared"] * 2 + ["connected"] * 2 + ["disconnected"],
                           strict=True):  # fmt: skip
        step.state = state
    return Scenario(
        "twilio_forwarded_to_mobile",
        p,
        steps,
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": True,
            "wait": 20,
            "talk": 120,
            "operator": "",
            "region": "RU",
        },  # fmt: skip
        numbers=["79031234567", "9031234567", "79161112233", "9161112233"],
    )


def twilio_abandoned_in_ivr(x: str = "") -> Scenario:
    """[TWILIO-STATUS]: Twilio picks up at +1 s (in-progress) and plays the menu; she hangs
    up at +40 s. The platform picking up is not an answer.
    By hand: not answered; wait 40 s; abandoned."""
    p = "CAivr" + x
    t = T0 + 21600
    steps = [
        _tw(p, 0, "ringing", t, query="location=ivr"),
        _tw(p, 1, "in-progress", t + 1, query="location=ivr"),
        _tw(p, 2, "completed", t + 40, duration=39, query="location=ivr"),
    ]
    for step, state in zip(steps, ["appeared", "appeared", "disconnected"], strict=True):
        step.state = state
    return Scenario(
        "twilio_abandoned_in_ivr",
        p,
        steps,
        {
            "state": "disconnected",
            "direction": "incoming",
            "answered": False,
            "wait": 40,
            "talk": None,
            "operator": "",
            "region": "RU-MOW",
        },  # fmt: skip
        numbers=["74951234567", "4951234567"],
    )


ALL = [
    mango_routed_from_ivr,
    mango_blind_transfer,
    mango_consultative_transfer,
    mango_missed_in_queue,
    mango_abandoned_in_ivr,
    mango_forwarded_to_mobile,
    twilio_dial_to_operator,
    twilio_transfer_in_turn,
    twilio_forwarded_to_mobile,
    twilio_abandoned_in_ivr,
]
