"""One writer at a time per store, across processes: appends queue instead of conflicting.

Every append reads the ledger head, computes, then writes the head back; two writers doing that
at once meet in an optimistic-concurrency conflict and one starts again. Under sustained load
the retries of an unlucky writer have no bound. Holding this lock around each attempt makes
writers take turns, so conflicts only remain as a safety net (a writer not taking the lock).

SQLite: an exclusive ``flock`` on ``<store>-writer`` next to the database file. PostgreSQL: a
session-level advisory lock on one pooled connection. Both are released by the operating system
or the server if the process dies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from insightlog.errors import LedgerError

LOCK_WAIT = 60.0  # seconds a writer waits for another writer before giving up
ADVISORY_KEY = 0x1A51_6472
LOCK_SUFFIX = "-writer"


class WriterBusyError(LedgerError):
    """Raised when another writer held the store for longer than the lock wait."""


def _busy(wait: float) -> WriterBusyError:
    return WriterBusyError(f"another writer held the ledger for more than {wait:g} s; nothing was written (try again)")


@contextmanager
def writer_lock(ledger: Any, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold the store's writer lock for the duration of the block."""
    with ledger.backend.writer_lock(ledger, wait):
        yield


@contextmanager
def sqlite_lock(db_name: str, wait: float) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: rely on the retries alone
        yield
        return
    if db_name.startswith("file:") or ":memory:" in db_name:
        yield
        return
    try:
        fd = os.open(db_name + LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o664)
    except OSError:
        yield  # a directory we may not write to: SQLite will refuse the write itself
        return
    try:
        deadline = time.monotonic() + wait
        pause = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy(wait) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.01)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def postgres_lock(datastore: Any, wait: float) -> Iterator[None]:
    import psycopg

    with datastore.get_connection() as conn:
        try:
            conn.execute(f"SET lock_timeout = '{int(wait * 1000)}ms'")
            conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
        except psycopg.errors.LockNotAvailable:
            raise _busy(wait) from None
        finally:
            conn.execute("SET lock_timeout = 0")
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_KEY,))
