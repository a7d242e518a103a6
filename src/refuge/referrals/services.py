"""Every state change of referrals: fan-out with holds, accept (first wins), decline, withdraw,
arrival (hold → stay), relocation, turn-aways, the waiting list, partner requests, evacuation.

No place is ever promised twice: a hold is placed, and a hold becomes a stay, only while its room
row is locked (refuge.vacancies.beds) and after asking every claim on the room's beds; accepting
locks the referral row, so two facilities accepting at once cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from refuge.cases.models import Client
from refuge.cases.services import client_create, stay_admit
from refuge.core import audit
from refuge.core.access import Principal, require
from refuge.core.db import retry_on_conflict
from refuge.core.models import Organisation
from refuge.core.roles import Role, can_create_cases, can_search_placements, can_view_cases
from refuge.core.services import ServiceError, data_key_create
from refuge.directory.models import Facility
from refuge.notifications.services import notify
from refuge.vacancies import beds
from refuge.vacancies.availability import NO_ROOMS
from refuge.vacancies.free import FreePlaces, free_places, room_can_take
from refuge.vacancies.models import Room

from . import search
from .models import (
    DeclineReason,
    NoHoldReason,
    PartnerRequest,
    Referral,
    ReferralTarget,
    Relocation,
    TurnAway,
    TurnAwayReason,
    WaitlistEntry,
)

SHAREABLE = (
    "name",
    "phone",
    "birth_date",
    "safe_contact",
    "health_notes",
    "languages",
    "citizenship",
)
DEFAULT_HOLD_MINUTES = 120
# Why an accept found no place, in words (ServiceError carries the message; lazily translated).
NO_PLACE_MESSAGES = {
    NoHoldReason.NO_ROOMS: lambda: _(
        "Your facility's rooms are not set up in Refuge, so no place can be given: add the "
        "rooms first."
    ),
    NoHoldReason.UNKNOWN: lambda: _(
        "Your facility's free places are not known now (no recent report): report the free "
        "beds, then accept."
    ),
    NoHoldReason.NO_FIT: lambda: _("No room in your facility fits this household."),
    NoHoldReason.TAKEN: lambda: _(
        "There is no free place for this household in your facility now: every room that "
        "fits her is taken or held."
    ),
}
MAX_TARGETS = 10


def _event(by: Principal | None, action: str, client: Client, **details: Any) -> None:
    audit.record(
        actor=by,
        action=action,
        target_type="cases.client",
        target_id=client.pk,
        target_org_slug=client.organisation.slug,
        details=details or None,
    )


def household_size(h: Mapping[str, Any]) -> int:
    return 1 + len(h.get("children") or []) + int(h.get("other_adults") or 0)


# --- holds -----------------------------------------------------------------------------------


def _release_expired(room: Room, at) -> None:
    """Clear expired holds of a locked room, so the unique index sees only live ones."""
    ReferralTarget.objects.filter(
        hold_room=room,
        hold_active=True,
        status=ReferralTarget.Status.HOLDING,
        hold_expires_at__lte=at,
    ).update(hold_active=False)


def _candidate_rooms(facility_ids: Iterable[Any], size: int) -> dict[str, list[Any]]:
    """For each facility, the ids of its rooms in service that could take the household, the
    smallest first (a hold takes the smallest unit that fits)."""
    out: dict[str, list[Any]] = {str(f): [] for f in facility_ids}
    rows = (
        Room.objects.filter(facility_id__in=list(out), in_service=True)
        .order_by("beds", "pk")
        .values_list("pk", "facility_id", "kind", "beds")
    )
    for pk, facility_id, kind, n in rows:
        if room_can_take(kind, n, size):
            out[str(facility_id)].append(pk)
    return out


def lock_candidates(facility_ids: Iterable[Any], size: int) -> dict[str, list[Room]]:
    """Lock every room that could take the household in these facilities, all at once and in
    primary-key order (refuge.vacancies.beds.lock_rooms), before anything is written."""
    candidates = _candidate_rooms(facility_ids, size)
    locked = beds.lock_rooms(pk for ids in candidates.values() for pk in ids)
    return {f: [locked[pk] for pk in ids if pk in locked] for f, ids in candidates.items()}


def find_place(
    facility_id: Any,
    rooms: list[Room],
    size: int,
    at,
    places: FreePlaces | None = None,
) -> tuple[Room, int] | NoHoldReason:
    """The smallest free unit for the household among the facility's (locked) rooms, as a room
    and a bed number, or the reason there is none. Free means free by the one derivation of
    free places (refuge.vacancies.free), read after the rooms were locked: the same figure the
    board and the search show, never a room a report gave up or a stay took. Used for the
    holds of this app and for a peer network's accepted referral (refuge.federation)."""
    for room in rooms:
        _release_expired(room, at)
    if places is None:
        places = free_places([facility_id], at)[str(facility_id)]
    if places.rooms is None:
        why = places.availability.unknown_reason
        return NoHoldReason.NO_ROOMS if why == NO_ROOMS else NoHoldReason.UNKNOWN
    if not rooms:
        return NoHoldReason.NO_FIT
    for room in rooms:
        if not places.fits(room, size):
            continue
        try:
            return room, beds.pick_bed(room, size, beds.claimed(room, at))
        except ServiceError:
            continue
    return NoHoldReason.TAKEN


