"""Placement search (SPEC.md C6, contract POST /api/v1/placements/search): Django loads the
facts, refuge.placement.rank decides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from refuge.core.access import Principal
from refuge.core.services import ServiceError
from refuge.directory.models import ACCOMMODATION_KINDS, Facility, FacilityService, Region
from refuge.placement.fit import Child, Household, check_household
from refuge.placement.geo import coarse_threshold_km
from refuge.placement.rank import Candidate, Preferences, Ranking, rank_columns
from refuge.vacancies.facts import FacilityFacts, FactSheet, kept_for, raw_rows

MAX_CHILDREN = 20


@dataclass(frozen=True)
class Request:
    household: Household
    services: frozenset[str]
    home_region: str


def household_from(data: Mapping[str, Any]) -> Request:
    """The contract's JSON (or a form's cleaned data) as fit's dataclasses; clear errors."""
    children = data.get("children") or []
    if len(children) > MAX_CHILDREN:
        raise ServiceError(
            _("At most %(n)s children in one household.") % {"n": MAX_CHILDREN}, "household_invalid"
        )
    try:
        kids = tuple(Child(age=int(c["age"]), sex=str(c["sex"])) for c in children)
    except (KeyError, TypeError, ValueError) as exc:
        raise ServiceError(
            _("Each child needs an age and a sex (male or female)."), "household_invalid"
        ) from exc
    avoid = frozenset(r.upper() for r in data.get("avoid_regions") or [])
    home = (data.get("home_region") or "").upper()
    known = set(
        Region.objects.filter(code__in=avoid | ({home} if home else set())).values_list(
            "code", "latitude", "longitude"
        )
    )
    codes = {code for code, _lat, _lon in known}
    unknown = sorted((avoid | ({home} if home else set())) - codes)
    if unknown:
        raise ServiceError(
            _("Unknown region codes: %(codes)s.") % {"codes": ", ".join(unknown)}, "unknown_region"
        )
    centroids = {
        code: (lat, lon) for code, lat, lon in known if lat is not None and lon is not None
    }
    h = Household(
        woman_age=int(data["woman_age"]),
        children=kids,
        other_adults=int(data.get("other_adults") or 0),
        pets=int(data.get("pets") or 0),
        needs=frozenset(data.get("needs") or []),
        documents=frozenset(data.get("documents") or []),
        citizenship=(data.get("citizenship") or "").upper(),
        languages=frozenset(data.get("languages") or []),
        stay_days=data.get("stay_days"),
        avoid_regions=avoid,
        avoid_points=tuple(centroids[c] for c in sorted(avoid) if c in centroids),
        min_distance_km=coarse_threshold_km(float(data.get("min_distance_km") or 0)),
    )
    problems = check_household(h)
    if h.other_adults > 10 or h.pets > 10:
        problems.append("at most 10 other adults and 10 pets")
    if problems:
        raise ServiceError("; ".join(problems), "household_invalid")
    return Request(household=h, services=frozenset(data.get("services") or []), home_region=home)


def accommodation() -> Any:
    return Facility.objects.filter(is_active=True, kind__in=ACCOMMODATION_KINDS)


@dataclass(frozen=True)
class ExternalCandidate:
    """A facility that another module offers to the search (a trusted peer network's): ranked
    by the same fit code as local ones, shown with the network's name and its figure's time."""

    candidate: Candidate
    network: str  # the name the network is trusted under (the API's "network")
    figure_at: datetime | None
    network_label: str = ""  # its name as staff read it, when it has one


CandidateSource = Callable[[Principal, datetime], Iterable[ExternalCandidate]]
_CANDIDATE_SOURCES: list[CandidateSource] = []


def register_candidate_source(source: CandidateSource) -> None:
    """Other apps add facilities to the search here, so this module never learns of them."""
    if source not in _CANDIDATE_SOURCES:
        _CANDIDATE_SOURCES.append(source)


def unregister_candidate_source(source: CandidateSource) -> None:
    if source in _CANDIDATE_SOURCES:
        _CANDIDATE_SOURCES.remove(source)


@dataclass
class SearchResult:
    ranking: Ranking
    sheet: FactSheet
    external: dict[str, ExternalCandidate] = field(default_factory=dict)

    @cached_property
    def facts(self) -> dict[str, FacilityFacts]:
        """Every facility's facts by id, as read for this search (made on first use)."""
        return {f.facility.id: f for f in self.sheet.facts()}


def _offered(services: Any) -> dict[Any, frozenset[str]]:
    kinds: dict[Any, set[str]] = defaultdict(set)
    for fid, kind in raw_rows(services):
        kinds[fid].add(kind)
    return {fid: frozenset(k) for fid, k in kinds.items()}


