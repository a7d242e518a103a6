"""The worklist: what needs the reader now, per role (SPEC C11; issue 21 items 6 and 7).

Every item is derived from the domain tables at the moment of reading; nothing is stored, so
nothing has to run for an item to appear or go away (STYLE habit 6). Each kind of item is one
function that applies its app's access rules: organisation boundaries, the role rules of
`refuge.core.roles`, and the app's selectors where they exist. A kind that a role may not see
is never queried for it.

Two ways to read it:

* ``worklist_for(p, at=..., decrypt=True)`` for the page. The callbacks come from the hotline's
  callback queue, which decrypts her safe times to say which can be called now; it is audited
  as one read of every callback it shows.
* ``worklist_for(p, at=..., decrypt=False)`` for the counts in the navigation, polled in the
  background, and for the printed sheet: the same items with the same keys, but nothing is
  decrypted and no audit event is written (a poll leaves no trace in the audit log).

The number of queries does not grow with the number of items (tests/notifications). Items name
no woman and show no personal field (a case code at most, as the apps' own lists do), and never
a facility's address.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refuge.core.access import Principal
from refuge.core.roles import (
    Role,
    can_manage_facility,
    can_search_placements,
    can_take_calls,
    can_view_cases,
)

# A reported figure turns "unknown" at the end of its time to live; its staff hear of it this
# long before (issue 21: "availability about to decay to unknown, 2 h before").
STALE_WARNING = timedelta(hours=2)
# Meeting actions: an agency sees what is due within a week; the coordinator what is overdue.
ACTION_HORIZON_DAYS = 7
# A partner agency sees how her requests ended for this long after the last change.
PARTNER_STATUS_DAYS = 7
# Items of one kind read at most (the apps' own pages list 200 too); more is flagged.
LIMIT = 200


@dataclass(frozen=True)
class Item:
    """One thing that waits for the reader.

    ``key`` names the thing and its state: when any key changes, the page's list is out of
    date (see `Worklist.signature`). ``nav`` is the URL name of the navigation entry whose
    badge counts it. ``deadline`` is what the page counts down to: a hold's expiry, a figure's
    decay, the next safe time to call her.
    """

    kind: str
    key: str
    nav: str
    row: Any
    at: datetime | None = None
    deadline: datetime | None = None
    urgent: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    # A kind registered by another app names its own templates (the list's item, the sheet's
    # line); the kinds of this module use notifications/worklist/items/<kind>.html.
    template: str = ""
    sheet_template: str = ""


@dataclass
class Section:
    kind: str
    title: str
    items: list[Item]
    truncated: bool = False
    url: str = ""  # the app's own page for everything of this kind


@dataclass
class Worklist:
    at: datetime
    sections: list[Section]
    # Whether the role has kinds of items at all (analysts, administrators and programme
    # facilitators have none: their home says where their work is instead).
    has_kinds: bool = True
    # The reader's own facilities that take people in (their staff print a sheet for each).
    facilities: list[Any] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [item for s in self.sections for item in s.items]

    @property
    def total(self) -> int:
        return sum(len(s.items) for s in self.sections)

    def counts(self) -> dict[str, int]:
        """Items per navigation entry (URL name), and the total under ``core:home``."""
        out: Counter[str] = Counter(item.nav for item in self.items if item.nav)
        out["core:home"] = self.total
        return dict(out)

    @property
    def signature(self) -> str:
        """Changes whenever an item comes, goes or changes state, and only then (whatever the
        order the items are shown in: the page and the counts may sort them differently)."""
        digest = hashlib.sha256()
        for key in sorted(item.key for item in self.items):
            digest.update(key.encode())
            digest.update(b"\0")
        return digest.hexdigest()[:20]


@dataclass
class Reading:
    """One reading of the worklist: who, when, and whether personal fields may be decrypted."""

    p: Principal
    at: datetime
    decrypt: bool

    @cached_property
    def own_facts(self) -> list[Any]:
        """The reader's own active facilities that take people in, as the vacancies app (the
        one home of free places) sees them now. Read once for the two kinds that use it."""
        from refuge.directory.models import ACCOMMODATION_KINDS
        from refuge.directory.selectors import facilities_managed_by
        from refuge.vacancies.facts import load_facts

        own = facilities_managed_by(self.p).filter(
            is_active=True, kind__in=list(ACCOMMODATION_KINDS)
        )
        return load_facts(own.order_by("name")[: LIMIT + 1], at=self.at, viewer=self.p)


def _capped(rows: Any) -> list[Any]:
    """A queryset or a list, one more than LIMIT at most (so that "more" can be told)."""
    return list(rows[: LIMIT + 1])


# --- the kinds ---------------------------------------------------------------------------------


def referrals_waiting(r: Reading) -> list[Item]:
    """Referral targets waiting for an answer from a facility of the reader's organisation."""
    from refuge.referrals.models import Referral, ReferralTarget
    from refuge.referrals.services import hold_expired

    rows = _capped(
        ReferralTarget.objects.filter(
            facility__organisation_id=r.p.org_id,
            referral__status=Referral.Status.OPEN,
            status__in=[ReferralTarget.Status.HOLDING, ReferralTarget.Status.PENDING],
        )
        .select_related("referral__from_org", "facility")
        .order_by("referral__created_at", "pk")
    )
    items = []
    for t in rows:
        expired = hold_expired(t, r.at)
        held = t.hold_active and t.hold_expires_at is not None and not expired
        items.append(
            Item(
                kind="referral",
                key=f"referral:{t.pk}:{t.status}:{held}:{expired}",
                nav="referrals:inbox",
                row=t,
                at=t.referral.created_at,
                deadline=t.hold_expires_at if held else None,
                urgent=True,
                extra={"held": held, "expired": expired},
            )
        )
    return items