def _place_hold(
    target: ReferralTarget,
    rooms: list[Room],
    size: int,
    at,
    minutes: int | None,
    places: FreePlaces | None = None,
) -> bool:
    """Hold the smallest free unit among the facility's (locked) rooms (`find_place`); False if
    none, with the reason on the target (``no_hold_reason``)."""
    found = find_place(target.facility_id, rooms, size, at, places)
    target.hold_active = False
    if isinstance(found, str):
        target.no_hold_reason = found
        return False
    target.hold_room, target.hold_bed = found
    target.hold_active = True
    target.hold_expires_at = at + timedelta(minutes=minutes) if minutes is not None else None
    target.held_at, target.no_hold_reason = at, ""
    return True


def _open_holds(at) -> Any:
    return ReferralTarget.objects.filter(
        status=ReferralTarget.Status.HOLDING, hold_active=True, hold_expires_at__gt=at
    )


def _holds_left(by: Principal, client: Client | None, at) -> int:
    """How many more places this sender may hold now: the least of what is left under the caps
    per case, per sender (person or key) and per sending organisation. Read while the sending
    organisation's row is locked (`_lock_sender`), so parallel referrals count exactly."""
    open_holds = _open_holds(at)
    left = [
        settings.REFUGE_HOLDS_PER_SENDER
        - open_holds.filter(referral__from_org_id=by.org_id, referral__created_by=by.name).count(),
        settings.REFUGE_HOLDS_PER_ORGANISATION
        - open_holds.filter(referral__from_org_id=by.org_id).count(),
    ]
    if client is not None:
        left.append(
            settings.REFUGE_HOLDS_PER_CASE - open_holds.filter(referral__client=client).count()
        )
    return max(0, min(left))


def _lock_sender(by: Principal) -> None:
    # One sending organisation's referrals are counted one at a time (SQLite's IMMEDIATE
    # transactions already are). Taken first, before any room: the lock order is sender, rooms.
    list(
        Organisation.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=by.org_id)
        .values_list("pk")
    )


def _drop_hold(target: ReferralTarget) -> None:
    target.hold_active = False


def hold_expired(target: ReferralTarget, at=None) -> bool:
    at = at or timezone.now()
    return (
        target.status == ReferralTarget.Status.HOLDING
        and target.hold_expires_at is not None
        and target.hold_expires_at <= at
    )


# --- referrals --------------------------------------------------------------------------------