def search(
    p: Principal,
    request: Request,
    *,
    at: datetime | None = None,
    facilities: Any = None,
    external: bool = False,
) -> SearchResult:
    """Rank the facilities (the active accommodation, or ``facilities``) for one household.
    With ``external``, the registered candidate sources' facilities too (the placement search
    does; the turn-away check, evacuation and the waiting list judge this network alone)."""
    at = at or timezone.now()
    qs = facilities if facilities is not None else accommodation()
    sheet = FactSheet(qs.select_related(None).order_by("pk"), at=at, viewer=p)
    # Services by the facility id as the database returns it, like the sheet's raw_ids: kept
    # with the directory's facts, under the same version (services are a directory table).
    services = FacilityService.objects.filter(facility__in=qs.values("pk")).values_list(
        "facility_id", "kind"
    )
    sql, params = services.query.sql_with_params()
    offered = kept_for(
        ("services", services.db, sql, params), sheet.version, lambda: _offered(services)
    )
    none: frozenset[str] = frozenset()

    def candidate(i: int) -> Candidate:
        # Made only for the facilities that can take her (rank_columns): a few of thousands.
        return Candidate(
            facility=sheet.facilities[i],
            name=sheet.names[i],
            services=offered.get(sheet.raw_ids[i], none),
            availability=sheet.statuses[i],
            hidden=sheet.hidden[i],
            shown_point=sheet.shown_points[i],
        )

    home_point = None
    if request.home_region:
        region = (
            Region.objects.filter(code=request.home_region)
            .values_list("latitude", "longitude")
            .first()
        )
        if region and region[0] is not None:
            home_point = (region[0], region[1])
    prefs = Preferences(
        home_point=home_point, home_region=request.home_region, services=request.services
    )
    others: dict[str, ExternalCandidate] = {}
    if external:
        for source in _CANDIDATE_SOURCES:
            for item in source(p, at):
                others.setdefault(item.candidate.facility.id, item)
    ranking = rank_columns(
        request.household,
        sheet.facilities,
        sheet.names,
        sheet.hidden,
        candidate,
        prefs,
        more=(o.candidate for o in others.values()),
    )
    return SearchResult(ranking=ranking, sheet=sheet, external=others)


def could_take_now(p: Principal, request: Request, *, at: datetime | None = None) -> list[str]:
    """Facilities with KNOWN availability that could take her at this moment (for turn-aways)."""
    result = search(p, request, at=at)
    return [r.facility_id for r in result.ranking.results if r.availability != "unknown"]


def region_filter(codes: list[str]) -> Q:
    return Q(region_id__in=codes)


AGE_BAND_MIDDLE = {
    "u18": 17,
    "18-24": 21,
    "25-34": 30,
    "35-44": 40,
    "45-54": 50,
    "55-64": 60,
    "65+": 68,
}


def age_of(client) -> int | None:
    """Her age from the date of birth, or the middle of her age band; None when not known."""
    from datetime import date

    if client.birth_date and not str(client.birth_date).startswith("["):
        try:
            born = date.fromisoformat(str(client.birth_date))
        except ValueError:
            born = None
        if born:
            today = timezone.localdate()
            return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return AGE_BAND_MIDDLE.get(client.age_band)


def household_of(client) -> dict[str, Any]:
    """The contract's household for a client on record (for evacuation and the waiting list)."""
    members = list(client.household.all())
    return {
        "woman_age": age_of(client) or 30,
        "children": [{"age": m.age, "sex": m.sex} for m in members if m.relation == "child"],
        "other_adults": sum(1 for m in members if m.relation == "adult"),
        "pets": client.pets,
        "languages": list(client.languages),
        "citizenship": client.citizenship,
        "documents": list(client.documents),
        "needs": list(client.needs),
        "home_region": client.residence_region,
    }


# --- the threat of an evacuation (SPEC C13) ---------------------------------------------------

EVACUATION_MIN_KM = 100


@dataclass(frozen=True)
class Threat:
    """Where the threat knows about: the compromised facility's own point (its region's centre,
    and the region itself, only when it has no point), and whatever the coordinator adds."""

    points: tuple[tuple[float, float], ...]
    regions: frozenset[str]
    min_km: float


def threat_of(
    facility: Facility,
    *,
    min_km: float = EVACUATION_MIN_KM,
    regions: Any = (),
    points: Any = (),
) -> Threat:
    """The threat of an evacuation of `facility`. Its point is read through the model (however
    it is kept at rest) and used on the server only."""
    from refuge.placement.geo import valid_point

    own: list[tuple[float, float]] = []
    avoid = {r.upper() for r in regions if r}
    if valid_point(facility.latitude, facility.longitude):
        own.append((facility.latitude, facility.longitude))
    elif facility.region_id:
        avoid.add(facility.region_id)  # the best we know: its whole region
    known = dict(
        (code, (lat, lon))
        for code, lat, lon in Region.objects.filter(code__in=avoid).values_list(
            "code", "latitude", "longitude"
        )
        if lat is not None and lon is not None
    )
    unknown = sorted(avoid - set(known) - ({facility.region_id} if facility.region_id else set()))
    if unknown:
        raise ServiceError(
            _("Unknown region codes: %(codes)s.") % {"codes": ", ".join(unknown)}, "unknown_region"
        )
    extra = [tuple(p) for p in points if valid_point(*p)]
    return Threat(
        points=(*own, *extra, *(known[c] for c in sorted(known))),
        regions=frozenset(avoid),
        min_km=float(min_km),
    )


def household_under_threat(household: Household, threat: Threat) -> Household:
    """Her household as the evacuation judges it: away from every point and region of the
    threat (what she must avoid herself is kept too)."""
    from dataclasses import replace

    return replace(
        household,
        avoid_regions=household.avoid_regions | threat.regions,
        avoid_points=(*threat.points, *household.avoid_points),
        min_distance_km=max(threat.min_km, household.min_distance_km),
    )


def parse_points(text: str) -> list[tuple[float, float]]:
    """Points typed as "lat, lon" one a line (or separated by ";"); bad ones are an error."""
    out = []
    for part in (text or "").replace(";", "\n").splitlines():
        if not part.strip():
            continue
        try:
            lat, lon = (float(x) for x in part.replace(" ", ",").split(",") if x.strip())
        except ValueError as exc:
            raise ServiceError(
                _("A point is two numbers, latitude and longitude: %(text)s")
                % {"text": part.strip()[:40]},
                "bad_point",
            ) from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ServiceError(
                _("Not a point on Earth: %(text)s") % {"text": part.strip()[:40]}, "bad_point"
            )
        out.append((lat, lon))
    return out
