"""The PostgreSQL event recorder, with large transactions sent as several INSERT statements.

The event store writes a whole transaction as one INSERT of an array parameter, in psycopg's
pipeline mode. With psycopg 3.3.9 (libpq 18) a pipelined statement larger than about 7 MB never
completes: the client waits for a result while the server waits for the rest of the message
(``ClientRead``). An import of more than about 10,000 entries is such a transaction.

This recorder sends the same transaction (same table lock, same NOTIFY, same order) as
statements of at most ``MAX_STATEMENT_BYTES`` each. Selected with the event store's
``APPLICATION_RECORDER_TOPIC`` setting (see ``settings.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg.sql import SQL, Identifier

TOPIC = "insightlog.storage.postgres:ChunkedPostgresApplicationRecorder"
MAX_STATEMENT_BYTES = 1_000_000
ROW_OVERHEAD = 64  # id, version, topic and framing, roughly
COPY_MIN_EVENTS = 64  # saves of at least this many events are copied rather than inserted


def chunked(stored_events: Sequence[StoredEvent], limit: int = MAX_STATEMENT_BYTES) -> list[Sequence[StoredEvent]]:
    """Consecutive runs of events whose encoded size stays under ``limit`` (at least one each)."""
    chunks: list[Sequence[StoredEvent]] = []
    start = 0
    size = 0
    for i, event in enumerate(stored_events):
        cost = len(event.state) + len(event.topic) + ROW_OVERHEAD
        if i > start and size + cost > limit:
            chunks.append(stored_events[start:i])
            start, size = i, 0
        size += cost
    if start < len(stored_events):
        chunks.append(stored_events[start:])
    return chunks


class ChunkedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """``PostgresApplicationRecorder`` that never sends one huge pipelined statement."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._earlier = threading.local()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Large saves go by ``COPY ... FROM STDIN (FORMAT BINARY)``, in the transaction, under
        the table lock and with the NOTIFY the library uses; small ones by the library's INSERT."""
        # The library's ``retry`` decorator is typed as returning Any: the annotations say what comes back.
        ids: Sequence[int] | None
        if len(stored_events) < COPY_MIN_EVENTS or self.datastore.enable_db_functions:
            ids = super().insert_events(stored_events, **kwargs)
        else:
            ids = self._copy_events(stored_events)
        return ids

    # The library retries its own inserts on a dropped connection or a lock timeout; so does this.
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _copy_events(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
            curs.execute(SQL("SELECT COALESCE(MAX(notification_id), 0) AS last FROM {0}").format(table))
            row = curs.fetchone()  # an aggregate: always one row
            last = row["last"] if row is not None else 0
            copy_statement = SQL(
                "COPY {0} (originator_id, originator_version, topic, state) FROM STDIN (FORMAT BINARY)"
            ).format(table)
            with curs.copy(copy_statement) as copy:
                copy.set_types([self.datastore.originator_id_type, "int8", "text", "bytea"])
                for s in stored_events:
                    copy.write_row((s.originator_id, s.originator_version, s.topic, s.state))
            # The table lock keeps other writers out, so the rows after ``last`` are these, and
            # the sequence numbered them in the order they were copied.
            curs.execute(
                SQL("SELECT notification_id FROM {0} WHERE notification_id > %s ORDER BY notification_id").format(
                    table
                ),
                (last,),
            )
            ids = [row["notification_id"] for row in curs.fetchall()]
            if len(ids) != len(stored_events):
                raise ProgrammingError(f"copied {len(stored_events)} events but found {len(ids)} new notification ids")
        return ids

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        self._earlier.ids = []
        chunks = chunked(stored_events)
        if len(chunks) <= 1:
            super()._insert_stored_events(curs, stored_events, **kwargs)
            return
        self._lock_table(curs)
        self._notify_channel(curs)
        ids: list[int] = []
        for chunk in chunks[:-1]:
            PostgresAggregateRecorder._insert_stored_events(self, curs, chunk, **kwargs)
            ids.extend(row["notification_id"] for row in curs.fetchall())
        # The last statement's ids are read by the library after it syncs the pipeline.
        PostgresAggregateRecorder._insert_stored_events(self, curs, chunks[-1], **kwargs)
        self._earlier.ids = ids

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        last = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs) or []
        earlier: list[int] = getattr(self._earlier, "ids", [])
        self._earlier.ids = []
        return [*earlier, *last]


READ_ONLY_TOPIC = "insightlog.storage.postgres:ReadOnlyPostgresApplicationRecorder"


class ReadOnlyPostgresApplicationRecorder(ChunkedPostgresApplicationRecorder):
    """For a store opened read-only: every session of the store defaults to read-only
    transactions, so even raw SQL on the ledger's connections cannot write."""

    def __init__(self, datastore: Any, *args: Any, **kwargs: Any) -> None:
        # Before the pool opens (the first connection is made by super().__init__).
        pool_kwargs = datastore.pool.kwargs
        options = str(pool_kwargs.get("options") or "")
        pool_kwargs["options"] = f"{options} -c default_transaction_read_only=on".strip()
        super().__init__(datastore, *args, **kwargs)
