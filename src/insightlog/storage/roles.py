"""PostgreSQL roles for a provider group: a writer, a projector and a select-only auditor.

``ensure_roles`` (``insightlog db roles``) is run by the schema owner; it is idempotent: each run
makes the grants on the database's tables exactly the documented set below, so re-running after an
upgrade that adds tables extends them. ``check_roles`` (``insightlog db roles --check``) lists every
privilege each role holds in the database, and flags any beyond that set (and any of it missing).

The documented set (``docs/operations.md``, "PostgreSQL roles"):

Every role
    LOGIN (NOINHERIT; no other attribute, no membership); CONNECT on this database (no CREATE, no
    TEMPORARY); USAGE on schema ``public`` (and on ``pg_catalog`` and ``information_schema``, which
    PostgreSQL grants to PUBLIC); nothing else: no large object, no function in ``public``, no
    default privilege.
Writer (``record``, ``import``, the web application)
    SELECT, INSERT on the event and snapshot tables, and UPDATE on the event table only because the
    event store takes ``LOCK TABLE ... IN EXCLUSIVE MODE``, which PostgreSQL allows only to roles
    holding UPDATE, DELETE or TRUNCATE (the guard triggers refuse the UPDATE itself); USAGE, SELECT
    on the event table's sequence; SELECT, UPDATE on ``insightlog_locks`` (the writer lock is a row
    lock, ``SELECT ... FOR UPDATE``; the guard triggers refuse the UPDATE itself); SELECT on the
    read models (``rm_*``); SELECT, INSERT, UPDATE on ``web_users``, ``web_sessions``,
    ``web_tokens``, and DELETE too on ``web_settings`` (a setting is replaced); SELECT, INSERT on
    ``web_access_log`` (append-only); USAGE, SELECT on the web tables' sequences.
Projector (``projections update`` / ``rebuild``: the only role below the owner that writes the read models)
    SELECT on the event and snapshot tables; SELECT, INSERT, UPDATE, DELETE, TRUNCATE on ``rm_*``
    and USAGE, SELECT, UPDATE on their sequences.
Auditor
    SELECT on the event, snapshot and ``rm_*`` tables; the per-role setting
    ``default_transaction_read_only = on``. The role may change that setting itself (PostgreSQL lets
    any role set its own defaults), so nothing relies on it: the privileges above are all it has.

To take those away from every role, ``ensure_roles`` also revokes from PUBLIC: TEMPORARY on the
database, CREATE on schema ``public``, EXECUTE on the functions of ``public`` the owner owns (the
guard trigger functions; triggers fire without it) and EXECUTE on the functions that create large
objects (``lo_creat``, ``lo_create``, ``lo_from_bytea``, ``lo_import``). The last needs the
database's superuser (PostgreSQL owns those functions); when it is not, the run warns and the
check flags it until a superuser runs the statement printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

from insightlog.errors import LedgerError, one_line
from insightlog.storage.pgconnect import POSTGRES_EVENTS_TABLE, POSTGRES_SNAPSHOTS_TABLE, postgres_connect, postgres_env
from insightlog.storage.writelock import LOCKS_TABLE

DEFAULT_WRITER = "insightlog_writer"
DEFAULT_AUDITOR = "insightlog_auditor"
DEFAULT_PROJECTOR = "insightlog_projector"
SCHEMA = "public"
READ_MODEL_PREFIX = "rm_"
WEB_READ_WRITE = ("web_users", "web_sessions", "web_tokens")
WEB_SETTINGS = "web_settings"
WEB_APPEND_ONLY = ("web_access_log",)
WEB_TABLES = (*WEB_READ_WRITE, WEB_SETTINGS, *WEB_APPEND_ONLY)
LEDGER_TABLES = (POSTGRES_EVENTS_TABLE, POSTGRES_SNAPSHOTS_TABLE)
# The functions that create large objects (server-side lo_import is already the superuser's).
LARGE_OBJECT_FUNCTIONS = (
    "lo_creat(integer)",
    "lo_create(oid)",
    "lo_from_bytea(oid, bytea)",
    "lo_import(text)",
    "lo_import(text, oid)",
)
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")
AUDITOR_SETTINGS = ("default_transaction_read_only=on",)
WRITER, PROJECTOR, AUDITOR = "writer", "projector", "auditor"
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT", "UPDATE")
_ROLE_NAME = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")


class RolesError(LedgerError):
    """Raised when the roles cannot be set up (bad name, no schema, not the owner)."""


@dataclass
class RolesReport:
    """What ``ensure_roles`` did."""

    writer: str
    auditor: str
    projector: str = DEFAULT_PROJECTOR
    created: list[str] = field(default_factory=list)
    ledger_tables: list[str] = field(default_factory=list)
    read_model_tables: list[str] = field(default_factory=list)
    web_tables: list[str] = field(default_factory=list)
    writer_url: str = ""
    auditor_url: str = ""
    projector_url: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Privilege:
    """One privilege a role holds: ``kind`` (attribute, membership, setting, database, schema, table,
    column, sequence, function, large object, ownership, default privileges, other), the object,
    the privilege, how it is held (``direct``, ``PUBLIC``, ``owner``) and whether the documented set
    has it. ``scope`` is ``this database``, ``cluster`` (role attributes) or ``other database``
    (listed, never flagged: see ``docs/operations.md``)."""

    role: str
    kind: str
    target: str
    privilege: str
    via: str
    expected: bool
    scope: str = "this database"

    @property
    def flagged(self) -> bool:
        return not self.expected and self.scope != "other database"

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "kind": self.kind,
            "target": self.target,
            "privilege": self.privilege,
            "via": self.via,
            "expected": self.expected,
            "flagged": self.flagged,
            "scope": self.scope,
        }


@dataclass
class RolesCheck:
    """What ``check_roles`` found: every privilege of each role, the documented ones it lacks."""

    database: str
    roles: dict[str, str]  # role name -> what it is for (writer, projector, auditor)
    privileges: list[Privilege] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # documented privileges (or roles) not there
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[Privilege]:
        return [p for p in self.privileges if p.flagged]

    @property
    def ok(self) -> bool:
        return not self.flagged and not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "database": self.database,
            "roles": self.roles,
            "privileges": [p.as_dict() for p in self.privileges],
            "flagged": len(self.flagged),
            "missing": self.missing,
            "notes": self.notes,
        }


def check_role_name(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name):
        raise RolesError(
            f"role name {name!r} must be lower-case letters, digits and _ (at most 63), not starting with a digit"
        )
    return name


def role_url(database_url: str, role: str) -> str:
    """The store's URL with another user and no password (the password is given separately)."""
    p = urlparse(database_url)
    host = p.hostname or "localhost"
    port = f":{p.port}" if p.port else ""
    return f"{p.scheme}://{quote(role)}@{host}{port}{p.path}"


