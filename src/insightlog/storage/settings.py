"""User settings -> the event store's own settings, in one place.

``INSIGHTLOG_DB`` (or ``--db``) names the SQLite file (default ``insightlog.sqlite`` in the
working directory); ``INSIGHTLOG_DATABASE_URL`` (or ``--database-url``) a ``postgresql://`` URL,
which wins over the SQLite path. ``INSIGHTLOG_READ_ONLY=1`` opens the store read-only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

DEFAULT_DB = "insightlog.sqlite"
POSTGRES_EVENTS_TABLE = "insightlog_events"
POSTGRES_SNAPSHOTS_TABLE = "insightlog_snapshots"


class SettingsError(ValueError):
    """Raised when the storage settings cannot be used."""


@dataclass(frozen=True)
class StoreSettings:
    """Where the ledger lives and how it is opened."""

    sqlite_path: str | None = None
    database_url: str | None = None
    read_only: bool = False
    cipher_key: str | None = None

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None

    def describe(self) -> str:
        if self.database_url:
            p = urlparse(self.database_url)
            return f"postgresql://{p.hostname or 'localhost'}:{p.port or 5432}{p.path}"
        return f"sqlite:{self.sqlite_path}"

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for these user settings."""
        env: dict[str, str] = {}
        if self.database_url:
            env.update(postgres_env(self.database_url))
            # Large transactions go as several statements (psycopg pipeline limit; pgrecorder.py);
            # a read-only store's sessions are read-only transactions.
            env["APPLICATION_RECORDER_TOPIC"] = (
                "insightlog.storage.postgres:ReadOnlyPostgresApplicationRecorder"
                if self.read_only
                else "insightlog.storage.postgres:ChunkedPostgresApplicationRecorder"
            )
            if self.read_only or postgres_schema_exists(env):
                # An existing schema is never re-created: roles other than the owner may not run
                # CREATE (even IF NOT EXISTS), and concurrent CREATE OR REPLACE collide.
                env["CREATE_TABLE"] = "n"
        else:
            path = self.sqlite_path or DEFAULT_DB
            env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
            if self.read_only:
                resolved = Path(path).resolve()
                if not resolved.exists():
                    raise SettingsError(f"no ledger at {path} (a read-only store is never created)")
                env["SQLITE_DBNAME"] = f"file:{resolved}?mode=ro"
                env["CREATE_TABLE"] = "n"
            else:
                env["SQLITE_DBNAME"] = str(Path(path))
            env["SQLITE_LOCK_TIMEOUT"] = "30"
            # A save's rows go in with one executemany (sqliterecorder.py).
            env["APPLICATION_RECORDER_TOPIC"] = "insightlog.storage.sqlite:BatchedSQLiteApplicationRecorder"
        # Always our cipher: AES-GCM with a key; without one it recognises an encrypted store.
        env["CIPHER_TOPIC"] = "insightlog.storage.cipher:StoreCipher"
        env["CIPHER_KEY"] = self.cipher_key or ""  # these settings' key, never another one
        return env


def postgres_env(url: str) -> dict[str, str]:
    """Translate a ``postgresql://user:password@host:port/dbname`` URL into POSTGRES_* settings."""
    p = urlparse(url)
    if p.scheme not in ("postgresql", "postgres"):
        raise SettingsError(f"database URL {url!r} is not a postgresql:// URL")
    dbname = unquote(p.path.lstrip("/"))
    if not dbname:
        raise SettingsError(f"database URL {url!r} names no database")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": p.hostname or "localhost",
        "POSTGRES_PORT": str(p.port or 5432),
        "POSTGRES_USER": unquote(p.username) if p.username else os.environ.get("USER", "postgres"),
        "POSTGRES_PASSWORD": unquote(p.password) if p.password else "",
        "POSTGRES_LOCK_TIMEOUT": "30",
        "POSTGRES_POOL_SIZE": "2",
    }
    return env


def postgres_connect(env: dict[str, str], **kwargs: Any) -> Any:
    """A psycopg connection to the database of ``env`` (the POSTGRES_* settings)."""
    import psycopg

    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        dbname=env["POSTGRES_DBNAME"],
        connect_timeout=10,
        **kwargs,
    )


def postgres_schema_exists(env: dict[str, str]) -> bool:
    """Whether the ledger's tables already exist in the PostgreSQL database of ``env``.

    False when the database cannot be asked; the event store then reports the problem itself.
    """
    try:
        with postgres_connect(env) as conn:
            row = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL",
                (f"public.{POSTGRES_EVENTS_TABLE}", f"public.{POSTGRES_SNAPSHOTS_TABLE}"),
            ).fetchone()
    except Exception:  # noqa: BLE001 - any failure: let the event store open and report it
        return False
    return bool(row and row[0])


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def resolve(db: str | None = None, database_url: str | None = None, read_only: bool | None = None) -> StoreSettings:
    """Settings from explicit options, else the environment (read at call time), else defaults."""
    url = database_url or os.environ.get("INSIGHTLOG_DATABASE_URL") or None
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise SettingsError(f"INSIGHTLOG_DATABASE_URL / --database-url {url!r} is not a postgresql:// URL")
    path = db or os.environ.get("INSIGHTLOG_DB") or DEFAULT_DB
    ro = _truthy(os.environ.get("INSIGHTLOG_READ_ONLY")) if read_only is None else read_only
    return StoreSettings(
        sqlite_path=None if url else path,
        database_url=url,
        read_only=ro,
        cipher_key=os.environ.get("INSIGHTLOG_CIPHER_KEY") or None,
    )
