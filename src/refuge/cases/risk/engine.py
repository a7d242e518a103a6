"""Score an assessment against a versioned instrument.

An instrument is data (a JSON file in ``cases/instruments/``, or a deploying organisation's own
licensed pack): items, how they are shown, and how they are scored. This module knows nothing
about Django, so every strategy is tested against hand-computed examples and properties.

Item types: ``yes_no``, ``yes_no_dk`` (yes / no / don't know), ``severity`` (1–5), ``text``.
Conditional items: ``"show_if": {"item": "q3", "equals": "yes"}``; hidden items are not asked,
not required and not scored.
Scoring strategies (``scoring.strategy``):
- ``count_yes``: how many visible items are answered "yes";
- ``weighted_sum``: sum of weight × value (yes = 1, no / don't know = 0, severity = 1–5);
- ``trigger_rules``: the highest band whose rule fires; a rule is ``{"any_of": [...]}`` or
  ``{"k_of": k, "items": [...]}`` (k of those answered yes), each with a ``band``;
- ``lookup_table``: a band looked up from the answers of named items.
Bands: ``[{"name": "standard", "min": 0}, {"name": "medium", "min": 10}, {"name": "high", "min": 14}]``,
ordered from lowest to highest; numeric strategies pick the highest band whose ``min`` is met.
Rules (``rules``): ``{"type": "flag_at_least", "band": "high", "flag": "refer_to_meeting"}``
and ``{"type": "flag_score_at_least", "min": 14, "flag": "..."}``. Escalation on repeated
incidents and repeat referrals needs the case history, so `apply_history` takes it as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ITEM_TYPES = {"yes_no", "yes_no_dk", "severity", "text"}
STRATEGIES = {"count_yes", "weighted_sum", "trigger_rules", "lookup_table"}
ALLOWED = {
    "yes_no": {"yes", "no"},
    "yes_no_dk": {"yes", "no", "dk"},
    "severity": {1, 2, 3, 4, 5},
}


class InstrumentError(ValueError):
    """The instrument file itself is wrong (caught when it is loaded, never while scoring)."""


class AnswerError(ValueError):
    """An answer is not one the item allows.

    ``reason`` says which rule was broken (``unknown_item``, ``not_allowed``, ``lowers_level``)
    and ``item`` / ``value`` what was given, so that the Django side can say it in the reader's
    language (``refuge.cases.risk.refusals``): this module has no gettext.
    """

    def __init__(self, message: str, *, reason: str, item: str = "", value: Any = None) -> None:
        super().__init__(message)
        self.reason, self.item, self.value = reason, item, value


@dataclass(frozen=True)
class Item:
    id: str
    type: str
    label: dict[str, str]
    weight: float = 1.0
    show_if: dict[str, Any] | None = None
    required: bool = True


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    title: dict[str, str]
    items: tuple[Item, ...]
    scoring: dict[str, Any]
    bands: tuple[dict[str, Any], ...]
    rules: tuple[dict[str, Any], ...] = ()
    licensed_text: bool = False  # labels are placeholders until a licensed pack is loaded

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    def band_names(self) -> list[str]:
        return [b["name"] for b in self.bands]

    def band_rank(self, name: str) -> int:
        return self.band_names().index(name)


@dataclass(frozen=True)
class Result:
    complete: bool
    score: float | None
    band: str | None
    flags: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    fired: tuple[str, ...] = field(default_factory=tuple)  # which triggers or rows decided it


# --- loading --------------------------------------------------------------------------------


def parse_instrument(data: Mapping[str, Any]) -> Instrument:
    try:
        items = tuple(
            Item(
                id=str(i["id"]),
                type=i["type"],
                label=dict(i.get("label", {})),
                weight=float(i.get("weight", 1.0)),
                show_if=i.get("show_if"),
                required=bool(i.get("required", i["type"] != "text")),
            )
            for i in data["items"]
        )
        inst = Instrument(
            id=str(data["id"]),
            version=int(data["version"]),
            title=dict(data.get("title", {})),
            items=items,
            scoring=dict(data["scoring"]),
            bands=tuple(data["bands"]),
            rules=tuple(data.get("rules", ())),
            licensed_text=bool(data.get("licensed_text", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InstrumentError(f"instrument file is incomplete: {exc}") from exc
    _validate(inst)
    return inst


def _validate(inst: Instrument) -> None:
    ids = [i.id for i in inst.items]
    if len(ids) != len(set(ids)):
        raise InstrumentError(f"{inst.key}: item ids repeat")
    for item in inst.items:
        if item.type not in ITEM_TYPES:
            raise InstrumentError(f"{inst.key}: item {item.id} has unknown type {item.type!r}")
        if item.show_if and item.show_if.get("item") not in ids:
            raise InstrumentError(f"{inst.key}: item {item.id} depends on unknown item")
    strategy = inst.scoring.get("strategy")
    if strategy not in STRATEGIES:
        raise InstrumentError(f"{inst.key}: unknown scoring strategy {strategy!r}")
    names = [b.get("name") for b in inst.bands]
    if not names or len(set(names)) != len(names):
        raise InstrumentError(f"{inst.key}: bands are missing or repeat")
    if strategy in {"count_yes", "weighted_sum"}:
        mins = [b.get("min") for b in inst.bands]
        if any(m is None for m in mins) or mins != sorted(mins):
            raise InstrumentError(f"{inst.key}: numeric bands need ascending 'min' values")
    if strategy == "trigger_rules":
        for trig in inst.scoring.get("triggers", []):
            if trig.get("band") not in names:
                raise InstrumentError(
                    f"{inst.key}: trigger names unknown band {trig.get('band')!r}"
                )
            for ref in trig.get("any_of", []) + trig.get("items", []):
                if ref not in ids:
                    raise InstrumentError(f"{inst.key}: trigger names unknown item {ref!r}")
    if strategy == "lookup_table":
        for ref in inst.scoring.get("items", []):
            if ref not in ids:
                raise InstrumentError(f"{inst.key}: lookup names unknown item {ref!r}")
        for band in list(inst.scoring.get("table", {}).values()) + [inst.scoring.get("default")]:
            if band not in names:
                raise InstrumentError(f"{inst.key}: lookup names unknown band {band!r}")


def load_instrument(path: Path) -> Instrument:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InstrumentError(f"{path.name}: cannot be read: {exc}") from exc
    return parse_instrument(data)


def apply_text_pack(inst: Instrument, pack: Mapping[str, Any]) -> Instrument:
    """Labels from a deploying organisation's licensed text pack (same id and version)."""
    if pack.get("instrument") != inst.id or int(pack.get("version", -1)) != inst.version:
        raise InstrumentError(
            f"text pack is for {pack.get('instrument')}@{pack.get('version')}, not {inst.key}"
        )
    lang = pack.get("lang", "en")
    labels = pack.get("labels", {})
    items = tuple(
        Item(
            i.id,
            i.type,
            {**i.label, lang: labels[i.id]} if i.id in labels else i.label,
            i.weight,
            i.show_if,
            i.required,
        )
        for i in inst.items
    )
    return Instrument(
        inst.id, inst.version, inst.title, items, inst.scoring, inst.bands, inst.rules, False
    )