def _names(writer: str, auditor: str, projector: str) -> dict[str, str]:
    for name in (writer, auditor, projector):
        check_role_name(name)
    if len({writer, auditor, projector}) != 3:
        raise RolesError("the writer, the projector and the auditor must be three different roles")
    return {writer: WRITER, projector: PROJECTOR, auditor: AUDITOR}


# ---------------------------------------------------------------------- the documented set


def expected_table_privileges(function: str, table: str) -> frozenset[str]:
    """The table privileges the documented set gives a role of ``function`` on ``table``."""
    read_model = table.startswith(READ_MODEL_PREFIX)
    if function == WRITER:
        if table == POSTGRES_EVENTS_TABLE:
            return frozenset({"SELECT", "INSERT", "UPDATE"})
        if table == POSTGRES_SNAPSHOTS_TABLE:
            return frozenset({"SELECT", "INSERT"})
        if table == LOCKS_TABLE:
            return frozenset({"SELECT", "UPDATE"})
        if read_model:
            return frozenset({"SELECT"})
        if table in WEB_READ_WRITE:
            return frozenset({"SELECT", "INSERT", "UPDATE"})
        if table == WEB_SETTINGS:
            return frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})
        if table in WEB_APPEND_ONLY:
            return frozenset({"SELECT", "INSERT"})
        return frozenset()
    if function == PROJECTOR:
        if table in LEDGER_TABLES:
            return frozenset({"SELECT"})
        if read_model:
            return frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"})
        return frozenset()
    if table in LEDGER_TABLES or read_model:
        return frozenset({"SELECT"})
    return frozenset()


