"""The composition root: the only code that reads ``INSIGHTLOG_*`` and wires the house.

Every door (the CLI, the web application, importers) builds one ``Config`` from its options and
the environment, then one ``House`` from it, and calls the application's use cases on that. The
environment is read at call time (never at import), options win over the environment, and the
defaults are local to the working directory.

| variable | meaning | default |
|---|---|---|
| ``INSIGHTLOG_DB`` | SQLite ledger file | ``insightlog.sqlite`` |
| ``INSIGHTLOG_DATABASE_URL`` | ``postgresql://`` URL (wins over the SQLite file) | none |
| ``INSIGHTLOG_READ_ONLY`` | ``1``: open so that nothing can be written | off |
| ``INSIGHTLOG_CIPHER_KEY`` | AES key (base64) encrypting event state at rest | none |
| ``INSIGHTLOG_KEY`` | the provider's private signing key | ``insightlog-keys/provider.key`` |
| ``INSIGHTLOG_KEY_PASSPHRASE`` | passphrase of that key | none |
| ``INSIGHTLOG_CHECKPOINT_FILE`` | checkpoint file kept outside the database | ``insightlog-checkpoints.jsonl`` |
| ``INSIGHTLOG_WORKERS`` | worker processes of a large read-model catch-up (0: none) | one per CPU, at most 4 |
| ``INSIGHTLOG_CHROMIUM`` | Chromium executable printing PDFs | ``/usr/bin/chromium`` |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from insightlog.errors import InsightlogError, one_line
from insightlog.storage.settings import DEFAULT_DB, SettingsError, StoreSettings

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger
    from insightlog.application.usecases import UseCases

DEFAULT_KEY = "insightlog-keys/provider.key"
DEFAULT_CHECKPOINT_FILE = "insightlog-checkpoints.jsonl"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class Config:
    """Everything a door needs to know about where things are, resolved once."""

    store: StoreSettings
    key_path: Path = Path(DEFAULT_KEY)
    key_passphrase: bytes | None = None
    checkpoint_file: Path = Path(DEFAULT_CHECKPOINT_FILE)
    workers: int | None = None  # None: one per CPU (projections decide)
    chromium: str = DEFAULT_CHROMIUM
    clock: Callable[[], datetime] | None = field(default=None, compare=False)

    def with_store(self, store: StoreSettings) -> Config:
        return replace(self, store=store)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def config_from_env(
    environ: Mapping[str, str] | None = None,
    *,
    db: str | None = None,
    database_url: str | None = None,
    read_only: bool | None = None,
    key: str | None = None,
    checkpoint_file: str | None = None,
) -> Config:
    """A ``Config`` from explicit options, else the environment (read now), else defaults."""
    env = os.environ if environ is None else environ
    url = database_url or env.get("INSIGHTLOG_DATABASE_URL") or None
    if url and not url.startswith(("postgresql://", "postgres://")):
        raise SettingsError(f"INSIGHTLOG_DATABASE_URL / --database-url {url!r} is not a postgresql:// URL")
    path = db or env.get("INSIGHTLOG_DB") or DEFAULT_DB
    ro = _truthy(env.get("INSIGHTLOG_READ_ONLY")) if read_only is None else read_only
    workers_text = env.get("INSIGHTLOG_WORKERS")
    workers: int | None = None
    if workers_text:
        try:
            workers = max(0, int(workers_text))
        except ValueError:
            raise SettingsError(f"INSIGHTLOG_WORKERS={workers_text!r} is not a whole number") from None
    store = StoreSettings(
        sqlite_path=None if url else path,
        database_url=url,
        read_only=ro,
        cipher_key=env.get("INSIGHTLOG_CIPHER_KEY") or None,
        workers=workers,
    )
    passphrase = env.get("INSIGHTLOG_KEY_PASSPHRASE")
    return Config(
        store=store,
        key_path=Path(key or env.get("INSIGHTLOG_KEY") or DEFAULT_KEY),
        key_passphrase=passphrase.encode() if passphrase else None,
        checkpoint_file=Path(checkpoint_file or env.get("INSIGHTLOG_CHECKPOINT_FILE") or DEFAULT_CHECKPOINT_FILE),
        chromium=env.get("INSIGHTLOG_CHROMIUM") or DEFAULT_CHROMIUM,
    )


class StoreOpenError(InsightlogError):
    """Raised when the store cannot be opened (the database refused, or is not there)."""


class House:
    """The wired application of one store: the ledger (opened on first use) and the use cases."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._ledger: Ledger | None = None
        self._usecases: UseCases | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from insightlog.application.ledger import open_ledger, system_clock

            try:
                self._ledger = open_ledger(self.config.store, clock=self.config.clock or system_clock)
            except InsightlogError:
                raise
            except Exception as exc:  # infrastructure errors at the boundary, in one line
                text = one_line(exc)
                raise StoreOpenError(f"cannot open the ledger ({self.config.store.describe()}): {text}") from None
        return self._ledger

    @property
    def usecases(self) -> UseCases:
        if self._usecases is None:
            from insightlog.application.usecases import UseCases

            self._usecases = UseCases(self)
        return self._usecases

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def build(config: Config) -> House:
    """The house for a configuration (the store opens on first use)."""
    return House(config)


def memory_config(**overrides: object) -> Config:
    """A configuration on the library's in-memory store (tests; nothing persists)."""
    return replace(Config(store=StoreSettings(memory=True)), **overrides)  # type: ignore[arg-type]
