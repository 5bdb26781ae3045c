"""The stored rows exactly as the database holds them, for ``verify`` (ADR 0017).

The event store's own readers build typed objects from each row (a ``UUID`` from the id column,
an ``int`` version) and fail on a damaged one; they also skip rows a reader does not ask for (a
topic it does not know, a notification id below 1). ``verify`` must see every row, damaged or
not, so it reads the tables here with plain SQL and gets each column as stored: the notification
id, the originator id as text (SQLite: 32 hex digits, as the library writes it; PostgreSQL: the
canonical dashed form of its ``uuid`` column), the version, the topic and the state bytes, each
of whatever type the database returns. Nothing here interprets a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

PAGE = 2000
LOWEST = -(2**63)  # below any notification id either database can hold


class EventRow(NamedTuple):
    """One row of the event table, each column as the database returned it."""

    notification_id: Any
    originator_id: Any
    originator_version: Any
    topic: Any
    state: Any


class SnapshotRow(NamedTuple):
    """One row of the snapshot table."""

    originator_id: Any
    originator_version: Any
    topic: Any
    state: Any


def id_form(ledger: Any) -> str:
    """How this store's id column writes a UUID: ``hex`` (SQLite), ``dashed`` (PostgreSQL and
    the in-memory store)."""
    return "hex" if ledger.backend.name == "sqlite" else "dashed"


def event_rows(ledger: Any, page: int = PAGE) -> Iterator[EventRow]:
    """Every row of the event table in notification-id order, from the lowest id there is."""
    name = ledger.backend.name
    if name == "sqlite":
        yield from _sqlite_rows(ledger.recorder, page)
    elif name == "postgres":
        yield from _postgres_rows(ledger.recorder, page)
    else:
        yield from _memory_rows(ledger.recorder)


def snapshot_rows(ledger: Any) -> list[SnapshotRow]:
    """Every row of the snapshot table (none when snapshotting is off), in id and version order."""
    store = getattr(ledger, "snapshots", None)
    if store is None:
        return []
    recorder = store.recorder
    name = ledger.backend.name
    if name == "sqlite":
        table = recorder.events_table_name  # the snapshot store's recorder keeps its rows in its own table
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY originator_id, originator_version"
            )
            return [SnapshotRow(r[0], r[1], r[2], r[3]) for r in c.fetchall()]
    if name == "postgres":
        from psycopg.sql import SQL, Identifier

        statement = SQL(
            "SELECT originator_id::text AS oid, originator_version AS v, topic AS t, state AS s FROM {0}.{1} "
            "ORDER BY originator_id, originator_version"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            return [SnapshotRow(r["oid"], r["v"], r["t"], _bytes(r["s"])) for r in curs.fetchall()]
    return [
        SnapshotRow(str(s.originator_id), s.originator_version, s.topic, s.state)
        for s in list(getattr(recorder, "_stored_events", []))
    ]


def _sqlite_rows(recorder: Any, page: int) -> Iterator[EventRow]:
    table = recorder.events_table_name
    statement = f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    last = LOWEST
    while True:
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(statement, (last, page))
            rows = [EventRow(r[0], r[1], r[2], r[3], r[4]) for r in c.fetchall()]
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1].notification_id


def _postgres_rows(recorder: Any, page: int) -> Iterator[EventRow]:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT notification_id AS n, originator_id::text AS oid, originator_version AS v, topic AS t, state AS s "
        "FROM {0}.{1} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
    last = LOWEST
    while True:
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (last, page))
            rows = [EventRow(r["n"], r["oid"], r["v"], r["t"], _bytes(r["s"])) for r in curs.fetchall()]
        yield from rows
        if len(rows) < page:
            return
        last = rows[-1].notification_id


def _memory_rows(recorder: Any) -> Iterator[EventRow]:
    for number, stored in enumerate(list(getattr(recorder, "_stored_events", [])), start=1):
        yield EventRow(number, str(stored.originator_id), stored.originator_version, stored.topic, stored.state)


def _bytes(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value
