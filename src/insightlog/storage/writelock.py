"""One writer at a time per store, across processes: appends queue instead of conflicting.

Every append reads the ledger head, computes, then writes the head back; two writers doing that
at once meet in an optimistic-concurrency conflict and one starts again. Under sustained load
the retries of an unlucky writer have no bound. Holding this lock around each attempt makes
writers take turns, so conflicts only remain as a safety net (a writer not taking the lock).

SQLite: an exclusive ``flock`` on ``<store>-writer`` next to the database file. PostgreSQL: a row
lock on ``insightlog_locks`` held by a transaction of one pooled connection, which only roles with
UPDATE on that table (the writer, the owner) may take: a select-only auditor cannot hold writers
up (an advisory lock, which any role may take, serves only where that table is missing). Both are
released by the operating system or the server if the process dies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
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


LOCKS_TABLE = "insightlog_locks"  # one row per lock; created by the schema owner (storage/guards.py)
LEDGER_WRITER = "ledger_writer"
WEB_ACCESS_LOG = "web_access_log"
LOCK_NAMES = (LEDGER_WRITER, WEB_ACCESS_LOG)

# Whether this role may take the row locks (True), or the table is missing or out of reach and the
# advisory lock serves instead (False); asked once per process and database.
_ROW_LOCKS: dict[str, bool] = {}


def row_locks_usable(execute: Callable[[str], Any], database: str = "") -> bool:
    """Whether the connected role may take the row locks of ``insightlog_locks``.

    ``execute(sql)`` runs one statement and returns its first row. The question cannot fail (the
    table may be missing: ``to_regclass`` is then NULL), so it is safe inside a transaction.
    """
    if database in _ROW_LOCKS:
        return _ROW_LOCKS[database]
    row = execute(
        f"SELECT COALESCE(has_table_privilege(to_regclass('public.{LOCKS_TABLE}'), 'UPDATE'), false) AS usable"
    )
    if row is None:
        return False
    usable = bool(row["usable"] if isinstance(row, dict) else row[0])
    if database:
        _ROW_LOCKS[database] = usable
    return usable


@contextmanager
def postgres_lock(datastore: Any, wait: float) -> Iterator[None]:
    """The ledger's writer lock on PostgreSQL: a row lock (``SELECT ... FOR UPDATE``) on the
    ``ledger_writer`` row of ``insightlog_locks``, held by a transaction of its own connection for
    the duration of the block.

    ``FOR UPDATE`` needs UPDATE on the table, which only the writer role (and the owner) holds, so a
    select-only role cannot take it and hold every writer up. An advisory lock could be taken by
    any role; it serves only on a store whose owner has not created the table yet, or whose roles
    predate it (re-run ``insightlog db roles``), so that writers still take turns there.
    """
    import psycopg

    with datastore.get_connection() as conn:
        info = conn.info
        database = f"{info.host}:{info.port}/{info.dbname}/{info.user}"
        if not row_locks_usable(lambda sql: conn.execute(sql).fetchone(), database):
            with _advisory(conn, wait):
                yield
            return
        with conn.transaction():
            try:
                conn.execute(f"SET LOCAL lock_timeout = '{int(wait * 1000)}ms'")
                found = conn.execute(
                    f"SELECT name FROM {LOCKS_TABLE} WHERE name = %s FOR UPDATE", (LEDGER_WRITER,)
                ).fetchone()
            except psycopg.errors.LockNotAvailable:
                raise _busy(wait) from None
            if found is not None:
                yield
                return
            _ROW_LOCKS[database] = False  # the row was never made: take turns by the advisory lock
            with _advisory(conn, wait):
                yield


@contextmanager
def _advisory(conn: Any, wait: float) -> Iterator[None]:
    import psycopg

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


def transaction_lock(first: Callable[..., Any], name: str, fallback_key: int) -> None:
    """Take the row lock ``name`` of ``insightlog_locks`` for the rest of the caller's transaction
    (PostgreSQL), or the transaction-level advisory lock ``fallback_key`` where the table, its row
    or the right to lock it is missing. ``first(sql, params)`` runs a statement and returns its
    first row; nothing here can fail the caller's transaction but a lock timeout."""
    usable = row_locks_usable(lambda sql: first(sql, ()))
    if usable and first(f"SELECT name FROM {LOCKS_TABLE} WHERE name = %s FOR UPDATE", (name,)) is not None:
        return
    first("SELECT pg_advisory_xact_lock(%s)", (fallback_key,))
