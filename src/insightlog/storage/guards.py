"""Database guards: the event tables refuse UPDATE and DELETE.

Accidental edits fail loudly; a deliberate edit that bypasses the guards (dropping the trigger,
editing the file) is what ``insightlog verify`` catches.

The guards are created once, by whoever first opens the store for writing (on PostgreSQL, the
schema owner running ``insightlog init``). Later openings only check that they exist, so roles
that may not create objects (the writer and auditor roles of ``insightlog db roles``) can open
the store, and many processes can open it at once.
"""

from __future__ import annotations

from typing import Any

from insightlog.errors import LedgerError, one_line
from insightlog.storage.writelock import LOCK_NAMES, LOCKS_TABLE

GUARD_MESSAGE = "insightlog: the ledger is append-only; corrections are new events"

SQLITE_TABLES = ("stored_events",)
POSTGRES_TABLES = ("insightlog_events",)
POSTGRES_FUNCTION = "insightlog_refuse_change"
# Serialises the first creation of the guards between processes (pg_advisory_xact_lock key).
GUARD_LOCK_KEY = 0x1A51_6471


class GuardError(LedgerError):
    """Raised when the guards are missing and this connection may not create them."""


def install_guards(ledger: Any) -> None:
    """Create the refusing triggers if they are missing (idempotent, safe between processes)."""
    ledger.backend.install_guards(ledger)


def install_sqlite_guards(ledger: Any) -> None:
    _install_sqlite(ledger)


def install_postgres_guards(ledger: Any) -> None:
    """The PostgreSQL guards; a role that may not insert into the event table (an auditor) gets
    a ledger that refuses writes up front, as if opened with ``--read-only``."""
    _install_postgres(ledger)
    role, can_insert = _postgres_role(ledger)
    if not can_insert:
        ledger.read_only = True
        ledger.read_only_reason = (
            f"role {role!r} may only read this ledger (no INSERT on {POSTGRES_TABLES[0]}); nothing was written"
        )


def _sqlite_trigger_names() -> list[tuple[str, str, str]]:
    return [
        (f"insightlog_refuse_{op.lower()}_{table}", op, table) for table in SQLITE_TABLES for op in ("UPDATE", "DELETE")
    ]


def _install_sqlite(ledger: Any) -> None:
    datastore = ledger.recorder.datastore
    wanted = _sqlite_trigger_names()
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    if all(name in present for name, _, _ in wanted):
        return
    with datastore.transaction(commit=True) as cursor:
        for name, op, table in wanted:
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} "
                f"BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END"
            )


def _postgres_missing(curs: Any) -> tuple[bool, list[tuple[str, str, str]]]:
    """Whether the guard function is missing, and the (trigger, op, table) triples missing."""
    curs.execute("SELECT 1 FROM pg_proc WHERE proname = %s", (POSTGRES_FUNCTION,))
    function_missing = curs.fetchone() is None
    curs.execute(
        "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relname = ANY(%s) AND NOT t.tgisinternal",
        (list(POSTGRES_TABLES),),
    )
    present = {(row["tgname"], row["relname"]) for row in curs.fetchall()}
    missing = [
        (f"insightlog_refuse_{op.lower()}", op, table)
        for table in POSTGRES_TABLES
        for op in ("UPDATE", "DELETE", "TRUNCATE")
        if (f"insightlog_refuse_{op.lower()}", table) not in present
    ]
    return function_missing, missing


def _install_postgres(ledger: Any) -> None:
    datastore = ledger.recorder.datastore
    with datastore.transaction(commit=False) as curs:
        function_missing, missing = _postgres_missing(curs)
        locks_missing = _locks_missing(curs)
    if not function_missing and not missing:
        if locks_missing:
            _install_locks(datastore)
        return
    try:
        with datastore.transaction(commit=True) as curs:
            # Two processes creating the guards at once would otherwise collide in the catalogue.
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (GUARD_LOCK_KEY,))
            function_missing, missing = _postgres_missing(curs)
            if function_missing:
                curs.execute(
                    f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                    f"BEGIN RAISE EXCEPTION '{GUARD_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$"
                )
            for name, op, table in missing:
                level = "STATEMENT" if op == "TRUNCATE" else "ROW"
                curs.execute(
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                    f"FOR EACH {level} EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
                )
    except Exception as exc:
        if write_refusal(exc) is None:
            raise
        raise GuardError(
            "the append-only guards are missing and this role may not create them; "
            "run `insightlog init` as the schema owner first"
        ) from None
    _install_locks(datastore)