@retry_on_conflict
def referral_create(
    *,
    by: Principal,
    client: Client | None,
    household: Mapping[str, Any],
    facility_ids: Iterable[Any],
    hold_minutes: int = DEFAULT_HOLD_MINUTES,
    shared_fields: Iterable[str] = (),
    note: str = "",
    keep_avoid_regions: bool = False,
) -> Referral:
    """One referral to one or several facilities at once, each holding the places it needs.

    Only facilities the search finds able to take her may be asked (hard rules are never
    broken); the avoided regions are kept only if she consented (``keep_avoid_regions``).
    ``client=None`` opens a new pseudonymous case for her in the same transaction, so a referral
    that fails leaves no empty case behind (issue 14, L2).

    Places are held within the caps on open holds (per case, per sender, per organisation:
    settings ``REFUGE_HOLDS_PER_*``); a facility beyond them is asked without a place held
    (``Referral.not_held_by_cap`` says how many)."""
    require(by, can_search_placements)
    if client is None:
        require(by, can_create_cases)
    elif client.organisation_id != by.org_id:
        raise ServiceError(
            _("Only the organisation that holds the case can refer her."), "forbidden"
        )
    ids = list(dict.fromkeys(str(f) for f in facility_ids))
    if not ids:
        raise ServiceError(_("Choose at least one facility."), "no_targets")
    try:
        ids = [str(uuid.UUID(i)) for i in ids]
    except ValueError as exc:
        raise ServiceError(
            _("Some facilities do not exist or take no one."), "unknown_facility"
        ) from exc
    if len(ids) > MAX_TARGETS:
        raise ServiceError(
            _("At most %(n)s facilities at once.") % {"n": MAX_TARGETS}, "too_many_targets"
        )
    check_hold_minutes(hold_minutes)
    unknown = sorted(set(shared_fields) - set(SHAREABLE))
    if unknown:
        raise ServiceError(
            _("These fields cannot be shared: %(fields)s.") % {"fields": ", ".join(unknown)}
        )
    request = search.household_from(household)
    result = search.search(by, request, facilities=search.accommodation().filter(pk__in=ids))
    found = {r.facility_id for r in result.ranking.results}
    missing = [
        i
        for i in ids
        if i not in found and i not in {e.facility_id for e in result.ranking.excluded}
    ]
    if missing:
        raise ServiceError(_("Some facilities do not exist or take no one."), "unknown_facility")
    refused = [e for e in result.ranking.excluded if e.facility_id in ids]
    if refused:
        names = ", ".join(e.name for e in refused)
        raise ServiceError(
            _("These facilities cannot take her: %(names)s.") % {"names": names}, "cannot_take"
        )
    size = household_size(household)
    with transaction.atomic():
        # Lock order: the sender, then every room that may be held (by primary key), then the
        # rows written (the new case, the referral, the audit event).
        _lock_sender(by)
        rooms = lock_candidates(ids, size)
        now = timezone.now()
        left = _holds_left(by, client, now)
        if client is None:
            client = client_create(by=by)
        referral = Referral(
            client=client,
            data_key_id=client.data_key_id,
            from_org=by.organisation,
            created_by=by.name,
            household=dict(household),
            shared_fields=sorted(set(shared_fields)),
            note=note.strip(),
            hold_minutes=hold_minutes,
            avoid_regions=sorted(request.household.avoid_regions) if keep_avoid_regions else [],
        )
        referral.household.pop("avoid_regions", None)
        if not keep_avoid_regions:
            referral.household.pop("min_distance_km", None)
        referral.save()
        referral.not_held_by_cap = 0
        places = free_places(ids, now)  # read after the rooms were locked
        for fid in ids:
            target = ReferralTarget(
                referral=referral, facility_id=fid, status=ReferralTarget.Status.PENDING
            )
            if left <= 0:
                referral.not_held_by_cap += 1
                target.no_hold_reason = NoHoldReason.CAP
            elif _place_hold(target, rooms[fid], size, now, hold_minutes, places[fid]):
                target.status = ReferralTarget.Status.HOLDING
                left -= 1
            target.save()
        _event(
            by,
            "referral.create",
            client,
            referral=str(referral.pk),
            targets=len(ids),
            not_held_by_cap=referral.not_held_by_cap,
        )
        notify(event="referral.sent", about=referral, by=by, facility_ids=ids)
    return referral


def check_hold_minutes(minutes: Any) -> None:
    """A hold lasts from 5 minutes to ``REFUGE_HOLD_MAX_MINUTES`` (4 hours by default): one
    sender cannot keep beds from everyone else for a day (issue 14, M5)."""
    top = settings.REFUGE_HOLD_MAX_MINUTES
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 5 <= minutes <= top:
        raise ServiceError(
            _("A place can be held from 5 to %(max)s minutes (%(hours)s hours).")
            % {"max": top, "hours": f"{top / 60:g}"},
            "invalid_hold",
        )


def _lock_referral(referral_id: Any) -> Referral:
    # The referral row only: a join would lock the client and her organisation too, and every
    # referral the organisation sends (a foreign key to it) would wait (issue 14, M1).
    return Referral.objects.select_for_update(of=("self",), no_key=True).get(pk=referral_id)