def expected_sequence_privileges(function: str, table: str | None) -> frozenset[str]:
    """The privileges on a sequence owned by a column of ``table`` (None: a free sequence)."""
    if table is None:
        return frozenset()
    if function == WRITER and (table == POSTGRES_EVENTS_TABLE or table in WEB_TABLES):
        return frozenset({"USAGE", "SELECT"})
    if function == PROJECTOR and table.startswith(READ_MODEL_PREFIX):
        return frozenset({"USAGE", "SELECT", "UPDATE"})
    return frozenset()


# ---------------------------------------------------------------------- setting up


def ensure_roles(
    database_url: str,
    *,
    writer: str = DEFAULT_WRITER,
    auditor: str = DEFAULT_AUDITOR,
    projector: str = DEFAULT_PROJECTOR,
    writer_password: str | None = None,
    auditor_password: str | None = None,
    projector_password: str | None = None,
) -> RolesReport:
    """Create (if missing) the three roles and make their privileges exactly the documented set."""
    import psycopg

    names = _names(writer, auditor, projector)
    env = postgres_env(database_url)
    report = RolesReport(writer=writer, auditor=auditor, projector=projector)
    report.writer_url = role_url(database_url, writer)
    report.auditor_url = role_url(database_url, auditor)
    report.projector_url = role_url(database_url, projector)
    passwords = {writer: writer_password, auditor: auditor_password, projector: projector_password}
    try:
        with postgres_connect(env) as conn, conn.transaction():
            cur = conn.cursor()
            tables = _tables(cur)
            for needed in LEDGER_TABLES:
                if needed not in tables:
                    raise RolesError(
                        f"no table {needed} in this database: "
                        "create the schema first with `insightlog init` as its owner"
                    )
            # Roles are cluster-wide; two owners running this at once would collide on CREATE ROLE.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('insightlog db roles'))")
            if LOCKS_TABLE not in tables:
                from insightlog.storage.guards import create_locks

                create_locks(cur)
                tables.add(LOCKS_TABLE)
            report.ledger_tables = list(LEDGER_TABLES)
            report.read_model_tables = sorted(t for t in tables if t.startswith(READ_MODEL_PREFIX))
            report.web_tables = sorted(t for t in tables if t in WEB_TABLES)
            for role in names:
                _ensure_role(conn, cur, role, passwords[role], report)
            _grant(conn, cur, env["POSTGRES_DBNAME"], names, tables, report)
    except RolesError:
        raise
    except psycopg.errors.InsufficientPrivilege as exc:
        raise RolesError(
            f"not allowed: {one_line(exc)} (run `insightlog db roles` as the schema owner with CREATEROLE)"
        ) from None
    except psycopg.Error as exc:
        raise RolesError(f"could not set up the roles: {one_line(exc)}") from None
    return report


def _ensure_role(conn: Any, cur: Any, role: str, password: str | None, report: RolesReport) -> None:
    from psycopg import sql

    ident = sql.Identifier(role)
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if cur.fetchone() is None:
        cur.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS"
            ).format(ident)
        )
        report.created.append(role)
    else:
        # An existing role keeps no attribute the documented set lacks, where this role may say so
        # (SUPERUSER, REPLICATION and BYPASSRLS only a superuser may take away: the check flags them).
        _try(conn, cur, sql.SQL("ALTER ROLE {} LOGIN NOCREATEDB NOCREATEROLE NOINHERIT").format(ident), report, None)
    if password:
        cur.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))


def _try(conn: Any, cur: Any, statement: Any, report: RolesReport, warning: str | None) -> bool:
    """Run ``statement`` in a savepoint; on a refusal add ``warning`` (if any) and carry on."""
    import psycopg

    try:
        with conn.transaction():
            cur.execute(statement)
        return True
    except psycopg.errors.InsufficientPrivilege as exc:
        if warning:
            report.warnings.append(f"{warning} ({one_line(exc)})")
        return False


