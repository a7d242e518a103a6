"""Anonymised availability shared with trusted peers (SPEC C12), and peers' facilities as
candidates of the placement search.

What travels, per facility of an organisation that opts in: its id, name, kind, region code and
country, its house rules as fit reads them, the services it offers, its rooms by size and which
are free (from the one derivation in refuge.vacancies, never recomputed here), the status of
that figure and its time. Never an address, a locality, a point or a phone.

A peer's facility has no point here. Safety is judged by region (docs/security.md,
"Federation"): in a region she must avoid, it is excluded; for a distance rule, it is placed at
its region's centre when this instance knows that region, and the distance is shown coarse
("closer than"), as for a hidden point; a region unknown here means "we cannot tell", which
excludes it as ``too_close`` (unknown location) whenever she has regions to avoid.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from refuge.core.access import Principal
from refuge.directory.models import ACCOMMODATION_KINDS, Facility, FacilityService, Region
from refuge.placement import fit
from refuge.placement.rank import UNKNOWN, Candidate
from refuge.referrals.search import ExternalCandidate
from refuge.vacancies.board import OtherFacility
from refuge.vacancies.facts import FactSheet

from . import conf
from .models import Peer, PeerFacility, PeerSnapshot, SharingOrganisation

MAX_FACILITIES = 5000
RULE_NAMES = tuple(f for f in fit.Rules.__dataclass_fields__)  # noqa: SLF001
BOOL_RULES = frozenset(
    n for n, f in fit.Rules.__dataclass_fields__.items() if "bool" in str(f.type)
)
INT_RULES = frozenset(n for n, f in fit.Rules.__dataclass_fields__.items() if "int" in str(f.type))


class BadSnapshot(Exception):
    pass


def shared_facilities():
    return Facility.objects.filter(
        is_active=True,
        kind__in=ACCOMMODATION_KINDS,
        organisation_id__in=SharingOrganisation.objects.values("organisation_id"),
    )


def _rules_out(rules: fit.Rules) -> dict[str, Any]:
    out = {name: getattr(rules, name) for name in RULE_NAMES}
    out["staff_languages"] = sorted(rules.staff_languages)
    return out


def snapshot(*, at: datetime | None = None) -> dict[str, Any]:
    """This instance's anonymised availability, as a message body."""
    at = at or timezone.now()
    qs = shared_facilities().order_by("pk")
    viewer = Principal(name="federation", role=None, organisation=None)
    sheet = FactSheet(qs, at=at, viewer=viewer)
    kinds = {str(pk): kind for pk, kind in qs.values_list("pk", "kind")}
    services: dict[str, list[str]] = {}
    for fid, kind in FacilityService.objects.filter(facility__in=qs.values("pk")).values_list(
        "facility_id", "kind"
    ):
        services.setdefault(str(fid), []).append(kind)
    items = []
    for pk, name, f, avail in zip(
        sheet.ids, sheet.names, sheet.facilities, sheet.availability, strict=True
    ):
        if f.compromised:
            continue  # a compromised house takes nobody: not offered, not described
        cap = f.capacity
        items.append(
            {
                "id": str(pk),
                "name": name,
                "kind": kinds.get(str(pk), ""),
                "region": f.region,
                "country": f.country,
                "rules": _rules_out(f.rules),
                "services": sorted(services.get(str(pk), [])),
                "capacity": {
                    "family_rooms": list(cap.family_rooms),
                    "dorm_beds": cap.dorm_beds,
                    "free_family_rooms": (
                        None if cap.free_family_rooms is None else list(cap.free_family_rooms)
                    ),
                    "free_dorm_beds": cap.free_dorm_beds,
                },
                "availability": avail.status,
                "as_of": avail.as_of.isoformat() if avail.as_of and avail.known else None,
            }
        )
    return {"generated_at": at.isoformat(), "facilities": items}


# --- a peer's snapshot, as received ----------------------------------------------------------


def _int(value: Any, *, low: int = 0, high: int = 10_000, none: bool = False) -> int | None:
    if value is None and none:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadSnapshot("a number out of range")
    return value


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise BadSnapshot("a text too long")
    return value