def _target(referral: Referral, facility: Facility) -> ReferralTarget:
    try:
        return ReferralTarget.objects.select_related("facility").get(
            referral=referral, facility=facility
        )
    except ReferralTarget.DoesNotExist as exc:
        raise ServiceError(
            _("This facility was not asked in this referral."), "unknown_target"
        ) from exc


def _receiving(by: Principal, target: ReferralTarget) -> None:
    require(by, can_view_cases)
    if target.facility.organisation_id != by.org_id:
        raise ServiceError(_("Only the facility's staff can answer this referral."), "forbidden")


@retry_on_conflict
def referral_accept(*, by: Principal, referral: Referral, facility: Facility) -> ReferralTarget:
    """The first facility to accept wins; the others are withdrawn and their holds released."""
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        target = _target(referral, facility)
        _receiving(by, target)
        if referral.status != Referral.Status.OPEN:
            raise ServiceError(
                _(
                    "This referral is no longer open: another facility accepted it, or it was "
                    "withdrawn."
                ),
                "conflict",
            )
        if target.status not in (ReferralTarget.Status.HOLDING, ReferralTarget.Status.PENDING):
            raise ServiceError(_("This facility has already answered."), "conflict")
        now, refused = timezone.now(), None
        if hold_expired(target, now):
            target.status, target.hold_active = ReferralTarget.Status.PENDING, False
        if not target.hold_active:
            # The hold lapsed or was never placed: a bed must be free now, under the room lock.
            size = household_size(referral.household)
            rooms = lock_candidates([target.facility_id], size)[str(target.facility_id)]
            # The clock is read again once the rooms are locked: another transaction may have
            # turned a hold into a stay while this one waited (the claims are for this moment).
            now = timezone.now()
            if not _place_hold(target, rooms, size, now, None):
                # The reason stays on the target (committed: the refusal is raised after the
                # transaction): the referral page shows it, with the way to put the figures
                # right and accept (issue 15, item 3). A lapsed hold is pending from now on.
                target.save()
                refused = ServiceError(NO_PLACE_MESSAGES[target.no_hold_reason](), "no_place")
        if refused is None:
            _accept_target(by, referral, target, facility, now)
    if refused is not None:
        raise refused
    return target


def _accept_target(
    by: Principal, referral: Referral, target: ReferralTarget, facility: Facility, now
) -> None:
    """The accepting half of `referral_accept`, in its transaction, the place already held."""
    target.status, target.hold_expires_at = ReferralTarget.Status.ACCEPTED, None
    target.decided_at, target.decided_by = now, by.name
    target.save()
    for other in referral.targets.exclude(pk=target.pk).filter(
        status__in=[ReferralTarget.Status.HOLDING, ReferralTarget.Status.PENDING]
    ):
        other.status, other.hold_active, other.decided_at = (
            ReferralTarget.Status.WITHDRAWN,
            False,
            now,
        )
        other.save(update_fields=["status", "hold_active", "decided_at"])
    referral.status, referral.accepted_target = Referral.Status.ACCEPTED, target
    referral.save(update_fields=["status", "accepted_target"])
    notify(event="referral.accepted", about=referral, by=by)
    _event(
        by,
        "referral.accept",
        referral.client,
        referral=str(referral.pk),
        facility=str(facility.pk),
    )


@retry_on_conflict
def referral_decline(
    *, by: Principal, referral: Referral, facility: Facility, reason: str
) -> ReferralTarget:
    if reason not in DeclineReason.values:
        raise ServiceError(_("Choose the reason for declining."), "reason_required")
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        target = _target(referral, facility)
        _receiving(by, target)
        if target.status not in (ReferralTarget.Status.HOLDING, ReferralTarget.Status.PENDING):
            raise ServiceError(_("This facility has already answered."), "conflict")
        target.status, target.hold_active, target.decline_reason = (
            ReferralTarget.Status.DECLINED,
            False,
            reason,
        )
        target.decided_at, target.decided_by = timezone.now(), by.name
        target.save()
        _event(by, "referral.decline", referral.client, referral=str(referral.pk), reason=reason)
        notify(event="referral.declined", about=referral, occurrence=str(target.pk), by=by)
        _end_if_no_one_left(referral)
    return target


