"""The governance read models: the view interface and its SQLAlchemy implementation.

A ``Batch`` is what one projection step writes: the rows of the ``rm_events`` index for the new
notifications with the services they touch marked dirty, or recomputed per-service models (which
clear their service's dirty flag), and the tracking position. The view writes all of it in ONE
transaction, after checking that the tracking position is still the one the batch was computed
from, so each event is applied exactly once and a crash leaves nothing half written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from insightlog.analysis.governance import ServiceGovernance


class StaleTrackingError(Exception):
    """Raised when the tracking position moved since a batch was computed (another run wrote first)."""


@dataclass(frozen=True)
class Tracking:
    """The tracking record of a projection."""

    projection: str
    position: int
    entry_position: int
    schema_version: int
    definitions_version: str
    updated_at: str


@dataclass
class ServiceFailure:
    """A service whose analysis raised: its rows are cleared and the error kept in its status."""

    service: str
    as_of: str
    error: str
    entry_count: int = 0
    last_position: int = 0
    taxonomy_version: str | None = None


@dataclass
class PreparedService:
    """A service's computed models as the rows of its tables (values in column order): what a
    phase-2 worker process sends back, smaller than the analysis document it came from."""

    service: str
    as_of: str
    taxonomy_version: str | None
    definitions_version: str
    isolated_themes: str
    overdue_reviews: str
    entry_count: int
    last_position: int
    tables: dict[str, list[tuple[Any, ...]]]


def prepare_service(s: ServiceGovernance) -> PreparedService:
    """``s`` as table rows (see ``PreparedService``)."""
    from insightlog.projections import tables

    records = service_records(s)
    return PreparedService(
        service=s.service,
        as_of=s.as_of,
        taxonomy_version=s.taxonomy_version,
        definitions_version=s.document["definitions_version"],
        isolated_themes=_json(s.document["isolated_themes"]),
        overdue_reviews=_json(s.overdue_reviews),
        entry_count=s.entry_count,
        last_position=s.last_position,
        tables={t.name: _tuples(t, records[t.name]) for t in tables.PER_SERVICE},
    )


def _tuples(table: Any, records: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Records as tuples in the table's column order (one C-level call per record)."""
    if not records:
        return []
    values = itemgetter(*[c.name for c in table.columns])
    return [values(r) for r in records]


@dataclass
class Batch:
    """One projection step, written atomically.

    ``dirty`` names the services whose rows no longer reflect every indexed event (the services
    of ``events``, or of an added taxonomy version): they are flagged, a placeholder status row
    is made for a service not seen before. ``services`` replace their service's rows and status
    (flag cleared).
    """

    expected_position: int
    position: int
    entry_position: int
    updated_at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    services: list[ServiceGovernance | PreparedService | ServiceFailure] = field(default_factory=list)
    dirty: list[str] = field(default_factory=list)