def _rules_in(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadSnapshot("rules")
    out: dict[str, Any] = {}
    for name in RULE_NAMES:
        value = raw.get(name)
        if name == "staff_languages":
            if not isinstance(value or [], list) or len(value or []) > 30:
                raise BadSnapshot("languages")
            out[name] = sorted({_text(v, 10) for v in value or []})
        elif name in ("women_only", "interpretation"):
            out[name] = bool(value) if value is not None else name == "women_only"
        elif name in BOOL_RULES:
            if value is not None and not isinstance(value, bool):
                raise BadSnapshot(name)
            out[name] = value
        elif name in INT_RULES:
            out[name] = (
                _int(value, high=400, none=True)
                if name != "max_stay_days"
                else _int(value, high=3650, none=True)
            )
    return out


def _capacity_in(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise BadSnapshot("capacity")
    rooms = raw.get("family_rooms") or []
    free_rooms = raw.get("free_family_rooms")
    if not isinstance(rooms, list) or len(rooms) > 500:
        raise BadSnapshot("rooms")
    if free_rooms is not None and (not isinstance(free_rooms, list) or len(free_rooms) > 500):
        raise BadSnapshot("rooms")
    free_dorm = raw.get("free_dorm_beds")
    if (free_rooms is None) != (free_dorm is None):
        raise BadSnapshot("free places half known")
    return {
        "family_rooms": [_int(b, low=1, high=50) for b in rooms],
        "dorm_beds": _int(raw.get("dorm_beds") or 0),
        "free_family_rooms": None
        if free_rooms is None
        else [_int(b, low=1, high=50) for b in free_rooms],
        "free_dorm_beds": _int(free_dorm, none=True),
    }


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(_text(value, 40))
    if parsed is None or parsed.tzinfo is None:
        raise BadSnapshot("a time without its zone")
    return parsed


def store_snapshot(*, peer: Peer, body: dict[str, Any], at: datetime | None = None) -> int:
    """Replace the peer's facilities with those of its snapshot; checked field by field (a peer
    is trusted to sign, not to send well-formed data). Returns how many were stored."""
    at = at or timezone.now()
    items = body.get("facilities")
    if not isinstance(items, list) or len(items) > MAX_FACILITIES:
        raise BadSnapshot("facilities")
    generated = _moment(body.get("generated_at")) or at
    rows = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            raise BadSnapshot("facility")
        try:
            remote = str(uuid.UUID(_text(item.get("id"), 40)))
        except ValueError as exc:
            raise BadSnapshot("id") from exc
        if remote in seen:
            raise BadSnapshot("an id twice")
        seen.add(remote)
        status = item.get("availability")
        if status not in ("confirmed", "reported", "unknown"):
            raise BadSnapshot("availability")
        capacity = _capacity_in(item.get("capacity"))
        if (capacity["free_dorm_beds"] is None) != (status == UNKNOWN):
            raise BadSnapshot("availability and free places disagree")
        rows.append(
            PeerFacility(
                peer=peer,
                remote_id=remote,
                name=_text(item.get("name"), 200),
                kind=_text(item.get("kind") or "", 40),
                region=_text(item.get("region") or "", 10).upper(),
                country=_text(item.get("country") or "", 2).upper(),
                rules=_rules_in(item.get("rules")),
                services=sorted({_text(s, 40) for s in item.get("services") or []})[:50],
                capacity=capacity,
                availability=status,
                figure_at=_moment(item.get("as_of")),
            )
        )
    with transaction.atomic():
        # Untrusted while the answer was on its way: nothing of it is kept.
        if not Peer.objects.select_for_update().filter(pk=peer.pk, trusted=True).exists():
            raise BadSnapshot("the peer is no longer trusted")
        PeerFacility.objects.filter(peer=peer).delete()
        PeerFacility.objects.bulk_create(rows)
        PeerSnapshot.objects.update_or_create(
            peer=peer, defaults={"fetched_at": at, "generated_at": generated}
        )
    return len(rows)


# --- peers' facilities in the placement search -----------------------------------------------


def _ttl() -> timedelta:
    return timedelta(hours=settings.REFUGE_FEDERATION_SNAPSHOT_TTL_HOURS)


@dataclass(frozen=True)
class PeerFit:
    """A peer's facility as fit judges it, and what its figure is worth now."""

    facility: fit.Facility
    availability: str  # as the search treats it: unknown once the figure is too old
    known: bool
    stale: bool  # the peer gave a figure, but it (or the snapshot) is older than the TTL


_ROW_FIELDS = (
    "name",
    "remote_id",
    "kind",
    "region",
    "country",
    "rules",
    "services",
    "capacity",
    "availability",
    "figure_at",
    "peer__name",
    "peer__title",
    "peer__snapshot__fetched_at",
)


def _trusted_rows():
    """Trusted peers' facilities with their peer's name, its snapshot's time and their region's
    centre as this instance knows it: one statement (the board counts its queries), read as
    plain values (a model per row, its peer and its snapshot were most of the board's cost
    with a thousand peer facilities)."""
    centre = Region.objects.filter(code=OuterRef("region"))
    return (
        PeerFacility.objects.filter(peer__trusted=True)
        .annotate(
            centre_lat=Subquery(centre.values("latitude")[:1]),
            centre_lon=Subquery(centre.values("longitude")[:1]),
        )
        .order_by("peer__name", "remote_id")
        .values(*_ROW_FIELDS, "centre_lat", "centre_lon")
    )


def _as_fit(row: dict[str, Any], at: datetime, ttl: timedelta) -> PeerFit:
    """The one reading of a stored peer facility for fit, for the search and the board alike.
    A snapshot older than its time-to-live says nothing about free places: unknown."""
    fetched_at = row["peer__snapshot__fetched_at"]
    fresh = fetched_at is not None and at - fetched_at <= ttl
    if row["figure_at"] is not None and at - row["figure_at"] > ttl:
        fresh = False
    cap = row["capacity"]
    given = row["availability"] != UNKNOWN and cap.get("free_dorm_beds") is not None
    known = fresh and given
    capacity = fit.Capacity(
        family_rooms=tuple(cap.get("family_rooms") or ()),
        dorm_beds=cap.get("dorm_beds") or 0,
        free_family_rooms=tuple(cap["free_family_rooms"]) if known else None,
        free_dorm_beds=cap["free_dorm_beds"] if known else None,
    )
    rules = dict(row["rules"])
    rules["staff_languages"] = frozenset(rules.get("staff_languages") or ())
    lat, lon = row["centre_lat"], row["centre_lon"]
    facility = fit.Facility(
        id=f"{row['peer__name']}:{row['remote_id']}",
        rules=fit.Rules(**{k: v for k, v in rules.items() if k in RULE_NAMES}),
        capacity=capacity,
        country=row["country"],
        region=row["region"],
        point=(lat, lon) if lat is not None and lon is not None else None,
        compromised=False,
    )
    return PeerFit(
        facility=facility,
        availability=row["availability"] if known else UNKNOWN,
        known=known,
        stale=given and not known,
    )


def peer_candidates(viewer: Principal, at: datetime) -> Iterator[ExternalCandidate]:
    """Trusted peers' facilities as search candidates. Federation off: none, and no query (a
    referral to them could not be sent anyway), as on the board."""
    if not conf.enabled():
        return
    ttl = _ttl()
    for row in _trusted_rows():
        judged = _as_fit(row, at, ttl)
        yield ExternalCandidate(
            candidate=Candidate(
                facility=judged.facility,
                name=row["name"],
                services=frozenset(row["services"]),
                availability=judged.availability,
                hidden=True,  # distances only ever coarse: we know its region, no more
                shown_point=judged.facility.point,
            ),
            network=row["peer__name"],
            figure_at=row["figure_at"] if judged.known else None,
            network_label=row["peer__title"] or row["peer__name"],
        )


def board_facilities(at: datetime) -> list[OtherFacility]:
    """Trusted peers' facilities for the vacancy board, judged as the search judges them.
    Federation off: none, and no query (the board is counted); on: one query."""
    if not conf.enabled():
        return []
    out = []
    ttl = _ttl()
    for row in _trusted_rows():
        judged = _as_fit(row, at, ttl)
        out.append(
            OtherFacility(
                network=row["peer__name"],
                name=row["name"],
                kind=row["kind"],
                region=row["region"],
                country=row["country"],
                facility=judged.facility,
                availability=judged.availability,
                figure_at=row["figure_at"],
                stale=judged.stale,
                network_label=row["peer__title"] or row["peer__name"],
            )
        )
    return out