def _end_if_no_one_left(referral: Referral) -> None:
    if (
        referral.status == Referral.Status.OPEN
        and not referral.targets.filter(
            status__in=[ReferralTarget.Status.HOLDING, ReferralTarget.Status.PENDING]
        ).exists()
    ):
        referral.status, referral.ended_at = Referral.Status.ENDED, timezone.now()
        referral.save(update_fields=["status", "ended_at"])


@retry_on_conflict
def referral_withdraw(*, by: Principal, referral: Referral) -> Referral:
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        if referral.from_org_id != by.org_id:
            raise ServiceError(_("Only the sender can withdraw the referral."), "forbidden")
        if referral.status not in (Referral.Status.OPEN, Referral.Status.ACCEPTED):
            raise ServiceError(_("This referral has already ended."), "conflict")
        now = timezone.now()
        live = referral.targets.filter(
            status__in=[
                ReferralTarget.Status.HOLDING,
                ReferralTarget.Status.PENDING,
                ReferralTarget.Status.ACCEPTED,
            ]
        )
        notify(
            event="referral.withdrawn",
            about=referral,
            by=by,
            facility_ids=list(live.values_list("facility_id", flat=True)),
        )
        live.update(status=ReferralTarget.Status.WITHDRAWN, hold_active=False, decided_at=now)
        referral.status, referral.ended_at = Referral.Status.WITHDRAWN, now
        referral.save(update_fields=["status", "ended_at"])
        _event(by, "referral.withdraw", referral.client, referral=str(referral.pk))
    return referral


@retry_on_conflict
def referral_arrive(*, by: Principal, referral: Referral) -> Any:
    """She has arrived: the held place becomes her stay, and her case moves to the shelter she
    now lives in (the sender no longer sees it). One transaction: a crash leaves neither half."""
    with transaction.atomic():
        referral = _lock_referral(referral.pk)
        if referral.status != Referral.Status.ACCEPTED or referral.accepted_target is None:
            raise ServiceError(_("Only an accepted referral can arrive."), "conflict")
        target = ReferralTarget.objects.select_related("facility", "hold_room").get(
            pk=referral.accepted_target_id
        )
        _receiving(by, target)
        client = Client.objects.select_for_update(of=("self",), no_key=True).get(
            pk=referral.client_id
        )
        from refuge.cases.models import Stay

        leaving = list(Stay.objects.filter(client=client, discharged_at__isnull=True))
        # Her new room and the room she leaves, locked at once in key order (a discharge
        # takes the room's lock too).
        beds.lock_rooms([target.hold_room_id, *(old.room_id for old in leaving)])
        for old in leaving:
            # She leaves the shelter she was in (an evacuation or a move between shelters).
            old.discharged_at, old.discharged_by, old.outcome = (
                timezone.now(),
                by.name,
                Stay.Outcome.MOVED,
            )
            old.save(update_fields=["discharged_at", "discharged_by", "outcome"])
        old_org = client.organisation
        client.organisation = target.facility.organisation
        client.save(update_fields=["organisation"])
        target.status, target.hold_active = ReferralTarget.Status.ARRIVED, False
        target.save(update_fields=["status", "hold_active"])
        stay = stay_admit(by=by, client=client, room_id=target.hold_room_id, bed=target.hold_bed)
        referral.status = Referral.Status.ARRIVED
        referral.save(update_fields=["status"])
        Relocation.objects.filter(referral=referral).update(arrived_at=timezone.now())
        audit.record(
            actor=by,
            action="client.transfer",
            target_type="cases.client",
            target_id=client.pk,
            target_org_slug=old_org.slug,
            details={"to": client.organisation.slug, "referral": str(referral.pk)},
        )
    return stay


def referral_opened(*, by: Principal, referral: Referral) -> int:
    """A receiving facility's member of staff opened the referral: it stops escalating."""
    with transaction.atomic():
        n = ReferralTarget.objects.filter(
            referral=referral, facility__organisation_id=by.org_id, seen_at__isnull=True
        ).update(seen_at=timezone.now())
        if n:
            _event(by, "referral.opened", referral.client, referral=str(referral.pk))
    return n


# --- relocation -------------------------------------------------------------------------------


