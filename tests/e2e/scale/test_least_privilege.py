"""Least privilege on PostgreSQL (issue 12, item 8): what the auditor, the writer and the projector
of `insightlog db roles` can and cannot do, down to raw SQL as each, and `db roles --check`."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest

from insightlog.application.ledger import open_ledger, read_file_lines
from insightlog.storage.settings import StoreSettings
from insightlog.storage.writelock import ADVISORY_KEY, LOCKS_TABLE, WriterBusyError, writer_lock
from tests.e2e.scale.conftest import Roles, pg_connect
from tests.e2e.scale.test_scale_auditors import fingerprint, write_commands
from tests.helpers import HARBOUR, invoke

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("stores", ["postgres"], indirect=True)]

RECORD = write_commands(Path("/nonexistent"))["record"]


@pytest.fixture
def setup(stores, pg_roles) -> tuple[StoreSettings, Roles]:  # type: ignore[no-untyped-def]
    """A store holding the worked example, made by the owner (init), with the three roles."""
    settings = stores.new()
    ledger = open_ledger(settings)
    ledger.import_lines(read_file_lines(HARBOUR), source_name=HARBOUR.name)
    ledger.close()
    assert invoke(["--database-url", settings.database_url, "init"]).exit_code == 0
    return settings, pg_roles(settings.database_url)


def refused(conn: psycopg.Connection, sql: str) -> str:
    """The refusal of ``sql`` (it must be refused by privileges), run in a savepoint-free transaction."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught, conn.transaction():
        conn.execute(sql)
    return str(caught.value)


def check(settings: StoreSettings, roles: Roles) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = invoke(["--database-url", settings.database_url, "db", "roles", *roles.names, "--check", "--json"])
    return result.exit_code, json.loads(result.stdout)


def flagged(doc: dict) -> set[tuple[str, str, str, str]]:  # type: ignore[type-arg]
    return {(p["role"], p["kind"], p["target"], p["privilege"]) for p in doc["privileges"] if p["flagged"]}


# ------------------------------------------------------------------ the auditor's three escapes


def test_the_auditor_cannot_take_the_writers_lock_so_records_never_wait_for_it(setup) -> None:  # type: ignore[no-untyped-def]
    _, roles = setup
    with pg_connect(roles.auditor_url) as conn:
        conn.execute("SET default_transaction_read_only = off")
        # Check the writer lock's row lock and a table lock on it are refused.
        assert "permission denied" in refused(conn, f"SELECT name FROM {LOCKS_TABLE} FOR UPDATE")
        refused(conn, f"SELECT name FROM {LOCKS_TABLE} FOR KEY SHARE")
        refused(conn, f"LOCK TABLE {LOCKS_TABLE} IN SHARE ROW EXCLUSIVE MODE")
        refused(conn, f"LOCK TABLE {LOCKS_TABLE} IN ROW SHARE MODE")
        # The lock writers took before (an advisory lock) may still be taken by anyone: hold it,
        # and a read transaction open on the ledger, for the whole test.
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
        conn.execute("BEGIN")
        conn.execute("SELECT count(*) FROM insightlog_events").fetchone()
        writer = StoreSettings(database_url=roles.writer_url)
        ledger = open_ledger(writer)
        try:
            # Check the writer's lock is granted at once (a lock the auditor held would time out).
            started = time.monotonic()
            with writer_lock(ledger, wait=2.0):
                pass
            assert time.monotonic() - started < 2.0
        finally:
            ledger.close()
        # Check a live record as the writer goes through while the auditor holds all it can.
        started = time.monotonic()
        result = invoke(["--database-url", roles.writer_url, *RECORD])
        assert result.exit_code == 0, result.output
        assert time.monotonic() - started < 30
        conn.execute("ROLLBACK")


def test_the_writers_lock_still_makes_writers_take_turns(setup) -> None:  # type: ignore[no-untyped-def]
    _, roles = setup
    first = open_ledger(StoreSettings(database_url=roles.writer_url))
    second = open_ledger(StoreSettings(database_url=roles.writer_url))
    try:
        with writer_lock(first), pytest.raises(WriterBusyError), writer_lock(second, wait=0.3):
            pass
        with writer_lock(second, wait=0.3):
            pass
    finally:
        first.close()
        second.close()


