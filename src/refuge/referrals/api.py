"""SPEC.md contracts: POST /api/v1/placements/search and the referral endpoints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.responses import NinjaJSONEncoder

from refuge.api_responses import errors
from refuge.cases.models import Client
from refuge.core import limits
from refuge.core.access import principal, require
from refuge.core.roles import can_search_placements, can_view_cases
from refuge.directory.models import Facility
from refuge.vacancies.reasons import reason_text, unverified_text

from . import patterns, search, services, wording
from .models import Referral

router = Router(tags=["placement"])


class ChildIn(Schema):
    age: int = Field(..., ge=0, le=25)
    sex: Literal["male", "female"]


class HouseholdIn(Schema):
    woman_age: int = Field(..., ge=10, le=120)
    children: list[ChildIn] = Field(default_factory=list, max_length=20)
    other_adults: int = Field(0, ge=0, le=10)
    pets: int = Field(0, ge=0, le=10)
    languages: list[str] = Field(default_factory=list, max_length=10)
    citizenship: str = Field("", max_length=2)
    documents: list[Literal["passport", "residence_permit", "local_registration"]] = Field(
        default_factory=list
    )
    needs: list[Literal["wheelchair", "substance_use", "mental_health"]] = Field(
        default_factory=list
    )
    services: list[str] = Field(default_factory=list, max_length=20)
    home_region: str = Field("", max_length=10)
    avoid_regions: list[str] = Field(default_factory=list, max_length=30)
    min_distance_km: float = Field(0, ge=0, le=20000)
    stay_days: int | None = Field(None, ge=0, le=3650)


class ResultOut(Schema):
    facility_id: str
    name: str
    region: str
    distance_km: float | None
    score: float
    free_beds: int | None
    availability: Literal["confirmed", "reported", "unknown"]
    reasons: list[str]
    network: str | None = Field(
        None,
        description="The trusted peer network the facility belongs to, by the name this "
        "instance trusts it under; null for this network's own facilities.",
    )
    figure_age_seconds: int | None = Field(
        None,
        description="For a peer network's facility: how old its free-places figure is "
        "(null when it has none, and for this network's own facilities).",
    )


class ReasonOut(Schema):
    code: str
    message: str


class ExcludedOut(Schema):
    facility_id: str
    name: str
    reasons: list[ReasonOut]
    network: str | None = Field(
        None, description="The trusted peer network, as in results; null for local ones."
    )


class SearchOut(Schema):
    results: list[ResultOut]
    excluded: list[ExcludedOut]


class ReferralIn(HouseholdIn):
    facility_ids: list[str] = Field(..., min_length=1, max_length=10)
    hold_minutes: int = Field(
        120,
        description="How long each place is held, in minutes: from 5 to the network's "
        "maximum (REFUGE_HOLD_MAX_MINUTES, 240 by default); outside that, 400 invalid_hold.",
    )
    case_code: str | None = Field(
        None,
        max_length=20,
        description="The client's case; a new pseudonymous record "
        "is opened for the referral when omitted.",
    )


class TargetOut(Schema):
    facility_id: str
    name: str
    status: str
    held: bool
    hold_expires_at: datetime | None
    decline_reason: str
    no_hold_reason: str = Field(
        "",
        description="Why no place is held there, when none is: no_rooms (rooms not set up), "
        "unknown (no recent report), no_fit (no room fits the household), taken (the free place "
        "was taken first), cap (the limit on open holds), lapsed (the hold ran out); empty "
        "while a place is held.",
    )


class ReferralOut(Schema):
    id: str
    case_code: str
    status: str
    created_at: datetime
    hold_minutes: int
    targets: list[TargetOut]


class DeclineIn(Schema):
    reason: str


def _household(payload: HouseholdIn) -> dict:
    return payload.dict(exclude={"facility_ids", "hold_minutes", "case_code"})


@router.post(
    "/placements/search",
    response={200: SearchOut, **errors(400, 403, 429)},
    summary="Rank every facility for one household",
)
def placement_search(request: HttpRequest, payload: HouseholdIn):
    p = principal(request)
    require(p, can_search_placements)
    limits.check(p, "search")
    asked = search.household_from(_household(payload))
    patterns.search_pattern_note(by=p, household=asked.household)
    # Written straight as the renderer would (the same bytes): search_response makes SearchOut's
    # shape itself (a test checks it against the schema), and ninja's validation of thousands
    # of items cost twice the search (280 ms of CPU at 5,000 facilities).
    data = search_response(search.search(p, asked, external=True))
    return HttpResponse(
        json.dumps(data, cls=NinjaJSONEncoder), content_type="application/json; charset=utf-8"
    )


def search_response(result: search.SearchResult) -> dict:
    """The contract's JSON for a search. A reason's words are made once per reason and
    language, not once per facility: thousands of facilities share a few reasons. A trusted
    peer's facility carries its network's name and the age of its figure (local ones None)."""
    said: dict = {}
    now = timezone.now()

    def words(reason) -> str:
        try:
            text = said.get(reason)
        except TypeError:  # a parameter that cannot be a key: worded every time
            return reason_text(reason)
        if text is None:
            text = said[reason] = reason_text(reason)
        return text

    def network(facility_id: str) -> str | None:
        other = result.external.get(facility_id)
        return other.network if other else None

    def age(facility_id: str) -> int | None:
        other = result.external.get(facility_id)
        if other is None or other.figure_at is None:
            return None
        return max(0, int((now - other.figure_at).total_seconds()))

    return {
        "results": [
            {
                "facility_id": r.facility_id,
                "name": r.name,
                "region": r.region,
                "distance_km": r.distance_km,
                "score": r.score,
                "free_beds": r.free_beds,
                "availability": r.availability,
                "reasons": [wording.why_text(x) for x in r.reasons]
                + [unverified_text(x) for x in r.unverified],
                "network": network(r.facility_id),
                "figure_age_seconds": age(r.facility_id),
            }
            for r in result.ranking.results
        ],
        # The excluded as rank keeps them (no object each): thousands of rows.
        "excluded": [
            {
                "facility_id": facility_id,
                "name": name,
                "reasons": [{"code": x.code, "message": words(x)} for x in reasons],
                "network": network(facility_id),
            }
            for facility_id, name, reasons in result.ranking.excluded.rows()
        ],
    }


def _visible_referral(request: HttpRequest, referral_id) -> tuple[object, Referral]:
    p = principal(request)
    require(p, can_view_cases)
    try:
        referral = Referral.objects.select_related("client", "from_org").get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError) as exc:
        raise Http404 from exc
    receiving = referral.targets.filter(facility__organisation_id=p.org_id).exists()
    if referral.from_org_id != p.org_id and not receiving:
        raise Http404
    return p, referral


def _out(p, referral: Referral) -> dict:
    targets = referral.targets.select_related("facility")
    if referral.from_org_id != p.org_id:  # the receiving side sees its own target only
        targets = targets.filter(facility__organisation_id=p.org_id)
    return {
        "id": str(referral.pk),
        "case_code": referral.client.case_code,
        "status": referral.status,
        "created_at": referral.created_at,
        "hold_minutes": referral.hold_minutes,
        "targets": [
            {
                "facility_id": str(t.facility_id),
                "name": t.facility.name,
                "status": "expired" if services.hold_expired(t) else t.status,
                "held": t.hold_active and not services.hold_expired(t),
                "hold_expires_at": t.hold_expires_at,
                "decline_reason": t.decline_reason,
                "no_hold_reason": (
                    "lapsed"
                    if services.hold_expired(t)
                    else ("" if t.hold_active else t.no_hold_reason)
                ),
            }
            for t in targets
        ],
    }


@router.post(
    "/referrals",
    response={201: ReferralOut, **errors(400, 403, 404, 409, 429)},
    summary="Refer a household to one or several facilities",
)
def referral_create(request: HttpRequest, payload: ReferralIn):
    p = principal(request)
    require(p, can_search_placements)
    limits.check(p, "referral_create")
    client = None  # a new case, opened with the referral (in its transaction)
    if payload.case_code:
        client = Client.objects.filter(
            case_code=payload.case_code, organisation_id=p.org_id
        ).first()
        if client is None:
            raise Http404
    referral = services.referral_create(
        by=p,
        client=client,
        household=_household(payload),
        facility_ids=payload.facility_ids,
        hold_minutes=payload.hold_minutes,
    )
    return Status(201, _out(p, referral))


@router.get(
    "/referrals/{referral_id}",
    response={200: ReferralOut, **errors(400, 403, 404)},
    summary="A referral and its targets",
)
def referral_get(request: HttpRequest, referral_id: str):
    p, referral = _visible_referral(request, referral_id)
    return _out(p, referral)


# A change of state: refused by a rule (400), by the role or side (403), unknown (404), or
# overtaken by another change (409).
CHANGE_ERRORS = errors(400, 403, 404, 409)


def _facility(facility_id: str) -> Facility:
    try:
        return Facility.objects.get(pk=facility_id)
    except (Facility.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


@router.post(
    "/referrals/{referral_id}/targets/{facility_id}/accept",
    response={200: ReferralOut, **CHANGE_ERRORS},
    summary="Accept",
)
def referral_accept(request: HttpRequest, referral_id: str, facility_id: str):
    p, referral = _visible_referral(request, referral_id)
    services.referral_accept(by=p, referral=referral, facility=_facility(facility_id))
    referral.refresh_from_db()
    return _out(p, referral)


@router.post(
    "/referrals/{referral_id}/targets/{facility_id}/decline",
    response={200: ReferralOut, **CHANGE_ERRORS},
    summary="Decline with a coded reason",
)
def referral_decline(request: HttpRequest, referral_id: str, facility_id: str, payload: DeclineIn):
    p, referral = _visible_referral(request, referral_id)
    services.referral_decline(
        by=p, referral=referral, facility=_facility(facility_id), reason=payload.reason
    )
    referral.refresh_from_db()
    return _out(p, referral)


@router.post(
    "/referrals/{referral_id}/withdraw",
    response={200: ReferralOut, **CHANGE_ERRORS},
    summary="Withdraw (sender)",
)
def referral_withdraw(request: HttpRequest, referral_id: str):
    p, referral = _visible_referral(request, referral_id)
    services.referral_withdraw(by=p, referral=referral)
    referral.refresh_from_db()
    return _out(p, referral)


@router.post(
    "/referrals/{referral_id}/arrive",
    response={200: ReferralOut, **CHANGE_ERRORS},
    summary="She arrived: the hold becomes a stay",
)
def referral_arrive(request: HttpRequest, referral_id: str):
    p, referral = _visible_referral(request, referral_id)
    services.referral_arrive(by=p, referral=referral)
    referral.refresh_from_db()
    return _out(p, referral)
