"""The SQLite event recorder, with a save's rows inserted by one ``executemany``.

The library's ``SQLiteApplicationRecorder`` inserts each row of a save with its own ``execute`` so
as to read each row's ``lastrowid`` (the notification id). In a bulk import that per-row round
trip cost more than the rest of the write (about 20 µs a row against 5 µs; see
docs/performance.md). This recorder inserts the same rows, in the same order and the same
transaction, with one ``executemany``, and derives their notification ids: the table has an
implicit ``rowid`` and rows are never deleted (the guard triggers refuse it), so SQLite gives the
rows of one transaction the consecutive ids after the largest one. The derived ids are checked
against ``last_insert_rowid()``; a mismatch rolls the transaction back.

Selected with the event store's ``APPLICATION_RECORDER_TOPIC`` setting (see ``settings.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

TOPIC = "insightlog.sqliterecorder:BatchedSQLiteApplicationRecorder"


class BatchedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """``SQLiteApplicationRecorder`` that inserts a save's rows with one ``executemany``."""

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **_: Any) -> Sequence[int] | None:
        if len(stored_events) <= 1:
            return super()._insert_events(c, stored_events)
        c.execute(self.select_max_notification_id_statement)
        last = c.fetchone()[0] or 0
        c.executemany(
            self.insert_events_statement,
            [
                (s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id, s.originator_version, s.topic, s.state)
                for s in stored_events
            ],
        )
        c.execute("SELECT last_insert_rowid()")
        final = c.fetchone()[0]
        if final != last + len(stored_events):
            # Not the consecutive ids this recorder relies on: refuse rather than misnumber.
            raise IntegrityError(f"notification ids not consecutive: expected {last + len(stored_events)}, got {final}")
        return list(range(last + 1, final + 1))
