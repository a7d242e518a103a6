"""The dashboard's figures, counted by the database (aggregate queries; the number of queries
does not depend on the number of rows).

Each builder returns a ``CountTable`` of raw counts for a basis (selectors.Basis) and filters;
``dashboard`` builds them all, publishes them together (suppressing for analysts) and adds
the figures that are not counts (medians, occupancy). Definitions are on the page, in
"How these figures are counted".
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf, TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from refuge.cases.models import AgeBand, Client, ServiceDelivery, Stay
from refuge.cases.selectors import service_counts
from refuge.directory.models import ACCOMMODATION_KINDS, Facility
from refuge.hotline.models import Call, ContactType, Direction
from refuge.referrals.models import Referral, TurnAway, TurnAwayReason
from refuge.vacancies.models import AvailabilitySource

from .labels import region_label
from .periods import Period
from .selectors import Basis, referral_scope_q
from .tables import CountTable, publish

# --- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    period: Period
    region: str = ""  # "", a country ("KG") or a region ("RU-MOW")

    def region_q(self, field_path: str) -> Q:
        if not self.region:
            return Q()
        if len(self.region) == 2:
            return Q(**{f"{field_path}__startswith": self.region})
        return Q(**{field_path: self.region})

    def between(self, field_path: str) -> Q:
        lo, hi = self.period.bounds
        return Q(**{f"{field_path}__gte": lo, f"{field_path}__lt": hi})


def _grid(pairs: dict[tuple[str, str], int], rows: list[str], cols: list[str]) -> list[list[int]]:
    return [[int(pairs.get((r, c), 0)) for c in cols] for r in rows]


def _by_total(pairs: dict[tuple[str, str], int]) -> list[str]:
    totals: dict[str, int] = defaultdict(int)
    for (r, _c), n in pairs.items():
        totals[r] += n
    return sorted(totals, key=lambda k: (-totals[k], k))


# --- hotline ------------------------------------------------------------------------------------


def _calls(basis: Basis, f: Filters) -> QuerySet[Call]:
    return Call.objects.filter(
        basis.org_q("organisation"),
        f.between("created_at"),
        f.region_q("caller_region"),
        direction=Direction.INCOMING,
    )


def local_day(field_path: str, period: Period) -> Any:
    """The local calendar day of a timestamp, as an expression.

    Django's TruncDate runs a Python function per row on SQLite (about 2 s for 100,000 calls,
    bench/dashboard.py). When the time zone keeps one offset over the whole period (Moscow,
    Bishkek: no daylight saving), SQLite's own date() with that offset gives the same day."""
    tz = timezone.get_default_timezone()
    if connection.vendor == "sqlite":
        midnights = [
            datetime.combine(period.start + timedelta(days=n), time.min, tzinfo=tz)
            for n in range(period.days + 1)
        ]
        offsets = {m.utcoffset() for m in midnights}
        if len(offsets) == 1:
            minutes = int(offsets.pop().total_seconds() // 60)
            return Func(
                F(field_path), Value(f"{minutes:+d} minutes"), function="date",
                output_field=DateField(),
            )  # fmt: skip
    return TruncDate(field_path, tzinfo=tz)


def calls_by_day(basis: Basis, f: Filters) -> CountTable:
    rows = (
        _calls(basis, f)
        .annotate(day=local_day("created_at", f.period))
        .values("day")
        .annotate(
            n_answered=Count("pk", filter=Q(answered=True)),
            n_unanswered=Count("pk", filter=Q(answered=False)),
        )
        .order_by("day")
    )
    by_day = {r["day"]: (r["n_answered"], r["n_unanswered"]) for r in rows}
    days = [f.period.start + timedelta(days=n) for n in range(f.period.days)]
    return CountTable(
        key="calls_by_day",
        title=_("Calls by day"),
        row_head=_("Day"),
        rows=[(d.isoformat(), d.strftime("%d.%m.%Y")) for d in days],
        cols=[("answered", pgettext("calls", "answered")), ("unanswered", _("not answered"))],
        cells=[list(by_day.get(d, (0, 0))) for d in days],
    )


CONTACT_COLS = [*ContactType.values, ""]


def calls_by_region(basis: Basis, f: Filters) -> CountTable:
    pairs = {
        (r["caller_region"], r["wrapup__contact_type"] or ""): r["n"]
        for r in _calls(basis, f)
        .values("caller_region", "wrapup__contact_type")
        .annotate(n=Count("pk"))
        .order_by()
    }
    rows = _by_total(pairs)
    labels = dict(ContactType.choices)
    return CountTable(
        key="calls_by_region",
        title=_("Calls by region and who called"),
        row_head=_("Caller's region"),
        rows=[(r, region_label(r)) for r in rows],
        cols=[(c, str(labels[c]) if c else _("no wrap-up")) for c in CONTACT_COLS],
        cells=_grid(pairs, rows, CONTACT_COLS),
        note=_(
            "The region comes from the caller's number or a regional line; a mobile number "
            "tells only the country."
        ),
    )


# --- referrals and placements ------------------------------------------------------------------

OUTCOMES = [
    ("placed", (Referral.Status.ACCEPTED, Referral.Status.ARRIVED)),
    ("not_placed", (Referral.Status.ENDED,)),
    ("withdrawn", (Referral.Status.WITHDRAWN,)),
    ("waiting", (Referral.Status.OPEN,)),
]
OUTCOME_OF = {s: key for key, statuses in OUTCOMES for s in statuses}


def _outcome_cols() -> list[tuple[str, str]]:
    return [
        ("placed", _("placed")),
        ("not_placed", _("ended without a place")),
        ("withdrawn", pgettext("referral", "withdrawn")),
        ("waiting", _("still waiting")),
    ]


def _referrals(basis: Basis, f: Filters) -> QuerySet[Referral]:
    demand = Coalesce(
        NullIf("client__residence_region", Value("")),
        KT("household__home_region"),
        Value(""),
        output_field=CharField(),
    )
    return (
        Referral.objects.annotate(demand_region=demand)
        .filter(referral_scope_q(basis), f.between("created_at"))
        .filter(f.region_q("demand_region"))
    )


def _outcome_pairs(rows: Any, key: str) -> dict[tuple[str, str], int]:
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        pairs[(r[key], OUTCOME_OF[r["status"]])] += r["n"]
    return pairs


def referrals_by_month(basis: Basis, f: Filters) -> CountTable:
    tz = timezone.get_default_timezone()
    rows = (
        _referrals(basis, f)
        .annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    pairs = _outcome_pairs(
        ({"month": _month_key(r["month"]), "status": r["status"], "n": r["n"]} for r in rows),
        "month",
    )
    months = _months(f.period)
    cols = _outcome_cols()
    return CountTable(
        key="referrals_by_month",
        title=_("Referrals by month and what came of them"),
        row_head=_("Month referred"),
        rows=[(m.isoformat()[:7], m.strftime("%m.%Y")) for m in months],
        cols=cols,
        cells=_grid(pairs, [m.isoformat()[:7] for m in months], [c for c, _l in cols]),
    )


def _month_key(value: date | datetime) -> str:
    return value.isoformat()[:7]


def _months(period: Period) -> list[date]:
    out, d = [], period.start.replace(day=1)
    while d <= period.end:
        out.append(d)
        d = (d + timedelta(days=32)).replace(day=1)
    return out


def referrals_by_region(basis: Basis, f: Filters) -> CountTable:
    rows = _referrals(basis, f).values("demand_region", "status").annotate(n=Count("pk")).order_by()
    pairs = _outcome_pairs(rows, "demand_region")
    regions = _by_total(pairs)
    cols = _outcome_cols()
    return CountTable(
        key="referrals_by_region",
        title=_("Referrals by the woman's region"),
        row_head=_("Her region"),
        rows=[(r, region_label(r)) for r in regions],
        cols=cols,
        cells=_grid(pairs, regions, [c for c, _l in cols]),
    )


WAIT_BUCKETS = [
    ("h1", timedelta(hours=1)),
    ("h4", timedelta(hours=4)),
    ("d1", timedelta(days=1)),
    ("d3", timedelta(days=3)),
    ("d7", timedelta(days=7)),
    ("more", None),
]


def _wait_labels() -> dict[str, str]:
    return {
        "h1": _("within an hour"),
        "h4": _("1 to 4 hours"),
        "d1": _("4 to 24 hours"),
        "d3": _("1 to 3 days"),
        "d7": _("3 to 7 days"),
        "more": _("more than 7 days"),
    }


def _placed(basis: Basis, f: Filters) -> QuerySet[Referral]:
    return (
        _referrals(basis, f)
        .filter(status__in=OUTCOMES[0][1], accepted_target__decided_at__isnull=False)
        .annotate(
            wait=ExpressionWrapper(
                F("accepted_target__decided_at") - F("created_at"), output_field=DurationField()
            )
        )
    )


def time_to_place(basis: Basis, f: Filters) -> CountTable:
    aggregates = {}
    lower = timedelta(0)
    for key, upper in WAIT_BUCKETS:
        q = Q(wait__gte=lower) if key != "h1" else Q()
        if upper is not None:
            q &= Q(wait__lt=upper)
        aggregates[key] = Count("pk", filter=q)
        lower = upper or lower
    counts = _placed(basis, f).aggregate(**aggregates)
    labels = _wait_labels()
    return CountTable(
        key="time_to_place",
        title=_("Time from referral to an accepted place"),
        row_head=_("Time to a place"),
        rows=[(k, labels[k]) for k, _u in WAIT_BUCKETS],
        cols=[("placed", _("placements"))],
        cells=[[counts[k]] for k, _u in WAIT_BUCKETS],
        row_totals=False,
    )


def nearest_rank(qs: QuerySet, field_name: str, n: int, share: float) -> Any:
    """The value at the ``share`` quantile (nearest rank) of ``qs`` ordered by ``field_name``:
    one query, one value sent back."""
    if n <= 0:
        return None
    k = max(1, math.ceil(share * n)) - 1
    found = list(qs.order_by(field_name, "pk").values_list(field_name, flat=True)[k : k + 1])
    return found[0] if found else None


# --- turn-aways --------------------------------------------------------------------------------

SEVERAL = "several"


def _turnaways(basis: Basis, f: Filters) -> QuerySet[TurnAway]:
    return TurnAway.objects.filter(
        basis.org_q("organisation"), f.between("at"), f.region_q("region")
    )


def _necessity_cols() -> list[tuple[str, str]]:
    return [
        ("unnecessary", _("unnecessary: a place existed")),
        ("other", _("no suitable place known")),
    ]


def turnaways_by_reason(basis: Basis, f: Filters) -> CountTable:
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for r in (
        _turnaways(basis, f).values("reasons", "unnecessary").annotate(n=Count("pk")).order_by()
    ):
        reasons = r["reasons"] or []
        key = reasons[0] if len(reasons) == 1 else SEVERAL
        pairs[(key, "unnecessary" if r["unnecessary"] else "other")] += r["n"]
    labels = dict(TurnAwayReason.choices)
    keys = [*TurnAwayReason.values, SEVERAL]
    return CountTable(
        key="turnaways_by_reason",
        title=_("Turn-aways by reason"),
        row_head=_("Reason"),
        rows=[(k, str(labels[k]) if k in labels else _("more than one reason")) for k in keys],
        cols=_necessity_cols(),
        cells=_grid(pairs, keys, ["unnecessary", "other"]),
        note=_(
            "A turn-away is unnecessary when, at that moment, a facility with known "
            "availability could have taken her."
        ),
    )


def turnaways_by_region(basis: Basis, f: Filters) -> CountTable:
    pairs = {
        (r["region"], "unnecessary" if r["unnecessary"] else "other"): r["n"]
        for r in _turnaways(basis, f).values("region", "unnecessary").annotate(n=Count("pk"))
    }
    regions = _by_total(pairs)
    return CountTable(
        key="turnaways_by_region",
        title=_("Turn-aways by the woman's region"),
        row_head=_("Her region"),
        rows=[(r, region_label(r)) for r in regions],
        cols=_necessity_cols(),
        cells=_grid(pairs, regions, ["unnecessary", "other"]),
    )


# --- stays ----------------------------------------------------------------------------------


def _stays(basis: Basis, f: Filters) -> QuerySet[Stay]:
    return Stay.objects.filter(
        basis.org_q("facility__organisation"),
        basis.consent_q("client"),
        f.region_q("facility__region__code"),
    )


def out_of_region(basis: Basis, f: Filters) -> CountTable:
    rows = (
        _stays(basis, f)
        .filter(f.between("admitted_at"))
        .values("facility__region_id")
        .annotate(
            n=Count("pk"),
            own=Count("pk", filter=Q(client__residence_region=F("facility__region_id"))),
            unknown=Count("pk", filter=Q(client__residence_region="")),
        )
        .order_by()
    )
    pairs: dict[tuple[str, str], int] = {}
    for r in rows:
        region = r["facility__region_id"] or ""
        pairs[(region, "own")] = r["own"]
        pairs[(region, "other")] = r["n"] - r["own"] - r["unknown"]
        pairs[(region, "unknown")] = r["unknown"]
    regions = _by_total(pairs)
    return CountTable(
        key="out_of_region",
        title=_("Admissions in and out of the woman's own region"),
        row_head=_("Facility's region"),
        rows=[(r, region_label(r)) for r in regions],
        cols=[
            ("own", _("from this region")),
            ("other", _("from another region")),
            ("unknown", _("her region not recorded")),
        ],
        cells=_grid(pairs, regions, ["own", "other", "unknown"]),
    )


LENGTH_BANDS = [("w1", 7), ("m1", 30), ("m3", 90), ("m6", 180), ("more", None)]


def _length_labels() -> dict[str, str]:
    return {
        "w1": _("up to 7 days"),
        "m1": _("8 to 30 days"),
        "m3": _("31 to 90 days"),
        "m6": _("91 to 180 days"),
        "more": _("more than 180 days"),
    }


def _discharged(basis: Basis, f: Filters) -> QuerySet[Stay]:
    return (
        _stays(basis, f)
        .filter(f.between("discharged_at"))
        .annotate(
            length=ExpressionWrapper(
                F("discharged_at") - F("admitted_at"), output_field=DurationField()
            )
        )
    )


def discharges(basis: Basis, f: Filters) -> CountTable:
    # Whole days: "up to 7 days" is a stay shorter than 8 days.
    aggregates = {}
    lower: timedelta | None = None
    for key, days in LENGTH_BANDS:
        q = Q(length__gte=lower) if lower is not None else Q()
        if days is not None:
            lower = timedelta(days=days + 1)
            q &= Q(length__lt=lower)
        aggregates[key] = Count("pk", filter=q)
    rows = _discharged(basis, f).values("outcome").annotate(**aggregates).order_by()
    pairs = {(r["outcome"], k): r[k] for r in rows for k, _d in LENGTH_BANDS}
    keys = [*Stay.Outcome.values, ""]
    labels = dict(Stay.Outcome.choices)
    band_labels = _length_labels()
    return CountTable(
        key="discharges",
        title=_("Stays that ended: where she went, and how long she stayed"),
        row_head=_("Outcome"),
        rows=[(k, str(labels[k]) if k else _("not recorded")) for k in keys],
        cols=[(k, band_labels[k]) for k, _d in LENGTH_BANDS],
        cells=_grid(pairs, keys, [k for k, _d in LENGTH_BANDS]),
    )


# --- occupancy --------------------------------------------------------------------------------

MAX_POINTS = 60


def occupancy_points(period: Period) -> list[datetime]:
    """Noon of every day (short periods) or of every n-th day, at most MAX_POINTS."""
    step = max(1, math.ceil(period.days / MAX_POINTS))
    tz = timezone.get_default_timezone()
    out = []
    d = period.start
    while d <= period.end:
        out.append(datetime(d.year, d.month, d.day, 12, tzinfo=tz))
        d += timedelta(days=step)
    return out


@dataclass
class Occupancy:
    table: CountTable  # people in residence at each point
    beds: int
    facilities: int
    points: list[datetime] = field(default_factory=list)

    def series(self) -> list[dict[str, Any]]:
        out = []
        for (_key, label), values in zip(self.table.rows, self.table.shown, strict=True):
            people = values[0]
            share = None if people is None or not self.beds else people / self.beds
            out.append({"label": label, "people": people, "share": share})
        return out

    @property
    def average(self) -> float | None:
        shares = [p["share"] for p in self.series()]
        if not shares or any(s is None for s in shares):
            return None
        return sum(shares) / len(shares)


def occupancy(basis: Basis, f: Filters) -> Occupancy:
    """People (women and children) in residence at points of the period, against the beds of
    the facilities that record their stays in Refuge. Three queries."""
    lo, hi = f.period.bounds
    stays = (
        _stays(basis, f)
        .filter(admitted_at__lt=hi)
        .filter(Q(discharged_at__isnull=True) | Q(discharged_at__gte=lo))
    )
    with_stays = Stay.objects.filter(admitted_at__lt=hi).filter(
        Q(discharged_at__isnull=True) | Q(discharged_at__gte=lo)
    )
    facilities = Facility.objects.filter(
        basis.org_q("organisation"),
        f.region_q("region__code"),
        is_active=True,
        kind__in=ACCOMMODATION_KINDS,
    ).filter(
        Q(availability__source=AvailabilitySource.SYSTEM)
        | Q(Exists(with_stays.filter(facility=OuterRef("pk"))))
    )
    capacity = facilities.aggregate(
        beds=Sum("rooms__beds", filter=Q(rooms__in_service=True)), n=Count("pk", distinct=True)
    )
    points = occupancy_points(f.period)
    people = stays.filter(facility__in=facilities).aggregate(
        **{
            f"p{n}": Sum(
                "household_size",
                filter=Q(admitted_at__lte=t)
                & (Q(discharged_at__isnull=True) | Q(discharged_at__gt=t)),
                default=0,
            )
            for n, t in enumerate(points)
        }
    )
    tz = timezone.get_default_timezone()
    table = CountTable(
        key="occupancy",
        title=_("People in residence"),
        row_head=_("Day"),
        rows=[(t.date().isoformat(), t.astimezone(tz).strftime("%d.%m.%Y")) for t in points],
        cols=[("people", _("women and children in residence"))],
        cells=[[int(people[f"p{n}"] or 0)] for n in range(len(points))],
        row_totals=False,
        col_totals=False,
    )
    return Occupancy(table, int(capacity["beds"] or 0), int(capacity["n"] or 0), points)


# --- services and women -------------------------------------------------------------------------


def services(basis: Basis, f: Filters) -> CountTable:
    """Services delivered without a stay, counted by refuge.cases.selectors.service_counts
    with the organisations, consent and region rules of the basis."""
    rows = service_counts(
        organisations=basis.organisations(),
        since=f.period.start,
        until=f.period.end,
        consented_only=basis.consent_only,
        region=f.region or None,
        by=("kind", "channel"),
    )
    pairs = {(r["kind"], r["channel"]): r["n"] for r in rows}
    return CountTable(
        key="services",
        title=_("Services delivered without a stay"),
        row_head=_("Service"),
        rows=[(k, str(label)) for k, label in ServiceDelivery.Kind.choices],
        cols=[(k, str(label)) for k, label in ServiceDelivery.Channel.choices],
        cells=_grid(pairs, ServiceDelivery.Kind.values, ServiceDelivery.Channel.values),
    )


def _clients_in_basis(basis: Basis) -> QuerySet[Client]:
    qs = Client.objects.filter(basis.org_q("organisation"))
    return qs.filter(reporting_consent=True) if basis.consent_only else qs


def women(basis: Basis, f: Filters) -> CountTable:
    """Women first recorded in the period, each once: records of the same phone number (the
    blind index) count at her first record only; records without a phone count apart."""
    earlier = (
        _clients_in_basis(basis)
        .filter(phone_index=OuterRef("phone_index"))
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
        )
    )
    rows = (
        _clients_in_basis(basis)
        .filter(f.between("created_at"), f.region_q("residence_region"))
        .annotate(seen_before=Exists(earlier))
        .filter(Q(phone_index="") | Q(seen_before=False))
        .values("residence_region", "age_band")
        .annotate(n=Count("pk"))
        .order_by()
    )
    pairs = {(r["residence_region"], r["age_band"]): r["n"] for r in rows}
    regions = _by_total(pairs)
    bands = AgeBand.values
    labels = dict(AgeBand.choices)
    return CountTable(
        key="women",
        title=_("Women first recorded in the period, each counted once"),
        row_head=_("Her region"),
        rows=[(r, region_label(r)) for r in regions],
        cols=[(b, str(labels[b])) for b in bands],
        cells=_grid(pairs, regions, bands),
        note=_(
            "The same woman recorded by two centres (the same phone number) is counted once, "
            "where she was first recorded; women without a phone number count apart."
        ),
    )


# --- capacity --------------------------------------------------------------------------------


def beds_by_region(basis: Basis, f: Filters) -> dict[str, int]:
    """Beds of the active facilities that offer accommodation: their rooms in service, or the
    published capacity of a facility with no rooms recorded (one query)."""
    rows = (
        Facility.objects.filter(
            basis.org_q("organisation"),
            f.region_q("region__code"),
            is_active=True,
            kind__in=ACCOMMODATION_KINDS,
        )
        .values("region_id")
        .annotate(
            room_beds=Sum("rooms__beds", filter=Q(rooms__in_service=True)),
            stated_beds=Sum("stated_capacity", filter=Q(rooms__isnull=True)),
        )
        .order_by()
    )
    return {
        r["region_id"] or "": int(r["room_beds"] or 0) + int(r["stated_beds"] or 0) for r in rows
    }


# --- the whole dashboard ---------------------------------------------------------------------


@dataclass
class Dashboard:
    basis: Basis
    filters: Filters
    tables: dict[str, CountTable]
    occupancy: Occupancy
    beds: dict[str, int]
    wait_median: timedelta | None = None
    wait_p90: timedelta | None = None
    stay_median: timedelta | None = None
    stay_p90: timedelta | None = None

    def __getitem__(self, key: str) -> CountTable:
        return self.tables[key]

    def demand(self) -> list[dict[str, Any]]:
        """Demand against capacity by region: the row totals of the published tables (so an
        analyst sees exactly what those tables show) and the beds."""
        sources = {
            "calls": self.tables["calls_by_region"],
            "referrals": self.tables["referrals_by_region"],
            "turnaways": self.tables["turnaways_by_region"],
            "admissions": self.tables["out_of_region"],
        }
        keys: list[str] = []
        for t in sources.values():
            keys += [k for k, _l in t.rows if k not in keys]
        keys += sorted(k for k in self.beds if k not in keys)
        rows = []
        for k in keys:
            row = {"key": k, "label": region_label(k), "beds": self.beds.get(k, 0)}
            for name, t in sources.items():
                row[name] = t.row_total(k)
            rows.append(row)
        rows.sort(key=lambda r: (-(r["beds"] or 0), -(r["referrals"] or 0), r["label"]))
        return rows


def links(t: dict[str, CountTable]) -> list[list[tuple[str, tuple[int, int]]]]:
    """Figures that two tables both publish (see tables.publish)."""
    out = [[("calls_by_day", t["calls_by_day"].grand_cell()),
            ("calls_by_region", t["calls_by_region"].grand_cell())]]  # fmt: skip
    for key, _label in t["referrals_by_month"].cols:
        out.append(
            [
                ("referrals_by_month", t["referrals_by_month"].col_total_cell(key)),
                ("referrals_by_region", t["referrals_by_region"].col_total_cell(key)),
            ]
        )
    out.append([("referrals_by_month", t["referrals_by_month"].grand_cell()),
                ("referrals_by_region", t["referrals_by_region"].grand_cell())])  # fmt: skip
    out.append(
        [
            ("referrals_by_month", t["referrals_by_month"].col_total_cell("placed")),
            ("referrals_by_region", t["referrals_by_region"].col_total_cell("placed")),
            ("time_to_place", t["time_to_place"].grand_cell()),
        ]
    )
    for key, _label in t["turnaways_by_reason"].cols:
        out.append(
            [
                ("turnaways_by_reason", t["turnaways_by_reason"].col_total_cell(key)),
                ("turnaways_by_region", t["turnaways_by_region"].col_total_cell(key)),
            ]
        )
    out.append([("turnaways_by_reason", t["turnaways_by_reason"].grand_cell()),
                ("turnaways_by_region", t["turnaways_by_region"].grand_cell())])  # fmt: skip
    return out


BUILDERS = [
    calls_by_day,
    calls_by_region,
    referrals_by_month,
    referrals_by_region,
    time_to_place,
    turnaways_by_reason,
    turnaways_by_region,
    out_of_region,
    discharges,
    services,
    women,
]


def dashboard(basis: Basis, f: Filters) -> Dashboard:
    tables = {t.key: t for t in (build(basis, f) for build in BUILDERS)}
    occ = occupancy(basis, f)
    tables["occupancy"] = occ.table
    publish(tables.values(), links(tables), suppress=basis.suppress, threshold=basis.threshold)
    d = Dashboard(basis, f, tables, occ, beds_by_region(basis, f))
    placed = tables["time_to_place"].raw_total()
    ended = tables["discharges"].raw_total()
    # A median of fewer than `threshold` values is nearly one woman's own figure.
    floor = basis.threshold if basis.suppress else 1
    if placed >= floor:
        qs = _placed(basis, f)
        d.wait_median = nearest_rank(qs, "wait", placed, 0.5)
        d.wait_p90 = nearest_rank(qs, "wait", placed, 0.9)
    if ended >= floor:
        qs = _discharged(basis, f)
        d.stay_median = nearest_rank(qs, "length", ended, 0.5)
        d.stay_p90 = nearest_rank(qs, "length", ended, 0.9)
    return d
