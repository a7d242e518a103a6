# ruff: noqa: S608 - SQL built from the models' own table and column names; values are parameters
"""The SQL of the PBX event hot path, written once and reused (SPEC.md P: 500 events/s on two
cores). Everything else in the app uses the ORM.

Why not the ORM here: compiling a query on the 31-column Call model costs about 0.7 ms of
Python per statement; an event needs four statements, so the ORM alone would cap ingestion
near 250 events/s on two cores. These statements are plain, portable SQL (SQLite and
PostgreSQL), built from the model's own column names, and values go through each field's
``get_db_prep_save``, so the stored values are exactly what the ORM would store.

Statements are prepared on PostgreSQL (see `_cursor`). Locking: on PostgreSQL the call's row is read ``FOR UPDATE OF`` the call table (the line is
joined, and may be missing); SQLite has no row locks, and the IMMEDIATE transaction holds the
database's write lock instead.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Call, CallEvent, Line, OperatorExtension

# Columns the hot path reads and writes (the rest only change through the ORM).
_WRITE = [
    "organisation",
    "line",
    "direction",
    "state",
    "operator_group",
    "operator_extension",
    "answered_by",
    "created_at",
    "forwarded_at",
    "answered_at",
    "ended_at",
    "answered",
    "wait_seconds",
    "talk_seconds",
    "disconnect_reason",
    "entry_result",
    "has_summary",
    "caller_key",
    "caller_known",
    "caller_region",
    "region_source",
    "out_of_region",
    "aggregate",
    "event_count",
    "updated_at",
]
_READ_CALL = [
    "id",
    "entry_id",
    "organisation",
    "line",
    "answered_by",
    "state",
    "direction",
    "operator_extension",
    "caller_key",
    "caller_known",
    "caller_region",
    "region_source",
    "out_of_region",
    "event_count",
    "aggregate",
]
_READ_LINE = ["organisation", "default_country", "region", "service_area", "region_from_line"]
_EVENT = ["call", "kind", "leg_id", "seq", "state", "location", "at", "received_at"]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


@cache
def _sql(vendor: str) -> dict[str, str]:
    call, line, event = Call._meta.db_table, Line._meta.db_table, CallEvent._meta.db_table
    c = [f"c.{_q(_col(Call, n))}" for n in _READ_CALL]
    ln = [f"l.{_q(_col(Line, n))}" for n in _READ_LINE]
    where = f"c.{_q('provider')} = %s AND c.{_q('entry_id')} = %s"
    lock = " FOR UPDATE OF c" if vendor == "postgresql" else ""
    insert_cols = ["provider", "entry_id", *_WRITE, "repeat_caller", "received_at"]
    return {
        "lock": (
            f"SELECT {', '.join(c + ln)} FROM {_q(call)} c "
            f"LEFT JOIN {_q(line)} l ON l.{_q('id')} = c.{_q(_col(Call, 'line'))} "
            f"WHERE {where}{lock}"
        ),
        "insert": (
            f"INSERT INTO {_q(call)} ({', '.join(_q(_col(Call, n)) for n in insert_cols)}) "
            f"VALUES ({', '.join(['%s'] * len(insert_cols))}) "
            f"ON CONFLICT ({_q('provider')}, {_q('entry_id')}) DO NOTHING"
        ),
        "update": (
            f"UPDATE {_q(call)} SET "
            + ", ".join(f"{_q(_col(Call, n))} = %s" for n in _WRITE)
            + f" WHERE {_q('id')} = %s"
        ),
        "repeats": (
            f"SELECT {_q('id')}, {_q('created_at')}, {_q('provider')}, {_q('entry_id')}, "
            f"{_q('direction')}, {_q('repeat_caller')} FROM {_q(call)} "
            f"WHERE {_q('caller_key')} = %s "
            f"AND {_q('created_at')} >= %s AND {_q('created_at')} <= %s"
        ),
        "event": (
            f"INSERT INTO {_q(event)} ({', '.join(_q(_col(CallEvent, n)) for n in _EVENT)}) "
            f"VALUES ({', '.join(['%s'] * len(_EVENT))})"
        ),
        "line": (
            f"SELECT {_q('id')}, {', '.join(_q(_col(Line, n)) for n in _READ_LINE)} "
            f"FROM {_q(line)} WHERE {_q('number')} = %s"
        ),
        "extension": (
            f"SELECT {_q('user_id')} FROM {_q(OperatorExtension._meta.db_table)} "
            f"WHERE {_q('identity')} = %s"
        ),
    }


def _cursor():
    """On PostgreSQL, a server-side-binding cursor on Django's own connection (so inside the
    same transaction): psycopg prepares a statement after a few runs, and PostgreSQL then
    skips parsing and planning it for every event. Elsewhere, Django's cursor."""
    if connection.vendor == "postgresql":
        import psycopg

        connection.ensure_connection()
        return psycopg.Cursor(connection.connection)
    return connection.cursor()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _from_row(provider: str, row: tuple) -> Call:
    v = dict(zip(_READ_CALL, row[: len(_READ_CALL)], strict=True))
    call = Call(
        id=v["id"],
        provider=provider,
        entry_id=v["entry_id"],
        organisation_id=v["organisation"],
        line_id=v["line"],
        answered_by_id=v["answered_by"],
        state=v["state"],
        direction=v["direction"],
        operator_extension=v["operator_extension"],
        caller_key=v["caller_key"],
        caller_known=bool(v["caller_known"]),
        caller_region=v["caller_region"],
        region_source=v["region_source"],
        out_of_region=None if v["out_of_region"] is None else bool(v["out_of_region"]),
        event_count=v["event_count"],
        aggregate=_json(v["aggregate"]),
    )
    if v["line"] is not None:
        line_values = dict(zip(_READ_LINE, row[len(_READ_CALL) :], strict=True))
        call.line = Line(
            id=v["line"],
            organisation_id=line_values["organisation"],
            default_country=line_values["default_country"],
            region=line_values["region"],
            service_area=line_values["service_area"],
            region_from_line=bool(line_values["region_from_line"]),
        )
    return call


