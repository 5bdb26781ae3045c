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
| ``INSIGHTLOG_CHECKPOINT_FILE`` | checkpoint file kept outside the database | ``insightlog-checkpoints/<origin>.jsonl`` (one per store) |
| ``INSIGHTLOG_WORKERS`` | worker processes of a large read-model catch-up (0: none) | one per CPU, at most 4 |
| ``INSIGHTLOG_CHROMIUM`` | Chromium executable printing PDFs | ``/usr/bin/chromium`` |
| ``INSIGHTLOG_WRITER_PASSWORD``, ``INSIGHTLOG_AUDITOR_PASSWORD`` | passwords ``db roles`` sets | none |
| ``INSIGHTLOG_PROJECTOR_PASSWORD`` | the projector's password ``db roles`` sets | none |
| ``INSIGHTLOG_WEB_SECURE_COOKIES`` | web: cookies only over HTTPS (0 only for plain-HTTP development) | 1 |
| ``INSIGHTLOG_WEB_HSTS`` | web: send Strict-Transport-Security (serve behind TLS) | 0 |
| ``INSIGHTLOG_PROVIDER_NAME`` | web: the provider's name in page titles | none |
| ``INSIGHTLOG_PASSWORD_MIN_LENGTH`` | web: shortest password accepted (at least 8) | 12 |
| ``INSIGHTLOG_SESSION_IDLE_MINUTES``, ``INSIGHTLOG_SESSION_HOURS`` | web: idle and absolute session timeouts | 30, 12 |
| ``INSIGHTLOG_HOST``, ``INSIGHTLOG_PORT`` | ``serve``: address and port | 127.0.0.1, 8000 |
| ``INSIGHTLOG_WEB_WORKERS``, ``INSIGHTLOG_FORWARDED_ALLOW_IPS`` | ``serve``: worker processes, trusted proxies | 1, 127.0.0.1 |
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from insightlog.errors import InsightlogError, SettingsError, one_line
from insightlog.storage.backend import DEFAULT_DB
from insightlog.storage.settings import StoreSettings

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger
    from insightlog.application.usecases import UseCases

DEFAULT_KEY = "insightlog-keys/provider.key"
DEFAULT_CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class WebSettings:
    """The web application's settings (``insightlog serve``)."""

    secure_cookies: bool = True
    hsts: bool = False
    provider: str | None = None
    password_min_length: int = 12
    session_idle_minutes: int = 30
    session_hours: int = 12
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    forwarded_allow_ips: str = "127.0.0.1"


@dataclass(frozen=True)
class Config:
    """Everything a door needs to know about where things are, resolved once."""

    store: StoreSettings
    key_path: Path = Path(DEFAULT_KEY)
    key_passphrase: bytes | None = None
    checkpoint_file: Path | None = None  # None: insightlog-checkpoints/<the store's origin>.jsonl
    workers: int | None = None  # None: one per CPU (projections decide)
    chromium: str = DEFAULT_CHROMIUM
    writer_password: str | None = field(default=None, repr=False)
    auditor_password: str | None = field(default=None, repr=False)
    projector_password: str | None = field(default=None, repr=False)
    web: WebSettings = field(default_factory=WebSettings)
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
        checkpoint_file=_path(checkpoint_file or env.get("INSIGHTLOG_CHECKPOINT_FILE")),
        chromium=env.get("INSIGHTLOG_CHROMIUM") or DEFAULT_CHROMIUM,
        writer_password=env.get("INSIGHTLOG_WRITER_PASSWORD") or None,
        auditor_password=env.get("INSIGHTLOG_AUDITOR_PASSWORD") or None,
        projector_password=env.get("INSIGHTLOG_PROJECTOR_PASSWORD") or None,
        web=WebSettings(
            secure_cookies=_flag(env, "INSIGHTLOG_WEB_SECURE_COOKIES", True),
            hsts=_flag(env, "INSIGHTLOG_WEB_HSTS", False),
            provider=env.get("INSIGHTLOG_PROVIDER_NAME") or None,
            password_min_length=_number(env, "INSIGHTLOG_PASSWORD_MIN_LENGTH", 12, 8),
            session_idle_minutes=_number(env, "INSIGHTLOG_SESSION_IDLE_MINUTES", 30, 1),
            session_hours=_number(env, "INSIGHTLOG_SESSION_HOURS", 12, 1),
            host=env.get("INSIGHTLOG_HOST") or "127.0.0.1",
            port=_number(env, "INSIGHTLOG_PORT", 8000, 1),
            workers=_number(env, "INSIGHTLOG_WEB_WORKERS", 1, 1),
            forwarded_allow_ips=env.get("INSIGHTLOG_FORWARDED_ALLOW_IPS") or "127.0.0.1",
        ),
    )


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={value!r} is not 1 or 0")


def _number(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = env.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a whole number") from None
    if number < minimum:
        raise SettingsError(f"{name}={value!r} must be at least {minimum}")
    return number


def store_environment(config: Config) -> dict[str, str]:
    """The ``INSIGHTLOG_*`` settings that make a child process (a web worker) open the same
    store as ``config``, whatever options built it."""
    store = config.store
    env = {"INSIGHTLOG_READ_ONLY": "1" if store.read_only else "0"}
    if store.database_url:
        env["INSIGHTLOG_DATABASE_URL"] = store.database_url
    elif store.sqlite_path:
        env["INSIGHTLOG_DB"] = store.sqlite_path
    env["INSIGHTLOG_KEY"] = str(config.key_path)
    if config.checkpoint_file is not None:
        env["INSIGHTLOG_CHECKPOINT_FILE"] = str(config.checkpoint_file)
    return env


class StoreOpenError(InsightlogError):
    """Raised when the store cannot be opened (the database refused, or is not there)."""


class NoStoreError(InsightlogError):
    """Raised when a command that only reads finds no ledger where it was pointed."""


class House:
    """The wired application of one store: the ledger (opened on first use) and the use cases.

    ``may_create``: whether opening may create the store. Only writing commands (import, record,
    init, taxonomy add) create one; anything else pointed at a path with no ledger says so and
    leaves no file behind.
    """

    def __init__(self, config: Config, *, may_create: bool = True) -> None:
        self.config = config
        self.may_create = may_create
        self._ledger: Ledger | None = None
        self._usecases: UseCases | None = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from insightlog.application.ledger import open_ledger, system_clock

            store = self.config.store
            if not self.may_create and not store.backend.exists():
                where = f"--db {store.sqlite_path}" if store.sqlite_path else store.describe()
                never = " (a read-only store is never created)" if store.read_only else ""
                raise NoStoreError(
                    f"no ledger at {store.describe()} ({where}; INSIGHTLOG_DB / INSIGHTLOG_DATABASE_URL); nothing was "
                    f"created{never}. Point at an existing store, or create one with 'insightlog import FILE' or "
                    "'insightlog init'"
                )
            try:
                self._ledger = open_ledger(self.config.store, clock=self.config.clock or system_clock)
            except InsightlogError:
                raise
            except Exception as exc:  # noqa: BLE001 - infrastructure errors at the boundary, in one line
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


def build(config: Config, *, may_create: bool = True) -> House:
    """The house for a configuration (the store opens on first use)."""
    return House(config, may_create=may_create)


def memory_config(**overrides: Any) -> Config:
    """A configuration on the library's in-memory store (tests; nothing persists)."""
    return replace(Config(store=StoreSettings(memory=True)), **overrides)
