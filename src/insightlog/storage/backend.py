"""The storage backend of a store, chosen once from its settings: SQLite, PostgreSQL or memory.

Everything that differs between databases is asked of this object (the library's settings, the
writer lock, the append-only guards) instead of testing module names. The in-memory backend runs
the same application on the library's ``eventsourcing.popo`` store, for fast tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from insightlog.storage.settings import StoreSettings

DEFAULT_DB = "insightlog.sqlite"  # in the working directory


class Backend:
    """What a store's database is, and how the ledger uses it."""

    name: ClassVar[str] = ""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for this store."""
        raise NotImplementedError

    def writer_lock(self, ledger: Any, wait: float) -> AbstractContextManager[None]:
        """Hold the store's writer lock for the duration of the block."""
        raise NotImplementedError

    def install_guards(self, ledger: Any) -> None:
        """Create (or check) the append-only guards of the event tables."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def exists(self) -> bool:
        """Whether a ledger is already there (opening it would not create one)."""
        raise NotImplementedError


class SQLiteBackend(Backend):
    name = "sqlite"

    def library_env(self) -> dict[str, str]:
        from pathlib import Path

        from insightlog.errors import SettingsError

        path = self.settings.sqlite_path or DEFAULT_DB
        env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite"}
        if self.settings.read_only:
            resolved = Path(path).resolve()
            if not resolved.exists():
                raise SettingsError(f"no ledger at {path} (a read-only store is never created)")
            env["SQLITE_DBNAME"] = f"file:{resolved}?mode=ro"
            env["CREATE_TABLE"] = "n"
        else:
            env["SQLITE_DBNAME"] = str(Path(path))
        env["SQLITE_LOCK_TIMEOUT"] = "30"
        # A save's rows go in with one executemany (storage/sqlite.py).
        env["APPLICATION_RECORDER_TOPIC"] = "insightlog.storage.sqlite:BatchedSQLiteApplicationRecorder"
        return env

    def writer_lock(self, ledger: Any, wait: float) -> AbstractContextManager[None]:
        from insightlog.storage.writelock import sqlite_lock

        return sqlite_lock(str(ledger.recorder.datastore.pool.db_name), wait)

    def install_guards(self, ledger: Any) -> None:
        from insightlog.storage.guards import install_sqlite_guards

        install_sqlite_guards(ledger)

    def describe(self) -> str:
        return f"sqlite:{self.settings.sqlite_path}"

    def exists(self) -> bool:
        from pathlib import Path

        return Path(self.settings.sqlite_path or DEFAULT_DB).is_file()


class PostgresBackend(Backend):
    name = "postgres"

    def library_env(self) -> dict[str, str]:
        from insightlog.storage.pgconnect import postgres_env, postgres_schema_exists

        assert self.settings.database_url is not None
        env = postgres_env(self.settings.database_url)
        # Large transactions go as several statements (psycopg pipeline limit; storage/postgres.py);
        # a read-only store's sessions are read-only transactions.
        env["APPLICATION_RECORDER_TOPIC"] = (
            "insightlog.storage.postgres:ReadOnlyPostgresApplicationRecorder"
            if self.settings.read_only
            else "insightlog.storage.postgres:ChunkedPostgresApplicationRecorder"
        )
        if self.settings.read_only or postgres_schema_exists(env):
            # An existing schema is never re-created: roles other than the owner may not run
            # CREATE (even IF NOT EXISTS), and concurrent CREATE OR REPLACE collide.
            env["CREATE_TABLE"] = "n"
        return env

    def writer_lock(self, ledger: Any, wait: float) -> AbstractContextManager[None]:
        from insightlog.storage.writelock import postgres_lock

        return postgres_lock(ledger.recorder.datastore, wait)

    def install_guards(self, ledger: Any) -> None:
        from insightlog.storage.guards import install_postgres_guards

        install_postgres_guards(ledger)

    def describe(self) -> str:
        from urllib.parse import urlparse

        p = urlparse(self.settings.database_url or "")
        return f"postgresql://{p.hostname or 'localhost'}:{p.port or 5432}{p.path}"

    def exists(self) -> bool:
        from insightlog.storage.pgconnect import postgres_env, postgres_schema_exists

        assert self.settings.database_url is not None
        return postgres_schema_exists(postgres_env(self.settings.database_url))


class MemoryBackend(Backend):
    """The library's in-memory store (``eventsourcing.popo``): nothing persists, nothing to guard."""

    name = "memory"
    _lock = threading.RLock()

    def library_env(self) -> dict[str, str]:
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}

    def writer_lock(self, ledger: Any, wait: float) -> AbstractContextManager[None]:
        return _held(self._lock)

    def install_guards(self, ledger: Any) -> None:
        return None

    def describe(self) -> str:
        return "memory"

    def exists(self) -> bool:
        return True


@contextmanager
def _held(lock: threading.RLock) -> Iterator[None]:
    with lock:
        yield


def backend_for(settings: StoreSettings) -> Backend:
    """The one backend object of these settings."""
    if settings.memory:
        return MemoryBackend(settings)
    if settings.database_url:
        return PostgresBackend(settings)
    return SQLiteBackend(settings)


BY_PERSISTENCE_MODULE: dict[str, type[Backend]] = {
    "eventsourcing.sqlite": SQLiteBackend,
    "eventsourcing.postgres": PostgresBackend,
    "eventsourcing.popo": MemoryBackend,
}