# --- scoring --------------------------------------------------------------------------------


def visible_items(inst: Instrument, answers: Mapping[str, Any]) -> list[Item]:
    shown: list[Item] = []
    for item in inst.items:
        cond = item.show_if
        if cond is None or answers.get(cond["item"]) == cond.get("equals"):
            shown.append(item)
    return shown


def check_answers(inst: Instrument, answers: Mapping[str, Any]) -> None:
    known = {i.id: i for i in inst.items}
    for key, value in answers.items():
        item = known.get(key)
        if item is None:
            raise AnswerError(
                f"{key} is not an item of {inst.key}", reason="unknown_item", item=key
            )
        if value is None or item.type == "text":
            continue
        if value not in ALLOWED[item.type]:
            raise AnswerError(
                f"{key}: {value!r} is not an allowed answer",
                reason="not_allowed",
                item=key,
                value=value,
            )


def _value(item: Item, answer: Any) -> float:
    if item.type == "severity":
        return float(answer)
    return 1.0 if answer == "yes" else 0.0


def _band_for(inst: Instrument, score: float) -> str:
    band = inst.bands[0]["name"]
    for b in inst.bands:
        if score >= b["min"]:
            band = b["name"]
    return band


def score(inst: Instrument, answers: Mapping[str, Any]) -> Result:
    """Score if every visible required item is answered; otherwise an incomplete draft result."""
    check_answers(inst, answers)
    shown = visible_items(inst, answers)
    missing = tuple(i.id for i in shown if i.required and answers.get(i.id) in (None, ""))
    if missing:
        return Result(complete=False, score=None, band=None, missing=missing)
    strategy = inst.scoring["strategy"]
    fired: list[str] = []
    value: float | None
    if strategy == "count_yes":
        value = float(sum(1 for i in shown if i.type != "text" and answers.get(i.id) == "yes"))
        band = _band_for(inst, value)
    elif strategy == "weighted_sum":
        value = sum(
            i.weight * _value(i, answers.get(i.id))
            for i in shown
            if i.type != "text" and answers.get(i.id) is not None
        )
        band = _band_for(inst, value)
    elif strategy == "trigger_rules":
        value = None
        shown_ids = {i.id for i in shown}
        band = inst.scoring.get("default", inst.bands[0]["name"])
        for n, trig in enumerate(inst.scoring.get("triggers", [])):
            if "any_of" in trig:
                hit = any(answers.get(r) == "yes" for r in trig["any_of"] if r in shown_ids)
            else:
                hit = (
                    sum(1 for r in trig["items"] if r in shown_ids and answers.get(r) == "yes")
                    >= trig["k_of"]
                )
            if hit:
                fired.append(trig.get("name", f"trigger {n + 1}"))
                if inst.band_rank(trig["band"]) > inst.band_rank(band):
                    band = trig["band"]
    else:  # lookup_table
        value = None
        key = ",".join(str(answers.get(r)) for r in inst.scoring["items"])
        band = inst.scoring["table"].get(key, inst.scoring["default"])
        fired.append(key)
    flags = _flags(inst, band, value)
    return Result(complete=True, score=value, band=band, flags=flags, fired=tuple(fired))