def relocation_plan(
    *,
    by: Principal,
    referral: Referral,
    mode: str,
    escort: str = "",
    departs_at=None,
    arrives_at=None,
    cost=None,
    currency: str = "RUB",
    paid_by: str = "",
    carriers: Iterable[Any] = (),
) -> Relocation:
    """The travel plan. The people named as carriers (and only they, beside the shelter's own
    staff) may see the destination's address until she arrives; each display is audited."""
    if referral.from_org_id != by.org_id and (
        referral.accepted_target is None
        or referral.accepted_target.facility.organisation_id != by.org_id
    ):
        raise ServiceError(
            _("Only the sender or the receiving shelter can plan the journey."), "forbidden"
        )
    if referral.status != Referral.Status.ACCEPTED:
        raise ServiceError(_("Plan the journey once a shelter has accepted."), "conflict")
    if departs_at and arrives_at and arrives_at < departs_at:
        raise ServiceError(gettext("The expected arrival cannot be before the departure."))
    if mode not in Relocation.Mode.values:
        raise ServiceError(_("Unknown way of travel: %(mode)s.") % {"mode": str(mode)[:40]})
    users = list(carriers)
    allowed_orgs = {referral.from_org_id, referral.accepted_target.facility.organisation_id}
    if any(u.organisation is None or u.organisation.pk not in allowed_orgs for u in users):
        raise ServiceError(
            _("Only staff of the two organisations can carry out the journey."), "forbidden"
        )
    # A carrier sees the confidential address: never a programme facilitator, a partner agency
    # or an analyst, even inside one of the two organisations (SPEC.md S1, S6).
    if any(u.role is None or not can_view_cases(u.role) for u in users):
        raise ServiceError(_("Only case staff can carry out the journey."), "forbidden")
    target = referral.accepted_target
    with transaction.atomic():
        reloc, _created = Relocation.objects.update_or_create(
            referral=referral,
            defaults={
                "from_region": referral.household.get("home_region", "")
                or referral.client.residence_region,
                "to_region": target.facility.region_id or "",
                "mode": mode,
                "data_key_id": referral.data_key_id,
                "escort": escort.strip()[:200],
                "departs_at": departs_at,
                "arrives_at": arrives_at,
                "cost": cost,
                "currency": currency,
                "paid_by": paid_by.strip()[:200],
                "created_by": by.name,
            },
        )
        reloc.carriers.set(users)
        _event(
            by,
            "relocation.plan",
            referral.client,
            referral=str(referral.pk),
            carriers=[u.username for u in users],
        )
    return reloc


# --- turn-aways and the waiting list ------------------------------------------------------------


def turn_away_record(
    *,
    by: Principal,
    household: Mapping[str, Any],
    reasons: Iterable[str],
    referral: Referral | None = None,
) -> TurnAway:
    """Record a request that ended without a place. It is *unnecessary* if, at this moment, a
    facility with known availability could have taken her (computed now, kept as it was)."""
    require(by, can_search_placements)
    reasons = sorted(set(reasons))
    bad = [r for r in reasons if r not in TurnAwayReason.values]
    if not reasons or bad:
        raise ServiceError(_("Give at least one reason from the list."), "reason_required")
    request = search.household_from(household)
    now = timezone.now()
    could = search.could_take_now(by, request, at=now)
    with transaction.atomic():
        row = TurnAway.objects.create(
            at=now,
            organisation=by.organisation,
            recorded_by=by.name,
            region=request.home_region,
            household_size=request.household.size,
            household={
                k: v for k, v in household.items() if k not in ("avoid_regions", "min_distance_km")
            },
            reasons=reasons,
            unnecessary=bool(could),
            could_have=could,
            referral=referral,
        )
        audit.record(
            actor=by,
            action="turn_away.record",
            target_type="referrals.turnaway",
            target_id=row.pk,
            target_org_slug=by.org_slug or "",
            details={"unnecessary": row.unnecessary},
        )
    return row


