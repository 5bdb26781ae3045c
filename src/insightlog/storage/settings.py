"""A store's settings -> the event store's own settings (the environment is read in bootstrap.py)."""

from __future__ import annotations

import os  # USER, psycopg's default role name
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from insightlog.errors import InsightlogError

if TYPE_CHECKING:
    from insightlog.storage.backend import Backend

DEFAULT_DB = "insightlog.sqlite"
POSTGRES_EVENTS_TABLE = "insightlog_events"
POSTGRES_SNAPSHOTS_TABLE = "insightlog_snapshots"


class SettingsError(InsightlogError):
    """Raised when the storage settings cannot be used."""


@dataclass(frozen=True)
class StoreSettings:
    """Where the ledger lives and how it is opened."""

    sqlite_path: str | None = None
    database_url: str | None = None
    read_only: bool = False
    cipher_key: str | None = None
    workers: int | None = None  # worker processes of a large read-model catch-up (None: per CPU)
    memory: bool = False  # the library's in-memory store (tests); nothing persists

    @property
    def is_postgres(self) -> bool:
        return self.database_url is not None

    def describe(self) -> str:
        return self.backend.describe()

    @property
    def backend(self) -> Backend:
        """The storage backend these settings select (SQLite, PostgreSQL or memory)."""
        from insightlog.storage.backend import backend_for

        return backend_for(self)

    def library_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for these user settings."""
        env = self.backend.library_env()
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