def risk_concerns(r: Reading) -> list[Item]:
    """Concerns from a perpetrator programme not acknowledged yet: a caseworker's own (and those
    about partners with no support worker named), every one of the organisation for a manager,
    as the programme's notification picks them (refuge.programmes.services)."""
    from refuge.programmes.models import RiskConcern

    qs = RiskConcern.objects.filter(
        support__support_org_id=r.p.org_id, acknowledged_at__isnull=True
    ).select_related("support__participant")
    if r.p.role == Role.CASEWORKER:
        qs = qs.filter(Q(support__support_worker="") | Q(support__support_worker=r.p.name))
    return [
        Item(
            kind="concern",
            key=f"concern:{c.pk}",
            nav="programmes:partner_support_list",
            row=c,
            at=c.raised_at,
            urgent=True,
        )
        for c in _capped(qs.order_by("raised_at", "pk"))
    ]


def callbacks(r: Reading) -> list[Item]:
    """Open callbacks of the reader's organisation, those she can be called on now first."""
    from refuge.hotline import selectors
    from refuge.hotline.models import Callback, CallbackStatus

    if r.decrypt:
        rows = selectors.callback_queue(r.p, now=r.at)  # audited: it reads her safe times
        return [
            Item(
                kind="callback",
                key=f"callback:{row.callback.pk}:{row.attempts}",
                nav="hotline:queue",
                row=row,
                at=row.callback.created_at,
                deadline=None if row.open_now else row.next_open,
                urgent=row.open_now,
                extra={
                    "soon": row.next_open is not None
                    and not row.open_now
                    and row.next_open - r.at < timedelta(hours=24)
                },
            )
            for row in rows
        ]
    # Counting decrypts nothing: the same keys, from ids and numbers of attempts only.
    ids = _capped(
        Callback.objects.filter(organisation_id=r.p.org_id, status=CallbackStatus.OPEN)
        .annotate(n_attempts=Count("attempts"))
        .order_by("created_at")
        .values_list("pk", "n_attempts")
    )
    return [
        Item(kind="callback", key=f"callback:{pk}:{n}", nav="hotline:queue", row=None)
        for pk, n in ids
    ]