def _grant(conn: Any, cur: Any, dbname: str, names: dict[str, str], tables: set[str], report: RolesReport) -> None:
    from psycopg import sql

    by_function = {function: sql.Identifier(role) for role, function in names.items()}
    everyone = sql.SQL(", ").join(by_function.values())
    db = sql.Identifier(dbname)
    schema = sql.Identifier(SCHEMA)
    w, p, a = by_function[WRITER], by_function[PROJECTOR], by_function[AUDITOR]

    # Database and schema: CONNECT and USAGE, nothing more, for anyone.
    cur.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(db, everyone))
    cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, everyone))
    _try(
        conn,
        cur,
        sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(db),
        report,
        "every role may still create temporary tables: the database owner must run "
        f"REVOKE TEMPORARY ON DATABASE {dbname} FROM PUBLIC",
    )
    cur.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM {}").format(schema, everyone))
    cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, everyone))
    _try(
        conn,
        cur,
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema),
        report,
        f"every role may still create objects in schema {SCHEMA}: "
        f"its owner must run REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC",
    )

    # Tables and sequences: start from nothing, so a re-run converges on exactly the documented set.
    cur.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(schema, everyone))
    cur.execute(sql.SQL("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {} FROM {}").format(schema, everyone))
    for table in sorted(tables):
        for function, ident in by_function.items():
            wanted = expected_table_privileges(function, table)
            if wanted:
                privileges = sql.SQL(", ").join(sql.SQL(x) for x in sorted(wanted))
                cur.execute(sql.SQL("GRANT {} ON {} TO {}").format(privileges, sql.Identifier(SCHEMA, table), ident))
    for sequence, owner_table in _sequences(cur):
        for function, ident in by_function.items():
            wanted = expected_sequence_privileges(function, owner_table)
            if wanted:
                privileges = sql.SQL(", ").join(sql.SQL(x) for x in sorted(wanted))
                cur.execute(
                    sql.SQL("GRANT {} ON SEQUENCE {} TO {}").format(privileges, sql.Identifier(SCHEMA, sequence), ident)
                )

    # Functions: none to call. The guard trigger functions fire without EXECUTE.
    cur.execute(sql.SQL("REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {} FROM {}").format(schema, everyone))
    cur.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)",
        (SCHEMA,),
    )
    for (signature,) in cur.fetchall():
        cur.execute(sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM PUBLIC").format(sql.SQL(signature)))
    for signature in LARGE_OBJECT_FUNCTIONS:
        cur.execute("SELECT to_regprocedure(%s) IS NOT NULL", (f"pg_catalog.{signature}",))
        if not cur.fetchone()[0]:
            continue
        large_object_function = sql.SQL(f"pg_catalog.{signature}")
        _try(
            conn,
            cur,
            sql.SQL("REVOKE EXECUTE ON FUNCTION {} FROM {}").format(large_object_function, everyone),
            report,
            None,
        )
        statement = f"REVOKE EXECUTE ON FUNCTION pg_catalog.{signature} FROM PUBLIC"
        if not _try(conn, cur, sql.SQL(statement), report, None):
            report.warnings.append(
                f"every role may still create large objects with {signature.split('(')[0]}: "
                f"a superuser must run {statement} "
                "in this database"
            )
    # Large objects our roles own or were granted (none in the documented set).
    cur.execute(
        "SELECT l.oid FROM pg_largeobject_metadata l JOIN pg_roles r ON r.oid = l.lomowner WHERE r.rolname = ANY(%s)",
        (list(names),),
    )
    for (oid,) in cur.fetchall():
        report.warnings.append(
            f"large object {oid} is owned by one of these roles; the check flags it until it is removed"
        )

    # Default privileges: an earlier version let the auditor read every table the owner made later
    # (it would see the web's accounts tables): none now; re-run `db roles` after an upgrade.
    for scope in (sql.SQL("IN SCHEMA {} ").format(schema), sql.SQL("")):
        for kind in ("TABLES", "SEQUENCES", "FUNCTIONS"):
            cur.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES {}REVOKE ALL ON {} FROM {}").format(scope, sql.SQL(kind), everyone)
            )

    # Settings: the auditor's sessions default to read-only (not relied on: see the module docstring).
    cur.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(a))
    for ident in (w, p):
        cur.execute(sql.SQL("ALTER ROLE {} RESET default_transaction_read_only").format(ident))