def test_the_auditor_cannot_create_large_objects_or_temporary_tables(setup) -> None:  # type: ignore[no-untyped-def]
    settings, roles = setup
    with pg_connect(roles.auditor_url) as conn:
        conn.execute("SET default_transaction_read_only = off")
        for sql in (
            "SELECT lo_from_bytea(0, 'forged'::bytea)",
            "SELECT lo_create(0)",
            "SELECT lo_creat(-1)",
            "CREATE TEMPORARY TABLE sneaky (a int)",
            "CREATE TABLE pg_temp.sneaky (a int)",
        ):
            refused(conn, sql)
    with pg_connect(settings.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone() == (0,)
    # Check the writer and the projector cannot either (PUBLIC lost these rights, not one role).
    for url in (roles.writer_url, roles.projector_url):
        with pg_connect(url) as conn:
            refused(conn, "SELECT lo_from_bytea(0, 'x'::bytea)")
            refused(conn, "CREATE TEMP TABLE sneaky (a int)")


def test_the_auditor_turning_off_its_read_only_default_gains_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    settings, roles = setup
    before = fingerprint(settings)
    with pg_connect(roles.auditor_url) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
        # PostgreSQL lets any role set its own defaults: this one succeeds.
        conn.execute("SET default_transaction_read_only = off")
        conn.execute(f'ALTER ROLE "{roles.auditor}" SET default_transaction_read_only = off')
    # Check a new session has the default off, and still every way to write is refused.
    with pg_connect(roles.auditor_url) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        for sql in (
            "INSERT INTO insightlog_events SELECT * FROM insightlog_events LIMIT 1",
            "UPDATE insightlog_events SET topic = 'x'",
            "DELETE FROM insightlog_snapshots",
            "UPDATE rm_governance SET judgement_score = 4",
            "INSERT INTO rm_events SELECT * FROM rm_events LIMIT 1",
            "TRUNCATE rm_tracking",
            "CREATE TABLE sneaky (a int)",
            "CREATE TEMP TABLE sneaky (a int)",
            "SELECT lo_from_bytea(0, 'x'::bytea)",
            f"SELECT * FROM {LOCKS_TABLE} FOR UPDATE",
            "LOCK TABLE insightlog_events IN EXCLUSIVE MODE",
            "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ):
            refused(conn, sql)
        # A grant it may not make is a warning in PostgreSQL, and grants nothing.
        conn.execute(f'GRANT DELETE ON insightlog_events TO "{roles.auditor}"')
        refused(conn, "DELETE FROM insightlog_events")
    result = invoke(["--database-url", roles.auditor_url, *RECORD])
    assert result.exit_code == 1 and "may only read" in result.output
    assert fingerprint(settings) == before
    # Check --check flags the changed default, and `db roles` puts it back.
    code, doc = check(settings, roles)
    assert code == 1
    assert (roles.auditor, "setting", "every database", "default_transaction_read_only=off") in flagged(doc)
    assert invoke(["--database-url", settings.database_url, "db", "roles", *roles.names]).exit_code == 0
    assert check(settings, roles)[0] == 0


# ------------------------------------------------------------------ the read models


def test_the_writer_cannot_forge_the_read_models_and_the_projector_can_write_them(setup) -> None:  # type: ignore[no-untyped-def]
    settings, roles = setup
    with pg_connect(roles.writer_url) as conn:
        for sql in (
            "UPDATE rm_governance SET judgement_score = 4",
            "DELETE FROM rm_recognition",
            "INSERT INTO rm_service_status SELECT * FROM rm_service_status LIMIT 1",
            "UPDATE rm_tracking SET position = 0",
            "TRUNCATE rm_governance",
        ):
            assert "permission denied" in refused(conn, sql)
    # Check the writer records, is shown the read models as they stand, and is told who updates them.
    assert invoke(["--database-url", roles.writer_url, *RECORD]).exit_code == 0
    view = invoke(["--database-url", roles.writer_url, "view", "--service", "Harbour Home Care", "--json"])
    assert view.exit_code == 0, view.output
    assert "may not write the read models (the projector role does" in view.stderr
    assert "1 events behind" in view.stderr
    # Check the projector catches up, and may write the read models but not the ledger.
    update = invoke(["--database-url", roles.projector_url, "projections", "update"])
    assert update.exit_code == 0 and "1 events" in update.output, update.output
    status = json.loads(invoke(["--database-url", roles.projector_url, "projections", "status", "--json"]).stdout)
    assert status["entries_behind"] == 0 and status["ledger_entries"] == 71
    result = invoke(["--database-url", roles.projector_url, *RECORD])
    assert result.exit_code == 1 and "may only read" in result.output
    with pg_connect(roles.projector_url) as conn:
        for sql in (
            "INSERT INTO insightlog_events SELECT * FROM insightlog_events LIMIT 1",
            "DELETE FROM insightlog_snapshots",
            f"SELECT * FROM {LOCKS_TABLE} FOR UPDATE",
            "CREATE TABLE sneaky (a int)",
        ):
            refused(conn, sql)
        # The projector can forge them (that is what `projections verify` is for): the forgery.
        with conn.transaction():
            conn.execute("UPDATE rm_governance SET judgement_score = 4 WHERE theme = 'safeguarding.referrals'")
    # Check the auditor's view refuses the forged rows and its verification names them.
    auditor = ["--database-url", roles.auditor_url, "--read-only"]
    shown = invoke([*auditor, "view"])
    assert shown.exit_code == 1 and "judgement_score: stored 4" in shown.output
    found = invoke([*auditor, "projections", "verify"])
    assert found.exit_code == 1 and "rm_governance (service 'Harbour Home Care', ordinal" in found.output
    assert invoke([*auditor, "verify", "--all"]).exit_code == 1
    # Check a rebuild by the projector gives the read models back.
    assert invoke(["--database-url", roles.projector_url, "projections", "rebuild"]).exit_code == 0
    assert invoke(["--database-url", settings.database_url, "verify", "--all"]).exit_code == 0


def test_the_web_role_may_use_the_accounts_tables_as_documented(setup) -> None:  # type: ignore[no-untyped-def]
    from insightlog.accounts.store import By, open_accounts

    settings, roles = setup
    open_accounts(settings).close()  # the owner makes the accounts tables
    assert invoke(["--database-url", settings.database_url, "db", "roles", *roles.names]).exit_code == 0
    # Check the writer opens the accounts (nothing to create), changes a setting and appends to the log.
    accounts = open_accounts(StoreSettings(database_url=roles.writer_url))
    try:
        accounts.set_setting("require_second_factor", "1", by=By(via="cli", operator="test"))
        assert accounts.setting("require_second_factor") == "1"
    finally:
        accounts.close()
    with pg_connect(roles.writer_url) as conn:
        for sql in (
            "UPDATE web_access_log SET detail = '{}'",
            "DELETE FROM web_access_log",
            "DELETE FROM web_users",
            "TRUNCATE web_sessions",
        ):
            refused(conn, sql)
    with pg_connect(roles.auditor_url) as conn:
        refused(conn, "SELECT * FROM web_users")
    assert check(settings, roles)[0] == 0


# ------------------------------------------------------------------ db roles --check


def test_db_roles_check_is_clean_on_a_fresh_setup_and_flags_every_extra_grant(setup) -> None:  # type: ignore[no-untyped-def]
    settings, roles = setup
    code, doc = check(settings, roles)
    assert code == 0 and doc["ok"] and doc["missing"] == [], doc
    held = {(p["role"], p["kind"], p["target"], p["privilege"]) for p in doc["privileges"]}
    # Check it lists what each role holds, of every kind.
    assert (roles.writer, "table", "insightlog_events", "INSERT") in held
    assert (roles.writer, "table", "rm_governance", "SELECT") in held
    assert (roles.writer, "table", "rm_governance", "UPDATE") not in held
    assert (roles.projector, "table", "rm_governance", "UPDATE") in held
    assert (roles.auditor, "attribute", roles.auditor, "LOGIN") in held
    assert (roles.auditor, "database", doc["database"], "CONNECT") in held
    assert (roles.writer, "sequence", "insightlog_events_notification_id_seq", "USAGE") in held
    # Check each kind of extra grant is flagged, and the text output says so with exit 1.
    extra = {
        f'GRANT INSERT ON rm_governance TO "{roles.writer}"': (roles.writer, "table", "rm_governance", "INSERT"),
        f'GRANT UPDATE (judgement_score) ON rm_governance TO "{roles.auditor}"': (
            roles.auditor,
            "column",
            "rm_governance.judgement_score",
            "UPDATE",
        ),
        f'GRANT TEMPORARY ON DATABASE "{doc["database"]}" TO "{roles.auditor}"': (
            roles.auditor,
            "database",
            doc["database"],
            "TEMPORARY",
        ),
        f'GRANT CREATE ON SCHEMA public TO "{roles.projector}"': (roles.projector, "schema", "public", "CREATE"),
        f'GRANT UPDATE ON SEQUENCE insightlog_events_notification_id_seq TO "{roles.auditor}"': (
            roles.auditor,
            "sequence",
            "insightlog_events_notification_id_seq",
            "UPDATE",
        ),
        f'GRANT EXECUTE ON FUNCTION lo_from_bytea(oid, bytea) TO "{roles.auditor}"': (
            roles.auditor,
            "function",
            "pg_catalog.lo_from_bytea(oid, bytea)",
            "EXECUTE (creates large objects)",
        ),
        f'GRANT pg_write_all_data TO "{roles.auditor}"': (roles.auditor, "membership", "pg_write_all_data", "MEMBER"),
        f'ALTER ROLE "{roles.writer}" CREATEDB': (roles.writer, "attribute", roles.writer, "CREATEDB"),
    }
    with pg_connect(settings.database_url) as conn:
        for sql in extra:
            conn.execute(sql)
        conn.execute("SELECT lo_from_bytea(4242, 'x'::bytea)")
        conn.execute(f'ALTER LARGE OBJECT 4242 OWNER TO "{roles.auditor}"')
    code, doc = check(settings, roles)
    assert code == 1
    assert set(extra.values()) | {(roles.auditor, "large object", "4242", "ALL")} <= flagged(doc)
    text = invoke(["--database-url", settings.database_url, "db", "roles", *roles.names, "--check"])
    assert text.exit_code == 1
    assert "FLAGGED  table rm_governance: INSERT (via direct)" in text.output
    assert text.output.strip().splitlines()[-1].startswith("FLAGGED: 10 privilege(s) beyond the documented set")
    # Check a re-run of `db roles` takes back what it can (grants on the database's objects, attributes).
    with pg_connect(settings.database_url) as conn:
        conn.execute("SELECT lo_unlink(4242)")
    assert invoke(["--database-url", settings.database_url, "db", "roles", *roles.names]).exit_code == 0
    code, doc = check(settings, roles)
    assert flagged(doc) == {(roles.auditor, "membership", "pg_write_all_data", "MEMBER")}
    with pg_connect(settings.database_url) as conn:
        conn.execute(f'REVOKE pg_write_all_data FROM "{roles.auditor}"')
    assert check(settings, roles)[0] == 0


def test_db_roles_check_names_a_documented_privilege_that_is_missing(setup) -> None:  # type: ignore[no-untyped-def]
    settings, roles = setup
    with pg_connect(settings.database_url) as conn:
        conn.execute(f'REVOKE INSERT ON insightlog_events FROM "{roles.writer}"')
    code, doc = check(settings, roles)
    assert code == 1 and doc["missing"] == [f"{roles.writer}: INSERT on table insightlog_events"]


def test_the_access_log_lock_cannot_be_held_by_the_auditor(setup) -> None:  # type: ignore[no-untyped-def]
    from insightlog.accounts.store import By, open_accounts

    settings, roles = setup
    open_accounts(settings).close()
    assert invoke(["--database-url", settings.database_url, "db", "roles", *roles.names]).exit_code == 0
    from insightlog.accounts.store import PG_LOCK_KEY

    done = threading.Event()
    with pg_connect(roles.auditor_url) as conn:
        conn.execute("SET default_transaction_read_only = off")
        conn.execute("SELECT pg_advisory_lock(%s)", (PG_LOCK_KEY,))  # what the web's appenders took before
        refused(conn, f"SELECT * FROM {LOCKS_TABLE} WHERE name = 'web_access_log' FOR UPDATE")

        def change() -> None:
            accounts = open_accounts(StoreSettings(database_url=roles.writer_url))
            try:
                accounts.set_setting("provider", "x", by=By(via="cli", operator="test"))
                done.set()
            finally:
                accounts.close()

        worker = threading.Thread(target=change)
        worker.start()
        worker.join(timeout=20)
        assert done.is_set(), "the web's access log waited for a lock the auditor held"
