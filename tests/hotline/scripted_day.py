"""A scripted day of hotline calls: what really happened (the truth), the PBX requests that
report it (three providers, repeated, reordered, with forged and broken requests mixed in),
and the figures that must come out, worked out here from the truth alone.

The oracle does not use the code under test: regions come from the small table below, repeat
callers from the script's own caller list, the figures from plain Python arithmetic.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from tests.hotline.helpers import (
    JSON_EVENTS,
    MANGO_CALL,
    MANGO_SUMMARY,
    TWILIO_STATUS,
    TWILIO_TOKEN,
    mango_form,
)

DAY = date(2025, 3, 4)  # in Moscow, UTC+3
START = int(datetime(2025, 3, 3, 21, 0, tzinfo=UTC).timestamp())  # 00:00 Moscow time
SHORT = 5

# Lines: (number as the PBX sends it, service area, provider that reports it)
LINES = {
    "mango": ("74950000001", ["RU-MOW", "RU-MOS"]),
    "twilio": ("+74950000002", ["RU"]),
    "json": ("117-kg", ["KG"]),
}
# Callers' numbers the script dials from, with the region the test expects.
AREAS = [
    ("7495", "RU-MOW"), ("7496", "RU-MOS"), ("7487", "RU-TUL"), ("7492", "RU-VLA"),
    ("7916", "RU"), ("7985", "RU"), ("996312", "KG-GB"), ("996555", "KG"),
]  # fmt: skip


def _in_area(region: str, area: list[str]) -> bool | None:
    if not region:
        return None
    country = region.split("-")[0]
    if "-" in region:
        return region in area or country in area
    if country in area:
        return True
    if any(a.startswith(country + "-") for a in area):
        return None
    return False


@dataclass
class TrueCall:
    provider: str
    entry_id: str
    t0: int
    caller: str  # digits as the PBX sends them, "" when hidden
    region: str
    fate: str  # answered, abandoned, short, ringing (still), talking (still)
    wait: int | None
    talk: int | None
    with_summary: bool = True
    unmet: int = 0

    @property
    def answered(self) -> bool:
        return self.fate in ("answered", "talking")

    @property
    def ended(self) -> bool:
        return self.fate in ("answered", "abandoned", "short")

    @property
    def line(self) -> str:
        number = LINES[self.provider][0]
        return "".join(c for c in number if c.isdigit()) if number[0] in "+7" else number

    @property
    def out_of_region(self) -> bool | None:
        inside = _in_area(self.region, LINES[self.provider][1])
        return None if inside is None else not inside


@dataclass
class Request:
    path: str
    data: dict | str
    headers: dict = field(default_factory=dict)
    content_type: str = "application/x-www-form-urlencoded"
    expect: tuple[int, ...] = (200,)


class Script:
    def __init__(self, seed: int = 7, calls: int = 260) -> None:
        self.rng = random.Random(seed)
        self.calls: list[TrueCall] = []
        pool: list[tuple[str, str]] = []
        for n in range(calls):
            provider = self.rng.choices(["mango", "twilio", "json"], weights=[55, 30, 15])[0]
            t0 = START + self.rng.randrange(0, 86400 - 3600)
            if pool and self.rng.random() < 0.25:
                caller, region = self.rng.choice(pool)
            elif self.rng.random() < 0.07:
                caller, region = "", ""
            else:
                prefix, region = self.rng.choice(AREAS)
                rest = 12 - len(prefix) if prefix.startswith("996") else 11 - len(prefix)
                # Subscriber numbers from 2… to 4…: Bishkek's 312 58… range is mobile.
                caller = prefix + str(
                    self.rng.randrange(2 * 10 ** (rest - 1), 5 * 10 ** (rest - 1))
                )
                pool.append((caller, region))
            roll = self.rng.random()
            if roll < 0.70:
                fate, wait, talk = "answered", self.rng.randint(2, 90), self.rng.randint(30, 1500)
            elif roll < 0.85:
                fate, wait, talk = "abandoned", self.rng.randint(SHORT, 200), None
            else:
                fate, wait, talk = "short", self.rng.randint(1, SHORT - 1), None
            self.calls.append(
                TrueCall(
                    provider,
                    f"{provider}-{n:04d}",
                    t0,
                    caller,
                    region,
                    fate,
                    wait,
                    talk,
                    # Mango's summary is its word that a call is over: an unanswered call
                    # whose legs have all ended waits for it (the IVR leg ends when she is
                    # routed on), so only answered calls go without one here.
                    with_summary=self.rng.random() < 0.85 or fate != "answered",
                )  # fmt: skip
            )
        # At the end of the day two calls are still ringing and two still talking.
        for i, fate in enumerate(["ringing", "ringing", "talking", "talking"]):
            provider = ["mango", "json"][i % 2]
            t0 = START + 86400 - 600 + i * 30
            self.calls.append(
                TrueCall(
                    provider,
                    f"{provider}-live{i}",
                    t0,
                    "79161110000",
                    "RU",
                    fate,
                    12 if fate == "talking" else None,
                    None,
                    with_summary=False,
                )  # fmt: skip
            )

    # --- what the PBXs send ---------------------------------------------------------------

    def _mango(self, c: TrueCall) -> list[Request]:
        def ev(leg, seq, state, at, location, ext=None, reason=None):
            body = {"entry_id": c.entry_id, "call_id": leg, "timestamp": at, "seq": seq,
                    "call_state": state, "location": location,
                    "from": {"number": c.caller} if c.caller else {},
                    "to": {"line_number": c.line, **({"extension": ext} if ext else {})}}  # fmt: skip
            if reason:
                body["disconnect_reason"] = reason
            return Request(MANGO_CALL, mango_form(body))

        t0, out = c.t0, []
        ivr = f"{c.entry_id}-ivr"
        out += [ev(ivr, 1, "Appeared", t0, "ivr"), ev(ivr, 2, "Connected", t0 + 1, "ivr")]
        out.append(ev(ivr, 3, "Appeared", min(t0 + 1, t0 + (c.wait or 1)), "queue"))
        op = f"{c.entry_id}-op"
        if c.fate != "ringing" and (c.wait or 0) > 1:
            out.append(ev(op, 1, "Appeared", t0 + 1, "abonent", "101"))
        if c.answered:
            out.append(ev(op, 2, "Connected", t0 + c.wait, "abonent", "101"))
        if c.ended:
            end = t0 + c.wait + (c.talk or 0)
            if (c.wait or 0) > 1:
                out.append(ev(op, 3, "Disconnected", end, "abonent", "101", 1110))
            out.append(ev(ivr, 4, "Disconnected", end, "queue", None, 1110))
            if c.with_summary:
                summary = {"entry_id": c.entry_id, "call_direction": 1,
                           "from": {"number": c.caller}, "to": {"extension": "101"},
                           "line_number": c.line, "create_time": t0, "forward_time": t0 + 1,
                           "talk_time": t0 + c.wait if c.answered else 0, "end_time": end,
                           # entry_result is deliberately wrong now and then: not trusted.
                           "entry_result": 1 if self.rng.random() < 0.5 else 0,
                           "disconnect_reason": 1110}  # fmt: skip
                out.append(Request(MANGO_SUMMARY, mango_form(summary)))
        return out

    def _twilio(self, c: TrueCall) -> list[Request]:
        def cb(sid, seq, status, at, *, parent=None, duration=None, query="location=ivr"):
            params = {"CallSid": sid, "CallStatus": status, "SequenceNumber": str(seq),
                      "Timestamp": format_datetime(datetime.fromtimestamp(at, UTC)),
                      "AccountSid": "ACscript", "ApiVersion": "2010-04-01"}  # fmt: skip
            if parent:
                params.update(ParentCallSid=parent, From=LINES["twilio"][0], To="client:olga",
                              Direction="outbound-dial")  # fmt: skip
                query = ""
            else:
                params.update(From=("+" + c.caller) if c.caller else "Anonymous",
                              To=LINES["twilio"][0], Direction="inbound")  # fmt: skip
            if duration is not None:
                params["CallDuration"] = str(duration)
            path = TWILIO_STATUS + (f"?{query}" if query else "")
            sig = RequestValidator(TWILIO_TOKEN).compute_signature(
                f"http://testserver{path}", params
            )
            return Request(path, urlencode(params), {"HTTP_X_TWILIO_SIGNATURE": sig})

        t0, sid, child = c.t0, c.entry_id, f"{c.entry_id}-child"
        out = [cb(sid, 0, "ringing", t0), cb(sid, 1, "in-progress", t0 + 1)]
        if c.fate != "ringing" and (c.wait or 0) > 2:
            out.append(cb(child, 0, "ringing", t0 + 2, parent=sid))
        if c.answered:
            out.append(cb(child, 1, "in-progress", t0 + c.wait, parent=sid))
        if c.ended:
            end = t0 + c.wait + (c.talk or 0)
            if c.answered or (c.wait or 0) > 2:
                status = "completed" if c.answered else "no-answer"
                out.append(cb(child, 2, status, end, parent=sid, duration=c.talk or 0))
            out.append(cb(sid, 2, "completed", end, duration=end - t0))
        return out

    def _json(self, c: TrueCall, key: str) -> list[Request]:
        def ev(seq, state, at):
            body = {"entry_id": c.entry_id, "seq": seq, "state": state,
                    "at": datetime.fromtimestamp(at, UTC).isoformat(), "line": c.line,
                    "direction": "incoming", "location": "operator"}  # fmt: skip
            if c.caller:
                body["caller"] = "+" + c.caller
            return Request(JSON_EVENTS, json.dumps(body), {"HTTP_AUTHORIZATION": f"Bearer {key}"},
                           "application/json")  # fmt: skip

        out = [ev(1, "appeared", c.t0)]
        if c.answered:
            out.append(ev(2, "connected", c.t0 + c.wait))
        if c.ended:
            out.append(ev(3, "disconnected", c.t0 + c.wait + (c.talk or 0)))
        return out

    def requests(self, json_key: str) -> list[Request]:
        """Every request, as the day's PBXs would send them: repeated, out of order, with
        forged and broken ones in between (those must change nothing)."""
        good = []
        for c in self.calls:
            if c.provider == "mango":
                good += self._mango(c)
            elif c.provider == "twilio":
                good += self._twilio(c)
            else:
                good += self._json(c, json_key)
        self.good = len(good)
        stream = good + [self.rng.choice(good) for _ in range(len(good) // 5)]  # repeats
        self.rng.shuffle(stream)  # any order at all
        bad = []
        for r in self.rng.sample(good, 60):
            if r.path == MANGO_CALL or r.path == MANGO_SUMMARY:
                forged = dict(r.data)
                forged["json"] = (
                    forged["json"][:-1] + ', "forged": 1}'
                )  # the signature no longer fits
                bad.append(Request(r.path, forged, expect=(403,)))
            elif r.path.startswith(TWILIO_STATUS):
                bad.append(Request(r.path, r.data + "&CallDuration=9999", r.headers, expect=(403,)))
            else:
                bad.append(Request(r.path, r.data, {"HTTP_AUTHORIZATION": "Bearer rfg_wrong_key"},
                                   "application/json", expect=(401,)))  # fmt: skip
        bad += [
            # Signed but unreadable: kept in quarantine and answered 200 (a PBX would retry).
            Request(MANGO_CALL, mango_form("{broken"), expect=(200,)),
            # A multipart body without its boundary cannot even be checked: 400, not 500.
            Request(MANGO_CALL, "json=x", content_type="multipart/form-data", expect=(400,)),
            Request(
                MANGO_CALL,
                mango_form(
                    {
                        "entry_id": "x",
                        "call_id": "y",
                        "seq": 1,
                        "timestamp": START,
                        "call_state": "Exploded",
                    }
                ),
                expect=(200,),
            ),  # fmt: skip
            Request(
                JSON_EVENTS,
                '{"entry_id": "x"}',
                {"HTTP_AUTHORIZATION": f"Bearer {json_key}"},
                "application/json",
                expect=(422,),
            ),  # fmt: skip
        ]
        for r in bad:
            stream.insert(self.rng.randrange(len(stream)), r)
        return stream

    # --- what must come out ---------------------------------------------------------------

    def expected_calls(self) -> list[dict]:
        order = sorted(
            (c for c in self.calls if c.caller), key=lambda c: (c.t0, c.provider, c.entry_id)
        )
        seen, repeat = set(), set()
        for c in order:
            if c.caller in seen:
                repeat.add(c.entry_id)
            seen.add(c.caller)
        out = []
        for c in self.calls:
            out.append({
                "entry_id": c.entry_id,
                "direction": "incoming",
                "state": {"ringing": "appeared", "talking": "connected"}.get(c.fate, "disconnected"),
                "answered": c.answered,
                "wait_seconds": c.wait,
                "talk_seconds": c.talk if c.fate == "answered" else None,
                "line": c.line,
                "region": c.region or None,
                "repeat_caller": c.entry_id in repeat,
            })  # fmt: skip
        return sorted(out, key=lambda x: x["entry_id"])

    def expected_stats(self) -> dict:
        calls = self.calls
        answered = [c for c in calls if c.answered]
        abandoned = [c for c in calls if c.fate == "abandoned"]
        timed = [c for c in answered if c.wait is not None]
        talked = [c for c in answered if c.fate == "answered"]
        known = [c for c in calls if c.caller]
        repeats = {x["entry_id"] for x in self.expected_calls() if x["repeat_caller"]}
        placed = [c for c in calls if c.out_of_region is not None]

        def pct(a, b):
            return round(100 * a / b, 1) if b else None

        return {
            "offered": len(calls),
            "answered": len(answered),
            "abandoned": len(abandoned),
            "short_abandoned": sum(c.fate == "short" for c in calls),
            "asa_seconds": round(sum(c.wait for c in timed) / len(timed), 1),
            "answered_within_20s_pct": pct(
                sum(c.wait <= 20 for c in timed), len(timed) + len(abandoned)
            ),
            "longest_wait_seconds": max(c.wait for c in calls if c.wait is not None),
            "aht_seconds": round(sum(c.talk for c in talked) / len(talked), 1),
            "repeat_caller_pct": pct(sum(c.entry_id in repeats for c in known), len(known)),
            "out_of_region_pct": pct(sum(c.out_of_region is True for c in placed), len(placed)),
            "unmet_requests": sum(c.unmet for c in calls),
        }