def _tables(cur: Any) -> set[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,))
    return {row[0] for row in cur.fetchall()}


def _sequences(cur: Any) -> list[tuple[str, str | None]]:
    """Each sequence of the schema with the table whose column owns it (None if none)."""
    cur.execute(
        "SELECT s.relname, t.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace "
        "LEFT JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "LEFT JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE s.relkind = 'S' AND n.nspname = %s ORDER BY 1",
        (SCHEMA,),
    )
    return [(row[0], row[1]) for row in cur.fetchall()]


# ---------------------------------------------------------------------- checking


def check_roles(
    database_url: str,
    *,
    writer: str = DEFAULT_WRITER,
    auditor: str = DEFAULT_AUDITOR,
    projector: str = DEFAULT_PROJECTOR,
) -> RolesCheck:
    """Every privilege the three roles hold in the database, each marked expected or not."""
    import psycopg

    names = _names(writer, auditor, projector)
    env = postgres_env(database_url)
    check = RolesCheck(database=env["POSTGRES_DBNAME"], roles=dict(names))
    try:
        with postgres_connect(env) as conn, conn.transaction():
            cur = conn.cursor()
            cur.execute("SET TRANSACTION READ ONLY")
            tables = _tables(cur)
            if LOCKS_TABLE not in tables and POSTGRES_EVENTS_TABLE in tables:
                check.missing.append(
                    f"table {LOCKS_TABLE} (the writer lock): writers fall back to an advisory lock any role may hold; "
                    "run `insightlog init` or `insightlog db roles` as the owner"
                )
            cur.execute("SELECT current_setting('lo_compat_privileges')")
            lo_compat = cur.fetchone()[0] == "on"
            for role, function in names.items():
                cur.execute("SELECT oid FROM pg_roles WHERE rolname = %s", (role,))
                found = cur.fetchone()
                if found is None:
                    check.missing.append(f"role {role} ({function}) does not exist: run `insightlog db roles`")
                    continue
                held = _privileges_of(cur, role, int(found[0]), function, check.database, lo_compat)
                check.privileges += held
                check.missing += _missing(cur, role, function, held, tables)
    except psycopg.Error as exc:
        raise RolesError(f"could not read the roles' privileges: {one_line(exc)}") from None
    check.notes.append(
        "not listed: SELECT on the system catalogues and EXECUTE on PostgreSQL's own functions, "
        "which PostgreSQL grants "
        "to PUBLIC (except the functions that create large objects, which are listed)"
    )
    return check


