"""The live vacancy board: which facilities can take this household now, and why not.

A constant number of queries whatever the number of facilities (see facts.load_facts); the
household fit is refuge.placement.fit over all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from refuge.core.access import Principal
from refuge.core.roles import can_manage_facility
from refuge.directory.models import ACCOMMODATION_KINDS, Facility, FacilityKind, Faith
from refuge.directory.regions import region_centre, region_codes, selection_country
from refuge.placement import fit
from refuge.placement.geo import distance_km

from .facts import FacilityFacts, load_facts
from .reasons import reason_text, unverified_text

PAGE_SIZE = 50
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


@dataclass
class Board:
    rows: list[BoardRow]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


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
    if rules.get("staff_languages"):
        out.append(" ".join(rules["staff_languages"]))
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
    return Board(
        rows=[board_row(p, query, f, r, origin) for _light, _d, f, r in shown],
        counts=counts,
        total=total,
        page=page,
        pages=pages,
        at=at,
    )
