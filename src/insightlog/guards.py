"""Database guards: the event tables refuse UPDATE and DELETE.

Accidental edits fail loudly; a deliberate edit that bypasses the guards (dropping the trigger,
editing the file) is what ``insightlog verify`` catches.
"""

from __future__ import annotations

from typing import Any

GUARD_MESSAGE = "insightlog: the ledger is append-only; corrections are new events"

SQLITE_TABLES = ("stored_events",)
POSTGRES_TABLES = ("insightlog_events",)


def install_guards(ledger: Any) -> None:
    """Create the refusing triggers if they are missing (idempotent)."""
    datastore = ledger.recorder.datastore
    if ledger.factory.__class__.__module__.startswith("eventsourcing.sqlite"):
        with datastore.transaction(commit=True) as cursor:
            for table in SQLITE_TABLES:
                for op in ("UPDATE", "DELETE"):
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS insightlog_refuse_{op.lower()}_{table} "
                        f"BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, '{GUARD_MESSAGE}'); END"
                    )
        return
    with datastore.transaction(commit=True) as curs:
        curs.execute(
            "CREATE OR REPLACE FUNCTION insightlog_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{GUARD_MESSAGE}' USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in POSTGRES_TABLES:
            for op in ("UPDATE", "DELETE", "TRUNCATE"):
                name = f"insightlog_refuse_{op.lower()}"
                curs.execute(
                    "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = %s AND c.relname = %s",
                    (name, table),
                )
                if curs.fetchone() is None:
                    level = "STATEMENT" if op == "TRUNCATE" else "ROW"
                    curs.execute(
                        f"CREATE TRIGGER {name} BEFORE {op} ON {table} "
                        f"FOR EACH {level} EXECUTE FUNCTION insightlog_refuse_change()"
                    )
