"""PostgreSQL connection settings: a ``postgresql://`` URL as the library's POSTGRES_* settings,
and one way to connect with them (psycopg imported only when connecting)."""

from __future__ import annotations

import os  # USER: psycopg's default role name
from typing import Any
from urllib.parse import unquote, urlparse

from insightlog.errors import SettingsError

POSTGRES_EVENTS_TABLE = "insightlog_events"
POSTGRES_SNAPSHOTS_TABLE = "insightlog_snapshots"


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
