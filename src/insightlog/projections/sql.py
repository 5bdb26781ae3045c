"""The governance read models as SQLAlchemy Core tables in the event store's own database: the
SQL implementation of the port (``insightlog.projections.port``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from insightlog.projections.port import GovernanceView, StaleTrackingError
from insightlog.projections.records import Batch, PreparedService, Tracking
from insightlog.projections.rows import (
    JSON_RECOGNITION,
    RECOGNITION_KEYS,
    from_json,
    governance_row,
    prepare_service,
    service_digests,
    status_values,
    tuples,
)

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import ColumnElement, Table
    from sqlalchemy.engine import Connection, Engine, RowMapping


class SqlAlchemyGovernanceView(GovernanceView):
    """The read models as SQLAlchemy Core tables in the event store's database."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        from insightlog.projections.database import writer

        self.engine = engine
        self.write_engine = writer(engine)
        self.read_only = read_only
        # Called inside the write transaction after every row of a batch is written and before
        # the commit; tests use it to simulate a crash half-way through a run.
        self.before_commit: Callable[[Batch], None] | None = None

    # -- schema ------------------------------------------------------------------------------

    def exists(self) -> bool:
        from sqlalchemy import inspect

        from insightlog.projections import tables

        names = set(inspect(self.engine).get_table_names())
        return all(t.name in names for t in tables.ALL_TABLES)

    def create(self, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
        from sqlalchemy import select

        from insightlog.projections import tables

        self._check_writable()
        with self.write_engine.begin() as conn:
            tables.metadata.create_all(conn, checkfirst=True)
            found = conn.execute(
                select(tables.tracking.c.projection).where(tables.tracking.c.projection == projection)
            ).first()
            if found is None:
                _start_tracking(conn, projection, schema_version, definitions_version, now)

    def drop(self) -> None:
        from insightlog.projections import tables

        self._check_writable()
        with self.write_engine.begin() as conn:
            tables.metadata.drop_all(conn, checkfirst=True)

    def reset(self, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
        from sqlalchemy import delete, text

        from insightlog.projections import tables

        self._check_writable()
        with self.write_engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables.ALL_TABLES)
                conn.execute(text(f"TRUNCATE {names}"))
            else:
                for table in tables.ALL_TABLES:
                    conn.execute(delete(table))
            _start_tracking(conn, projection, schema_version, definitions_version, now)

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError("the read models are open read-only")

    def write_refusal(self) -> str | None:
        """Why this connection's role may not write the read models (None if it may): on
        PostgreSQL only the projector role and the owner may (``insightlog db roles``). SQLite has
        no roles (a file it may not write is refused when written)."""
        from sqlalchemy import text

        from insightlog.projections import tables

        if self.engine.dialect.name != "postgresql":
            return None
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT current_user, to_regclass(:t) IS NOT NULL, "
                    "COALESCE(has_table_privilege(to_regclass(:t), 'UPDATE'), false), "
                    "has_schema_privilege('public', 'CREATE')"
                ),
                {"t": f"public.{tables.tracking.name}"},
            ).one()
        role, exists, may_update, may_create = row
        if (exists and may_update) or (not exists and may_create):
            return None
        return f"role {role!r} may not write the read models (the projector role does: `insightlog projections update`)"

    # -- writing -----------------------------------------------------------------------------

    def write(self, projection: str, batch: Batch) -> None:
        from sqlalchemy import update

        from insightlog.projections import tables

        self._check_writable()
        with self.write_engine.begin() as conn:
            t = tables.tracking
            moved = conn.execute(
                update(t)
                .where(t.c.projection == projection, t.c.position == batch.expected_position)
                .values(position=batch.position, entry_position=batch.entry_position, updated_at=batch.updated_at)
            )
            if moved.rowcount != 1:
                raise StaleTrackingError(
                    f"projection {projection}: tracking position is no longer {batch.expected_position}"
                )
            if batch.events:
                self._insert(conn, tables.events, batch.events)
            if batch.dirty:
                self.mark_dirty(conn, batch)
            self.write_services(conn, batch)
            if self.before_commit is not None:
                self.before_commit(batch)

    def mark_dirty(self, conn: Connection, batch: Batch) -> None:
        """Flag the batch's ``dirty`` services, with a placeholder status row (as_of NULL, no
        other rows) for a service that has none yet (inside the caller's transaction)."""
        from sqlalchemy import select, update

        from insightlog.projections import tables

        t = tables.service_status
        names = sorted(set(batch.dirty))
        missing: list[str] = []
        for part in _parts(names, 500):
            conn.execute(update(t).where(t.c.service.in_(part), t.c.dirty == 0).values(dirty=1))
            found = set(conn.execute(select(t.c.service).where(t.c.service.in_(part))).scalars())
            missing += [name for name in part if name not in found]
        self._insert(
            conn,
            t,
            [placeholder(name, batch.position) for name in missing],
        )

    def write_services(self, conn: Connection, batch: Batch) -> None:
        """Replace the rows of each service of the batch (inside the caller's transaction)."""
        from sqlalchemy import delete

        from insightlog.analysis.governance import ServiceGovernance
        from insightlog.projections import tables

        if not batch.services:
            return
        names = [s.service for s in batch.services]
        for table in (*tables.PER_SERVICE, tables.service_status):
            for part in _parts(names, 500):
                conn.execute(delete(table).where(table.c.service.in_(part)))
        per_table: dict[str, list[tuple[Any, ...]]] = {t.name: [] for t in tables.PER_SERVICE}
        status = []
        for service in batch.services:
            s = prepare_service(service) if isinstance(service, ServiceGovernance) else service
            if isinstance(s, PreparedService):
                for name, rows in s.tables.items():
                    per_table[name] += rows
                results = {
                    "definitions_version": s.definitions_version,
                    "isolated_themes": s.isolated_themes,
                    "overdue_reviews": s.overdue_reviews,
                    "error": None,
                }
            else:  # a ServiceFailure: no rows, its error
                results = {
                    "definitions_version": "",
                    "isolated_themes": "[]",
                    "overdue_reviews": "[]",
                    "error": s.error,
                }
            row = {
                "service": s.service,
                "as_of": s.as_of,
                "events": s.entry_count,
                "last_entry_position": s.last_position,
                "updated_position": batch.position,
                "taxonomy_version": s.taxonomy_version,
                **results,
                "dirty": 0,
            }
            own = s.tables if isinstance(s, PreparedService) else {}
            precomputed = s.digests if isinstance(s, PreparedService) else ""
            row["digests"] = precomputed or service_digests(own, status_values(row))
            status.append(row)
        for table in tables.PER_SERVICE:
            self._insert_rows(conn, table, per_table[table.name])
        self._insert(conn, tables.service_status, status)

    @classmethod
    def _insert(cls, conn: Connection, table: Table, records: Sequence[dict[str, Any]]) -> None:
        """Insert many records (dicts keyed by column name); see ``_insert_rows``."""
        cls._insert_rows(conn, table, tuples(table, records))

    @staticmethod
    def _insert_rows(conn: Connection, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert many rows (tuples in column order) with the driver's executemany, or COPY on
        PostgreSQL (SQLAlchemy's per-row parameter processing costs more than the database here;
        every column is plain Text or Integer)."""
        if not rows:
            return
        columns = [c.name for c in table.columns]
        quote = conn.dialect.identifier_preparer.quote
        if conn.dialect.name == "postgresql":
            # COPY on the transaction's own connection: several times faster than executemany.
            # The dialect is psycopg's, so the driver's connection and cursor are psycopg's.
            dbapi = conn.connection.dbapi_connection
            if dbapi is None:  # pragma: no cover - a connection in a transaction is never detached
                raise RuntimeError("the read models' connection was detached from its driver connection")
            cursor = cast("psycopg.Cursor[Any]", dbapi.cursor())
            try:
                with cursor.copy(
                    f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
            finally:
                cursor.close()
            return
        style = conn.dialect.paramstyle
        if style == "qmark":
            mark = "?"
        elif style in ("format", "pyformat"):
            mark = "%s"
        else:  # pragma: no cover - other drivers
            for part in _parts(rows, 5000):
                conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in part])
            return
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        for part in _parts(rows, 5000):
            conn.exec_driver_sql(sql, list(part))

    # -- reading -----------------------------------------------------------------------------

    def tracking(self, projection: str) -> Tracking | None:
        from sqlalchemy import select

        from insightlog.projections import tables

        with self.engine.connect() as conn:
            row = conn.execute(select(tables.tracking).where(tables.tracking.c.projection == projection)).first()
        if row is None:
            return None
        return Tracking(
            projection=row.projection,
            position=row.position,
            entry_position=row.entry_position,
            schema_version=row.schema_version,
            definitions_version=row.definitions_version,
            updated_at=row.updated_at,
        )

    def service_status(self) -> list[dict[str, Any]]:
        from sqlalchemy import select, text

        from insightlog.projections import tables

        t = tables.service_status
        with self.engine.connect() as conn:
            # Every column there is, so the status of tables of an older layout can be shown.
            rows = conn.execute(select(text("*")).select_from(t)).mappings().all()
        found = [{"dirty": 0, **r} for r in rows]
        return sorted(found, key=lambda r: r["service"])

    def services_with_version(self, names: Iterable[str]) -> list[str]:
        from sqlalchemy import select

        from insightlog.projections import tables

        t = tables.service_status
        with self.engine.connect() as conn:
            return list(conn.execute(select(t.c.service).where(t.c.taxonomy_version.in_(list(names)))).scalars())

    def dirty_services(self) -> list[str]:
        from sqlalchemy import select

        from insightlog.projections import tables

        t = tables.service_status
        with self.engine.connect() as conn:
            return sorted(conn.execute(select(t.c.service).where(t.c.dirty != 0)).scalars())

    def pending_entries(self, services: Iterable[str]) -> dict[str, int]:
        from sqlalchemy import func, select

        from insightlog.projections import tables

        s, e = tables.service_status, tables.events
        names = sorted(set(services))
        found: dict[str, int] = dict.fromkeys(names, 0)
        with self.engine.connect() as conn:
            for part in _parts(names, 500):
                q = (
                    select(s.c.service, func.count(e.c.position))
                    .select_from(s.join(e, e.c.service == s.c.service))
                    .where(s.c.service.in_(part), e.c.position > s.c.last_entry_position)
                    .group_by(s.c.service)
                )
                found.update({name: count for name, count in conn.execute(q)})
        return found

    def governance_rows(self, service: str | None = None) -> list[dict[str, Any]]:
        from sqlalchemy import select

        from insightlog.projections import tables

        g, s = tables.governance, tables.service_status
        rows_q = select(g)
        status_q = select(s.c.service, s.c.overdue_reviews)
        if service is not None:
            rows_q = rows_q.where(g.c.service == service)
            status_q = status_q.where(s.c.service == service)
        with self.engine.connect() as conn:
            overdue = {name: from_json(text) for name, text in conn.execute(status_q)}
            found = conn.execute(rows_q).all()
        # Sorted here, not in SQL: PostgreSQL collations need not sort by code point.
        records = sorted(found, key=lambda rec: (rec.service, rec.ordinal))
        return [governance_row(rec, overdue.get(rec.service, [])) for rec in records]

    def analysis_document(self, service: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        from insightlog.projections import tables

        def rows(conn: Connection, table: Table, *order: ColumnElement[Any]) -> Sequence[RowMapping]:
            return conn.execute(select(table).where(table.c.service == service).order_by(*order)).mappings().all()

        with self.engine.connect() as conn:
            status = (
                conn.execute(select(tables.service_status).where(tables.service_status.c.service == service))
                .mappings()
                .first()
            )
            if status is None or status["error"] is not None or status["as_of"] is None:
                return None
            recognition = rows(conn, tables.recognition, tables.recognition.c.ordinal)
            drift = rows(conn, tables.drift, tables.drift.c.ordinal)
            improvement = rows(conn, tables.improvement)
            overdue = rows(conn, tables.overdue_reviews, tables.overdue_reviews.c.ordinal)
            late = rows(conn, tables.late_reviews, tables.late_reviews.c.ordinal)
            triggers = rows(conn, tables.triggers, tables.triggers.c.ordinal)
        statuses: dict[str, dict[str, str]] = {}
        # Sorted here, not in SQL: PostgreSQL collations need not sort by code point.
        for r in sorted(improvement, key=lambda r: (r["theme"], r["evaluation_date"])):
            statuses.setdefault(r["theme"], {})[r["evaluation_date"]] = r["status"]
        return {
            "definitions_version": status["definitions_version"],
            "service": service,
            "as_of": status["as_of"],
            "recognition": [
                {k: from_json(r[k]) if k in JSON_RECOGNITION else r[k] for k in RECOGNITION_KEYS} for r in recognition
            ],
            "isolated_themes": from_json(status["isolated_themes"]),
            "drift": [
                {
                    "theme": r["theme"],
                    "scope": r["scope"],
                    "month": r["month"],
                    "J": r["j"],
                    "J_event": r["j_event"],
                    "E": r["e"],
                    "D": r["d"],
                    "sign": r["sign"],
                }
                for r in drift
            ],
            "improvement_status": statuses,
            "reviews": {
                "overdue": [{k: r[k] for k in ("level", "due_by", "held", "days_overdue")} for r in overdue],
                "late_recorded": [
                    {k: r[k] for k in ("event_id", "level", "held", "recorded", "days_late")} for r in late
                ],
            },
            "triggers": [
                {
                    "trigger": r["trigger"],
                    "theme": r["theme"],
                    "scope": r["scope"],
                    "fired_on": r["fired_on"],
                    "events": from_json(r["events"]),
                }
                for r in triggers
            ],
        }

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """One consistent read of the read models (a REPEATABLE READ transaction on PostgreSQL, one
        read transaction on SQLite): what a reader checks is what it shows."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield Snapshot(conn)

    def event_positions(self) -> list[int]:
        from sqlalchemy import select

        from insightlog.projections import tables

        with self.engine.connect() as conn:
            return list(conn.execute(select(tables.events.c.position).order_by(tables.events.c.position)).scalars())

    def dispose(self) -> None:
        self.engine.dispose()


class Snapshot:
    """Reads of the read models inside one transaction (see ``SqlAlchemyGovernanceView.snapshot``)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def tracking(self, projection: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        from insightlog.projections import tables

        query = select(tables.tracking).where(tables.tracking.c.projection == projection)
        row = self.conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def statuses(self, services: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Status rows by service (every one, or those of ``services``)."""
        from sqlalchemy import select

        from insightlog.projections import tables

        t = tables.service_status
        if services is None:
            rows = self.conn.execute(select(t)).mappings().all()
        else:
            names = sorted(set(services))
            rows = [
                r
                for part in _parts(names, 500)
                for r in self.conn.execute(select(t).where(t.c.service.in_(part))).mappings()
            ]
        return {r["service"]: dict(r) for r in rows}

    def rows(self, table: Table, service: str) -> list[tuple[Any, ...]]:
        """A service's rows of a per-service table, as tuples in column order."""
        from sqlalchemy import select

        return [tuple(r) for r in self.conn.execute(select(table).where(table.c.service == service))]

    def governance(self, service: str | None) -> list[Any]:
        """The ``rm_governance`` records (of one service, or all)."""
        from sqlalchemy import select

        from insightlog.projections import tables

        g = tables.governance
        query = select(g) if service is None else select(g).where(g.c.service == service)
        return list(self.conn.execute(query))

    def events(self) -> Iterator[tuple[Any, ...]]:
        """Every ``rm_events`` row in position order, as tuples in column order."""
        from sqlalchemy import select

        from insightlog.projections import tables

        for row in self.conn.execute(select(tables.events).order_by(tables.events.c.position)):
            yield tuple(row)

    def services_without_status(self) -> dict[str, list[str]]:
        """For each per-service table, the services it holds rows of that have no status row."""
        from sqlalchemy import select

        from insightlog.projections import tables

        s = tables.service_status
        found: dict[str, list[str]] = {}
        for table in tables.PER_SERVICE:
            query = select(table.c.service).distinct().where(table.c.service.not_in(select(s.c.service)))
            names = sorted(self.conn.execute(query).scalars())
            if names:
                found[str(table.name)] = names
        return found


def placeholder(service: str, position: int) -> dict[str, Any]:
    """The status row of a service whose events are indexed but not yet computed (no other rows)."""
    row: dict[str, Any] = {
        "service": service,
        "as_of": None,
        "events": 0,
        "last_entry_position": 0,
        "updated_position": position,
        "taxonomy_version": None,
        "definitions_version": "",
        "isolated_themes": "[]",
        "overdue_reviews": "[]",
        "error": None,
        "dirty": 1,
    }
    row["digests"] = service_digests({}, status_values(row))
    return row


def _parts(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _start_tracking(conn: Connection, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
    """The tracking record of a projection that has processed nothing yet."""
    from insightlog.projections import tables

    conn.execute(
        tables.tracking.insert().values(
            projection=projection,
            position=0,
            entry_position=0,
            schema_version=schema_version,
            definitions_version=definitions_version,
            updated_at=now,
        )
    )
