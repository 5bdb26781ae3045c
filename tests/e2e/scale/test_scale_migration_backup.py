"""Migration SQLite -> PostgreSQL -> SQLite keeps every event, position and hash; backups of a
live SQLite store are consistent, complete snapshots."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from insightlog.application.ledger import open_ledger, read_file_lines
from insightlog.application.maintenance import MigrationError, check_store, migrate
from insightlog.storage.settings import StoreSettings
from tests.e2e.scale.conftest import WORKER, export_bytes, store_args
from tests.helpers import HARBOUR, invoke

ROOT = Path(__file__).resolve().parents[3]
TAXONOMY_CSV = ROOT / "src" / "insightlog" / "taxonomies" / "SAF-2024.csv"
SERVICE = "Harbour Home Care"
PAYLOAD = '{"evidence_score": 2, "evidence_category": "observation", "source_type": "spot_check", "summary": "2 of 5 charts unsigned"}'


def second_service() -> list[str]:
    return [line.replace("HHC-", "SH-").replace(SERVICE, "Second Home") for line in HARBOUR.read_text().splitlines()]


def observe(settings: StoreSettings, tmp_path: Path) -> dict[str, object]:
    """What a user sees of a store: export with provenance, analysis, verification, taxonomies."""
    args = [*store_args(settings), "--read-only"]
    export = invoke([*args, "export", "--with-provenance"])
    analysis = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-03-31", "--json"])
    verify = invoke([*args, "verify", "--json"])
    taxonomies = invoke([*args, "taxonomy", "--json"])
    for result in (export, analysis, verify, taxonomies):
        assert result.exit_code == 0, result.output
    report = json.loads(verify.output)
    assert report["ok"] is True, report
    ledger = open_ledger(StoreSettings(**{**asdict(settings), "read_only": True}))
    try:
        head = ledger.head()
        root = (head.origin, head.size, head.root().hex()) if head else None
    finally:
        ledger.close()
    return {
        "export": export.output,
        "analysis": json.loads(analysis.output),
        "checkpoints": report["checkpoints"],
        "taxonomies": taxonomies.output,
        "head": root,
    }


@pytest.mark.postgres
@pytest.mark.parametrize("stores", ["postgres"], indirect=True)
def test_migration_round_trip_sqlite_postgresql_sqlite_keeps_every_event_position_and_hash(
    stores, tmp_path: Path
) -> None:
    source = StoreSettings(sqlite_path=str(tmp_path / "source.sqlite"))
    key = tmp_path / "keys" / "provider.key"
    assert invoke(["keys", "init", "--out", str(key)]).exit_code == 0
    signing = ["--key", str(key), "--checkpoint-file", str(tmp_path / "checkpoints.jsonl")]
    # A ledger with two services, a live event, a taxonomy version and checkpoints.
    ledger = open_ledger(source)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    ledger.import_lines(second_service()[:40], source_name="second.jsonl")
    ledger.close()
    assert invoke([*store_args(source), *signing, "checkpoint"]).exit_code == 0
    assert invoke([*store_args(source), "taxonomy", "add", "SAF-2099", str(TAXONOMY_CSV)]).exit_code == 0
    ledger = open_ledger(source)
    ledger.import_lines(second_service()[40:], source_name="second-rest.jsonl")
    ledger.close()
    live = [
        "record",
        "SpotCheckRecorded",
        "--service",
        SERVICE,
        "--theme",
        "medicines.mar_charts",
        "--team",
        "north",
        "--actor-role",
        "deputy_manager",
        "--actor-id",
        "DM-1",
        "--payload",
        PAYLOAD,
    ]
    assert invoke([*store_args(source), *live]).exit_code == 0
    assert invoke([*store_args(source), *signing, "checkpoint"]).exit_code == 0
    expected = observe(source, tmp_path)
    assert expected["checkpoints"] == 2

    # SQLite -> PostgreSQL.
    middle = stores.new()
    result = invoke([*store_args(source), "migrate", "--to", str(middle.database_url)])
    assert result.exit_code == 0, result.output
    assert "copied 141 events" in result.output
    assert observe(middle, tmp_path) == expected

    # PostgreSQL -> SQLite, read-only on the source side.
    back = StoreSettings(sqlite_path=str(tmp_path / "back.sqlite"))
    result = invoke([*store_args(middle), "--read-only", "migrate", "--to", str(back.sqlite_path)])
    assert result.exit_code == 0, result.output
    assert observe(back, tmp_path) == expected

    # Check running it again copies nothing and changes nothing.
    result = invoke([*store_args(middle), "migrate", "--to", str(back.sqlite_path)])
    assert result.exit_code == 0, result.output
    assert "copied 0 events" in result.output and "(141 were already there)" in result.output
    assert observe(back, tmp_path) == expected


def test_an_interrupted_migration_resumes_and_a_foreign_target_is_refused(stores, tmp_path: Path) -> None:
    source = stores.new()
    ledger = open_ledger(source)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    target = open_ledger(StoreSettings(sqlite_path=str(tmp_path / "target.sqlite")))
    try:
        # A target holding the first 30 entries, as an interrupted migration leaves it.
        target.append_preserved(list(ledger.all_entries())[:30], ledger.head().origin)
        report = migrate(ledger, target)
        assert (report.copied, report.already, report.behind) == (40, 30, 0)
        assert export_bytes(target, with_provenance=True) == export_bytes(ledger, with_provenance=True)
        assert target.head().frontier == ledger.head().frontier
        # A store with other content is never a target.
        other = open_ledger(StoreSettings(sqlite_path=str(tmp_path / "other.sqlite")))
        other.import_lines(second_service(), source_name="second.jsonl")
        with pytest.raises(MigrationError, match="not the start of this ledger"):
            migrate(ledger, other)
        other.close()
    finally:
        target.close()
        ledger.close()
    # Check the CLI refuses the store itself and a read-only target, in one line.
    result = invoke([*store_args(source), "migrate", "--to", str(source.database_url or source.sqlite_path)])
    assert result.exit_code == 1 and "the target is the store being migrated" in result.output


def test_migrating_into_a_read_only_ledger_is_refused(tmp_path: Path) -> None:
    source = open_ledger(StoreSettings(sqlite_path=str(tmp_path / "source.sqlite")))
    source.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    open_ledger(StoreSettings(sqlite_path=str(tmp_path / "ro.sqlite"))).close()
    target = open_ledger(StoreSettings(sqlite_path=str(tmp_path / "ro.sqlite"), read_only=True))
    try:
        with pytest.raises(Exception, match="read-only"):
            migrate(source, target)
        assert target.head_size() == 0
    finally:
        target.close()
        source.close()


# ------------------------------------------------------------------ backup


def test_a_backup_of_a_live_store_is_a_consistent_complete_snapshot(tmp_path: Path) -> None:
    settings = StoreSettings(sqlite_path=str(tmp_path / "live.sqlite"))
    ledger = open_ledger(settings)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    ledger.close()
    ready = tmp_path / "ready"
    ready.mkdir()
    writer = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(asdict(settings)), "0", "400", "Busy Home", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (ready / "ready-0").exists():
            assert writer.poll() is None, writer.communicate()[1]
            time.sleep(0.01)
        (ready / "go").touch()
        copies = []
        for n in range(3):
            time.sleep(0.3)
            dest = tmp_path / f"backup-{n}.sqlite"
            result = invoke([*store_args(settings), "backup", str(dest)])
            assert result.exit_code == 0, result.output
            assert "the copy checks out" in result.output
            copies.append(dest)
        _out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    finally:
        if writer.poll() is None:
            writer.kill()
    final = open_ledger(StoreSettings(sqlite_path=settings.sqlite_path, read_only=True))
    full = export_bytes(final, with_provenance=True)
    final.close()
    sizes = []
    for dest in copies:
        copy = open_ledger(StoreSettings(sqlite_path=str(dest), read_only=True))
        try:
            # Check each copy is a dense prefix 1..k of the live store, its head agreeing.
            check = check_store(copy)
            assert check.ok, check
            assert full.startswith(export_bytes(copy, with_provenance=True))
            sizes.append(check.entries)
        finally:
            copy.close()
        assert invoke(["--db", str(dest), "--read-only", "verify"]).exit_code == 0
    print(f"\nbackup sizes while writing: {sizes}")
    # Check the copies were taken while the writer was writing.
    assert sizes == sorted(sizes) and sizes[0] >= 70 and sizes[-1] < 470, sizes


def test_backup_never_overwrites_and_points_postgresql_users_to_pg_dump(tmp_path: Path) -> None:
    settings = StoreSettings(sqlite_path=str(tmp_path / "s.sqlite"))
    open_ledger(settings).close()
    dest = tmp_path / "exists.sqlite"
    dest.write_text("precious")
    result = invoke([*store_args(settings), "backup", str(dest)])
    assert result.exit_code == 1 and "never overwrites" in result.output
    assert dest.read_text() == "precious"
    result = invoke(["--database-url", "postgresql://nobody@localhost/none", "backup", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 1 and "pg_dump" in result.output and "Traceback" not in result.output
    result = invoke(["--db", str(tmp_path / "missing.sqlite"), "backup", str(tmp_path / "y.sqlite")])
    assert result.exit_code == 1 and "no ledger" in result.output
    assert not (tmp_path / "y.sqlite").exists() and not (tmp_path / "missing.sqlite").exists()
