"""Stays as a source of occupancy for the vacancy board (refuge.vacancies.availability)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from refuge.vacancies.availability import RoomUse


@cache
def _stays_sql(vendor: str) -> tuple[str, str]:
    """The statement of `stays_occupancy`, before and after the facilities' ``IN (…)``, written
    once: the ORM took longer to write it (three filtered counts over a join) than a region's
    board to run it. ``vendor`` keys the cache: quoting differs."""
    from refuge.vacancies.models import FacilityAvailability

    from .models import Stay

    q = connection.ops.quote_name
    stay, avail = Stay._meta, FacilityAvailability._meta

    def s(name: str) -> str:
        return f"s.{q(stay.get_field(name).column)}"

    out, reported = s("discharged_at"), f"a.{q(avail.get_field('reported_at').column)}"
    here = f"({out} IS NULL OR {out} > %s)"
    before = (
        f"SELECT {s('room')}, "  # noqa: S608 (names from the models, values as parameters)
        f"SUM(CASE WHEN {here} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {here} AND {s('admitted_at')} > {reported} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {out} > {reported} AND {out} <= %s AND {s('admitted_at')} <= {reported} "
        "THEN 1 ELSE 0 END) "
        f"FROM {q(stay.db_table)} s LEFT OUTER JOIN {q(avail.db_table)} a "
        f"ON a.{q(avail.get_field('facility').column)} = {s('facility')} "
        f"WHERE {s('facility')} IN ("
    )
    after = (
        f") AND {s('admitted_at')} <= %s AND ({here} OR {out} > {reported}) GROUP BY {s('room')}"
    )
    return before, after


def stays_occupancy(facility_ids: Sequence[Any], at: datetime) -> Mapping[Any, RoomUse]:
    """Per room: the stays in it at ``at``; those admitted since the facility's last hand
    report (still there); those discharged since it (admitted before it). One query for all
    facilities (a list of ids or a queryset of them). A family room with a stay counts as
    taken whatever the number, as availability expects. Room ids and counts are read as the
    database returns them: the ORM's per-row work cost the board more than the query itself."""
    from refuge.vacancies.facts import ids_in

    from .models import Stay

    facilities, params = ids_in(Stay._meta.get_field("facility"), facility_ids)
    if not facilities:
        return {}
    when = connection.ops.adapt_datetimefield_value(at)
    before, after = _stays_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(before + facilities + after, [when, when, when, *params, when, when])
        rows = cursor.fetchall()
    return {room: RoomUse(int(now), int(taken), int(freed)) for room, now, taken, freed in rows}


stays_occupancy.kind = "stays"  # type: ignore[attr-defined]


def beds_taken(room_id: Any, at: datetime) -> set[int]:
    """Bed numbers of the room taken by stays (claims for refuge.vacancies.beds): every stay not
    yet ended, whenever it began. A claim is for ``at`` and after, as a hold's is
    (refuge.referrals.hooks.active_holds): a stay admitted after ``at`` takes the bed from
    then on. Bounding it by ``admitted_at <= at`` let a service that read the clock before it
    waited for the room's lock miss the stay the lock's holder had just made of a hold, and
    hold the same bed again (the double claim seen once in CI on PostgreSQL, issue 15)."""
    from .models import Stay

    return set(
        Stay.objects.filter(room_id=room_id, discharged_at__isnull=True).values_list(
            "bed", flat=True
        )
    )