def _flags(inst: Instrument, band: str, value: float | None) -> tuple[str, ...]:
    flags: list[str] = []
    for rule in inst.rules:
        kind = rule.get("type")
        if kind == "flag_at_least" and inst.band_rank(band) >= inst.band_rank(rule["band"]):
            flags.append(rule["flag"])
        elif kind == "flag_score_at_least" and value is not None and value >= rule["min"]:
            flags.append(rule["flag"])
    return tuple(dict.fromkeys(flags))


def raise_level(inst: Instrument, computed: str, judged: str | None) -> str:
    """Professional judgement can only raise a level, never lower it."""
    if judged is None:
        return computed
    if inst.band_rank(judged) < inst.band_rank(computed):
        raise AnswerError(
            "Professional judgement can raise the level, never lower it.", reason="lowers_level"
        )
    return judged


@dataclass(frozen=True)
class History:
    incidents_in_window: int = 0  # recorded incidents within the escalation window
    months_since_last_referral: float | None = None


def apply_history(
    inst: Instrument,
    band: str,
    history: History,
    *,
    escalation_incidents: int = 3,
    escalate_to: str | None = None,
    repeat_months: int = 12,
) -> tuple[str, tuple[str, ...]]:
    """Escalation after N incidents in the window (default 3 in 12 months) and the repeat-referral
    flag. Returns the (possibly raised) band and the flags it adds."""
    flags: list[str] = []
    top = escalate_to or inst.bands[-1]["name"]
    if history.incidents_in_window >= escalation_incidents:
        flags.append("escalation")
        if inst.band_rank(top) > inst.band_rank(band):
            band = top
    if (
        history.months_since_last_referral is not None
        and history.months_since_last_referral <= repeat_months
    ):
        flags.append("repeat_referral")
    return band, tuple(flags)
