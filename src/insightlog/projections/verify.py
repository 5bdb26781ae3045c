"""Verifying the read models: recompute them from the events and compare them row by row.

The read models claim, for each service, "as of ``as_of``, over the entries up to
``last_entry_position``, the analysis is these rows". ``verify_read_models`` checks exactly that
claim from the events, in memory, writing nothing:

* ``rm_tracking``: its position is a notification of the log, and its entry position is the last
  entry at or before that notification;
* ``rm_events``: one row per entry up to the tracking position, equal to the row the projection
  makes of the stored event;
* each service: a status row for every service with indexed entries and none for others; a
  service not flagged dirty reflects ALL its indexed entries, a dirty one the ones up to its
  ``last_entry_position`` (readers say it is behind); its ``as_of`` is an instant no earlier than its
  latest entry's recording and no later than now (``CLOCK_SKEW`` allowed between machines); its
  rows in every per-service table, its status fields and its digests equal what the analysis of
  those entries as of that ``as_of`` gives, with the taxonomy versions added by then;
* no rows of a service without a status row.

Every difference is named: table, key, column, stored and recomputed value. A reader that checks
only the digests (``check_digests``) catches an edit of the rows that leaves the digests as they
were; only the recomputation catches one that rewrote the digests too (docs/read-models.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table

    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.entry import Entry
    from insightlog.projections.sql import Snapshot, SqlAlchemyGovernanceView
    from insightlog.taxonomies import TaxonomyVersion

MAX_DIFFERENCES = 200  # differences kept for the report (all are counted)
CLOCK_SKEW = timedelta(minutes=5)  # how far a projecting machine's clock may run ahead of this one's
PROJECTION = "governance"


@dataclass(frozen=True)
class Difference:
    """One stored value that is not what the events give (``column`` None: a whole row)."""

    table: str
    key: tuple[tuple[str, Any], ...]
    column: str | None
    stored: Any
    recomputed: Any

    def text(self) -> str:
        where = ", ".join(f"{name} {value!r}" for name, value in self.key)
        if self.column is None:
            state = "is missing (the events give it)" if self.stored is None else "is not given by the events"
            return f"{self.table} row ({where}) {state}"
        return (
            f"{self.table} ({where}) {self.column}: stored {_short(self.stored)}, recomputed {_short(self.recomputed)}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": dict(self.key),
            "column": self.column,
            "stored": self.stored,
            "recomputed": self.recomputed,
        }


@dataclass
class ReadModelCheck:
    """What ``verify_read_models`` found; ``ok`` when the read models are what the events give."""

    exists: bool = False
    current: bool = False
    position: int = 0
    entry_position: int = 0
    services: int = 0
    rows: int = 0
    events: int = 0
    differences: list[Difference] = field(default_factory=list)
    total: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(self, difference: Difference) -> None:
        self.total += 1
        if len(self.differences) < MAX_DIFFERENCES:
            self.differences.append(difference)

    def summary(self) -> str:
        """One line: what was compared and what differs (the first difference named)."""
        compared = f"{self.services} service(s), {self.rows} row(s) and {self.events} event row(s)"
        if self.ok:
            return f"read models verified: {compared} equal what the events give"
        first = self.differences[0].text() if self.differences else "?"
        more = f" (and {self.total - 1} more difference(s))" if self.total > 1 else ""
        return f"read models differ from the events: {first}{more}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exists": self.exists,
            "current": self.current,
            "position": self.position,
            "entry_position": self.entry_position,
            "services": self.services,
            "rows": self.rows,
            "events": self.events,
            "differences": [d.as_dict() for d in self.differences],
            "total_differences": self.total,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class _Log:
    """The ledger's side, read once from the notification log up to the tracking position."""

    entries: dict[str, list[Entry]] = field(default_factory=dict)
    event_rows: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    taxonomies: list[tuple[int, TaxonomyVersion]] = field(default_factory=list)
    entry_position: int = 0
    latest: int = 0

    def taxonomies_at(self, position: int) -> dict[str, TaxonomyVersion]:
        """The taxonomy versions known at notification ``position``: shipped, then those added by then."""
        from insightlog.taxonomies import shipped_taxonomies

        found = shipped_taxonomies()
        added: dict[str, TaxonomyVersion] = {}
        for at, version in self.taxonomies:
            if at <= position:
                added[version.name] = version
        for name, version in added.items():
            found.setdefault(name, version)
        return found


