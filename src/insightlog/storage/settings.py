"""A store's settings -> the event store's own settings (the environment is read in bootstrap.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from insightlog.errors import SettingsError
from insightlog.storage.pgconnect import POSTGRES_EVENTS_TABLE, POSTGRES_SNAPSHOTS_TABLE

if TYPE_CHECKING:
    from insightlog.storage.backend import Backend

__all__ = ["POSTGRES_EVENTS_TABLE", "POSTGRES_SNAPSHOTS_TABLE", "SettingsError", "StoreSettings"]


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
