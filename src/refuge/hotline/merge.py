"""How PBX events become one call record: pure Python, no Django, property-tested.

A call (a PBX ``entry_id``) has legs: Mango's ``call_id`` (the IVR, then each operator the
call is routed or transferred to, linked by ``taken_from_call_id``), Twilio's ``CallSid`` (the
caller's own leg, and each ``<Dial>`` child with its ``ParentCallSid``). Each leg has its own
state; the call's state is derived from all of them:

- the call is live while any leg is live, and it has ended when the PBX says so (Mango's
  ``/events/summary``, the end of the caller's own leg: Twilio's parent, the plain JSON
  webhook's leg without a ``leg_id``), or when no leg is live and she had talked to a person
  (an answered call whose last leg hung up is over: the PBX starts a transfer's new leg
  before the old one hangs up). A call nobody answered whose legs have all ended is left
  open for the PBX's own word where the PBX gives one (Mango, Twilio): her IVR leg ends
  the moment she is routed to an operator, and that is not the end of her call;
- answered means a person's leg connected: an operator's extension, a Mango leg at
  ``location=abonent``, a Twilio ``<Dial>`` child, never the IVR, a queue or the platform
  picking up (Twilio's parent leg ``in-progress`` is Twilio running the TwiML).

PBXs repeat events and deliver them out of order. So a call is not updated by "applying the
next event" but by folding every event into an aggregate with operations that do not care
about order or repetition (minimum, maximum, a total order on keys):

- each leg keeps its latest state by the key (phase, seq), where the phase is
  appeared < connected/on hold < disconnected: a late "Appeared" can never undo a
  "Disconnected", and within a phase the higher ``seq`` wins (on hold, then connected again);
- times are minima (first seen, first answered) and maxima (last hang-up);
- the PBX's summary (Mango ``/events/summary``), when it comes, is authoritative for the
  times and the outcome.

Every figure is a function of the set of events received. The call's state is too, with one
exception that keeps it from going back: "no leg is live" can stop being true when a leg's
events arrive after the others' (a transfer's new leg delivered late), so the state shown is
the furthest the call has been (`hw`), by phase. A complete call's record is the same
whatever the order and however often each event arrives.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

APPEARED, CONNECTED, ON_HOLD, DISCONNECTED = "appeared", "connected", "on_hold", "disconnected"
STATES = (APPEARED, CONNECTED, ON_HOLD, DISCONNECTED)
PHASE = {APPEARED: 0, CONNECTED: 1, ON_HOLD: 1, DISCONNECTED: 2}

# Where a leg is. "" is unknown (the plain JSON webhook without a location), which counts as
# a person, as that webhook's contract says. IVR and QUEUE are machines: the caller waits.
IVR, QUEUE, OPERATOR = "ivr", "queue", "operator"
LOCATIONS = (IVR, QUEUE, OPERATOR, "")
TALK_LOCATIONS = (OPERATOR, "")

INCOMING, OUTGOING, INTERNAL = "incoming", "outgoing", "internal"
DIRECTIONS = (INCOMING, OUTGOING, INTERNAL)
# When events disagree about the direction (a consultation leg inside an incoming call is
# internal), this order decides.
_DIRECTION_RANK = {"": 0, INTERNAL: 1, OUTGOING: 2, INCOMING: 3}

VERSION = 2


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
    # With a hang-up: how long the leg lasted, if the PBX says (Twilio's CallDuration). At a
    # person it is her talk time; anywhere it tells when the leg began.
    talk_seconds: int | None = None
    parent: str = ""  # the leg this one was taken from (Mango) or dialled from (Twilio)
    root: bool = False  # the caller's own leg: its end is the end of the call
    # The PBX closes unanswered calls itself (Mango's summary, Twilio's parent leg), so legs
    # that all ended without an answer do not end the call.
    awaits_end: bool = False


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
    talk_ended: float | None = None
    legs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_answered(self) -> bool:
        return self.answered is not None

    @property
    def talk_seconds(self) -> int | None:
        """From the first answer to the last person's hang-up (holds and transfers included)."""
        end = self.talk_ended if self.talk_ended is not None else self.ended
        if self.answered is None or end is None or self.ended is None:
            return None
        return max(0, round(end - self.answered))

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
    return {
        "v": VERSION,
        "legs": {},
        "dir": "",
        "created": None,
        "hw": "",
        "summary": None,
        "ae": False,
    }


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
        "par": "",
        "root": False,
    }


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _lt(candidate: list, current: list | None) -> bool:
    return current is None or candidate < current