def waitlist_add(*, by: Principal, client: Client, household: Mapping[str, Any]) -> WaitlistEntry:
    require(by, can_search_placements)
    if client.organisation_id != by.org_id:
        raise ServiceError(
            _("Only the organisation that holds the case can put her on the waiting list."),
            "forbidden",
        )
    search.household_from(household)
    with transaction.atomic():
        # Once on the list is enough: a double submit, or a colleague adding her too, would
        # have her called back twice and counted twice.
        if WaitlistEntry.objects.filter(client=client, closed_at__isnull=True).exists():
            raise ServiceError(_("She is already on the waiting list."), "duplicate")
        entry = WaitlistEntry.objects.create(
            client=client,
            data_key_id=client.data_key_id,
            organisation=by.organisation,
            added_by=by.name,
            household={
                k: v for k, v in household.items() if k not in ("avoid_regions", "min_distance_km")
            },
        )
        _event(by, "waitlist.add", client)
    return entry


def waitlist_called_back(
    *, by: Principal, entry: WaitlistEntry, close: bool = False, reason: str = ""
) -> WaitlistEntry:
    if entry.organisation_id != by.org_id:
        raise ServiceError(_("Not your waiting list."), "forbidden")
    with transaction.atomic():
        entry.called_back_at = timezone.now()
        if close:
            entry.closed_at, entry.close_reason = timezone.now(), reason[:200]
        entry.save(update_fields=["called_back_at", "closed_at", "close_reason"])
        _event(by, "waitlist.callback", entry.client, closed=close)
    return entry


# --- partner requests ----------------------------------------------------------------------------


def partner_request_create(
    *, by: Principal, region: str, household: Mapping[str, Any], contact: str, details: str = ""
) -> PartnerRequest:
    if by.role != Role.PARTNER:
        raise ServiceError(_("Partner agencies send requests here."), "forbidden")
    if not contact.strip():
        raise ServiceError(_("Say how the shelter can reach her safely."), "contact_required")
    search.household_from({**household, "home_region": region})
    with transaction.atomic():
        req = PartnerRequest(
            from_org=by.organisation,
            data_key=data_key_create(),
            created_by=by.name,
            region=region.upper(),
            household=dict(household),
            contact=contact.strip(),
            details=details.strip(),
        )
        req.save()
        audit.record(
            actor=by,
            action="partner_request.create",
            target_type="referrals.partnerrequest",
            target_id=req.pk,
            target_org_slug=by.org_slug or "",
        )
        notify(event="partner_request.created", about=req, by=by)
    return req


def partner_request_update(
    *, by: Principal, request: PartnerRequest, status: str, client: Client | None = None
) -> PartnerRequest:
    if by.role not in (Role.COORDINATOR, Role.OPERATOR):
        raise ServiceError(
            _("The hub's coordinators and operators handle partner requests."), "forbidden"
        )
    if status not in PartnerRequest.Status.values:
        raise ServiceError(_("Unknown status: %(status)s.") % {"status": str(status)[:40]})
    with transaction.atomic():
        request.status, request.handled_by = status, by.name
        if client is not None:
            request.client = client
        request.save(update_fields=["status", "handled_by", "client", "updated_at"])
        audit.record(
            actor=by,
            action="partner_request.update",
            target_type="referrals.partnerrequest",
            target_id=request.pk,
            target_org_slug=request.from_org.slug,
            details={"status": status},
        )
    return request


# --- evacuation -------------------------------------------------------------------------------


def facility_compromise(*, by: Principal, facility: Facility, reason: str) -> Facility:
    from refuge.directory.services import facility_set_compromised

    if by.role != Role.COORDINATOR:
        raise ServiceError(_("Only a coordinator can mark a facility compromised."), "forbidden")
    with transaction.atomic():
        facility_set_compromised(by=by, facility=facility, compromised=True, reason=reason)
        notify(event="evacuation.proposed", about=facility, occurrence=uuid.uuid4().hex, by=by)
    return facility


# An evacuation's destination may have filled since the plan (she is then referred without a
# place held); any other reason to exclude it means the plan is no longer safe or possible.
_ONLY_FULL = frozenset({"no_capacity"})


