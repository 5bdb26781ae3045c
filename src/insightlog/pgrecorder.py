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

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder

TOPIC = "insightlog.pgrecorder:ChunkedPostgresApplicationRecorder"
MAX_STATEMENT_BYTES = 1_000_000
ROW_OVERHEAD = 64  # id, version, topic and framing, roughly


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

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        last = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs) or []
        earlier: list[int] = getattr(self._earlier, "ids", [])
        self._earlier.ids = []
        return [*earlier, *last]


READ_ONLY_TOPIC = "insightlog.pgrecorder:ReadOnlyPostgresApplicationRecorder"


class ReadOnlyPostgresApplicationRecorder(ChunkedPostgresApplicationRecorder):
    """For a store opened read-only: every session of the store defaults to read-only
    transactions, so even raw SQL on the ledger's connections cannot write."""

    def __init__(self, datastore: Any, *args: Any, **kwargs: Any) -> None:
        # Before the pool opens (the first connection is made by super().__init__).
        pool_kwargs = datastore.pool.kwargs
        options = str(pool_kwargs.get("options") or "")
        pool_kwargs["options"] = f"{options} -c default_transaction_read_only=on".strip()
        super().__init__(datastore, *args, **kwargs)