def _locks_missing(curs: Any) -> bool:
    """Whether the lock table or one of its rows is missing (see ``storage/writelock.py``)."""
    table = f"public.{LOCKS_TABLE}"
    curs.execute(
        "SELECT to_regclass(%s) IS NOT NULL AS present, "
        "COALESCE(has_table_privilege(to_regclass(%s), 'SELECT'), false) AS readable",
        (table, table),
    )
    row = curs.fetchone()
    if not row["present"]:
        return True
    if not row["readable"]:
        return False  # a role that may not read it (the auditor) could not mend it either
    curs.execute(f"SELECT count(*) AS n FROM {LOCKS_TABLE} WHERE name = ANY(%s)", (list(LOCK_NAMES),))
    return int(curs.fetchone()["n"]) != len(LOCK_NAMES)


def _install_locks(datastore: Any) -> None:
    """Create ``insightlog_locks`` (one row per lock, guarded like the event table) if this role may:
    the schema owner's first opening after an upgrade does. Any other role carries on without it
    (its writers then take turns by an advisory lock; ``insightlog db roles --check`` says so)."""
    with datastore.transaction(commit=False) as curs:
        curs.execute(
            "SELECT has_schema_privilege('public', 'CREATE') AND NOT current_setting('transaction_read_only')::bool AS may"
        )
        if not curs.fetchone()["may"]:
            return
    try:
        with datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (GUARD_LOCK_KEY,))
            create_locks(curs)
    except Exception as exc:
        if write_refusal(exc) is None:
            raise


def _postgres_role(ledger: Any) -> tuple[str, bool]:
    """The connected role, and whether it may insert into the event table."""
    with ledger.recorder.datastore.transaction(commit=False) as curs:
        curs.execute(
            "SELECT current_user AS role, has_table_privilege(%s, 'INSERT') AS can_insert",
            (f"public.{POSTGRES_TABLES[0]}",),
        )
        row = curs.fetchone()
    return str(row["role"]), bool(row["can_insert"])


def create_locks(curs: Any) -> None:
    """Create ``insightlog_locks`` with its rows and guard triggers if missing (the schema owner,
    in the caller's transaction; the guard function must exist). ``curs`` returns dict rows."""
    curs.execute(f"CREATE TABLE IF NOT EXISTS {LOCKS_TABLE} (name text PRIMARY KEY)")
    for name in LOCK_NAMES:
        curs.execute(f"INSERT INTO {LOCKS_TABLE} (name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))
    curs.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relname = %s AND NOT t.tgisinternal",
        (LOCKS_TABLE,),
    )
    present = {row["tgname"] if isinstance(row, dict) else row[0] for row in curs.fetchall()}
    for op in ("UPDATE", "DELETE", "TRUNCATE"):
        trigger = f"insightlog_refuse_{op.lower()}"
        if trigger not in present:
            level = "STATEMENT" if op == "TRUNCATE" else "ROW"
            curs.execute(
                f"CREATE TRIGGER {trigger} BEFORE {op} ON {LOCKS_TABLE} "
                f"FOR EACH {level} EXECUTE FUNCTION {POSTGRES_FUNCTION}()"
            )


def write_refusal(exc: BaseException) -> str | None:
    """A one-line reason if ``exc`` is the database refusing a write, else None.

    Covers PostgreSQL privilege errors (a read-only role, or the guard triggers), a read-only
    PostgreSQL transaction, SQLite's read-only connections and guard triggers, and read models
    opened read-only. An error SQLAlchemy wraps is judged by the driver's own (``orig``); the
    causes and contexts of an error are judged too.
    """
    seen: set[int] = set()
    current: BaseException | None = getattr(exc, "orig", None) or exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = one_line(current)
        if getattr(current, "sqlstate", None) in (
            "42501",
            "25006",
        ):  # insufficient_privilege, read_only_sql_transaction
            return text
        lowered = text.lower()
        if "readonly database" in lowered or "read-only" in lowered or GUARD_MESSAGE in text:
            return text
        current = current.__cause__ or current.__context__
    return None