def _privileges_of(cur: Any, role: str, oid: int, function: str, database: str, lo_compat: bool) -> list[Privilege]:
    found: list[Privilege] = []

    def add(kind: str, target: str, privilege: str, via: str, expected: bool, scope: str = "this database") -> None:
        found.append(Privilege(role, kind, target, privilege, via, expected, scope))

    # Role attributes, memberships and per-role settings.
    cur.execute(
        "SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE oid = %s",
        (oid,),
    )
    attributes = dict(
        zip(
            ("SUPERUSER", "INHERIT", "CREATEROLE", "CREATEDB", "LOGIN", "REPLICATION", "BYPASSRLS"),
            cur.fetchone(),
            strict=True,
        )
    )
    for name, value in attributes.items():
        if value:
            add("attribute", role, name, "role", name == "LOGIN", "cluster")
    cur.execute(
        "SELECT rolname FROM pg_roles WHERE oid <> %s AND pg_has_role(%s::oid, oid, 'MEMBER') ORDER BY 1", (oid, oid)
    )
    for (other,) in cur.fetchall():
        add("membership", other, "MEMBER", "granted", False, "cluster")
    cur.execute(
        "SELECT CASE WHEN s.setdatabase = 0 THEN 'every database' ELSE d.datname END, unnest(s.setconfig) "
        "FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase "
        "WHERE s.setrole = %s AND (s.setdatabase = 0 OR d.datname = current_database()) ORDER BY 1, 2",
        (oid,),
    )
    for where, setting in cur.fetchall():
        expected = function == AUDITOR and where == "every database" and setting in AUDITOR_SETTINGS
        add("setting", where, setting, "ALTER ROLE", expected)
    if function == AUDITOR and not any(p.kind == "setting" and p.expected for p in found):
        add("setting", "every database", "default_transaction_read_only is not on", "ALTER ROLE", False)

    # Databases: this one (CONNECT only) and the others (listed, not flagged).
    cur.execute(
        "SELECT d.datname, x.priv, has_database_privilege(%s::oid, d.oid, x.priv), "
        "has_database_privilege('public', d.oid, x.priv) "
        "FROM pg_database d CROSS JOIN unnest(ARRAY['CONNECT', 'CREATE', 'TEMPORARY']) AS x(priv) "
        "WHERE d.datallowconn ORDER BY d.datname = current_database() DESC, 1, 2",
        (oid,),
    )
    for datname, privilege, has, public in cur.fetchall():
        if has:
            here = datname == database
            add(
                "database",
                datname,
                privilege,
                "PUBLIC" if public else "direct",
                here and privilege == "CONNECT",
                "this database" if here else "other database",
            )

    # Schemas.
    cur.execute(
        "SELECT n.nspname, x.priv, has_schema_privilege(%s::oid, n.oid, x.priv), "
        "has_schema_privilege('public', n.oid, x.priv), "
        "n.nspowner = %s FROM pg_namespace n CROSS JOIN unnest(ARRAY['USAGE', 'CREATE']) AS x(priv) "
        "WHERE n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%' ORDER BY 1, 2",
        (oid, oid),
    )
    for schema, privilege, has, public, owner in cur.fetchall():
        if has:
            expected = privilege == "USAGE" and (schema == SCHEMA or schema in SYSTEM_SCHEMAS) and not owner
            add("schema", schema, privilege, _via(public, owner), expected)

    # Tables (views and the like too) and their columns, outside the system catalogues.
    cur.execute(
        "SELECT n.nspname, c.relname, x.priv, has_table_privilege(%s::oid, c.oid, x.priv), "
        "has_table_privilege('public', c.oid, x.priv), "
        "c.relowner = %s FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(%s::text[]) WITH ORDINALITY AS x(priv, i) "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> ALL(%s) "
        "AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%' ORDER BY 1, 2, x.i",
        (oid, oid, list(TABLE_PRIVILEGES), list(SYSTEM_SCHEMAS)),
    )
    for schema, table, privilege, has, public, owner in cur.fetchall():
        if has:
            expected = schema == SCHEMA and not owner and privilege in expected_table_privileges(function, table)
            add("table", _qualified(schema, table), privilege, _via(public, owner), expected)
    cur.execute(
        "SELECT n.nspname, c.relname, a.attname, x.priv FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) AS x(priv) "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname <> ALL(%s) "
        "AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp\\_%%' "
        "AND has_column_privilege(%s::oid, c.oid, a.attnum, x.priv) "
        "AND NOT has_table_privilege(%s::oid, c.oid, x.priv) "
        "ORDER BY 1, 2, 3",
        (list(SYSTEM_SCHEMAS), oid, oid),
    )
    for schema, table, column, privilege in cur.fetchall():
        add("column", f"{_qualified(schema, table)}.{column}", privilege, "direct", False)

    # Sequences.
    owners = {name: table for name, table in _sequences(cur)}
    cur.execute(
        "SELECT n.nspname, c.relname, x.priv, has_sequence_privilege(%s::oid, c.oid, x.priv), "
        "has_sequence_privilege('public', c.oid, x.priv), c.relowner = %s "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(ARRAY['USAGE', 'SELECT', 'UPDATE']) WITH ORDINALITY AS x(priv, i) "
        "WHERE c.relkind = 'S' AND n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_temp\\_%%' ORDER BY 1, 2, x.i",
        (oid, oid, list(SYSTEM_SCHEMAS)),
    )
    for schema, sequence, privilege, has, public, owner in cur.fetchall():
        if has:
            wanted = expected_sequence_privileges(function, owners.get(sequence)) if schema == SCHEMA else frozenset()
            add(
                "sequence",
                _qualified(schema, sequence),
                privilege,
                _via(public, owner),
                privilege in wanted and not owner,
            )

    # Functions: every one outside the system catalogues, and the system ones that create large objects.
    cur.execute(
        "SELECT p.oid::regprocedure::text, has_function_privilege('public', p.oid, 'EXECUTE'), p.proowner = %s "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname <> ALL(%s) AND n.nspname NOT LIKE 'pg\\_temp\\_%%' "
        "AND has_function_privilege(%s::oid, p.oid, 'EXECUTE') ORDER BY 1",
        (oid, list(SYSTEM_SCHEMAS), oid),
    )
    for signature, public, owner in cur.fetchall():
        add("function", signature, "EXECUTE", _via(public, owner), False)
    for signature in LARGE_OBJECT_FUNCTIONS:
        cur.execute(
            "SELECT has_function_privilege(%s::oid, p, 'EXECUTE'), has_function_privilege('public', p, 'EXECUTE') "
            "FROM to_regprocedure(%s) AS p WHERE p IS NOT NULL",
            (oid, f"pg_catalog.{signature}"),
        )
        row = cur.fetchone()
        if row is not None and row[0]:
            add("function", f"pg_catalog.{signature}", "EXECUTE (creates large objects)", _via(row[1], False), False)

    # Large objects: owned, granted, or every one when lo_compat_privileges is on.
    cur.execute(
        "SELECT l.oid::text, l.lomowner = %s, "
        "COALESCE((SELECT string_agg(DISTINCT a.privilege_type, ', ') FROM aclexplode(l.lomacl) a "
        "WHERE a.grantee IN (0, %s)), '') "
        "FROM pg_largeobject_metadata l ORDER BY l.oid",
        (oid, oid),
    )
    for lo, owner, granted in cur.fetchall():
        if owner:
            add("large object", lo, "ALL", "owner", False)
        elif granted:
            add("large object", lo, granted, "granted", False)
    if lo_compat:
        add("large object", "every large object", "SELECT, UPDATE", "lo_compat_privileges = on", False)

    # Ownership and any other privilege PostgreSQL records for the role (types, languages, parameters,
    # default privileges, tablespaces, foreign servers...): none is in the documented set.
    cur.execute(
        "SELECT s.deptype, s.classid::regclass::text, pg_describe_object(s.classid, s.objid, s.objsubid) "
        "FROM pg_shdepend s WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = %s "
        "AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) "
        "AND (s.deptype = 'o' OR s.classid::regclass::text NOT IN "
        "('pg_class', 'pg_namespace', 'pg_database', 'pg_proc', 'pg_largeobject_metadata', 'pg_largeobject')) "
        "ORDER BY 2, 3",
        (oid,),
    )
    for deptype, catalogue, description in cur.fetchall():
        if deptype == "o":
            add("ownership", description, "OWNER", "owner", False)
        elif catalogue == "pg_default_acl":
            add("default privileges", description, "granted on objects made later", "ALTER DEFAULT PRIVILEGES", False)
        else:
            add("other", description, "granted", "direct", False)
    return found


