# ruff: noqa: S608 - SQL built from the models' own table and column names; values are parameters
"""The SQL of the PBX event hot path, written once and reused (SPEC.md P: 500 events/s on two
cores). Everything else in the app uses the ORM.

Why not the ORM here: compiling a query on the 31-column Call model costs about 0.7 ms of
Python per statement. These statements are plain SQL built from the model's own column names,
and values go through each field's ``get_db_prep_save``, so the stored values are exactly what
the ORM would store.

An event costs two round trips to PostgreSQL, and no transaction of its own:
1. `read`: the call (if any), its line, the line named by the event (if the call has none
   yet) and the member of staff behind the event's extension, in one SELECT;
2. `write`: one statement that updates the call only if nobody else has since (its
   ``event_count`` is the version) and inserts the event row from the update's result, or,
   for a new call, inserts the call (ON CONFLICT DO NOTHING) and the event from that. A
   statement is atomic, so either both rows change or neither; when the version moved (two
   events of one call at once), the caller reads again and re-folds (optimistic concurrency).
A duplicate costs the read alone. Before, an event took BEGIN, SELECT … FOR UPDATE, the
UPDATE with the event and COMMIT: four round trips, with the row locked across them.

On SQLite (no DML in a WITH, and one writer at a time anyway) the caller runs both steps in
its IMMEDIATE transaction, which holds the database's write lock: the version never moves.
Statements are prepared on PostgreSQL (see `_cursor`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Call, CallEvent, Line, OperatorExtension, PendingEvent

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
_INSERT = ["provider", "entry_id", *_WRITE, "repeat_caller", "received_at"]


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
    insert_cols = _INSERT
    nl = [f"nl.{_q('id')}", f"nl.{_q('number')}"] + [f"nl.{_q(_col(Line, n))}" for n in _READ_LINE]
    ext = (
        f"(SELECT {_q('user_id')} FROM {_q(OperatorExtension._meta.db_table)} "
        f"WHERE {_q('identity')} = %s)"
    )
    call_cols = ", ".join(_q(_col(Call, n)) for n in insert_cols)
    event_cols = ", ".join(_q(_col(CallEvent, n)) for n in _EVENT)
    event_params = ", ".join(["%s"] * (len(_EVENT) - 1))
    set_cols = ", ".join(f"{_q(_col(Call, n))} = %s" for n in _WRITE)
    return {
        "read": (
            f"SELECT {', '.join(c + ln + nl)}, {ext} FROM (SELECT 1 AS one) x "
            f"LEFT JOIN {_q(call)} c ON {where} "
            f"LEFT JOIN {_q(line)} l ON l.{_q('id')} = c.{_q(_col(Call, 'line'))} "
            f"LEFT JOIN {_q(line)} nl ON nl.{_q('number')} = %s"
        ),
        "insert_plain": (
            f"INSERT INTO {_q(call)} ({call_cols}) VALUES ({', '.join(['%s'] * len(insert_cols))})"
        ),
        "insert_new": (
            f"WITH c AS (INSERT INTO {_q(call)} ({call_cols}) "
            f"VALUES ({', '.join(['%s'] * len(insert_cols))}) "
            f"ON CONFLICT ({_q('provider')}, {_q('entry_id')}) DO NOTHING RETURNING {_q('id')}) "
            f"INSERT INTO {_q(event)} ({event_cols}) SELECT c.{_q('id')}, {event_params} FROM c "
            f"RETURNING {_q(_col(CallEvent, 'call'))}"
        ),
        "update_versioned": (
            f"WITH u AS (UPDATE {_q(call)} SET {set_cols} WHERE {_q('id')} = %s "
            f"AND {_q('event_count')} = %s RETURNING {_q('id')}) "
            f"INSERT INTO {_q(event)} ({event_cols}) SELECT u.{_q('id')}, {event_params} FROM u "
            f"RETURNING {_q(_col(CallEvent, 'call'))}"
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
        call.line = _line_from((v["line"], "", *row[len(_READ_CALL) :]))
    return call


@cache
def _fields(model, names: tuple[str, ...]) -> list:
    return [model._meta.get_field(name) for name in names]


def _prep(model, names: list[str], obj) -> list[Any]:
    if connection.vendor == "postgresql":
        return _prep_pg(model, tuple(names), obj)
    return [
        f.get_db_prep_save(getattr(obj, f.attname), connection)
        for f in _fields(model, tuple(names))
    ]


@cache
def _pg_plan(model, names: tuple[str, ...]) -> list[tuple[str, bool]]:
    """(attribute, is JSON) for each column. These columns hold str, int, bool, aware
    datetimes, ids and one JSON document, which psycopg adapts as the ORM's preparation would
    (test_store checks that both store the same); the ORM's own preparation costs about 40 µs
    a field, a third of an event's writing."""
    plan = []
    for f in _fields(model, names):
        if f.get_internal_type() not in _PLAIN_TYPES:
            raise TypeError(f"{model.__name__}.{f.name} needs the ORM's preparation")
        plan.append((f.attname, f.get_internal_type() == "JSONField"))
    return plan