def verify_read_models(
    ledger: Ledger,
    view: SqlAlchemyGovernanceView,
    *,
    services: Iterable[str] | None = None,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> ReadModelCheck:
    """Recompute the read models (every one, or only ``services``' rows) and compare."""
    from insightlog.analysis.policy import DEFINITIONS_VERSION
    from insightlog.projections.tables import SCHEMA_VERSION

    started = time.perf_counter()
    check = ReadModelCheck()
    if not view.exists():
        check.notes.append("this store has no read models: nothing to verify (readers compute from the events)")
        return check
    check.exists = True
    wanted = None if services is None else sorted(set(services))
    with view.snapshot() as snap:
        tracking = snap.tracking(PROJECTION)
        if (
            tracking is None
            or tracking["schema_version"] != SCHEMA_VERSION
            or tracking["definitions_version"] != DEFINITIONS_VERSION
        ):
            found = (
                "no tracking record"
                if tracking is None
                else (f"schema {tracking['schema_version']}, definitions {tracking['definitions_version']}")
            )
            check.notes.append(
                f"the read models are not of the current layout ({found}; "
                f"current: schema {SCHEMA_VERSION}, definitions "
                f"{DEFINITIONS_VERSION}): no command shows them (readers compute from the events, writers rebuild them)"
            )
            check.seconds = time.perf_counter() - started
            return check
        check.current = True
        check.position, check.entry_position = int(tracking["position"]), int(tracking["entry_position"])
        log = _read_log(ledger, check.position, events=wanted is None)
        _check_tracking(check, tracking, log)
        if wanted is None:
            _check_events(check, snap, log)
        statuses = snap.statuses(wanted)
        names = sorted(set(statuses) | set(log.entries)) if wanted is None else wanted
        clock = now or ledger.now()
        dirty = 0
        for name in names:
            dirty += _check_service(check, snap, log, name, statuses.get(name), clock, policy)
        if wanted is None:
            for table, orphans in snap.services_without_status().items():
                for name in orphans:
                    if name not in log.entries:  # those with entries were named missing already
                        for row in snap.rows(_table(table), name):
                            check.add(Difference(table, _key(_table(table), row), None, "stored", None))
        if dirty:
            check.notes.append(
                f"{dirty} service(s) flagged for recompute (readers say they are behind): verified against the entries "
                "their rows reflect"
            )
    check.seconds = time.perf_counter() - started
    return check


def _read_log(ledger: Ledger, position: int, *, events: bool) -> _Log:
    from insightlog.aggregates.taxonomy import added_topic
    from insightlog.application.ledger import ENTRY_TOPIC, entry_from_state
    from insightlog.projections import tables
    from insightlog.projections.rows import event_row, tuples
    from insightlog.taxonomies import version_from_state

    log = _Log(latest=int(ledger.recorder.max_notification_id() or 0))
    taxonomy_topic = added_topic()
    for n in ledger.notifications((ENTRY_TOPIC, taxonomy_topic)):
        if n.id > position:
            break
        state = ledger.decode(n)
        if n.topic == ENTRY_TOPIC:
            entry = entry_from_state(state)
            log.entries.setdefault(entry.service, []).append(entry)
            log.entry_position = max(log.entry_position, entry.position)
            if events:
                log.event_rows[entry.position] = tuples(tables.events, [event_row(n.id, state)])[0]
        else:
            log.taxonomies.append((n.id, version_from_state(state)))
    return log


def _check_tracking(check: ReadModelCheck, tracking: Mapping[str, Any], log: _Log) -> None:
    key = (("projection", PROJECTION),)
    if check.position > log.latest:
        check.add(
            Difference("rm_tracking", key, "position", check.position, f"at most {log.latest} (the last notification)")
        )
    if check.entry_position != log.entry_position:
        check.add(Difference("rm_tracking", key, "entry_position", check.entry_position, log.entry_position))


def _check_events(check: ReadModelCheck, snap: Snapshot, log: _Log) -> None:
    from insightlog.projections import tables

    table = tables.events
    columns = [str(c.name) for c in table.columns]
    seen: set[int] = set()
    for row in snap.events():
        position = row[0]
        expected = log.event_rows.get(position)
        if position in seen or expected is None:
            check.add(Difference("rm_events", (("position", position),), None, "stored", None))
            continue
        seen.add(position)
        check.events += 1
        _compare(check, "rm_events", (("position", position),), columns, row, expected)
    for position in sorted(set(log.event_rows) - seen):
        check.add(Difference("rm_events", (("position", position),), None, None, "given"))


def _check_service(
    check: ReadModelCheck,
    snap: Snapshot,
    log: _Log,
    name: str,
    status: Mapping[str, Any] | None,
    clock: datetime,
    policy: Policy | None,
) -> int:
    """Check one service; returns 1 when it is flagged dirty (else 0)."""
    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.interchange.timeutil import TimeFormatError, format_utc, parse_strict_utc
    from insightlog.projections import tables
    from insightlog.projections.rows import (
        STATUS_DIGEST_COLUMNS,
        prepare_service,
        prepared_status,
        service_digests,
        status_values,
    )
    from insightlog.projections.sql import placeholder
    from insightlog.projections.workers import compute_service

    key = (("service", name),)
    entries = log.entries.get(name, [])
    stored_rows = {str(t.name): snap.rows(t, name) for t in tables.PER_SERVICE}
    check.services += 1
    if status is None or not entries:
        if status is None and entries:
            check.add(Difference("rm_service_status", key, None, None, "given"))
        elif status is not None:
            check.add(Difference("rm_service_status", key, None, "stored", None))
        _compare_tables(check, name, stored_rows, {})
        return 0
    dirty = status.get("dirty")
    if dirty not in (0, 1):
        check.add(Difference("rm_service_status", key, "dirty", dirty, "0 or 1"))
    if int(status["updated_position"]) > check.position:
        check.add(
            Difference(
                "rm_service_status", key, "updated_position", status["updated_position"], f"at most {check.position}"
            )
        )
    if status["as_of"] is None:  # indexed, not yet computed: a placeholder and no rows
        expected = placeholder(name, int(status["updated_position"]))
        columns = [*STATUS_DIGEST_COLUMNS, "digests", "dirty"]
        _compare(check, "rm_service_status", key, columns, _pick(status, columns), _pick(expected, columns))
        _compare_tables(check, name, stored_rows, {})
        return 1
    bound = check.entry_position
    taxonomy_bound = check.position
    if dirty == 1:
        bound = min(int(status["last_entry_position"]), check.entry_position)
        taxonomy_bound = min(int(status["updated_position"]), check.position)
    prefix = [e for e in entries if e.position <= bound]
    try:
        as_of = parse_strict_utc(str(status["as_of"]))
    except TimeFormatError:
        check.add(Difference("rm_service_status", key, "as_of", status["as_of"], "an instant YYYY-MM-DDTHH:MM:SSZ"))
        return int(dirty == 1)
    latest = max((e.recorded_at for e in prefix), default=as_of)
    if as_of > max(clock, latest) + CLOCK_SKEW:
        check.add(
            Difference(
                "rm_service_status", key, "as_of", status["as_of"], f"at most {format_utc(max(clock, latest))} (now)"
            )
        )
    result = compute_service(name, prefix, as_of, log.taxonomies_at(taxonomy_bound), policy)
    if isinstance(result, ServiceGovernance):
        prepared = prepare_service(result)
        expected_status = {**prepared_status(prepared), "digests": prepared.digests}
        expected_rows: dict[str, list[tuple[Any, ...]]] = prepared.tables
    else:
        expected_status = {
            "as_of": result.as_of,
            "events": result.entry_count,
            "last_entry_position": result.last_position,
            "taxonomy_version": result.taxonomy_version,
            "definitions_version": "",
            "isolated_themes": "[]",
            "overdue_reviews": "[]",
            "error": result.error,
        }
        expected_status["digests"] = service_digests({}, status_values(expected_status))
        expected_rows = {}
    # The rows first, then the status fields, the digests (derived from both) last.
    _compare_tables(check, name, stored_rows, expected_rows)
    columns = [*STATUS_DIGEST_COLUMNS, "digests"]
    _compare(check, "rm_service_status", key, columns, _pick(status, columns), _pick(expected_status, columns))
    return int(dirty == 1)


def _compare_tables(
    check: ReadModelCheck,
    service: str,
    stored: Mapping[str, Sequence[tuple[Any, ...]]],
    expected: Mapping[str, Sequence[tuple[Any, ...]]],
) -> None:
    from insightlog.projections import tables

    for table in tables.PER_SERVICE:
        name = str(table.name)
        columns = [str(c.name) for c in table.columns]
        have = {_key(table, r): r for r in stored.get(name, ())}
        want = {_key(table, r): r for r in expected.get(name, ())}
        check.rows += len(have)
        for key in sorted(set(have) | set(want), key=_order):
            if key not in want:
                check.add(Difference(name, key, None, "stored", None))
            elif key not in have:
                check.add(Difference(name, key, None, None, "given"))
            else:
                _compare(check, name, key, columns, have[key], want[key])


def _compare(
    check: ReadModelCheck,
    table: str,
    key: tuple[tuple[str, Any], ...],
    columns: Sequence[str],
    stored: Sequence[Any],
    expected: Sequence[Any],
) -> None:
    for column, a, b in zip(columns, stored, expected, strict=True):
        if a != b or type(a) is not type(b):
            check.add(Difference(table, key, column, a, b))


def _pick(row: Mapping[str, Any], columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(c) for c in columns)


def _key(table: Table, row: Sequence[Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((str(c.name), row[i]) for i, c in enumerate(table.columns) if c.primary_key)


def _order(key: tuple[tuple[str, Any], ...]) -> tuple[str, ...]:
    return tuple(f"{value:020d}" if isinstance(value, int) else str(value) for _, value in key)


def _table(name: str) -> Table:
    from insightlog.projections import tables

    return next(t for t in tables.PER_SERVICE if t.name == name)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_digests(records: Iterable[Any] | None, statuses: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The services whose ``rm_governance`` records (unless ``records`` is None: status rows only)
    or status fields do not match the digests the projection stored with them (the cheap check a
    reader makes before showing them), sorted."""
    import orjson

    from insightlog.projections import tables
    from insightlog.projections.rows import STATUS_DIGEST, status_digest, status_values, table_digest

    by_service: dict[str, list[tuple[Any, ...]]] = {name: [] for name in statuses}
    for rec in records or ():
        by_service.setdefault(rec.service, []).append(tuple(rec))
    bad = []
    name_of = str(tables.governance.name)
    for service, rows in by_service.items():
        status = statuses.get(service)
        try:
            digests = orjson.loads(status["digests"]) if status is not None and status.get("digests") else None
        except orjson.JSONDecodeError:
            digests = None
        if (
            not isinstance(digests, dict)
            or digests.get(STATUS_DIGEST) != status_digest(status_values(status))  # type: ignore[arg-type]
            or (records is not None and digests.get(name_of) != table_digest(tables.governance, rows))
        ):
            bad.append(service)
    return sorted(bad)