def _request_items(kind: str, rows: list[Any], urgent: Callable[[Any], bool]) -> list[Item]:
    """Partner requests as items, with their region by name (both sides show them alike)."""
    from refuge.referrals.models import PartnerRequest

    names = region_names({row.region for row in rows})
    open_ = (PartnerRequest.Status.NEW, PartnerRequest.Status.WORKING)
    return [
        Item(
            kind=kind,
            key=f"{kind}:{row.pk}:{row.status}",
            nav="referrals:partner_requests",
            row=row,
            at=row.created_at,
            urgent=urgent(row),
            extra={"region": names.get(row.region, ""), "open": row.status in open_},
        )
        for row in rows
    ]


def partner_requests(r: Reading) -> list[Item]:
    """Requests for a place from partner agencies that are not settled yet (coordinators)."""
    from refuge.referrals.models import PartnerRequest

    rows = _capped(
        PartnerRequest.objects.filter(
            status__in=[PartnerRequest.Status.NEW, PartnerRequest.Status.WORKING]
        )
        .select_related("from_org")
        .order_by("created_at", "pk")
    )
    return _request_items(
        "partner_request", rows, lambda row: row.status == PartnerRequest.Status.NEW
    )


def partner_request_status(r: Reading) -> list[Item]:
    """A partner agency's own requests: the open ones, and how the recent ones ended."""
    from refuge.referrals.models import PartnerRequest

    open_ = [PartnerRequest.Status.NEW, PartnerRequest.Status.WORKING]
    rows = _capped(
        PartnerRequest.objects.filter(from_org_id=r.p.org_id)
        .filter(Q(status__in=open_) | Q(updated_at__gte=r.at - timedelta(days=PARTNER_STATUS_DAYS)))
        .order_by("-updated_at", "pk")
    )
    return _request_items("partner_status", rows, lambda row: False)


def meeting_actions(r: Reading) -> list[Item]:
    """Open actions from risk meetings: an agency's own, due within a week or overdue; for the
    coordinator, the overdue ones of the areas her organisation coordinates. The description
    is not read here (it is about a woman): the meeting's page shows it, audited."""
    from refuge.meetings.models import Action

    today = timezone.localdate(r.at)
    qs = Action.objects.filter(status=Action.Status.OPEN).select_related(
        "item__meeting__area", "assigned_org"
    )
    if r.p.role == Role.PARTNER:
        qs = qs.filter(
            assigned_org_id=r.p.org_id, due_on__lte=today + timedelta(days=ACTION_HORIZON_DAYS)
        )
    else:
        qs = qs.filter(item__meeting__area__coordinator_org_id=r.p.org_id, due_on__lte=today)
    return [
        Item(
            kind="action",
            key=f"action:{a.pk}",
            nav="meetings:list",
            row=a,
            urgent=a.due_on <= today,
            extra={"overdue": a.due_on < today, "today": a.due_on == today},
        )
        for a in _capped(qs.order_by("due_on", "pk"))
    ]


def facilities_to_set_up(r: Reading) -> list[Item]:
    """The reader's facilities with no room in service: "unknown: not set up", never a place
    (SPEC C13), until someone sets their rooms up."""
    return [
        Item(kind="setup", key=f"setup:{f.id}", nav="vacancies:board", row=f)
        for f in r.own_facts
        if not f.availability.rooms
    ]


def stale_figures(r: Reading) -> list[Item]:
    """The reader's facilities whose reported figure is unknown now or will be within
    STALE_WARNING. Facilities counted from their stays in Refuge never go stale."""
    from refuge.vacancies.availability import UNKNOWN

    items = []
    for f in r.own_facts:
        a = f.availability
        if not a.rooms or a.source == "system":
            continue
        unknown = a.status == UNKNOWN
        if not unknown and (a.expires_at is None or a.expires_at - r.at > STALE_WARNING):
            continue
        items.append(
            Item(
                kind="stale",
                key=f"stale:{f.id}:{a.status}:{a.as_of.isoformat() if a.as_of else ''}",
                nav="vacancies:board",
                row=f,
                at=a.as_of,
                deadline=None if unknown else a.expires_at,
                urgent=unknown,
                extra={"unknown": unknown, "reported": a.as_of is not None},
            )
        )
    return items