_PLAIN_TYPES = {
    "CharField",
    "BooleanField",
    "PositiveIntegerField",
    "BigIntegerField",
    "DateTimeField",
    "ForeignKey",
    "JSONField",
}


def _prep_pg(model, names: tuple[str, ...], obj) -> list[Any]:
    return [
        json.dumps(getattr(obj, attname)) if is_json else getattr(obj, attname)
        for attname, is_json in _pg_plan(model, names)
    ]


@dataclass
class Snapshot:
    """What `read` found: the call (None if new), the line the event names (looked up only
    for a call without one) and the user behind the event's extension (None if none)."""

    call: Call | None
    line: Line | None
    identity_user: int | None


def _line_from(values: tuple) -> Line | None:
    if values[0] is None:
        return None
    v = dict(zip(["id", "number", *_READ_LINE], values, strict=True))
    return Line(
        id=v["id"],
        number=v["number"],
        organisation_id=v["organisation"],
        default_country=v["default_country"],
        region=v["region"],
        service_area=v["service_area"],
        region_from_line=bool(v["region_from_line"]),
    )


def read(provider: str, entry_id: str, line_key: str, identity: str) -> Snapshot:
    n_call, n_line = len(_READ_CALL), len(_READ_LINE)
    with _cursor() as cur:
        cur.execute(_sql(connection.vendor)["read"], [identity, provider, entry_id, line_key])
        row = cur.fetchone()
    call = _from_row(provider, row[: n_call + n_line]) if row[0] is not None else None
    named = _line_from(row[n_call + n_line : n_call + n_line + 2 + n_line])
    return Snapshot(call, named, row[-1])


@dataclass(slots=True)
class NewEvent:
    """A CallEvent row to insert: its columns as attributes (a model instance cost more to
    make than the rest of merging the event, profiled)."""

    kind: str
    leg_id: str
    seq: int
    state: str
    location: str
    at: datetime
    received_at: datetime | None = None


def write(call: Call, events: list[NewEvent], *, version: int | None) -> bool:
    """Store the call and its new events. ``version`` is the ``event_count`` the call had when
    it was read (None: a new call). False if another event of the call got there first (read
    again); on SQLite, inside its IMMEDIATE transaction, always True. The first event goes in
    with the call's statement; any more (a batch, inside the merger's transaction) after it."""
    sql = _sql(connection.vendor)
    now = timezone.now()
    call.updated_at = now
    for event in events:
        event.received_at = now
    first = _prep(CallEvent, _EVENT[1:], events[0])
    with _cursor() as cur:
        if connection.vendor != "postgresql":
            if version is None:
                call.received_at = now
                cur.execute(sql["insert_plain"], _prep(Call, _INSERT, call))
                call.pk = cur.lastrowid
            else:
                cur.execute(sql["update"], [*_prep(Call, _WRITE, call), call.pk])
            row: Any = (call.pk,)
        elif version is None:
            call.received_at = now
            cur.execute(sql["insert_new"], [*_prep(Call, _INSERT, call), *first])
            row = cur.fetchone()
        else:
            cur.execute(
                sql["update_versioned"],
                [*_prep(Call, _WRITE, call), call.pk, version, *first],
            )
            row = cur.fetchone()
        if row is None:
            return False
        call.pk = row[0]
        rest = events if connection.vendor != "postgresql" else events[1:]
        if rest:  # psycopg sends these in one pipeline
            cur.executemany(
                sql["event"], [[call.pk, *_prep(CallEvent, _EVENT[1:], e)] for e in rest]
            )
    return True


