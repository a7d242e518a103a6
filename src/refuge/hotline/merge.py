"""How PBX events become one call record: pure Python, no Django, property-tested.

PBXs repeat events and deliver them out of order. So a call is not updated by "applying the
next event" but by folding every event into an aggregate with operations that do not care
about order or repetition (minimum, maximum, a total order on keys):

- each leg (a PBX ``call_id``) keeps its latest state by the key (phase, seq), where the
  phase is appeared < connected/on hold < disconnected: a late "Appeared" can never undo a
  "Disconnected", and within a phase the higher ``seq`` wins (on hold, then connected again);
- times are minima (first seen, first answered) and maxima (last hang-up);
- the PBX's summary of the call (Mango ``/events/summary``), when it comes, is authoritative
  for the times and the outcome.

The same set of events therefore gives the same record whatever the order and however often
each one arrives. The call's own state moves only forward (`high_water`): once a call was seen
to end it is never shown ringing again.

Answered means the caller talked to a person: a "connected" event on a leg at an operator (or
at an unknown location), or a summary with a talk time. A "connected" in the IVR is the
machine picking up, not an answer.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

APPEARED, CONNECTED, ON_HOLD, DISCONNECTED = "appeared", "connected", "on_hold", "disconnected"
STATES = (APPEARED, CONNECTED, ON_HOLD, DISCONNECTED)
PHASE = {APPEARED: 0, CONNECTED: 1, ON_HOLD: 1, DISCONNECTED: 2}

# Where a leg is. "" is unknown (providers that do not say), which counts as an operator.
IVR, QUEUE, OPERATOR = "ivr", "queue", "operator"
LOCATIONS = (IVR, QUEUE, OPERATOR, "")
TALK_LOCATIONS = (OPERATOR, "")

INCOMING, OUTGOING, INTERNAL = "incoming", "outgoing", "internal"
DIRECTIONS = (INCOMING, OUTGOING, INTERNAL)
# When events disagree about the direction (they should not), this order decides.
_DIRECTION_RANK = {"": 0, INTERNAL: 1, OUTGOING: 2, INCOMING: 3}

VERSION = 1


@dataclass(frozen=True)
class Event:
    """One state change of one leg, provider-neutral. Times are POSIX seconds (UTC)."""

    leg_id: str
    seq: int
    state: str
    at: float
    location: str = ""
    direction: str = ""  # a hint; the summary's direction wins
    operator: str = ""  # the extension or identity of the person on this leg
    operator_group: str = ""
    disconnect_reason: str = ""
    talk_seconds: int | None = None  # a duration reported with a hang-up, if the PBX gives one


@dataclass(frozen=True)
class Summary:
    """The PBX's own account of a finished call (Mango /events/summary)."""

    direction: str
    created: float
    ended: float
    answered: float | None = None  # when talk started; None if nobody talked
    forwarded: float | None = None  # when the call left the IVR for the operators
    result: str = ""
    disconnect_reason: str = ""
    operator: str = ""


@dataclass
class Derived:
    """What the call row shows, computed from the aggregate alone."""

    state: str
    direction: str
    created: float | None
    forwarded: float | None
    answered: float | None
    ended: float | None
    operator: str
    operator_group: str
    disconnect_reason: str
    result: str
    has_summary: bool
    legs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_answered(self) -> bool:
        return self.answered is not None

    @property
    def talk_seconds(self) -> int | None:
        if self.answered is None or self.ended is None:
            return None
        return max(0, round(self.ended - self.answered))

    @property
    def wait_seconds(self) -> int | None:
        """From the call's arrival to the answer, or to the hang-up if nobody answered."""
        if self.created is None:
            return None
        end = self.answered if self.answered is not None else self.ended
        if end is None:
            return None
        return max(0, round(end - self.created))


def new_aggregate() -> dict[str, Any]:
    return {"v": VERSION, "legs": {}, "dir": "", "created": None, "hw": "", "summary": None}


def _new_leg() -> dict[str, Any]:
    return {
        "k": None,  # [phase, seq] of the winning event
        "s": APPEARED,
        "loc": "",
        "seqs": [],
        "first": None,
        "talk": None,  # [at, seq, operator] of the earliest talk
        "grp": None,  # [at, seq, group] of the earliest event naming a group
        "end": None,
        "dr": None,  # [seq, reason] of the latest hang-up
    }


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _lt(candidate: list, current: list | None) -> bool:
    return current is None or candidate < current


def has_event(agg: dict[str, Any], leg_id: str, seq: int) -> bool:
    leg = agg["legs"].get(leg_id)
    return leg is not None and seq in leg["seqs"]