def sent_referrals(r: Reading) -> list[Item]:
    """Referrals the reader sent that are still under way: waiting for answers, or accepted and
    waiting for her to arrive (the journey is the sender's to plan)."""
    from refuge.referrals.models import Referral, ReferralTarget

    rows = _capped(
        Referral.objects.filter(
            from_org_id=r.p.org_id,
            created_by=r.p.name,
            status__in=[Referral.Status.OPEN, Referral.Status.ACCEPTED],
        )
        .select_related("client", "accepted_target__facility")
        .prefetch_related("targets__facility")
        .order_by("created_at", "pk")
    )
    live = (ReferralTarget.Status.HOLDING, ReferralTarget.Status.PENDING)
    items = []
    for ref in rows:
        targets = list(ref.targets.all())
        holds = [
            t.hold_expires_at
            for t in targets
            if t.status == ReferralTarget.Status.HOLDING
            and t.hold_active
            and t.hold_expires_at is not None
            and t.hold_expires_at > r.at
        ]
        waiting = [t for t in targets if t.status in live]
        state = ",".join(f"{t.pk}={t.status}" for t in targets)
        accepted = ref.status == Referral.Status.ACCEPTED
        items.append(
            Item(
                kind="sent",
                key=f"sent:{ref.pk}:{ref.status}:{state}:{len(holds)}",
                nav="referrals:sent",
                row=ref,
                at=ref.created_at,
                deadline=min(holds) if holds and not accepted else None,
                # A place to travel to, or nobody left holding one: the sender acts next.
                urgent=accepted or not holds,
                extra={"targets": targets, "waiting": len(waiting), "accepted": accepted},
            )
        )
    return items


def waiting_list(r: Reading) -> list[Item]:
    """Women of the reader's organisation on the waiting list."""
    from refuge.referrals.models import WaitlistEntry

    rows = _capped(
        WaitlistEntry.objects.filter(organisation_id=r.p.org_id, closed_at__isnull=True)
        .select_related("client")
        .order_by("added_at", "pk")
    )
    return [
        Item(
            kind="waitlist",
            key=f"waitlist:{e.pk}:{e.called_back_at.isoformat() if e.called_back_at else ''}",
            nav="referrals:waitlist",
            row=e,
            at=e.added_at,
        )
        for e in rows
    ]


def failed_deliveries(r: Reading) -> list[Item]:
    """Notifications to the organisation's staff that could not be delivered (managers), from
    the outbox (`refuge.notifications.selectors.failed_deliveries_for`)."""
    from .selectors import failed_deliveries_for

    return [
        Item(
            kind="failed",
            key=f"failed:{d.pk}:{d.attempts}",
            nav="notifications:failed",
            row=d,
            at=d.created_at,
            urgent=d.next_attempt_at is None,  # given up: only a person can put it right
        )
        for d in _capped(failed_deliveries_for(r.p))
    ]


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """Regions by name in the reader's language (a person never reads a region code)."""
    from refuge.directory.models import Region

    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    return {reg.code: reg.name for reg in Region.objects.filter(code__in=wanted)}


# --- which kinds, for whom ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    title: Any  # lazy text
    url_name: str  # the app's page listing everything of this kind
    applies: Callable[[str], bool]  # the role rule
    read: Callable[[Reading], list[Item]]


def _one_of(*allowed: str) -> Callable[[str], bool]:
    return lambda role: role in allowed


