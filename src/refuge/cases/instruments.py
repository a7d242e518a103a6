"""Where risk instruments come from: the files shipped in cases/instruments/, plus licensed text
packs a deploying organisation keeps in REFUGE_INSTRUMENT_PACKS (a folder of JSON files)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from refuge.cases.risk.engine import Instrument, InstrumentError, apply_text_pack, load_instrument

SHIPPED = Path(__file__).resolve().parent / "instruments"


@lru_cache(maxsize=1)
def registry() -> dict[str, Instrument]:
    found: dict[str, Instrument] = {}
    for path in sorted(SHIPPED.glob("*.json")):
        inst = load_instrument(path)
        found[inst.key] = inst
    packs = getattr(settings, "REFUGE_INSTRUMENT_PACKS", None)
    if packs:
        for path in sorted(Path(packs).glob("*.json")):
            pack = json.loads(path.read_text(encoding="utf-8"))
            key = f"{pack.get('instrument')}@{pack.get('version')}"
            if key not in found:
                raise InstrumentError(
                    f"{path.name}: no instrument {key} to apply this text pack to"
                )
            found[key] = apply_text_pack(found[key], pack)
    return found


class UnknownInstrument(InstrumentError):
    """No such instrument or version (an address or a form asked for one): the caller says so
    to staff in their language. Other InstrumentErrors are deployment faults."""


def get(instrument_id: str, version: int) -> Instrument:
    try:
        return registry()[f"{instrument_id}@{version}"]
    except KeyError as exc:
        raise UnknownInstrument(f"Unknown instrument {instrument_id}@{version}.") from exc


def current() -> list[Instrument]:
    """The newest version of each instrument, for new assessments."""
    newest: dict[str, Instrument] = {}
    for inst in registry().values():
        if inst.id not in newest or inst.version > newest[inst.id].version:
            newest[inst.id] = inst
    return sorted(newest.values(), key=lambda i: i.id != "refuge-screen")