def _missing(cur: Any, role: str, function: str, held: Iterable[Privilege], tables: set[str]) -> list[str]:
    """The documented privileges ``role`` lacks, in words."""
    have = {(p.kind, p.target, p.privilege) for p in held}
    missing = []
    if ("attribute", role, "LOGIN") not in have:
        missing.append(f"{role}: LOGIN")
    for table in sorted(tables):
        for privilege in sorted(expected_table_privileges(function, table)):
            if ("table", _qualified(SCHEMA, table), privilege) not in have:
                missing.append(f"{role}: {privilege} on table {table}")
    for sequence, owner_table in _sequences(cur):
        for privilege in sorted(expected_sequence_privileges(function, owner_table)):
            if ("sequence", _qualified(SCHEMA, sequence), privilege) not in have:
                missing.append(f"{role}: {privilege} on sequence {sequence}")
    if not any(p.kind == "database" and p.privilege == "CONNECT" and p.scope == "this database" for p in held):
        missing.append(f"{role}: CONNECT on this database")
    if ("schema", SCHEMA, "USAGE") not in have:
        missing.append(f"{role}: USAGE on schema {SCHEMA}")
    return missing


def _via(public: bool, owner: bool) -> str:
    return "owner" if owner else "PUBLIC" if public else "direct"


def _qualified(schema: str, name: str) -> str:
    return name if schema == SCHEMA else f"{schema}.{name}"