# --- batched ingest: the pending events (services.event_accept, services.pending_merge) ----

_MERGE_LOCK = 0x68_6F_74_6C  # "hotl": PostgreSQL advisory lock key of the one merger


MAX_MERGE_ATTEMPTS = 5


@cache
def _pending_insert(vendor: str) -> str:
    return (
        f"INSERT INTO {_q(PendingEvent._meta.db_table)} ({_q('payload')}, "
        f"{_q('received_at')}, {_q('attempts')}) VALUES (%s, %s, 0)"
    )


def pending_add(payload: str, at: datetime) -> None:
    with _cursor() as cur:
        cur.execute(_pending_insert(connection.vendor), [payload, _time(at)])


def pending_add_many(rows: list[tuple[str, int]], at: datetime) -> int:
    """Events that could not be merged, back at the end of the list with one more failed
    attempt; set aside (``stuck_at``) after `MAX_MERGE_ATTEMPTS`. Returns how many were."""
    stuck = 0
    with _cursor() as cur:
        for payload, attempts in rows:
            attempts += 1
            set_aside = attempts >= MAX_MERGE_ATTEMPTS
            stuck += set_aside
            cur.execute(
                f"INSERT INTO {_q(PendingEvent._meta.db_table)} ({_q('payload')}, "
                f"{_q('received_at')}, {_q('attempts')}, {_q('stuck_at')}) "
                "VALUES (%s, %s, %s, %s)",
                [payload, _time(at), attempts, _time(at) if set_aside else None],
            )
    return stuck


def _time(at: datetime) -> Any:
    return at if connection.vendor == "postgresql" else _sqlite_time(at)


def _sqlite_time(at: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(at)


def merge_lock() -> bool:
    """Inside the merger's transaction: True if no other merger is running (PostgreSQL's
    advisory lock, released at commit). SQLite's IMMEDIATE transaction already holds the
    database's one write lock."""
    if connection.vendor != "postgresql":
        return True
    with _cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [_MERGE_LOCK])
        return bool(cur.fetchone()[0])


def pending_take(limit: int) -> list[tuple[str, int]]:
    """The oldest ``limit`` pending events not set aside, as (payload, failed attempts),
    deleted in the caller's transaction."""
    table = _q(PendingEvent._meta.db_table)
    waiting = f"{_q('stuck_at')} IS NULL"
    with _cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                f"DELETE FROM {table} WHERE {_q('id')} IN (SELECT {_q('id')} FROM {table} "
                f"WHERE {waiting} ORDER BY {_q('id')} LIMIT %s) "
                f"RETURNING {_q('id')}, {_q('payload')}, {_q('attempts')}",
                [limit],
            )
            rows = sorted(cur.fetchall())
        else:
            cur.execute(
                f"SELECT {_q('id')}, {_q('payload')}, {_q('attempts')} FROM {table} "
                f"WHERE {waiting} ORDER BY {_q('id')} LIMIT %s",
                [limit],
            )
            rows = cur.fetchall()
            if rows:
                cur.execute(
                    f"DELETE FROM {table} WHERE {_q('id')} <= %s AND {waiting}", [rows[-1][0]]
                )
    return [(payload, attempts) for _id, payload, attempts in rows]


def pending_count() -> int:
    """Events waiting to be merged (not those set aside)."""
    with _cursor() as cur:
        cur.execute(
            f"SELECT count(*) FROM {_q(PendingEvent._meta.db_table)} WHERE {_q('stuck_at')} IS NULL"
        )
        return cur.fetchone()[0]


def line(key: str) -> Line | None:
    with _cursor() as cur:
        cur.execute(_sql(connection.vendor)["line"], [key])
        row = cur.fetchone()
    return None if row is None else _line_from((row[0], key, *row[1:]))


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
