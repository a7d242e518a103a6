"""How referrals plug into the other apps: held beds, the address grant, client visibility."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from refuge.vacancies.availability import RoomUse


def active_holds(at: datetime) -> Q:
    """Holds that count at ``at``: holding and unexpired, or accepted (until arrival). A hold
    placed after ``at`` counts too (its expiry lies after ``at``)."""
    return Q(hold_active=True) & (
        Q(status="accepted") | Q(status="holding", hold_expires_at__gt=at)
    )


@cache
def _holds_sql(vendor: str) -> tuple[str, str]:
    """The statement of `holds_occupancy` (``active_holds`` in SQL), before and after the
    facilities' ``IN (…)``, written once: the ORM took longer to write it than a region's board
    to run it. ``vendor`` keys the cache: quoting differs."""
    from refuge.vacancies.models import FacilityAvailability

    from .models import ReferralTarget

    q = connection.ops.quote_name
    target, avail = ReferralTarget._meta, FacilityAvailability._meta

    def t(name: str) -> str:
        return f"t.{q(target.get_field(name).column)}"

    reported = f"a.{q(avail.get_field('reported_at').column)}"
    before = (
        f"SELECT {t('hold_room')}, COUNT(*), "  # noqa: S608 (names from the models; values as parameters)
        f"SUM(CASE WHEN {t('held_at')} > {reported} THEN 1 ELSE 0 END) "
        f"FROM {q(target.db_table)} t LEFT OUTER JOIN {q(avail.db_table)} a "
        f"ON a.{q(avail.get_field('facility').column)} = {t('facility')} "
        f"WHERE {t('hold_active')} = %s AND ({t('status')} = %s "
        f"OR ({t('status')} = %s AND {t('hold_expires_at')} > %s)) "
        f"AND {t('facility')} IN ("
    )
    return before, f") GROUP BY {t('hold_room')}"


def holds_occupancy(facility_ids: Sequence[Any], at: datetime) -> Mapping[Any, RoomUse]:
    """Per room: the holds that count at ``at`` (`active_holds`), and those of them placed
    since the facility's last hand report (a hold that lapsed or ended in an arrival no longer
    counts: the arrival is a stay). The facilities as a list of ids or a queryset of them. Read
    as the database returns them."""
    from refuge.vacancies.facts import ids_in

    from .models import ReferralTarget

    status = ReferralTarget.Status
    facilities, params = ids_in(ReferralTarget._meta.get_field("facility"), facility_ids)
    if not facilities:
        return {}
    when = connection.ops.adapt_datetimefield_value(at)
    before, after = _holds_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(
            before + facilities + after,
            [True, status.ACCEPTED.value, status.HOLDING.value, when, *params],
        )
        rows = cursor.fetchall()
    return {room: RoomUse(int(now), int(taken or 0), 0) for room, now, taken in rows}


holds_occupancy.kind = "holds"  # type: ignore[attr-defined]


def beds_held(room_id: Any, at: datetime) -> set[int]:
    from .models import ReferralTarget

    return set(
        ReferralTarget.objects.filter(active_holds(at), hold_room_id=room_id).values_list(
            "hold_bed", flat=True
        )
    )


def carries_out_placement(p, facility) -> bool:
    """The people named on a current relocation to this facility may see its address."""
    from .models import Relocation

    if p.user is None:
        return False
    now = timezone.now()
    current = Relocation.objects.filter(
        carriers=p.user,
        arrived_at__isnull=True,
        referral__status="accepted",
        referral__accepted_target__facility=facility,
    ).only("arrives_at", "departs_at", "created_at")
    # Not forever if she never arrives: the window closes after the expected arrival.
    return any(r.carriers_see_address_until > now for r in current)


def clients_referred_to(p) -> Q:
    """Clients with an accepted referral to one of the principal's organisation's facilities."""
    return Q(
        referrals__status="accepted", referrals__accepted_target__facility__organisation_id=p.org_id
    )
