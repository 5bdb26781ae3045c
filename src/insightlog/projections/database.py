"""The SQLAlchemy engine of the read models: the event store's own database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from insightlog.errors import SettingsError
from insightlog.storage.backend import DEFAULT_DB

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.pool import ConnectionPoolEntry

    from insightlog.storage.settings import StoreSettings

LOCK_TIMEOUT_SECONDS = 30
WRITE_OPTION = "insightlog_write"


def engine_url(settings: StoreSettings) -> str:
    """The SQLAlchemy URL for the store: the same SQLite file or the same PostgreSQL database."""
    if settings.database_url:
        url = settings.database_url
        for scheme in ("postgresql://", "postgres://"):
            if url.startswith(scheme):
                return "postgresql+psycopg://" + url[len(scheme) :]
        raise SettingsError(f"database URL {url!r} is not a postgresql:// URL")
    path = Path(settings.sqlite_path or DEFAULT_DB)
    if settings.read_only:
        resolved = path.resolve()
        if not resolved.exists():
            raise SettingsError(f"no ledger at {path} (a read-only store is never created)")
        return f"sqlite:///file:{quote(str(resolved))}?mode=ro&uri=true"
    return f"sqlite:///{path}"


def writer(engine: Engine) -> Engine:
    """The same engine, marked so its transactions are write transactions (SQLite: BEGIN IMMEDIATE)."""
    return engine.execution_options(**{WRITE_OPTION: True})


def engine_for(settings: StoreSettings) -> Engine:
    """A SQLAlchemy engine on the store's database; read-only settings give a read-only engine."""
    from sqlalchemy import create_engine, event

    url = engine_url(settings)
    if settings.database_url:
        options = f"-c lock_timeout={LOCK_TIMEOUT_SECONDS * 1000}"
        if settings.read_only:
            options += " -c default_transaction_read_only=on"
        return create_engine(url, connect_args={"options": options}, pool_size=2, max_overflow=2, pool_pre_ping=False)
    engine = create_engine(url, connect_args={"timeout": LOCK_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin (SQLAlchemy's
        # documented recipe for pysqlite), so a write transaction takes its lock up front.
        dbapi_connection.isolation_level = None
        # Bulk writes of the read models update several indexes at once; SQLite's default
        # page cache (2 MB) makes them re-read index pages (docs/performance.md).
        dbapi_connection.execute("PRAGMA cache_size = -65536")
        # These connections write only the read models, which are derived and rebuildable:
        # their commits need not wait for fsync (WAL keeps them atomic, rows and tracking record
        # together; a power cut can only undo the latest ones, which the next run redoes). The
        # ledger's own connections keep synchronous=FULL. ADR 0010.
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock at BEGIN (waiting up to the busy timeout),
        # so it never fails half-way when upgrading a read lock; reads stay deferred.
        immediate = conn.get_execution_options().get(WRITE_OPTION) and not settings.read_only
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
