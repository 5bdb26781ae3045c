"""Crash safety: SIGKILL in the middle of a large import, then in the middle of a projection
catch-up, on SQLite and PostgreSQL. The store opens, verifies and analyses as before the kill,
and running the command again completes it with every event exactly once.

The kill lands while the process is writing: on SQLite once its write-ahead log has grown by
megabytes (pages of the uncommitted transaction), on PostgreSQL once its backend holds the event
table's lock (import) or a lock on a read-model table (projection).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from insightlog.application.ledger import open_ledger, read_file_lines
from insightlog.application.maintenance import check_store
from insightlog.projections.readmodels import ReadModels
from tests.e2e.scale.bigfile import write_big_file
from tests.e2e.scale.conftest import clean_env, cli_command, export_bytes, pg_connect, run_cli, store_args
from tests.helpers import HARBOUR

CLONES = 60  # 4,200 entries in 60 services
SERVICE = "Harbour Home Care"
AS_OF = "2026-03-31"
WAL_GROWTH = 2_000_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    return path, write_big_file(path, CLONES)


def wal_grew(settings) -> Callable[[], bool]:  # type: ignore[no-untyped-def]
    wal = Path(str(settings.sqlite_path) + "-wal")
    baseline = wal.stat().st_size if wal.exists() else 0
    return lambda: wal.exists() and wal.stat().st_size > baseline + WAL_GROWTH


def pg_lock_held(settings, tables: str, mode: str) -> Callable[[], bool]:  # type: ignore[no-untyped-def]
    conn = pg_connect(settings.database_url)
    query = (
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname LIKE %s AND l.mode = %s AND l.granted AND l.pid <> pg_backend_pid()"
    )
    return lambda: conn.execute(query, (tables, mode)).fetchone()[0] > 0


def kill_while(args: list[str], writing: Callable[[], bool], timeout: float = 120) -> bool:
    """Start the CLI; SIGKILL it once ``writing()``. True if killed, False if it finished first."""
    proc = subprocess.Popen([*cli_command(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if writing():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            if time.monotonic() > deadline:
                raise AssertionError("the command neither wrote nor finished in time")
            time.sleep(0.002)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def analysis(settings) -> dict:  # type: ignore[no-untyped-def]
    result = run_cli(
        [*store_args(settings), "--read-only", "analyse", "--service", SERVICE, "--as-of", AS_OF, "--json"]
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def check_verifies(settings) -> None:  # type: ignore[no-untyped-def]
    result = run_cli([*store_args(settings), "--read-only", "verify", "--json"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["ok"] is True


def rm_events(settings) -> list[tuple]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from insightlog.projections.database import engine_for

    engine = engine_for(settings)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text("SELECT * FROM rm_events ORDER BY position"))]
    finally:
        engine.dispose()


def test_a_store_survives_sigkill_during_import_and_during_projection_catch_up(stores, big_file) -> None:
    path, count = big_file
    settings = stores.new()
    ledger = open_ledger(settings)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    before = export_bytes(ledger, with_provenance=True)
    ledger.close()
    before_analysis = analysis(settings)

    # Kill an import of 4,200 events while it writes its one transaction.
    if stores.backend == "sqlite":
        writing = wal_grew(settings)
    else:
        writing = pg_lock_held(settings, "insightlog_events", "ExclusiveLock")
    killed = kill_while([*store_args(settings), "import", str(path)], writing)
    assert killed, "the import finished before it could be killed"

    # Check the store opens and is exactly as before, or (had the commit landed) complete.
    ledger = open_ledger(settings)
    try:
        check = check_store(ledger)
        assert check.ok, check
        assert check.entries in (70, 70 + count)
        assert export_bytes(ledger, with_provenance=True).startswith(before)
    finally:
        ledger.close()
    check_verifies(settings)
    assert analysis(settings) == before_analysis

    # Check running the import again completes it, every event once.
    ledger = open_ledger(settings)
    try:
        result = ledger.import_lines(read_file_lines(path), source_name=path.name)
        assert len(result.receipts) + len(result.skipped) == count
        check = check_store(ledger)
        assert check.ok and check.entries == 70 + count, check
        ids = [e.event_id for e in ledger.all_entries()]
        assert len(ids) == len(set(ids)) == 70 + count
        with ReadModels(ledger, settings) as models:
            models.ensure()  # empty read models, as `insightlog init` makes them
    finally:
        ledger.close()
    check_verifies(settings)

    # Kill a projection catch-up over those 4,270 events while it writes the read models.
    writing = wal_grew(settings) if stores.backend == "sqlite" else pg_lock_held(settings, "rm_%", "RowExclusiveLock")
    killed = kill_while([*store_args(settings), "projections", "update"], writing)
    assert killed, "the projection finished before it could be killed"

    # Check the read models hold either nothing or everything, and the ledger is untouched.
    ledger = open_ledger(settings)
    try:
        with ReadModels(ledger, settings) as models:
            status = models.status()
            assert status.entry_position in (0, 70 + count)
            assert len(rm_events(settings)) == status.entry_position
            # Check the next run completes it, each event applied once, as a rebuild would.
            models.catch_up()
            status = models.status()
            assert status.entries_behind == 0 and status.entry_position == 70 + count
            recovered = rm_events(settings)
            assert len(recovered) == 70 + count
            models.rebuild()
            assert rm_events(settings) == recovered
    finally:
        ledger.close()
    check_verifies(settings)
    assert analysis(settings) == before_analysis
