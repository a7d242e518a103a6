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


# Other apps' rows that hold a bed (refuge.federation: a peer network's referral accepted
# here). Each model has ``facility``, ``hold_room``, ``hold_bed``, ``held_at`` and
# ``hold_active``; a row holds its bed while ``hold_active`` is true, with no expiry. They are
# read in the same statement as the referral targets' holds, so the board and the search ask
# no more queries for them.
_HOLD_TABLES: list[Any] = []


def register_hold_table(model: Any) -> None:
    if model not in _HOLD_TABLES:
        _HOLD_TABLES.append(model)


@cache
def _holds_sql(vendor: str, tables: tuple[Any, ...]) -> tuple[str, ...]:
    """The statement of `holds_occupancy` (``active_holds`` in SQL, and the registered hold
    tables' active rows), in parts to be joined by the facilities' list or subquery (once for
    the referral targets, once for each table), written once: the ORM took longer to write it
    than a region's board to run it. ``vendor`` keys the cache (quoting differs), and so do
    the tables registered."""
    from refuge.vacancies.models import FacilityAvailability

    from .models import ReferralTarget

    q = connection.ops.quote_name
    avail = FacilityAvailability._meta

    def col(model: Any, alias: str, name: str) -> str:
        return f"{alias}.{q(model._meta.get_field(name).column)}"

    def t(name: str) -> str:
        return col(ReferralTarget, "t", name)

    reported = f"a.{q(avail.get_field('reported_at').column)}"
    parts = [
        f"SELECT h.room, COUNT(*), SUM(CASE WHEN h.held_at > {reported} THEN 1 ELSE 0 END) "  # noqa: S608 (names from the models; values as parameters)
        f"FROM (SELECT {t('hold_room')} AS room, {t('facility')} AS facility, "
        f"{t('held_at')} AS held_at FROM {q(ReferralTarget._meta.db_table)} t "
        f"WHERE {t('hold_active')} = %s AND ({t('status')} = %s "
        f"OR ({t('status')} = %s AND {t('hold_expires_at')} > %s)) "
        f"AND {t('facility')} IN ("
    ]
    for model in tables:
        parts.append(
            f") UNION ALL SELECT {col(model, 'x', 'hold_room')}, {col(model, 'x', 'facility')}, "  # noqa: S608
            f"{col(model, 'x', 'held_at')} FROM {q(model._meta.db_table)} x "
            f"WHERE {col(model, 'x', 'hold_active')} = %s AND {col(model, 'x', 'facility')} IN ("
        )
    parts.append(
        f")) h LEFT OUTER JOIN {q(avail.db_table)} a "
        f"ON a.{q(avail.get_field('facility').column)} = h.facility GROUP BY h.room"
    )
    return tuple(parts)


def holds_occupancy(facility_ids: Sequence[Any], at: datetime) -> Mapping[Any, RoomUse]:
    """Per room: the holds that count at ``at`` (`active_holds`, and the registered hold
    tables' active rows), and those of them placed since the facility's last hand report (a
    hold that lapsed or ended in an arrival no longer counts: the arrival is a stay). The
    facilities as a list of ids or a queryset of them. One query. Read as the database returns
    them."""
    from refuge.vacancies.facts import ids_in

    from .models import ReferralTarget

    status = ReferralTarget.Status
    facilities, params = ids_in(ReferralTarget._meta.get_field("facility"), facility_ids)
    if not facilities:
        return {}
    when = connection.ops.adapt_datetimefield_value(at)
    tables = tuple(_HOLD_TABLES)
    args: list[Any] = [True, status.ACCEPTED.value, status.HOLDING.value, when, *params]
    for _table in tables:
        args += [True, *params]
    with connection.cursor() as cursor:
        cursor.execute(facilities.join(_holds_sql(connection.vendor, tables)), args)
        rows = cursor.fetchall()
    return {room: RoomUse(int(now), int(taken or 0), 0) for room, now, taken in rows}


holds_occupancy.kind = "holds"  # type: ignore[attr-defined]


def beds_held(room_id: Any, at: datetime) -> set[int]:
    from .models import ReferralTarget

    held = set(
        ReferralTarget.objects.filter(active_holds(at), hold_room_id=room_id).values_list(
            "hold_bed", flat=True
        )
    )
    for model in _HOLD_TABLES:
        held.update(
            model.objects.filter(hold_room_id=room_id, hold_active=True).values_list(
                "hold_bed", flat=True
            )
        )
    return held


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
