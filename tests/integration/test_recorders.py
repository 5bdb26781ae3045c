"""The event recorders insightlog selects: a save's rows in one executemany (SQLite) or one COPY
(PostgreSQL), numbered exactly as the notification log reads them back, all or nothing."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from insightlog.storage.postgres import COPY_MIN_EVENTS, MAX_STATEMENT_BYTES


def _events(
    count: int, *, size: int = 40, stream: uuid.UUID | None = None, first_version: int = 1
) -> list[StoredEvent]:
    events = []
    for i in range(count):
        originator = stream or uuid.uuid4()
        version = first_version + i if stream else 1
        events.append(
            StoredEvent(
                originator_id=originator,
                originator_version=version,
                topic=f"test:Event{i % 3}",
                state=bytes([i % 251]) * size,
            )
        )
    return events


def _log(ledger) -> list[tuple[int, uuid.UUID, int, bytes]]:  # type: ignore[no-untyped-def]
    rows = ledger.recorder.select_notifications(1, 100_000)
    return [(n.id, uuid.UUID(str(n.originator_id)), n.originator_version, n.state) for n in rows]


def test_saves_of_every_size_get_the_notification_ids_the_log_reads_back(ledger_factory) -> None:  # type: ignore[no-untyped-def]
    ledger = ledger_factory()
    saves = [
        _events(1),
        _events(COPY_MIN_EVENTS + 37),
        _events(5),
        _events(3 * COPY_MIN_EVENTS, stream=uuid.uuid4()),
        _events(2),
    ]
    returned: list[int] = []
    written: list[StoredEvent] = []
    for save in saves:
        ids = ledger.recorder.insert_events(save)
        assert ids is not None and len(ids) == len(save)
        returned.extend(ids)
        written.extend(save)
    log = _log(ledger)
    assert [row[0] for row in log] == returned
    assert returned == sorted(returned) and len(set(returned)) == len(returned)
    assert [(row[1], row[2], row[3]) for row in log] == [
        (uuid.UUID(str(e.originator_id)), e.originator_version, e.state) for e in written
    ]


@pytest.mark.parametrize("count", [10, COPY_MIN_EVENTS + 1])
def test_a_save_that_conflicts_anywhere_writes_none_of_its_rows(ledger_factory, count: int) -> None:  # type: ignore[no-untyped-def]
    ledger = ledger_factory()
    stream = uuid.uuid4()
    ledger.recorder.insert_events(_events(count, stream=stream))
    before = _log(ledger)
    # Fresh rows, then one that repeats an existing (stream, version) at the very end.
    clashing = [*_events(count - 1), *_events(1, stream=stream, first_version=count)]
    with pytest.raises(IntegrityError):
        ledger.recorder.insert_events(clashing)
    assert _log(ledger) == before
    # The store still takes the next save, numbered after what it holds.
    ids = ledger.recorder.insert_events(_events(count))
    assert ids is not None and min(ids) > before[-1][0]


@pytest.mark.postgres
def test_a_save_larger_than_one_statement_is_still_one_transaction_on_postgres(pg_stores) -> None:  # type: ignore[no-untyped-def]
    from insightlog.application.ledger import open_ledger

    ledger = open_ledger(pg_stores.new())
    try:
        # Fewer events than the COPY threshold, but together several times the statement limit.
        big = _events(6, size=MAX_STATEMENT_BYTES // 2)
        ids = ledger.recorder.insert_events(big)
        assert [row[0] for row in _log(ledger)] == ids and len(ids) == 6
    finally:
        ledger.close()


def test_a_batched_sqlite_save_waits_for_another_writer_instead_of_failing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3
    import threading
    import time

    from insightlog.application.ledger import open_ledger
    from insightlog.storage.settings import StoreSettings

    settings = StoreSettings(sqlite_path=str(tmp_path / "busy.sqlite"))
    ledger = open_ledger(settings)
    try:
        ledger.recorder.insert_events(_events(3))
        other = sqlite3.connect(settings.sqlite_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # as the read models and checkpoints write
        release = threading.Timer(1.0, lambda: other.execute("COMMIT"))
        release.start()
        started = time.monotonic()
        ids = ledger.recorder.insert_events(_events(5))
        waited = time.monotonic() - started
        release.join()
        other.close()
        assert ids is not None and len(ids) == 5
        assert waited >= 0.5  # it waited for the lock rather than failing at once
        assert [row[0] for row in _log(ledger)][-5:] == ids
    finally:
        ledger.close()