# In the order the page shows them: what a woman's place or safety hangs on first.
KINDS: tuple[Kind, ...] = (
    Kind(
        "referral",
        _("Referrals waiting for your answer"),
        "referrals:inbox",
        can_view_cases,
        referrals_waiting,
    ),
    Kind(
        "concern",
        _("Risk concerns to read"),
        "programmes:partner_support_list",
        _one_of(Role.CASEWORKER, Role.MANAGER),
        risk_concerns,
    ),
    Kind("callback", _("Callbacks"), "hotline:callbacks", can_take_calls, callbacks),
    Kind(
        "partner_request",
        _("Requests for a place from partner agencies"),
        "referrals:partner_requests",
        _one_of(Role.COORDINATOR),
        partner_requests,
    ),
    Kind(
        "action",
        _("Actions from risk meetings"),
        "meetings:list",
        _one_of(Role.PARTNER, Role.COORDINATOR),
        meeting_actions,
    ),
    Kind(
        "setup",
        _("Facilities with no rooms set up"),
        "",
        can_manage_facility,
        facilities_to_set_up,
    ),
    Kind(
        "stale",
        _("Free places to confirm"),
        "vacancies:board",
        can_manage_facility,
        stale_figures,
    ),
    Kind("sent", _("Referrals you sent"), "referrals:sent", can_search_placements, sent_referrals),
    Kind("waitlist", _("Waiting list"), "referrals:waitlist", can_search_placements, waiting_list),
    Kind(
        "partner_status",
        _("Your requests for a place"),
        "referrals:partner_requests",
        _one_of(Role.PARTNER),
        partner_request_status,
    ),
    Kind(
        "failed",
        _("Messages that could not be delivered"),
        "notifications:failed",
        _one_of(Role.MANAGER),
        failed_deliveries,
    ),
)


def register_kind(
    kind: Kind, *, after: str = "", facility_of: Callable[[Item], Any] | None = None
) -> None:
    """An app adds its kind of item (as federation does), after the kind named ``after`` (at
    the end when there is none). ``facility_of`` says which facility an item belongs to, for a
    facility's daily sheet. Registering the same name again changes nothing."""
    global KINDS
    names = [k.name for k in KINDS]
    if kind.name in names:
        return
    at = names.index(after) + 1 if after in names else len(KINDS)
    KINDS = (*KINDS[:at], kind, *KINDS[at:])
    if facility_of is not None:
        FACILITY_OF[kind.name] = facility_of


def kinds_for(role: str | None) -> list[Kind]:
    if role is None:
        return []
    return [k for k in KINDS if k.applies(role)]


def worklist_for(p: Principal, *, at: datetime, decrypt: bool = True) -> Worklist:
    """Everything that waits for the principal at ``at``, by kind; empty kinds are left out."""
    kinds = kinds_for(p.role) if p.org_id is not None else []
    reading = Reading(p=p, at=at, decrypt=decrypt)
    sections = []
    for kind in kinds:
        items = kind.read(reading)
        if not items:
            continue
        try:
            url = reverse(kind.url_name) if kind.url_name else ""
        except NoReverseMatch:
            url = ""
        sections.append(
            Section(
                kind=kind.name,
                title=str(kind.title),
                items=items[:LIMIT],
                truncated=len(items) > LIMIT,
                url=url,
            )
        )
    facilities = reading.own_facts if p.role is not None and can_manage_facility(p.role) else []
    return Worklist(at=at, sections=sections, has_kinds=bool(kinds), facilities=facilities)


# --- the daily sheet (for when the internet is down) -----------------------------------------

# Kinds whose items belong to one facility: a facility's sheet keeps only its own. The other
# kinds belong to the organisation and are kept whole.
FACILITY_OF: dict[str, Callable[[Item], Any]] = {
    "referral": lambda item: item.row.facility_id,
    "setup": lambda item: item.row.id,
    "stale": lambda item: item.row.id,
}


@dataclass(frozen=True)
class SheetPlace:
    """One facility on a sheet: its figure as the vacancies app gives it, and its phones as
    the reader may see them. No street address: a printed sheet travels, and the numbers are
    what is needed to place a woman by phone."""

    facts: Any  # refuge.vacancies.facts.FacilityFacts
    phones: list[tuple[Any, str]]  # (Phone, the number as printed)


