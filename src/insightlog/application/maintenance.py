"""Store maintenance: online backup of a SQLite ledger, checking a copy, and migration between databases."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from insightlog.errors import LedgerError, one_line
from insightlog.safefile import OutputFileError, private_workdir, publish

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger
    from insightlog.storage.settings import StoreSettings

CHUNK = 2000
OPERATIONS_DOC = "docs/operations.md"


class MigrationError(LedgerError):
    """Raised when a migration target does not hold a prefix of the source, or ends up different."""


class BackupError(LedgerError):
    """Raised when a backup cannot be made or its copy does not check out."""


# ------------------------------------------------------------------ backup


def backup_sqlite(settings: StoreSettings, dest: Path) -> int:
    """Copy a live SQLite ledger consistently with SQLite's online backup API; returns pages.

    The copy is one read transaction of the source (writers carry on), written next to ``dest``
    and moved into place only once SQLite's integrity check passes; an existing file is never
    overwritten.
    """
    if settings.is_postgres:
        raise BackupError(
            f"backup copies a SQLite ledger; for PostgreSQL use pg_dump or pg_basebackup (see {OPERATIONS_DOC})"
        )
    source_path = Path(settings.sqlite_path or "")
    if not source_path.is_file():
        raise BackupError(f"no ledger at {source_path}")
    if os.path.lexists(dest):
        raise BackupError(f"{dest} exists; a backup never overwrites a file")
    if not dest.parent.is_dir():
        raise BackupError(f"no directory {dest.parent} for the backup")
    if dest.resolve() == source_path.resolve():
        raise BackupError("the backup must be another file than the ledger")
    # SQLite opens the copy itself: it writes inside a private directory beside ``dest``, and the
    # checked copy is published from there (never through a symbolic link, never over a file).
    with private_workdir(dest) as work:
        partial = work / dest.name
        src = sqlite3.connect(f"file:{source_path.resolve()}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # all pages in one step: one consistent snapshot of the source
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
                pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            finally:
                dst.close()
        except sqlite3.Error as exc:
            raise BackupError(f"backup failed: {exc}") from None
        finally:
            src.close()
        if check != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {check}")
        try:
            publish(partial, dest)
        except OutputFileError as exc:
            raise BackupError(str(exc)) from None
    return pages


@dataclass
class StoreCheck:
    """What ``check_store`` found: entries, head size, and whether positions are 1..n."""

    entries: int
    head_size: int
    dense: bool

    @property
    def ok(self) -> bool:
        return self.dense and self.entries == self.head_size


def check_store(ledger: Ledger) -> StoreCheck:
    """Read every entry: positions must be exactly 1..n and n the head's size."""
    expected = 1
    dense = True
    for entry in ledger.all_entries():
        if entry.position != expected:
            dense = False
        expected += 1
    return StoreCheck(entries=expected - 1, head_size=ledger.head_size(), dense=dense)


# ------------------------------------------------------------------ migration


def target_settings(target: str, source: StoreSettings) -> StoreSettings:
    """Settings for a migration target: a ``postgresql://`` URL or a SQLite path, same cipher key."""
    from insightlog.errors import SettingsError
    from insightlog.storage.pgconnect import postgres_env
    from insightlog.storage.settings import StoreSettings

    if not target.strip():
        raise SettingsError("--to names no store")
    if "://" in target:
        if not target.startswith(("postgresql://", "postgres://")):
            raise SettingsError(f"--to {target!r} is neither a postgresql:// URL nor a SQLite path")
        postgres_env(target)  # a malformed URL is named now, before anything is opened
        settings = StoreSettings(database_url=target, cipher_key=source.cipher_key)
    else:
        settings = StoreSettings(sqlite_path=target, cipher_key=source.cipher_key)
    if same_store(settings, source):
        raise MigrationError("the target is the store being migrated; name another store with --to")
    return settings


def same_store(a: StoreSettings, b: StoreSettings) -> bool:
    if a.database_url and b.database_url:
        pa, pb = urlparse(a.database_url), urlparse(b.database_url)
        return (pa.hostname or "localhost", pa.port or 5432, pa.path) == (
            pb.hostname or "localhost",
            pb.port or 5432,
            pb.path,
        )
    if a.sqlite_path and b.sqlite_path:
        return Path(a.sqlite_path).resolve() == Path(b.sqlite_path).resolve()
    return False


@dataclass
class MigrationReport:
    """What ``migrate`` did."""

    copied: int = 0
    already: int = 0
    other_events: int = 0
    size: int = 0
    root: str = ""
    behind: int = 0  # entries the source gained while being copied (run again to copy them)