class GovernanceView(ABC):
    """The port the projection writes to and the queries read from (a tracking recorder)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the read-model tables exist."""

    @abstractmethod
    def create(self, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
        """Create the tables and the tracking record (position 0) if missing."""

    @abstractmethod
    def drop(self) -> None:
        """Drop every read-model table."""

    @abstractmethod
    def reset(self, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
        """Empty every read-model table and set the tracking record back to position 0, in one
        transaction (needs no right to create or drop tables)."""

    @abstractmethod
    def tracking(self, projection: str) -> Tracking | None:
        """The tracking record, or None when there is none."""

    @abstractmethod
    def write(self, projection: str, batch: Batch) -> None:
        """Write the batch and move the tracking record, in one transaction.

        Raises ``StaleTrackingError`` (and writes nothing) when the tracking position is no
        longer ``batch.expected_position``.
        """

    @abstractmethod
    def service_status(self) -> list[dict[str, Any]]:
        """One dict per service: service, as_of, events, last_entry_position, ..., error."""

    @abstractmethod
    def services_with_version(self, names: Iterable[str]) -> list[str]:
        """Services whose taxonomy version is one of ``names``."""

    @abstractmethod
    def dirty_services(self) -> list[str]:
        """Services flagged dirty (indexed events not yet reflected in their rows), sorted."""

    @abstractmethod
    def pending_entries(self, services: Iterable[str]) -> dict[str, int]:
        """For each of ``services``: its indexed entries after the last one its rows reflect."""

    @abstractmethod
    def governance_rows(self, service: str | None = None) -> list[dict[str, Any]]:
        """The stored governance view rows (same shape as ``insightlog.analysis.governance``)."""

    @abstractmethod
    def analysis_document(self, service: str) -> dict[str, Any] | None:
        """The analysis document of a service rebuilt from the tables (as of its stored as_of)."""

    @abstractmethod
    def event_positions(self) -> list[int]:
        """Every position in the ``rm_events`` index, ascending (duplicates kept, for checks)."""


# ------------------------------------------------------------------ row conversions


def _json(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def _load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def governance_record(row: dict[str, Any], ordinal: int) -> dict[str, Any]:
    """A governance view row as an ``rm_governance`` record."""
    j = row["judgement"] or {}
    this, prev = row["this_month"], row["previous_month"]
    return {
        "service": row["service"],
        "ordinal": ordinal,
        "as_of": row["as_of"],
        "taxonomy_version": row["taxonomy_version"],
        "key_question": row["key_question"],
        "quality_statement": row["quality_statement"],
        "theme": row["theme"],
        "label": row["label"],
        "parent": row["parent"],
        "leaf": 1 if row["leaf"] else 0,
        "judgement_event_id": j.get("event_id"),
        "judgement_theme": j.get("theme"),
        "judgement_score": j.get("score"),
        "judgement_confidence": j.get("confidence"),
        "judgement_exceptions": _json(j["exceptions"]) if j else None,
        "judgement_actor_role": j.get("actor_role"),
        "judgement_actor_id": j.get("actor_id"),
        "judgement_recorded_at": j.get("recorded_at"),
        "month": this["month"],
        "j_month": this["J"],
        "j_event_month": this["J_event"],
        "e_month": this["E"],
        "d_month": this["D"],
        "sign_month": this["sign"],
        "previous_month": prev["month"],
        "j_previous": prev["J"],
        "j_event_previous": prev["J_event"],
        "e_previous": prev["E"],
        "d_previous": prev["D"],
        "sign_previous": prev["sign"],
        "improvement_status": row["improvement_status"],
        "open_actions_count": len(row["open_actions"]),
        "open_actions": _json(row["open_actions"]),
        "triggers_last_90_days": _json(row["triggers_last_90_days"]),
    }


def governance_row(rec: Any, overdue: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``rm_governance`` record back as a governance view row."""
    judgement = None
    if rec.judgement_event_id is not None:
        judgement = {
            "event_id": rec.judgement_event_id,
            "theme": rec.judgement_theme,
            "score": rec.judgement_score,
            "confidence": rec.judgement_confidence,
            "exceptions": _load(rec.judgement_exceptions),
            "actor_role": rec.judgement_actor_role,
            "actor_id": rec.judgement_actor_id,
            "recorded_at": rec.judgement_recorded_at,
        }
    return {
        "service": rec.service,
        "as_of": rec.as_of,
        "taxonomy_version": rec.taxonomy_version,
        "key_question": rec.key_question,
        "quality_statement": rec.quality_statement,
        "theme": rec.theme,
        "label": rec.label,
        "parent": rec.parent,
        "leaf": bool(rec.leaf),
        "judgement": judgement,
        "this_month": {
            "month": rec.month,
            "J": rec.j_month,
            "J_event": rec.j_event_month,
            "E": rec.e_month,
            "D": rec.d_month,
            "sign": rec.sign_month,
        },
        "previous_month": {
            "month": rec.previous_month,
            "J": rec.j_previous,
            "J_event": rec.j_event_previous,
            "E": rec.e_previous,
            "D": rec.d_previous,
            "sign": rec.sign_previous,
        },
        "improvement_status": rec.improvement_status,
        "open_actions": _load(rec.open_actions),
        "overdue_reviews": overdue,
        "triggers_last_90_days": _load(rec.triggers_last_90_days),
    }


def service_records(sg: ServiceGovernance) -> dict[str, list[dict[str, Any]]]:
    """The per-service table records of one service's analysis and governance rows."""
    service = sg.service
    doc = sg.document
    recognition = [
        {
            "service": service,
            "ordinal": i,
            **{k: r[k] for k in RECOGNITION_SCALARS},
            "affected_scopes": _json(r["affected_scopes"]),
            "sampled_scopes": _json(r["sampled_scopes"]),
            "after_acknowledgement": _json(r["after_acknowledgement"]),
        }
        for i, r in enumerate(doc["recognition"])
    ]
    drift = [
        {
            "service": service,
            "ordinal": i,
            "theme": r["theme"],
            "scope": r["scope"],
            "month": r["month"],
            "j": r["J"],
            "j_event": r["J_event"],
            "e": r["E"],
            "d": r["D"],
            "sign": r["sign"],
        }
        for i, r in enumerate(doc["drift"])
    ]
    improvement = [
        {"service": service, "theme": theme, "evaluation_date": day, "status": status}
        for theme, days in doc["improvement_status"].items()
        for day, status in days.items()
    ]
    triggers = [
        {
            "service": service,
            "ordinal": i,
            "trigger": t["trigger"],
            "theme": t["theme"],
            "scope": t["scope"],
            "fired_on": t["fired_on"],
            "events": _json(t["events"]),
        }
        for i, t in enumerate(doc["triggers"])
    ]
    overdue = [{"service": service, "ordinal": i, **r} for i, r in enumerate(doc["reviews"]["overdue"])]
    late = [{"service": service, "ordinal": i, **r} for i, r in enumerate(doc["reviews"]["late_recorded"])]
    governance = [governance_record(r, i) for i, r in enumerate(sg.rows)]
    return {
        "rm_recognition": recognition,
        "rm_drift": drift,
        "rm_improvement": improvement,
        "rm_triggers": triggers,
        "rm_overdue_reviews": overdue,
        "rm_late_reviews": late,
        "rm_governance": governance,
    }


RECOGNITION_KEYS = (
    "theme",
    "extent",
    "affected_scopes",
    "sampled_scopes",
    "first_signal",
    "first_signal_observed",
    "pattern_detectable",
    "pattern_detectable_recorded",
    "acknowledgement",
    "ack_recorded",
    "recognition_lag_days",
    "detectable_lag_days",
    "claimed_lag_days",
    "open_lag_days",
    "after_acknowledgement",
)
JSON_RECOGNITION = frozenset({"affected_scopes", "sampled_scopes", "after_acknowledgement"})
RECOGNITION_SCALARS = tuple(k for k in RECOGNITION_KEYS if k not in JSON_RECOGNITION)


# ------------------------------------------------------------------ SQLAlchemy


class SqlAlchemyGovernanceView(GovernanceView):
    """The read models as SQLAlchemy Core tables in the event store's database."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        from insightlog.projections.engine import writer

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
            found = conn.execute(select(tables.tracking.c.projection).where(tables.tracking.c.projection == projection)).first()
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
                raise StaleTrackingError(f"projection {projection}: tracking position is no longer {batch.expected_position}")
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
            [
                {
                    "service": name,
                    "as_of": None,
                    "events": 0,
                    "last_entry_position": 0,
                    "updated_position": batch.position,
                    "taxonomy_version": None,
                    "definitions_version": "",
                    "isolated_themes": "[]",
                    "overdue_reviews": "[]",
                    "error": None,
                    "dirty": 1,
                }
                for name in missing
            ],
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
        for s in batch.services:
            if isinstance(s, ServiceGovernance):
                s = prepare_service(s)
            computed = isinstance(s, PreparedService)  # else a ServiceFailure: no rows, its error
            if computed:
                for name, rows in s.tables.items():
                    per_table[name] += rows
            status.append(
                {
                    "service": s.service,
                    "as_of": s.as_of,
                    "events": s.entry_count,
                    "last_entry_position": s.last_position,
                    "updated_position": batch.position,
                    "taxonomy_version": s.taxonomy_version,
                    "definitions_version": s.definitions_version if computed else "",
                    "isolated_themes": s.isolated_themes if computed else "[]",
                    "overdue_reviews": s.overdue_reviews if computed else "[]",
                    "error": None if computed else s.error,
                    "dirty": 0,
                }
            )
        for table in tables.PER_SERVICE:
            self._insert_rows(conn, table, per_table[table.name])
        self._insert(conn, tables.service_status, status)

    @classmethod
    def _insert(cls, conn: Connection, table: Any, records: Sequence[dict[str, Any]]) -> None:
        """Insert many records (dicts keyed by column name); see ``_insert_rows``."""
        cls._insert_rows(conn, table, _tuples(table, records))

    @staticmethod
    def _insert_rows(conn: Connection, table: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert many rows (tuples in column order) with the driver's executemany, or COPY on
        PostgreSQL (SQLAlchemy's per-row parameter processing costs more than the database here;
        every column is plain Text or Integer)."""
        if not rows:
            return
        columns = [c.name for c in table.columns]
        quote = conn.dialect.identifier_preparer.quote
        if conn.dialect.name == "postgresql":
            # COPY on the transaction's own connection: several times faster than executemany.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                with cursor.copy(f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN") as copy:
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
                conn.execute(table.insert(), [dict(zip(columns, row)) for row in part])
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
            overdue = {name: _load(text) for name, text in conn.execute(status_q)}
            records = conn.execute(rows_q).all()
        # Sorted here, not in SQL: PostgreSQL collations need not sort by code point.
        records.sort(key=lambda rec: (rec.service, rec.ordinal))
        return [governance_row(rec, overdue.get(rec.service, [])) for rec in records]

    def analysis_document(self, service: str) -> dict[str, Any] | None:
        from sqlalchemy import select

        from insightlog.projections import tables

        def rows(conn: Connection, table: Any, *order: Any) -> list[Any]:
            return conn.execute(select(table).where(table.c.service == service).order_by(*order)).mappings().all()

        with self.engine.connect() as conn:
            status = conn.execute(select(tables.service_status).where(tables.service_status.c.service == service)).mappings().first()
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
            "recognition": [{k: _load(r[k]) if k in JSON_RECOGNITION else r[k] for k in RECOGNITION_KEYS} for r in recognition],
            "isolated_themes": _load(status["isolated_themes"]),
            "drift": [
                {"theme": r["theme"], "scope": r["scope"], "month": r["month"], "J": r["j"], "J_event": r["j_event"], "E": r["e"], "D": r["d"], "sign": r["sign"]}
                for r in drift
            ],
            "improvement_status": statuses,
            "reviews": {
                "overdue": [{k: r[k] for k in ("level", "due_by", "held", "days_overdue")} for r in overdue],
                "late_recorded": [{k: r[k] for k in ("event_id", "level", "held", "recorded", "days_late")} for r in late],
            },
            "triggers": [
                {"trigger": r["trigger"], "theme": r["theme"], "scope": r["scope"], "fired_on": r["fired_on"], "events": _load(r["events"])}
                for r in triggers
            ],
        }

    def event_positions(self) -> list[int]:
        from sqlalchemy import select

        from insightlog.projections import tables

        with self.engine.connect() as conn:
            return list(conn.execute(select(tables.events.c.position).order_by(tables.events.c.position)).scalars())

    def dispose(self) -> None:
        self.engine.dispose()


def _parts(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _start_tracking(conn: Any, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
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
