"""Store maintenance: online backup of a SQLite ledger, and migration between databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from insightlog.application import LedgerError

if TYPE_CHECKING:
    from insightlog.application import Ledger
    from insightlog.settings import StoreSettings

CHUNK = 5000


class MigrationError(LedgerError):
    """Raised when a migration target does not hold a prefix of the source."""


def backup_sqlite(settings: StoreSettings, dest: Path) -> int:
    """Copy a live SQLite ledger consistently with SQLite's online backup API; returns pages."""
    if settings.is_postgres:
        raise LedgerError("backup copies a SQLite ledger; for PostgreSQL use pg_dump (see README)")
    source_path = Path(settings.sqlite_path or "")
    if not source_path.exists():
        raise LedgerError(f"no ledger at {source_path}")
    if dest.exists():
        raise LedgerError(f"{dest} exists; a backup never overwrites a file")
    src = sqlite3.connect(f"file:{source_path.resolve()}?mode=ro", uri=True)
    dst = sqlite3.connect(dest)
    try:
        with dst:
            src.backup(dst)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
    finally:
        dst.close()
        src.close()
    return int(pages)


def migrate(source: Ledger, target: Ledger, progress: Callable[[int], None] | None = None) -> tuple[int, int]:
    """Copy every entry, with its position, append time and source, from one store to another.

    The target must be empty or hold a prefix of the source (an interrupted migration resumes).
    Returns (entries copied now, entries already there).
    """
    target.check_writable()
    already = target.head_size()
    if already:
        last = next(e for e in target.all_entries() if e.position == already)
        theirs = next((e for e in source.all_entries() if e.position == already), None)
        if theirs is None or theirs.event_id != last.event_id:
            raise MigrationError(
                f"the target already holds {already} events that are not the start of this ledger; migrate into an empty store"
            )
    source_head = source.head()
    if source_head is None:
        return 0, already
    copied = 0
    batch = []
    for entry in source.all_entries():
        if entry.position <= already:
            continue
        batch.append(entry)
        if len(batch) >= CHUNK:
            target.append_preserved(batch, source_head.origin)
            copied += len(batch)
            batch = []
            if progress:
                progress(copied)
    if batch:
        target.append_preserved(batch, source_head.origin)
        copied += len(batch)
    return copied, already
