"""Rank every facility for one household: who can take her now, best first, and why; who
cannot, and why not (SPEC.md C6, "Placement search").

Pure Python over plain data. Hard rules come from `fit`: a facility with any reason is
excluded, never ranked. Among those that can take her:

1. availability known (confirmed by the system, or reported within its time-to-live) before
   unknown ("call to check"), as the contract says;
2. then by score, a weighted sum in [0, 1] of
   - travel (0.35): 1 / (1 + d / 300 km) from her home region's centre; 0.5 when not known,
   - services (0.25): the share of the services she asked for that the facility offers,
   - language (0.15): 1 if staff speak one of her languages, 0.5 with interpretation or when
     not stated, 1 when she named none,
   - fit (0.15): household size / the smallest free unit that takes her (keeps family rooms
     for families); 0.5 when availability is unknown,
   - certainty (0.10): 1 − 0.25 per rule the facility has not stated, down to 0;
3. then by facility id, so equal scores always come out in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import starmap
from operator import itemgetter
from typing import Any, overload

from .fit import Facility, Fit, Household, Reason, coarse_reasons, fitter, made_often
from .geo import Point, distance_km

WEIGHTS = {"travel": 0.35, "services": 0.25, "language": 0.15, "fit": 0.15, "certainty": 0.10}
TRAVEL_SCALE_KM = 300.0
CONFIRMED, REPORTED, UNKNOWN = "confirmed", "reported", "unknown"


@made_often
class Candidate:
    facility: Facility
    name: str = ""
    services: frozenset[str] = frozenset()
    availability: str = UNKNOWN  # confirmed | reported | unknown (must agree with capacity.known)
    # When the viewer may not see the facility's own point: the point distances are shown from
    # (its region's centre). Safety (`fit`) still judges from ``facility.point``; the distance,
    # the travel score and a too_close reason shown never reveal more than the region.
    hidden: bool = False
    shown_point: Point | None = None


@dataclass(frozen=True, slots=True)
class Preferences:
    home_point: Point | None = None
    home_region: str = ""
    services: frozenset[str] = frozenset()


@made_often
class Ranked:
    facility_id: str
    name: str
    region: str
    distance_km: float | None
    score: float
    free_beds: int | None
    availability: str
    reasons: tuple[Reason, ...]  # why she fits here (for people)
    unverified: tuple[Reason, ...]  # rules to check by phone


@made_often
class Excluded:
    facility_id: str
    name: str
    reasons: tuple[Reason, ...]


# An excluded facility as rank keeps it: (facility_id, name, reasons).
ExcludedRow = tuple[str, str, tuple[Reason, ...]]


def _n_reasons(row: ExcludedRow) -> int:
    return len(row[2])


class ExcludedList(Sequence[Excluded]):
    """The facilities that cannot take her, fewest reasons first, then by id: a sequence of
    `Excluded`, kept as plain rows. A search excludes thousands of facilities and most
    consumers read a few of them, or only their ids, codes and names (the API writes codes and
    words made once per reason), so an `Excluded` is made only for the item asked for, and the
    order only when first read (issue 18)."""

    __slots__ = ("_rows", "_ordered")

    def __init__(self, rows: Iterable[ExcludedRow] = ()) -> None:
        self._rows: list[ExcludedRow] = list(rows)
        self._ordered = False

    def rows(self) -> list[ExcludedRow]:
        """Every excluded facility as (facility_id, name, reasons), in order (no object each)."""
        if not self._ordered:
            # By (number of reasons, id), as two stable sorts: no key tuple per facility. Into a
            # new list (list.sort empties the list while it sorts): a reader in another thread
            # sees the old rows whole, or the new ones.
            rows = sorted(self._rows, key=itemgetter(0))
            rows.sort(key=_n_reasons)
            self._rows, self._ordered = rows, True
        return self._rows

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, i: int) -> Excluded: ...
    @overload
    def __getitem__(self, i: slice) -> list[Excluded]: ...
    def __getitem__(self, i: int | slice) -> Excluded | list[Excluded]:
        if isinstance(i, slice):
            return list(starmap(Excluded, self.rows()[i]))
        return Excluded(*self.rows()[i])

    def __iter__(self) -> Iterator[Excluded]:
        return starmap(Excluded, self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ExcludedList):
            return self.rows() == other.rows()
        if isinstance(other, list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # like a list

    def __repr__(self) -> str:
        return f"ExcludedList({list(self)!r})"


@dataclass(frozen=True, slots=True)
class Ranking:
    results: list[Ranked] = field(default_factory=list)
    excluded: ExcludedList = field(default_factory=ExcludedList)


def _reason(code: str, **params: Any) -> Reason:
    return Reason(code, tuple(sorted(params.items())))


def smallest_fitting_unit(c: Candidate, size: int) -> int | None:
    cap = c.facility.capacity
    if not cap.known:
        return None
    if size == 1 and (cap.free_dorm_beds or 0) > 0:
        return 1
    fitting = [b for b in cap.free_family_rooms or () if b >= size]
    return min(fitting) if fitting else None


def score_parts(
    h: Household, c: Candidate, result: Fit, prefs: Preferences
) -> tuple[dict[str, float], float | None]:
    f = c.facility
    point = c.shown_point if c.hidden else f.point
    distance = distance_km(prefs.home_point, point) if prefs.home_point and point else None
    travel = 0.5 if distance is None else 1.0 / (1.0 + distance / TRAVEL_SCALE_KM)
    services = len(prefs.services & c.services) / len(prefs.services) if prefs.services else 1.0
    if not h.languages:
        language = 1.0
    elif h.languages & f.rules.staff_languages:
        language = 1.0
    else:
        language = 0.5
    unit = smallest_fitting_unit(c, h.size)
    tight = 0.5 if unit is None else h.size / unit
    certainty = max(0.0, 1.0 - 0.25 * len(result.unverified))
    return {
        "travel": travel,
        "services": services,
        "language": language,
        "fit": tight,
        "certainty": certainty,
    }, distance


def _positive_reasons(
    h: Household, c: Candidate, prefs: Preferences, distance: float | None
) -> tuple[Reason, ...]:
    f = c.facility
    out: list[Reason] = []
    if c.availability == CONFIRMED:
        out.append(_reason("place_confirmed", free_beds=f.capacity.free_beds))
    elif c.availability == REPORTED:
        out.append(_reason("place_reported", free_beds=f.capacity.free_beds))
    else:
        out.append(_reason("availability_unknown"))
    unit = smallest_fitting_unit(c, h.size)
    if unit is not None and h.size > 1:
        out.append(_reason("family_room_fits", beds=unit, household=h.size))
    if prefs.home_region and f.region == prefs.home_region:
        out.append(_reason("in_home_region", region=f.region))
    if distance is not None:
        out.append(_reason("distance", km=round(distance)))
    matched = sorted(prefs.services & c.services)
    if matched:
        out.append(_reason("services", matched=tuple(matched)))
    common = sorted(h.languages & f.rules.staff_languages)
    if common:
        out.append(_reason("common_language", languages=tuple(common)))
    return tuple(out)


def _ranked(h: Household, c: Candidate, result: Fit, prefs: Preferences) -> tuple[tuple, Ranked]:
    """A candidate that can take her: its sort key and what is shown of it."""
    parts, distance = score_parts(h, c, result, prefs)
    score = round(sum(WEIGHTS[k] * v for k, v in parts.items()), 4)
    known = c.facility.capacity.known
    ranked = Ranked(
        facility_id=c.facility.id,
        name=c.name,
        region=c.facility.region,
        distance_km=None if distance is None else round(distance, 1),
        score=score,
        free_beds=c.facility.capacity.free_beds,
        availability=c.availability if known else UNKNOWN,
        reasons=_positive_reasons(h, c, prefs, distance),
        unverified=result.unverified,
    )
    return (0 if known else 1, -score, c.facility.id), ranked


def rank(
    h: Household, candidates: Iterable[Candidate], prefs: Preferences = Preferences()
) -> Ranking:
    """Every candidate exactly once: in ``results`` (best first) or in ``excluded``.

    One pass, one candidate at a time: with thousands of candidates (most of them excluded),
    neither the candidates nor their Fit results need to be held all at once."""
    return rank_columns(h, (), (), (), _no_candidate, prefs, more=candidates)


def _no_candidate(i: int) -> Candidate:
    raise IndexError(i)


def rank_columns(
    h: Household,
    facilities: Sequence[Facility],
    names: Sequence[str],
    hidden: Sequence[bool],
    candidate: Callable[[int], Candidate],
    prefs: Preferences = Preferences(),
    *,
    more: Iterable[Candidate] = (),
) -> Ranking:
    """`rank` over candidates given as columns (the i-th facility, its name, whether its point
    is hidden from the viewer), then the candidates ``more``: the same Ranking as `rank` over
    ``[candidate(i) for i in ...] + list(more)``, but ``candidate(i)`` is called only for the
    facilities that can take her. A search excludes most of thousands of facilities: no
    Candidate is made for them (issue 18)."""
    check = fitter(h)
    distance_rule = h.min_distance_km > 0
    results: list[tuple[tuple, Ranked]] = []
    excluded: list[ExcludedRow] = []
    exclude = excluded.append
    for i, (f, name, hide) in enumerate(zip(facilities, names, hidden, strict=True)):
        result = check(f)
        if result.reasons:
            reasons = result.reasons
            if hide and distance_rule:
                reasons = coarse_reasons(reasons, h.min_distance_km)
            exclude((f.id, name, reasons))
            continue
        results.append(_ranked(h, candidate(i), result, prefs))
    for c in more:
        result = check(c.facility)
        if result.reasons:
            reasons = result.reasons
            if c.hidden and distance_rule:
                reasons = coarse_reasons(reasons, h.min_distance_km)
            exclude((c.facility.id, c.name, reasons))
            continue
        results.append(_ranked(h, c, result, prefs))
    results.sort(key=lambda pair: pair[0])
    return Ranking(results=[r for _key, r in results], excluded=ExcludedList(excluded))