@dataclass
class Sheet:
    at: datetime
    facility: Any | None  # the facility of a facility's sheet; None for the network's
    pending: Worklist
    own: SheetPlace | None  # the facility itself, on its own sheet
    places: list[SheetPlace]  # the network's facilities (on a facility's sheet: with a place)
    hub_phones: list[tuple[Any, str]]


def _phones_by_facility(p: Principal, facilities: Any) -> tuple[dict[Any, list], dict[Any, list]]:
    """Each facility's phones and each organisation's general phones, as the reader may see
    them (refuge.directory.selectors.phones_for), in one query."""
    from refuge.directory.models import Phone
    from refuge.directory.selectors import phones_for
    from refuge.directory.services import phone_display

    rows = list(
        Phone.objects.filter(
            Q(facility__in=facilities.values("pk"))
            | Q(facility__isnull=True, organisation__in=facilities.values("organisation"))
        ).order_by("position", "number")
    )
    by_facility: dict[Any, list] = {}
    by_org: dict[Any, list] = {}
    for ph in phones_for(p, rows):
        shown = (ph, phone_display(ph.number))
        if ph.facility_id is None:
            by_org.setdefault(ph.organisation_id, []).append(shown)
        else:
            by_facility.setdefault(ph.facility_id, []).append(shown)
    return by_facility, by_org


def _hub_phones(p: Principal) -> list[tuple[Any, str]]:
    """The general numbers of the network's hub (its coordinators), as the reader may see them."""
    from refuge.core.roles import OrgKind
    from refuge.directory.models import Phone
    from refuge.directory.selectors import phones_for
    from refuge.directory.services import phone_display

    rows = Phone.objects.filter(
        facility__isnull=True, organisation__kind=OrgKind.HUB, organisation__is_active=True
    ).order_by("organisation__name", "position", "number")
    return [(ph, phone_display(ph.number)) for ph in phones_for(p, list(rows))]


def daily_sheet(p: Principal, *, at: datetime, facility: Any | None = None) -> Sheet:
    """What a facility (its staff) or the network (its coordinators) needs on paper: what is
    pending, the free places as known at ``at``, and whom to call.

    The caller has checked that ``p`` may have this sheet (the views do: a facility's sheet
    through `facility_for_manager`, the network's for coordinators). Nothing personal is
    decrypted: callbacks are counted, never listed with a number.
    """
    from refuge.vacancies.board import board_facilities
    from refuge.vacancies.facts import load_facts

    pending = worklist_for(p, at=at, decrypt=False)
    facilities = board_facilities()
    if facility is not None:
        for section in pending.sections:
            owner = FACILITY_OF.get(section.kind)
            if owner is not None:
                section.items = [i for i in section.items if owner(i) == facility.pk]
        pending.sections = [s for s in pending.sections if s.items]
    facts = sorted(
        load_facts(facilities, at=at, viewer=p),
        key=lambda f: (f.country, f.region_name or "\uffff", f.name.casefold()),
    )
    phones, org_phones = _phones_by_facility(p, facilities)

    def place(f: Any) -> SheetPlace:
        return SheetPlace(f, phones.get(f.id) or org_phones.get(f.organisation_id, []))

    own = None
    if facility is not None:
        mine = [f for f in facts if f.id == facility.pk]
        if mine:
            own = place(mine[0])
        elif facility.offers_accommodation:  # closed for now, so not on the board: read it alone
            alone = load_facts(type(facility).objects.filter(pk=facility.pk), at=at, viewer=p)
            own = SheetPlace(alone[0], [])
        facts = [
            f
            for f in facts
            if f.id != facility.pk and f.availability.known and f.availability.free_beds
        ]
    return Sheet(
        at=at,
        facility=facility,
        pending=pending,
        own=own,
        places=[place(f) for f in facts],
        hub_phones=_hub_phones(p),
    )
