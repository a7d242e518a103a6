"""The live vacancy board: which facilities can take this household now, and why not.

A constant number of queries whatever the number of facilities (see facts.load_facts); the
household fit is refuge.placement.fit over all of them at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refuge.core.access import Principal
from refuge.core.roles import can_manage_facility
from refuge.directory.models import ACCOMMODATION_KINDS, Facility, FacilityKind, Faith
from refuge.directory.pickers import country_label, known_region, language_label, region_label
from refuge.directory.regions import region_centre, region_codes, selection_country
from refuge.placement import fit
from refuge.placement.geo import distance_km

from .facts import FacilityFacts, load_facts
from .reasons import reason_text, unverified_text

PAGE_SIZE = 50
CONFIRMED_FIGURE, REPORTED_FIGURE = "confirmed", "reported"
GREEN, AMBER, RED = "green", "amber", "red"
LIGHT_ORDER = {GREEN: 0, AMBER: 1, RED: 2}
# The board asks about the household, not her papers or languages (placement search does):
# rules on those are shown as the facility's requirements instead of being checked.
NOT_ASKED = frozenset(
    {
        "documents_required",
        "local_registration_required",
        "foreign_citizens_not_accepted",
        "no_common_language",
    }
)


@dataclass(frozen=True)
class BoardQuery:
    household: fit.Household
    region: str = ""  # "", a country (KG), a district (RU-CFD) or a region (RU-MOW)
    from_region: str = ""
    only_fitting: bool = False
    page: int = 1


@dataclass
class BoardRow:
    facts: FacilityFacts
    result: fit.Fit
    light: str
    reasons: list[str]
    questions: list[str]
    requirements: list[str]
    distance_km: int | None
    can_manage: bool

    @property
    def availability(self):
        return self.facts.availability

    @property
    def kind_label(self) -> str:
        label = str(FacilityKind(self.facts.kind).label)
        if self.facts.faith:
            label += f" ({Faith(self.facts.faith).label})"
        return label


@dataclass(frozen=True)
class OtherFacility:
    """A facility of another network (a trusted peer's, SPEC C12), as its source hands it to
    the board: built by the same code that offers it to the placement search, so the board
    judges it by the same rules. Only what the peer's anonymised snapshot says."""

    network: str  # the name this instance trusts the peer under
    name: str
    kind: str
    region: str  # ISO 3166-2 as the peer gives it; shown by name
    country: str
    facility: fit.Facility  # rules and free places by room size, as the search judges them
    availability: str  # confirmed | reported | unknown, as the search treats it
    figure_at: datetime | None  # the peer's figure's time, shown even when too old to use
    stale: bool = False  # the peer gave a figure, but it is too old to count
    network_label: str = ""  # the network's name as staff read it, when it has one


OtherSource = Callable[[datetime], Iterable[OtherFacility]]
_OTHER_SOURCES: list[OtherSource] = []


def register_other_source(source: OtherSource) -> None:
    """Federation adds trusted peers' facilities to the board here, so the board never learns
    of networks. A source must cost no query when it has nothing to give (federation off)
    and one at most otherwise: the board is counted (docs/decisions.md)."""
    if source not in _OTHER_SOURCES:
        _OTHER_SOURCES.append(source)


def unregister_other_source(source: OtherSource) -> None:
    if source in _OTHER_SOURCES:
        _OTHER_SOURCES.remove(source)


@dataclass
class OtherRow:
    """One facility of another network on the board, judged for the household."""

    other: OtherFacility
    light: str
    reasons: list[str]
    questions: list[str]
    requirements: list[str]
    rooms: str  # free places by room size, as the peer's snapshot gives them
    figure: str  # the figure's status and age

    @property
    def capacity(self) -> fit.Capacity:
        return self.other.facility.capacity

    @property
    def beds_total(self) -> int:
        c = self.capacity
        return sum(c.family_rooms) + c.dorm_beds

    @property
    def kind_label(self) -> str:
        try:
            return str(FacilityKind(self.other.kind).label)
        except ValueError:  # a kind this instance does not know: said plainly, not as a code
            return _("shelter")

    @property
    def region_name(self) -> str:
        o = self.other
        if o.region and known_region(o.region):
            return region_label(o.region)
        # A region this instance's data does not name: its country, never the code.
        return country_label(o.country) if o.country else _("region not known")


@dataclass
class Board:
    rows: list[BoardRow]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    at: datetime
    extra: dict[str, Any] = field(default_factory=dict)
    # Other networks' facilities (empty, and no query made, when there are none to show).
    others: list[OtherRow] = field(default_factory=list)
    others_total: int = 0  # before the household and place filters: whether to show the section
    others_more: int = 0  # matching, but beyond the first PAGE_SIZE


def board_facilities(region: str = "") -> QuerySet[Facility]:
    qs = Facility.objects.filter(
        is_active=True, organisation__is_active=True, kind__in=list(ACCOMMODATION_KINDS)
    )
    codes = region_codes(region)
    if codes is not None:
        # A whole country includes its facilities whose region is not known (a confidential
        # centre that does not publish where it is): better a call than a place missed.
        in_country = Q(region__isnull=True, country=selection_country(region) or "--")
        qs = qs.filter(Q(region_id__in=codes) | in_country)
    return qs.order_by("name")


def _requirements(rules: dict[str, Any]) -> list[str]:
    out = []
    if rules.get("requires_passport"):
        out.append(_("passport"))
    if rules.get("requires_residence_permit"):
        out.append(_("residence permit for foreigners"))
    if rules.get("requires_local_registration"):
        out.append(_("local registration"))
    if rules.get("foreign_citizens_accepted") is False:
        out.append(_("citizens only"))
    if rules.get("staff_languages"):  # by their names, never their codes
        out.append(", ".join(language_label(code) for code in rules["staff_languages"]))
    if rules.get("cost") == "paid":
        out.append(_("paid"))
    return out


def board_row(
    p: Principal,
    query: BoardQuery,
    facts: FacilityFacts,
    result: fit.Fit | None = None,
    origin: tuple[float, float] | None = None,
) -> BoardRow:
    """One facility on the board for this household (`result` when already computed)."""
    if result is None:
        result = fit.fit(query.household, facts.facility)
    if origin is None and query.from_region:
        origin = region_centre(query.from_region)
    shown = result.reasons
    if facts.point_hidden:  # judged from its own point; shown no closer than the threshold
        shown = fit.coarse_reasons(shown, query.household.min_distance_km)
    reasons = [r for r in shown if r.code not in NOT_ASKED]
    questions = [r for r in result.unverified if r.code not in NOT_ASKED]
    light = _light(result)
    distance = None
    if origin is not None and facts.point is not None:
        distance = round(distance_km(origin, facts.point))
    return BoardRow(
        facts=facts,
        result=result,
        light=light,
        reasons=[reason_text(r) for r in reasons],
        questions=[unverified_text(r) for r in questions],
        requirements=_requirements(facts.rules),
        distance_km=distance,
        can_manage=(
            p.role is not None and can_manage_facility(p.role) and facts.organisation_id == p.org_id
        ),
    )


def _light(result: fit.Fit) -> str:
    if any(r.code not in NOT_ASKED for r in result.reasons):
        return RED
    return GREEN if result.capacity_known else AMBER


def _in_place(o: OtherFacility, query: BoardQuery, codes: list[str] | None) -> bool:
    """The board's place filter for another network's facility: everywhere, or the place
    chosen when the facility is there (by its region, or its country for a whole country)."""
    if codes is None:
        return True
    if o.region and o.region in codes:
        return True
    country = selection_country(query.region)
    return bool(country) and o.country == country and not known_region(o.region)


def other_rows(query: BoardQuery, *, at: datetime) -> tuple[list[OtherRow], int, int]:
    """Other networks' facilities for this household and place: (rows shown, all of them
    before the filters, how many more matched than are shown). No query of its own: each
    source costs what it says (register_other_source)."""
    others = [o for source in _OTHER_SOURCES for o in source(at)]
    if not others:
        return [], 0, 0
    codes = region_codes(query.region)
    placed = [o for o in others if _in_place(o, query, codes)]
    results = fit.fit_many(query.household, [o.facility for o in placed])
    judged = []
    for o, result in zip(placed, results, strict=True):
        light = _light(result)
        if query.only_fitting and light == RED:
            continue
        judged.append((light, o, result))
    judged.sort(key=lambda j: (LIGHT_ORDER[j[0]], j[1].network, j[1].name))
    rows = []
    for light, o, result in judged[:PAGE_SIZE]:
        # Its point is its region's centre at best: a distance is only ever said coarsely, as
        # the search says it for a peer's facility.
        shown = fit.coarse_reasons(result.reasons, query.household.min_distance_km)
        rows.append(
            OtherRow(
                other=o,
                light=light,
                reasons=[reason_text(r) for r in shown if r.code not in NOT_ASKED],
                questions=[
                    unverified_text(r) for r in result.unverified if r.code not in NOT_ASKED
                ],
                requirements=_requirements(_rules_dict(o.facility.rules)),
                rooms=_rooms_words(o.facility.capacity),
                figure=_figure_words(o, at),
            )
        )
    return rows, len(others), max(0, len(judged) - PAGE_SIZE)


def _sizes(beds: Iterable[int]) -> str:
    return ", ".join(str(b) for b in sorted(beds, reverse=True))


def _rooms_words(c: fit.Capacity) -> str:
    """Free places by room size: a family room takes one household, a shared-room bed one
    woman alone (refuge.placement.fit)."""
    parts = []
    if c.known:
        assert c.free_family_rooms is not None and c.free_dorm_beds is not None
        if c.free_family_rooms:
            parts.append(
                _("family rooms free, beds in each: %(sizes)s")
                % {"sizes": _sizes(c.free_family_rooms)}
            )
        elif c.family_rooms:
            parts.append(_("no family room free"))
        if c.dorm_beds:
            n = c.free_dorm_beds
            parts.append(
                ngettext("%(n)s bed free in shared rooms", "%(n)s beds free in shared rooms", n)
                % {"n": n}
            )
    else:
        if c.family_rooms:
            parts.append(
                _("family rooms, beds in each: %(sizes)s") % {"sizes": _sizes(c.family_rooms)}
            )
        if c.dorm_beds:
            n = c.dorm_beds
            parts.append(
                ngettext("%(n)s bed in shared rooms", "%(n)s beds in shared rooms", n) % {"n": n}
            )
    return "; ".join(parts)


def _figure_words(o: OtherFacility, at: datetime) -> str:
    """The figure's status and age, as the search says a peer's ("figure of 2 hours ago"),
    the age said even when the figure is too old to count."""
    if o.availability == CONFIRMED_FIGURE:
        status = _("live from its network's records")
    elif o.availability == REPORTED_FIGURE:
        status = _("reported by the facility")
    elif o.stale:
        status = _("unknown: the figure is too old to count")
    else:
        status = _("unknown: its network gives no figure")
    if o.figure_at is None:
        return status
    age = _("figure of %(age)s ago") % {"age": timesince(o.figure_at, at, depth=1)}
    return f"{status} · {age}"


def _rules_dict(rules: fit.Rules) -> dict[str, Any]:
    out = {name: getattr(rules, name) for name in rules.__dataclass_fields__}
    out["staff_languages"] = sorted(rules.staff_languages)
    return out


def board(p: Principal, query: BoardQuery, *, at: datetime) -> Board:
    """Every facility with beds, judged for the household; the words (reasons, questions,
    requirements) are written only for the page that is shown."""
    facts = load_facts(board_facilities(query.region), at=at, viewer=p)
    results = fit.fit_many(query.household, [f.facility for f in facts])
    origin = region_centre(query.from_region) if query.from_region else None
    counts = {GREEN: 0, AMBER: 0, RED: 0}
    judged = []
    for facility, result in zip(facts, results, strict=True):
        light = _light(result)
        counts[light] += 1
        if query.only_fitting and light == RED:
            continue
        distance = None
        if origin is not None and facility.point is not None:
            distance = round(distance_km(origin, facility.point))
        judged.append((light, distance, facility, result))
    judged.sort(
        key=lambda j: (
            LIGHT_ORDER[j[0]],
            j[1] if j[1] is not None else 10**6,
            -(j[3].largest_household_now or 0),
            j[2].name,
        )
    )
    total = len(judged)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, query.page), pages)
    shown = judged[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    others, others_total, others_more = other_rows(query, at=at)
    return Board(
        rows=[board_row(p, query, f, r, origin) for _light, _d, f, r in shown],
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        at=at,
        others=others,
        others_total=others_total,
        others_more=others_more,
    )