def _derived() -> tuple[set[str], tuple[str, ...]]:
    """Topics the target re-derives from the entries (service streams, event keys, the head),
    and the topic prefixes of those aggregates."""
    from eventsourcing.utils import get_topic

    from insightlog.aggregates.service import EventKey, LedgerHead, ServiceLedger

    topics = {
        get_topic(ServiceLedger.Opened),
        get_topic(ServiceLedger.EntryAppended),
        get_topic(EventKey.Registered),
        get_topic(LedgerHead.Started),
        get_topic(LedgerHead.Advanced),
    }
    return topics, tuple(get_topic(cls) + "." for cls in (ServiceLedger, EventKey, LedgerHead))


def _refuse_read_only(target: Ledger) -> None:
    reason = getattr(target, "read_only_reason", None)
    if target.read_only and reason:
        raise MigrationError(f"the target refuses writes: {reason}")
    target.check_writable()


def migrate(source: Ledger, target: Ledger, progress: Callable[[int], None] | None = None) -> MigrationReport:
    """Copy the ledger to another store, in log order, keeping every entry's position, append time,
    source and leaf hash, and every other event of the log (taxonomy versions, checkpoints).

    The target must be empty or hold a prefix of the source (an interrupted migration resumes).
    Service streams, event keys and the head are rebuilt by the target from the entries, so the
    target's tree is the source's: the migration ends by comparing the two heads.
    """
    from insightlog.application.ledger import ENTRY_TOPIC, entry_from_state

    _refuse_read_only(target)
    report = MigrationReport()
    already = target.head_size()
    report.already = already
    if already:
        last = next(e for e in target.all_entries() if e.position == already)
        theirs = next((e for e in source.all_entries() if e.position == already), None)
        if theirs is None or theirs.event_id != last.event_id:
            raise MigrationError(
                f"the target already holds {already} events that are not the start of this ledger; migrate into an empty store"
            )
    source_head = source.head()
    if source_head is None:
        return report
    derived, derived_prefixes = _derived()
    batch: list[Any] = []

    def flush() -> None:
        if batch:
            target.append_preserved(list(batch), source_head.origin)
            report.copied += len(batch)
            batch.clear()
            if progress:
                progress(report.copied)

    for n in source.notifications():
        if n.topic == ENTRY_TOPIC:
            entry = entry_from_state(source.decode(n))
            if entry.position > already:
                batch.append(entry)
                if len(batch) >= CHUNK:
                    flush()
        elif n.topic in derived:
            continue
        elif n.topic.startswith(derived_prefixes):
            raise MigrationError(
                f"this version cannot migrate events of type {n.topic}; nothing after position {report.copied + already} was copied"
            )
        else:
            flush()
            report.other_events += _copy_event(source, target, n)
    flush()
    target_head = target.head()
    final = source.head()
    report.size = target_head.size if target_head else 0
    report.behind = (final.size if final else 0) - report.size
    if target_head is None:
        raise MigrationError("the target holds no events after copying")
    if report.behind == 0 and final is not None and target_head.frontier != final.frontier:
        raise MigrationError(f"after copying, the target's tree of {report.size} events differs from the source's")
    report.root = target_head.root().hex()
    return report


def _copy_event(source: Ledger, target: Ledger, notification: Any) -> int:
    """Copy one event of another aggregate (a taxonomy version, a checkpoint) unless already there."""
    present = target.recorder.select_events(
        notification.originator_id, gt=notification.originator_version - 1, lte=notification.originator_version, limit=1
    )
    if present:
        return 0
    event = source.mapper.to_domain_event(notification)
    target.recorder.insert_events([target.mapper.to_stored_event(event)])
    return 1


def open_target(settings: StoreSettings) -> Ledger:
    """Open (creating if needed) a migration target for writing."""
    from insightlog.application.ledger import open_ledger

    if settings.database_url:
        _check_reachable(settings)
    return open_ledger(replace(settings, read_only=False))


def _check_reachable(settings: StoreSettings) -> None:
    """Fail in seconds, in one line, when the target database cannot be reached."""
    import psycopg

    from insightlog.storage.pgconnect import postgres_connect, postgres_env

    env = postgres_env(str(settings.database_url))
    try:
        postgres_connect(env).close()
    except psycopg.Error as exc:
        text = one_line(exc)
        raise MigrationError(f"cannot connect to the target {settings.describe()}: {text}") from None