def upgrade(agg: dict[str, Any]) -> dict[str, Any]:
    """An aggregate stored by an earlier version, brought up to this one (in place)."""
    if agg.get("v") == 1:
        agg["v"], agg["ae"] = VERSION, False
        for leg in agg["legs"].values():
            leg.setdefault("par", "")
            leg.setdefault("root", False)
    return agg


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
    began = ev.at
    if ev.state == DISCONNECTED and ev.talk_seconds and ev.talk_seconds > 0:
        began = ev.at - ev.talk_seconds
    leg["first"] = _min(leg["first"], began)
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
    if ev.parent and not leg["par"]:
        leg["par"] = ev.parent
    leg["root"] = leg["root"] or ev.root
    agg["ae"] = agg["ae"] or ev.awaits_end
    if _DIRECTION_RANK.get(ev.direction, 0) > _DIRECTION_RANK[agg["dir"]]:
        agg["dir"] = ev.direction
    agg["created"] = _min(agg["created"], began)
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


def _first_talk(agg: dict[str, Any]) -> list | None:
    talks = [leg["talk"] for leg in agg["legs"].values() if leg["talk"] is not None]
    return min(talks) if talks else None


def is_final(agg: dict[str, Any]) -> bool:
    """The call has ended, by the events received (see the module's docstring)."""
    if agg["summary"] is not None:
        return True
    legs = list(agg["legs"].values())
    if not legs:
        return False
    if any(leg["root"] and leg["s"] == DISCONNECTED for leg in legs):
        return True
    if any(leg["s"] != DISCONNECTED for leg in legs):
        return False
    return _first_talk(agg) is not None or not agg["ae"]


def current_state(agg: dict[str, Any]) -> str:
    """The state the events received say now, before the high-water mark."""
    if is_final(agg):
        return DISCONNECTED
    answered = (
        agg["summary"]["answered"] is not None if agg["summary"] else _first_talk(agg) is not None
    )
    if not answered:
        return APPEARED
    live = [leg for leg in agg["legs"].values() if leg["s"] != DISCONNECTED]
    if any(leg["s"] == ON_HOLD for leg in live) and not any(leg["s"] == CONNECTED for leg in live):
        return ON_HOLD
    return CONNECTED


def _raise_high_water(agg: dict[str, Any]) -> None:
    now = current_state(agg)
    hw = agg["hw"] or APPEARED
    if PHASE[now] >= PHASE[hw]:
        agg["hw"] = now


def state_of(agg: dict[str, Any]) -> str:
    now, hw = current_state(agg), agg["hw"] or APPEARED
    return now if PHASE[now] >= PHASE[hw] else hw


def merged(events: list[Event], summary: Summary | None = None) -> dict[str, Any]:
    """The aggregate of a set of events (for tests and bulk loads)."""
    agg = new_aggregate()
    for ev in events:
        apply_event(agg, ev)
    if summary is not None:
        apply_summary(agg, summary)
    return agg


def copy_aggregate(agg: dict[str, Any] | None) -> dict[str, Any]:
    if not agg or agg.get("v") not in (1, VERSION):
        return new_aggregate()
    return upgrade(copy.deepcopy(agg))


def derive(agg: dict[str, Any]) -> Derived:
    legs = agg["legs"]
    first_talk = _first_talk(agg)
    groups = [leg["grp"] for leg in legs.values() if leg["grp"] is not None]
    ended_legs = [leg for leg in legs.values() if leg["end"] is not None]
    last_ended = max(ended_legs, key=lambda leg: (leg["end"], leg["dr"] or [0, ""]), default=None)
    talk_ends = [leg["end"] for leg in ended_legs if leg["talk"] is not None]
    state = state_of(agg)
    s = agg["summary"]
    leg_rows = [
        {
            "leg": leg_id,
            "state": leg["s"],
            "location": leg["loc"],
            "operator": leg["talk"][2] if leg["talk"] else "",
            "parent": leg.get("par", ""),
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
    ended = max(leg["end"] for leg in ended_legs) if state == DISCONNECTED and ended_legs else None
    return Derived(
        state=state,
        direction=agg["dir"] or INCOMING,
        created=agg["created"],
        forwarded=None,
        answered=first_talk[0] if first_talk else None,
        ended=ended,
        operator=first_talk[2] if first_talk else "",
        operator_group=min(groups)[2] if groups else "",
        disconnect_reason=(last_ended["dr"][1] if last_ended and last_ended["dr"] else ""),
        result="",
        has_summary=False,
        talk_ended=max(talk_ends) if talk_ends and ended is not None else None,
        legs=leg_rows,
    )