def apply_event(agg: dict[str, Any], ev: Event) -> bool:
    """Fold one event into the aggregate (in place). False if it was seen before."""
    if ev.state not in PHASE:
        raise ValueError(f"unknown state {ev.state!r}")
    leg = agg["legs"].get(ev.leg_id)
    if leg is None:
        leg = agg["legs"][ev.leg_id] = _new_leg()
    if ev.seq in leg["seqs"]:
        return False
    leg["seqs"] = sorted([*leg["seqs"], ev.seq])
    key = [PHASE[ev.state], ev.seq]
    if leg["k"] is None or key > leg["k"]:
        leg["k"], leg["s"], leg["loc"] = key, ev.state, ev.location
    leg["first"] = _min(leg["first"], ev.at)
    if ev.state == CONNECTED and ev.location in TALK_LOCATIONS:
        cand = [ev.at, ev.seq, ev.operator]
        if _lt(cand, leg["talk"]):
            leg["talk"] = cand
    if ev.state == DISCONNECTED:
        leg["end"] = _max(leg["end"], ev.at)
        if ev.talk_seconds and ev.talk_seconds > 0 and ev.location in TALK_LOCATIONS:
            cand = [ev.at - ev.talk_seconds, ev.seq, ev.operator]
            if _lt(cand, leg["talk"]):
                leg["talk"] = cand
        if leg["dr"] is None or ev.seq > leg["dr"][0]:
            leg["dr"] = [ev.seq, ev.disconnect_reason]
    if ev.operator_group:
        cand = [ev.at, ev.seq, ev.operator_group]
        if _lt(cand, leg["grp"]):
            leg["grp"] = cand
    if _DIRECTION_RANK.get(ev.direction, 0) > _DIRECTION_RANK[agg["dir"]]:
        agg["dir"] = ev.direction
    agg["created"] = _min(agg["created"], ev.at)
    _raise_high_water(agg)
    return True


def apply_summary(agg: dict[str, Any], s: Summary) -> bool:
    """Fold the PBX's summary in. False if the call already had one (the first one stands)."""
    if agg["summary"] is not None:
        return False
    agg["summary"] = {
        "dir": s.direction,
        "created": s.created,
        "forwarded": s.forwarded,
        "answered": s.answered,
        "ended": s.ended,
        "result": s.result,
        "dr": s.disconnect_reason,
        "op": s.operator,
    }
    _raise_high_water(agg)
    return True


def _current_state(agg: dict[str, Any]) -> str:
    if agg["summary"] is not None:
        return DISCONNECTED
    legs = list(agg["legs"].values())
    if not legs:
        return APPEARED
    if all(leg["s"] == DISCONNECTED for leg in legs):
        return DISCONNECTED
    # Connected means a person is on the line: the IVR answering is the caller still waiting.
    if any(leg["s"] == CONNECTED and leg["loc"] in TALK_LOCATIONS for leg in legs):
        return CONNECTED
    if any(leg["s"] == ON_HOLD for leg in legs):
        return ON_HOLD
    return APPEARED


def _raise_high_water(agg: dict[str, Any]) -> None:
    now = _current_state(agg)
    hw = agg["hw"] or APPEARED
    if PHASE[now] >= PHASE[hw]:
        agg["hw"] = now


def merged(events: list[Event], summary: Summary | None = None) -> dict[str, Any]:
    """The aggregate of a set of events (for tests and bulk loads)."""
    agg = new_aggregate()
    for ev in events:
        apply_event(agg, ev)
    if summary is not None:
        apply_summary(agg, summary)
    return agg


def copy_aggregate(agg: dict[str, Any] | None) -> dict[str, Any]:
    if not agg or agg.get("v") != VERSION:
        return new_aggregate()
    return copy.deepcopy(agg)


def derive(agg: dict[str, Any]) -> Derived:
    legs = agg["legs"]
    talks = [leg["talk"] for leg in legs.values() if leg["talk"] is not None]
    first_talk = min(talks) if talks else None
    groups = [leg["grp"] for leg in legs.values() if leg["grp"] is not None]
    ended_legs = [leg for leg in legs.values() if leg["end"] is not None]
    last_ended = max(ended_legs, key=lambda leg: (leg["end"], leg["dr"] or [0, ""]), default=None)
    state = agg["hw"] or APPEARED
    s = agg["summary"]
    leg_rows = [
        {
            "leg": leg_id,
            "state": leg["s"],
            "location": leg["loc"],
            "operator": leg["talk"][2] if leg["talk"] else "",
        }
        for leg_id, leg in sorted(legs.items(), key=lambda kv: (kv[1]["first"] or 0, kv[0]))
    ]
    if s is not None:
        return Derived(
            state=state,
            direction=s["dir"] or agg["dir"] or INCOMING,
            created=s["created"] or agg["created"],
            forwarded=s["forwarded"],
            answered=s["answered"],
            ended=s["ended"],
            operator=s["op"] or (first_talk[2] if first_talk else ""),
            operator_group=min(groups)[2] if groups else "",
            disconnect_reason=s["dr"],
            result=s["result"],
            has_summary=True,
            legs=leg_rows,
        )
    return Derived(
        state=state,
        direction=agg["dir"] or INCOMING,
        created=agg["created"],
        forwarded=None,
        answered=first_talk[0] if first_talk else None,
        ended=max(leg["end"] for leg in ended_legs)
        if state == DISCONNECTED and ended_legs
        else None,
        operator=first_talk[2] if first_talk else "",
        operator_group=min(groups)[2] if groups else "",
        disconnect_reason=(last_ended["dr"][1] if last_ended and last_ended["dr"] else ""),
        result="",
        has_summary=False,
        legs=leg_rows,
    )
