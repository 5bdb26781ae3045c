"""PostgreSQL roles for a provider group: a least-privilege writer and a select-only auditor.

Run by the schema owner (``insightlog db roles``); idempotent: each run makes the grants on the
ledger's tables exactly these, so re-running after an upgrade that adds read-model tables
extends them.

Writer
    CONNECT on the database, USAGE on the schema; SELECT and INSERT on the event and snapshot
    tables; UPDATE on the event table only because the event store takes
    ``LOCK TABLE ... IN EXCLUSIVE MODE``, which PostgreSQL 15 allows only to roles holding UPDATE,
    DELETE or TRUNCATE (the guard triggers still refuse every UPDATE, DELETE and TRUNCATE);
    USAGE and SELECT on the notification sequence; SELECT, INSERT, UPDATE, DELETE and TRUNCATE on
    the read-model tables (``rm_*``) that exist, and their sequences. It may not create, alter
    or drop anything.
Auditor
    CONNECT, USAGE and SELECT on every ledger and read-model table; its sessions default to
    read-only transactions. Tables the owner creates later are readable by it too (default
    privileges).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

from insightlog.errors import LedgerError, one_line
from insightlog.storage.pgconnect import POSTGRES_EVENTS_TABLE, POSTGRES_SNAPSHOTS_TABLE, postgres_connect, postgres_env

DEFAULT_WRITER = "insightlog_writer"
DEFAULT_AUDITOR = "insightlog_auditor"
SCHEMA = "public"
READ_MODEL_PREFIX = "rm_"
_ROLE_NAME = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")


class RolesError(LedgerError):
    """Raised when the roles cannot be set up (bad name, no schema, not the owner)."""


@dataclass
class RolesReport:
    """What ``ensure_roles`` did."""

    writer: str
    auditor: str
    created: list[str] = field(default_factory=list)
    ledger_tables: list[str] = field(default_factory=list)
    read_model_tables: list[str] = field(default_factory=list)
    writer_url: str = ""
    auditor_url: str = ""
    warnings: list[str] = field(default_factory=list)


def check_role_name(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name):
        raise RolesError(f"role name {name!r} must be lower-case letters, digits and _ (at most 63), not starting with a digit")
    return name


def role_url(database_url: str, role: str) -> str:
    """The store's URL with another user and no password (the password is given separately)."""
    p = urlparse(database_url)
    host = p.hostname or "localhost"
    port = f":{p.port}" if p.port else ""
    return f"{p.scheme}://{quote(role)}@{host}{port}{p.path}"


def ensure_roles(
    database_url: str,
    *,
    writer: str = DEFAULT_WRITER,
    auditor: str = DEFAULT_AUDITOR,
    writer_password: str | None = None,
    auditor_password: str | None = None,
) -> RolesReport:
    """Create (if missing) the writer and auditor roles and make their grants exactly these."""
    import psycopg
    from psycopg import sql

    check_role_name(writer)
    check_role_name(auditor)
    if writer == auditor:
        raise RolesError("the writer and the auditor must be different roles")
    env = postgres_env(database_url)
    report = RolesReport(writer=writer, auditor=auditor)
    report.writer_url = role_url(database_url, writer)
    report.auditor_url = role_url(database_url, auditor)
    w, a = sql.Identifier(writer), sql.Identifier(auditor)
    try:
        with postgres_connect(env) as conn, conn.transaction():
            cur = conn.cursor()
            tables = _tables(cur)
            for needed in (POSTGRES_EVENTS_TABLE, POSTGRES_SNAPSHOTS_TABLE):
                if needed not in tables:
                    raise RolesError(f"no table {needed} in this database: create the schema first with `insightlog init` as its owner")
            cur.execute("SELECT pg_get_serial_sequence(%s, 'notification_id')", (f"{SCHEMA}.{POSTGRES_EVENTS_TABLE}",))
            sequence = cur.fetchone()[0]
            ledger_tables = [POSTGRES_EVENTS_TABLE, POSTGRES_SNAPSHOTS_TABLE]
            read_models = sorted(t for t in tables if t.startswith(READ_MODEL_PREFIX))
            report.ledger_tables = ledger_tables
            report.read_model_tables = read_models
            # Roles are cluster-wide; two owners running this at once would collide on CREATE ROLE.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('insightlog db roles'))")
            for role, password in ((writer, writer_password), (auditor, auditor_password)):
                cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT").format(sql.Identifier(role)))
                    report.created.append(role)
                if password:
                    cur.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
            db = sql.Identifier(env["POSTGRES_DBNAME"])
            schema = sql.Identifier(SCHEMA)
            cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(db, w, a))
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}, {}").format(schema, w, a))
            everything = [sql.Identifier(SCHEMA, t) for t in (*ledger_tables, *read_models)]
            # Start from nothing on our tables, so a re-run converges on exactly these grants.
            cur.execute(sql.SQL("REVOKE ALL ON {} FROM {}, {}").format(sql.SQL(", ").join(everything), w, a))
            events, snapshots = (sql.Identifier(SCHEMA, t) for t in ledger_tables)
            cur.execute(sql.SQL("GRANT SELECT, INSERT ON {}, {} TO {}").format(events, snapshots, w))
            # LOCK TABLE ... IN EXCLUSIVE MODE needs UPDATE, DELETE or TRUNCATE in PostgreSQL 15;
            # the guard triggers refuse the UPDATE itself.
            cur.execute(sql.SQL("GRANT UPDATE ON {} TO {}").format(events, w))
            if sequence:
                seq = sql.SQL(sequence)  # already a quoted, qualified name from pg_get_serial_sequence
                cur.execute(sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}, {}").format(seq, w, a))
                cur.execute(sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(seq, w))
            if read_models:
                rms = sql.SQL(", ").join(sql.Identifier(SCHEMA, t) for t in read_models)
                cur.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON {} TO {}").format(rms, w))
                for seq_name in _sequences_of(cur, read_models):
                    cur.execute(sql.SQL("GRANT USAGE, SELECT, UPDATE ON SEQUENCE {} TO {}").format(sql.SQL(seq_name), w))
            cur.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(", ").join(everything), a))
            # Tables the owner creates later (new read models) are readable by the auditor.
            cur.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(schema, a))
            cur.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(a))
            cur.execute(
                "SELECT has_schema_privilege('public', %s, 'CREATE') OR has_schema_privilege(%s, %s, 'CREATE')",
                (SCHEMA, writer, SCHEMA),
            )
            if cur.fetchone()[0]:
                report.warnings.append(
                    f"PUBLIC or {writer} may create objects in schema {SCHEMA}; consider: REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC"
                )
    except RolesError:
        raise
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RolesError(f"not allowed: {one_line(exc)} (run `insightlog db roles` as the schema owner with CREATEROLE)") from None
    except psycopg.Error as exc:
        raise RolesError(f"could not set up the roles: {one_line(exc)}") from None
    return report


def _tables(cur: Any) -> set[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,))
    return {row[0] for row in cur.fetchall()}


def _sequences_of(cur: Any, tables: list[str]) -> list[str]:
    """Qualified names of the sequences owned by columns of ``tables``."""
    cur.execute(
        "SELECT DISTINCT pg_get_serial_sequence(quote_ident(c.table_schema) || '.' || quote_ident(c.table_name), c.column_name) "
        "FROM information_schema.columns c WHERE c.table_schema = %s AND c.table_name = ANY(%s)",
        (SCHEMA, tables),
    )
    return sorted(row[0] for row in cur.fetchall() if row[0])
