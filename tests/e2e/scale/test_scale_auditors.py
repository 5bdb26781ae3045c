"""Read-only auditors: --read-only / INSIGHTLOG_READ_ONLY=1 on SQLite and PostgreSQL, and the
PostgreSQL writer and auditor roles of `insightlog db roles`, down to raw SQL as each role."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest

from insightlog.application.ledger import open_ledger, read_file_lines
from insightlog.errors import SettingsError
from insightlog.storage.guards import GUARD_MESSAGE
from insightlog.storage.settings import StoreSettings
from tests.e2e.scale.conftest import pg_connect, store_args
from tests.helpers import HARBOUR, invoke

ROOT = Path(__file__).resolve().parents[3]
TAXONOMY_CSV = ROOT / "src" / "insightlog" / "taxonomies" / "SAF-2024.csv"
PAYLOAD = '{"evidence_score": 2, "evidence_category": "observation", "source_type": "spot_check", "summary": "2 of 5 charts unsigned"}'
REFUSALS = ("read-only", "may only read", "permission denied", "append-only")


def write_commands(tmp_path: Path) -> dict[str, list[str]]:
    """Every command that writes to the store, by name."""
    return {
        "record": [
            "record",
            "SpotCheckRecorded",
            "--service",
            "Harbour Home Care",
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
        ],
        "import": ["import", str(HARBOUR)],
        "backfill": ["import", "--backfill", str(HARBOUR)],
        "init": ["init"],
        "projections update": ["projections", "update"],
        "projections rebuild": ["projections", "rebuild"],
        "taxonomy add": ["taxonomy", "add", "SAF-2099", str(TAXONOMY_CSV)],
        "checkpoint": [
            "--key",
            str(tmp_path / "keys" / "provider.key"),
            "--checkpoint-file",
            str(tmp_path / "checkpoints.jsonl"),
            "checkpoint",
        ],
    }


def assert_refused(result, what: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, f"{what} was not refused: {result.output}"
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"{what}: {result.output}"
    assert any(word in lines[0] for word in REFUSALS), f"{what}: {lines[0]}"


def fingerprint(settings: StoreSettings) -> bytes:
    """The whole content of the store, as its export with provenance and its stored events."""
    ledger = open_ledger(StoreSettings(**{**settings.__dict__, "read_only": True}))
    try:
        digest = hashlib.sha256()
        start = 1
        while True:
            page = ledger.recorder.select_notifications(start, 1000)
            for n in page:
                digest.update(n.originator_id.bytes + n.originator_version.to_bytes(8, "big") + n.state)
            if len(page) < 1000:
                return digest.digest()
            start = page[-1].id + 1
    finally:
        ledger.close()


@pytest.fixture
def imported(stores, tmp_path: Path) -> StoreSettings:
    """A store holding the worked example, and a provider signing key."""
    settings = stores.new()
    ledger = open_ledger(settings)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    ledger.close()
    assert invoke(["keys", "init", "--out", str(tmp_path / "keys" / "provider.key")]).exit_code == 0
    return settings


def test_read_only_refuses_every_write_path_with_one_clear_line(imported: StoreSettings, tmp_path: Path) -> None:
    before = fingerprint(imported)
    for what, args in write_commands(tmp_path).items():
        assert_refused(invoke([*store_args(imported), "--read-only", *args]), what)
    # Check nothing at all changed in the store.
    assert fingerprint(imported) == before


def test_insightlog_read_only_in_the_environment_is_the_same_as_the_flag(
    imported: StoreSettings, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("INSIGHTLOG_READ_ONLY", "1")
    before = fingerprint(imported)
    for what in ("record", "import"):
        assert_refused(invoke([*store_args(imported), *write_commands(tmp_path)[what]]), what)
    # Check reading works: services, export, analyse, verify.
    assert invoke([*store_args(imported), "services"]).output.strip() == "Harbour Home Care"
    assert invoke([*store_args(imported), "export"]).output.count("\n") == 70
    assert invoke([*store_args(imported), "analyse", "--service", "Harbour Home Care", "--json"]).exit_code == 0
    assert invoke([*store_args(imported), "verify"]).exit_code == 0
    assert fingerprint(imported) == before


def test_a_read_only_connection_refuses_raw_sql(imported: StoreSettings) -> None:
    ledger = open_ledger(StoreSettings(**{**imported.__dict__, "read_only": True}))
    # SQLite: the file is opened with mode=ro. PostgreSQL: sessions default to read-only transactions.
    refusal = "readonly database" if imported.sqlite_path else "read-only transaction"
    table = "stored_events" if imported.sqlite_path else "insightlog_events"
    try:
        datastore = ledger.recorder.datastore
        for sql in (f"DELETE FROM {table}", "CREATE TABLE sneaky (a int)"):
            with pytest.raises(Exception, match=refusal), datastore.transaction(commit=True) as cursor:
                cursor.execute(sql)
        assert ledger.head_size() == 70
    finally:
        ledger.close()


def test_a_read_only_store_is_never_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"
    with pytest.raises(SettingsError, match="never created"):
        StoreSettings(sqlite_path=str(missing), read_only=True).library_env()
    result = invoke(["--db", str(missing), "--read-only", "services"])
    assert result.exit_code == 1 and "never created" in result.output
    assert not missing.exists()


# ------------------------------------------------------------------ PostgreSQL roles


@pytest.mark.postgres
@pytest.mark.parametrize("stores", ["postgres"], indirect=True)
def test_the_writer_role_records_and_imports_but_cannot_edit_or_create(imported: StoreSettings, pg_roles) -> None:
    # Check that the writer may not make the read models, and is told who does.
    roles = pg_roles(imported.database_url)
    result = invoke(["--database-url", roles.writer_url, "projections", "update"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "may not write the read models (the projector role does" in result.output
    assert invoke([*store_args(imported), "init"]).exit_code == 0
    roles = pg_roles(imported.database_url)
    writer = StoreSettings(database_url=roles.writer_url)
    # Check the writer opens the store the owner made, records, imports and keeps the read models.
    result = invoke(["--database-url", roles.writer_url, *write_commands(Path("/nonexistent"))["record"]])
    assert result.exit_code == 0, result.output
    other = [
        line.replace("HHC-", "W-").replace("Harbour Home Care", "Writer Home")
        for line in HARBOUR.read_text().splitlines()
    ]
    ledger = open_ledger(writer)
    try:
        ledger.import_lines(other, source_name="writer.jsonl")
        assert ledger.head_size() == 141
    finally:
        ledger.close()
    # Check only the projector keeps the read models up to date.
    refused = invoke(["--database-url", roles.writer_url, "projections", "update"])
    assert refused.exit_code == 1 and "may not write the read models" in refused.output
    assert invoke(["--database-url", roles.projector_url, "projections", "update"]).exit_code == 0
    # Check raw SQL as the writer: the guards refuse edits of events, privileges the rest.
    with pg_connect(roles.writer_url) as conn:
        # UPDATE is granted only for the event store's table lock: the guard refuses it.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=GUARD_MESSAGE):
            conn.execute("UPDATE insightlog_events SET topic = 'x' WHERE notification_id = 1")
        for sql in (
            "DELETE FROM insightlog_events WHERE notification_id = 1",
            "TRUNCATE insightlog_events",
            "UPDATE insightlog_snapshots SET topic = 'x'",
            "DELETE FROM insightlog_snapshots",
            "CREATE TABLE sneaky (a int)",
            "DROP TABLE rm_events",
            "UPDATE rm_governance SET judgement_score = 4",
            "DELETE FROM rm_events",
            "INSERT INTO rm_events SELECT * FROM rm_events LIMIT 1",
            "TRUNCATE rm_tracking",
            "ALTER TABLE insightlog_events DISABLE TRIGGER ALL",
            "DROP TRIGGER insightlog_refuse_update ON insightlog_events",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(sql)


@pytest.mark.postgres
@pytest.mark.parametrize("stores", ["postgres"], indirect=True)
def test_the_auditor_role_reads_and_every_write_is_refused(imported: StoreSettings, pg_roles, tmp_path: Path) -> None:
    assert invoke([*store_args(imported), "init"]).exit_code == 0
    roles = pg_roles(imported.database_url)
    before = fingerprint(imported)
    auditor = ["--database-url", roles.auditor_url]
    # Check the auditor reads with --read-only: services, export, analysis, verification, the view.
    assert invoke([*auditor, "--read-only", "services"]).output.strip() == "Harbour Home Care"
    assert invoke([*auditor, "--read-only", "export"]).output.count("\n") == 70
    assert invoke([*auditor, "--read-only", "analyse", "--service", "Harbour Home Care", "--json"]).exit_code == 0
    assert invoke([*auditor, "--read-only", "verify"]).exit_code == 0
    assert invoke([*auditor, "--read-only", "view"]).exit_code == 0
    # Check every write path is refused in one line, with and without --read-only.
    for what, args in write_commands(tmp_path).items():
        assert_refused(invoke([*auditor, "--read-only", *args]), what)
        assert_refused(invoke([*auditor, *args]), f"{what} (no --read-only)")
    # Check raw SQL as the auditor is refused by privileges, even outside a read-only transaction.
    with pg_connect(roles.auditor_url) as conn:
        conn.execute("SET default_transaction_read_only = off")
        for sql in (
            "INSERT INTO insightlog_events SELECT * FROM insightlog_events LIMIT 1",
            "INSERT INTO insightlog_snapshots SELECT * FROM insightlog_snapshots LIMIT 1",
            "UPDATE insightlog_events SET topic = 'x'",
            "DELETE FROM insightlog_events",
            "DELETE FROM rm_events",
            "TRUNCATE insightlog_snapshots",
            "LOCK TABLE insightlog_events IN EXCLUSIVE MODE",
            "CREATE TABLE sneaky (a int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(sql)
        assert conn.execute("SELECT count(*) FROM rm_events").fetchone() is not None
    assert fingerprint(imported) == before


@pytest.mark.postgres
@pytest.mark.parametrize("stores", ["postgres"], indirect=True)
def test_db_roles_is_idempotent(store: StoreSettings, pg_roles) -> None:
    assert invoke(["--database-url", store.database_url, "init"]).exit_code == 0
    roles = pg_roles(store.database_url)
    again = invoke(["--database-url", store.database_url, "db", "roles", *roles.names, "--json"])
    assert again.exit_code == 0, again.output
    assert '"created":[]' in again.output
    with pg_connect(store.database_url) as conn:
        grants = conn.execute(
            "SELECT grantee, table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
            "FROM information_schema.role_table_grants WHERE grantee = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2",
            ([roles.writer, roles.auditor, roles.projector],),
        ).fetchall()
    by = {(g, t): p for g, t, p in grants}
    assert by[(roles.writer, "insightlog_events")] == "INSERT,SELECT,UPDATE"
    assert by[(roles.writer, "insightlog_snapshots")] == "INSERT,SELECT"
    assert by[(roles.writer, "insightlog_locks")] == "SELECT,UPDATE"
    assert by[(roles.writer, "rm_events")] == "SELECT"
    assert by[(roles.projector, "rm_events")] == "DELETE,INSERT,SELECT,TRUNCATE,UPDATE"
    assert by[(roles.projector, "insightlog_events")] == "SELECT"
    assert (roles.projector, "insightlog_locks") not in by and (roles.auditor, "insightlog_locks") not in by
    assert {p for (g, _), p in by.items() if g == roles.auditor} == {"SELECT"}


def test_db_roles_needs_postgresql(tmp_path: Path) -> None:
    result = invoke(["--db", str(tmp_path / "x.sqlite"), "db", "roles"])
    assert result.exit_code == 1
    assert "PostgreSQL" in result.output and "Traceback" not in result.output