@cache
def _fields(model, names: tuple[str, ...]) -> list:
    return [model._meta.get_field(name) for name in names]


def _prep(model, names: list[str], obj) -> list[Any]:
    return [
        f.get_db_prep_save(getattr(obj, f.attname), connection)
        for f in _fields(model, tuple(names))
    ]


def lock(provider: str, entry_id: str) -> Call:
    """The call's row, locked until the transaction ends; created first if it is new.

    Two first events of one call at once: one INSERT wins, the other's waits for it and does
    nothing (PostgreSQL), then both read the row; SQLite's write lock orders them anyway.
    The returned Call is not saved by the ORM: `save` writes it.
    """
    sql = _sql(connection.vendor)
    with _cursor() as cur:
        cur.execute(sql["lock"], [provider, entry_id])
        row = cur.fetchone()
        if row is None:
            now = timezone.now()
            fresh = Call(provider=provider, entry_id=entry_id, updated_at=now, received_at=now)
            cur.execute(
                sql["insert"],
                _prep(
                    Call, ["provider", "entry_id", *_WRITE, "repeat_caller", "received_at"], fresh
                ),
            )
            cur.execute(sql["lock"], [provider, entry_id])
            row = cur.fetchone()
    return _from_row(provider, row)


def save(call: Call, event: CallEvent) -> None:
    """Write the call and its new event; one statement on PostgreSQL, two on SQLite."""
    call.updated_at = event.received_at = timezone.now()
    sql = _sql(connection.vendor)
    update = [*_prep(Call, _WRITE, call), call.pk]
    insert = _prep(CallEvent, _EVENT, event)
    with _cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"WITH e AS ({sql['event']}) {sql['update']}", [*insert, *update])
        else:
            cur.execute(sql["event"], insert)
            cur.execute(sql["update"], update)


def line(key: str) -> Line | None:
    with _cursor() as cur:
        cur.execute(_sql(connection.vendor)["line"], [key])
        row = cur.fetchone()
    if row is None:
        return None
    values = dict(zip(_READ_LINE, row[1:], strict=True))
    return Line(
        id=row[0],
        number=key,
        organisation_id=values["organisation"],
        default_country=values["default_country"],
        region=values["region"],
        service_area=values["service_area"],
        region_from_line=bool(values["region_from_line"]),
    )


def extension_user(identity: str) -> int | None:
    with _cursor() as cur:
        cur.execute(_sql(connection.vendor)["extension"], [identity])
        row = cur.fetchone()
    return row[0] if row else None


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite keeps datetimes as text, in UTC
        value = parse_datetime(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def caller_calls(key: str, lo: datetime, hi: datetime) -> list[tuple]:
    """(pk, created_at, provider, entry_id, direction, repeat_caller) of one caller's calls."""
    adapt = connection.ops.adapt_datetimefield_value
    with _cursor() as cur:
        cur.execute(_sql(connection.vendor)["repeats"], [key, adapt(lo), adapt(hi)])
        rows = cur.fetchall()
    return [(pk, _aware(created), p, e, d, bool(flag)) for pk, created, p, e, d, flag in rows]