def _check_against_threat(
    by: Principal,
    facility: Facility,
    stays: Mapping[str, Any],
    assignments: list[tuple[Any, Any]],
    threat: search.Threat,
) -> None:
    from dataclasses import replace

    refused: list[str] = []
    for stay_id, facility_id in assignments:
        stay = stays.get(str(stay_id))
        if stay is None:
            continue  # reported below, in order
        if str(facility_id) == str(facility.pk):
            refused.append(facility.name)
            continue
        request = search.household_from(search.household_of(stay.client))
        request = replace(
            request, household=search.household_under_threat(request.household, threat)
        )
        result = search.search(
            by, request, facilities=search.accommodation().filter(pk=facility_id)
        )
        if any(r.facility_id == str(facility_id) for r in result.ranking.results):
            continue
        excluded = [e for e in result.ranking.excluded if e.facility_id == str(facility_id)]
        if excluded and {r.code for r in excluded[0].reasons} <= _ONLY_FULL:
            continue
        refused.append(excluded[0].name if excluded else str(facility_id))
    if refused:
        raise ServiceError(
            _(
                "The plan is no longer safe or possible for: %(names)s. Plan again: nothing "
                "was sent."
            )
            % {"names": ", ".join(sorted(set(refused)))},
            "plan_changed",
        )


def evacuation_confirm(
    *,
    by: Principal,
    facility: Facility,
    assignments: Iterable[tuple[Any, Any]],
    hold_minutes: int = 240,
    threat: search.Threat | None = None,
) -> list[Referral]:
    """One confirmation turns the plan into referrals: each household to its planned facility,
    sent by the coordinator on behalf of the compromised facility's organisation.

    The plan is checked again, now, against the threat (``threat``: by default the facility's
    own point at the default distance): a facility that has since become unsafe for her, or
    cannot take her by its rules, refuses the whole confirmation, so the coordinator plans
    again rather than sending a household where the threat may reach her. A place taken since
    the plan is not a refusal: she is referred without a place held, and the referral says so.
    """
    from refuge.cases.models import Stay

    assignments = list(assignments)
    if by.role != Role.COORDINATOR:
        raise ServiceError(_("Only a coordinator confirms an evacuation."), "forbidden")
    if facility.compromised_since is None:
        raise ServiceError(_("Mark the facility compromised first."), "conflict")
    if threat is None:
        threat = search.threat_of(facility)
    made = []
    hold_minutes = min(hold_minutes, settings.REFUGE_HOLD_MAX_MINUTES)
    with transaction.atomic():
        stays = {
            str(stay.pk): stay
            for stay in Stay.objects.select_related("client__organisation").filter(
                pk__in=[s for s, _f in assignments], facility=facility, discharged_at__isnull=True
            )
        }
        _check_against_threat(by, facility, stays, assignments, threat)
        # Every room that may be held, locked at once in primary-key order, before anything
        # is written (each referral below writes an audit event).
        targets = {str(f) for _s, f in assignments}
        candidates: dict[str, set[Any]] = {f: set() for f in targets}
        for size in {s.household_size for s in stays.values()}:
            for fid, ids in _candidate_rooms(targets, size).items():
                candidates[fid].update(ids)
        locked = beds.lock_rooms(pk for ids in candidates.values() for pk in ids)
        rooms = {f: [locked[pk] for pk in ids if pk in locked] for f, ids in candidates.items()}
        for stay_id, facility_id in assignments:
            stay = stays.get(str(stay_id))
            if stay is None:
                raise ServiceError(_("This resident is no longer at the facility."), "conflict")
            client = stay.client
            size = stay.household_size
            household = search.household_of(client)
            household["avoid_regions"] = [facility.region_id] if facility.region_id else []
            referral = Referral(
                client=client,
                data_key_id=client.data_key_id,
                from_org=client.organisation,
                created_by=by.name,
                household=household,
                hold_minutes=hold_minutes,
                note="Evacuation: the facility's location is compromised.",
            )
            referral.save()
            target = ReferralTarget(
                referral=referral, facility_id=facility_id, status=ReferralTarget.Status.PENDING
            )
            fitting = sorted(rooms.get(str(facility_id), []), key=lambda r: (r.beds, r.pk))
            if _place_hold(target, fitting, size, timezone.now(), hold_minutes):
                target.status = ReferralTarget.Status.HOLDING
            target.save()
            _event(
                by, "evacuation.referral", client, referral=str(referral.pk), to=str(facility_id)
            )
            made.append(referral)
        notify(
            event="evacuation.confirmed",
            about=facility,
            occurrence=f"{timezone.now():%Y%m%d%H%M%S%f}",
            by=by,
            facility_ids=[f for _s, f in assignments],
        )
    return made
