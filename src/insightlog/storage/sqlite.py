"""The SQLite event recorder, with a save's rows inserted by one ``executemany``.

The library's ``SQLiteApplicationRecorder`` inserts each row of a save with its own ``execute`` so
as to read each row's ``lastrowid`` (the notification id). In a bulk import that per-row round
trip cost more than the rest of the write (about 20 µs a row against 5 µs; see
docs/performance.md). This recorder inserts the same rows, in the same order and the same
transaction, with one ``executemany``, and derives their notification ids: the table has an
implicit ``rowid`` and rows are never deleted (the guard triggers refuse it), so SQLite gives the
rows of one transaction the consecutive ids after the largest one. The ids are derived from
``last_insert_rowid()`` after the insert and checked (the rows of that range are the save's, and
none lies beyond it); a mismatch rolls the transaction back.

Selected with the event store's ``APPLICATION_RECORDER_TOPIC`` setting (see ``settings.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

TOPIC = "insightlog.storage.sqlite:BatchedSQLiteApplicationRecorder"


class BatchedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """``SQLiteApplicationRecorder`` that inserts a save's rows with one ``executemany``."""

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int] | None:
        if len(stored_events) <= 1:
            return super()._insert_events(c, stored_events)
        # The INSERT comes first: it takes the write lock, waiting for it as any write does (a
        # read first would make it an upgrade, which SQLite refuses at once when busy).
        c.executemany(
            self.insert_events_statement,
            [
                (
                    s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for s in stored_events
            ],
        )
        # The save's rows are the only ones above the id before it: as many of them as events,
        # ending at the last inserted.
        c.execute(
            f"SELECT last_insert_rowid(), COUNT(*), MAX(rowid) FROM {self.events_table_name} WHERE rowid > last_insert_rowid() - ?",
            (len(stored_events),),
        )
        final, count, highest = c.fetchone()
        first = final - len(stored_events) + 1
        if count != len(stored_events) or highest != final:
            # Not the consecutive ids this recorder relies on: refuse (rolled back) rather than misnumber.
            raise ProgrammingError(f"notification ids of a save are not consecutive ({count} rows in {first}..{final})")
        return list(range(first, final + 1))
