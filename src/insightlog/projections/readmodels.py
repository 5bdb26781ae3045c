"""The read models as the CLI uses them: catch up (or not, when read-only), query, report.

``ReadModels`` wires the SQLAlchemy view on the store's own database to the governance
projection. Writable stores catch up before every query (new events, then services computed on an
earlier day); read-only stores are read as they stand and say how many entries they are behind,
counting the entries of services flagged dirty (indexed but not yet recomputed) and naming those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from insightlog.errors import InsightlogError
from insightlog.projections.projection import (
    CHUNK,
    GovernanceProjection,
    RunReport,
    Status,
)
from insightlog.projections.sql import SqlAlchemyGovernanceView
from insightlog.storage.guards import write_refusal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from insightlog.application.ledger import Ledger
    from insightlog.projections.verify import ReadModelCheck
    from insightlog.storage.settings import StoreSettings


class ReadModelError(InsightlogError):
    """Raised when the read models' database refused or failed a query."""


class ReadModelMismatchError(ReadModelError):
    """Raised when read models about to be shown are not what the events give (they were changed
    outside the projection)."""


READ_MODELS = "read_models"
EVENTS = "events"
DIGESTS = "digests"  # the rows shown matched the digests stored with them
RECOMPUTED = "recomputed"  # the rows shown were recomputed from the events and compared


@dataclass
class GovernanceResult:
    """Governance view rows plus where they came from and how fresh they are.

    ``entries_behind``: the ledger's entries not reflected in the rows (not yet indexed, or
    indexed for a service not yet recomputed, see ``dirty``).
    """

    rows: list[dict[str, Any]]
    source: str
    entries_behind: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    report: RunReport | None = None
    note: str | None = None
    dirty: list[str] = field(default_factory=list)
    checked: str = ""  # how the rows were checked before being shown: DIGESTS, RECOMPUTED or EVENTS


class ReadModels:
    """The governance read models of one store."""

    def __init__(self, ledger: Ledger, settings: StoreSettings, *, chunk_size: int = CHUNK) -> None:
        from insightlog.projections.database import engine_for

        self.ledger = ledger
        self.settings = settings
        # The read models' own rights decide, not the ledger's: on PostgreSQL the projector role
        # may write them but not the ledger, the writer role the ledger but not them.
        self.view = SqlAlchemyGovernanceView(engine_for(settings), read_only=bool(settings.read_only))
        self.refusal = None if settings.read_only else self.view.write_refusal()
        self.read_only = bool(settings.read_only or self.refusal)
        self.view.read_only = self.read_only
        self.projection = GovernanceProjection(ledger, self.view, chunk_size=chunk_size, settings=settings)

    def close(self) -> None:
        self.view.dispose()

    def __enter__(self) -> ReadModels:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands ----------------------------------------------------------------------------

    def _check_writable(self, what: str) -> None:
        from insightlog.errors import LedgerError

        if self.read_only and not self.refusal:
            raise LedgerError(f"cannot {what}: the store is open read-only")
        if self.refusal:
            # A role that may write neither (the auditor) is told that it may only read.
            ledger_read_only = getattr(self.ledger, "read_only", False)
            reason = getattr(self.ledger, "read_only_reason", None) if ledger_read_only else None
            raise LedgerError(f"cannot {what}: {reason or self.refusal}")

    def ensure(self) -> bool:
        """Create the read-model tables if missing (for ``insightlog init``, run as the schema
        owner, so roles granted afterwards cover them); True if they were rebuilt. The writer role,
        which may write the ledger but not them, finds nothing to do when they are there and current."""
        ledger_writable = not (self.settings.read_only or getattr(self.ledger, "read_only", False))
        if self.refusal and ledger_writable and self.usable():
            return False
        self._check_writable("create the read models")
        return self.projection.ensure()

    def catch_up(self) -> RunReport:
        """Apply every new event, then refresh services computed on an earlier day."""
        self._check_writable("update the read models")
        return self.projection.run()

    def rebuild(self) -> RunReport:
        """Empty the read-model tables and rebuild them from the whole log."""
        self._check_writable("rebuild the read models")
        return self.projection.rebuild()

    def status(self) -> Status:
        """Where the read models stand; each service's status row is checked against its digests
        first (``ReadModelMismatchError`` names the first difference of one that does not match)."""
        from insightlog.projections.verify import check_digests

        found = self.projection.status()
        if found.exists and self.usable():  # tables of an older layout have no digests (and are not shown)
            mismatched = check_digests(None, {s["service"]: s for s in found.services})
            if mismatched:
                self._refuse(mismatched, "their status rows do not match the digests stored with them")
            found.checked = DIGESTS
        return found

    def usable(self) -> bool:
        """Whether the stored tables exist in the current schema and definitions version."""
        from insightlog.analysis.policy import DEFINITIONS_VERSION
        from insightlog.projections.tables import SCHEMA_VERSION

        if not self.view.exists():
            return False
        tracking = self.view.tracking(self.projection.name)
        return (
            tracking is not None
            and tracking.schema_version == SCHEMA_VERSION
            and tracking.definitions_version == DEFINITIONS_VERSION
        )

    def governance(self, service: str | None = None, *, verify: bool = False) -> GovernanceResult:
        """The current governance view (one service or all) from the read models.

        The rows shown are checked first against the digests the projection stored with them
        (``checked`` "digests"), or with ``verify`` recomputed from the events and compared
        (``checked`` "recomputed"); rows that fail raise ``ReadModelMismatchError`` naming the
        first difference, and are not shown."""
        from insightlog.errors import ServiceNotFoundError
        from insightlog.projections.rows import from_json, governance_row
        from insightlog.projections.verify import PROJECTION, check_digests

        report = None
        note = None
        if not self.read_only:
            try:
                report = self.projection.run()
            except Exception as exc:
                reason = write_refusal(exc)
                if reason is None:
                    raise
                # This role may read the ledger but not write the read models: read them as
                # they stand (or compute from the events), as in read-only mode.
                self.read_only = self.view.read_only = True
                note = f"cannot update the read models here ({reason}); shown as they stand"
        if self.read_only and not self.usable():
            from insightlog.application.governance import view_from_events
            from insightlog.interchange.timeutil import now_as_of

            rows = view_from_events(self.ledger, now_as_of(self.ledger.now()), service)
            return GovernanceResult(
                rows=rows,
                source=EVENTS,
                note="this store has no current read models (run `insightlog projections rebuild` with write access); computed from the events",
                checked=EVENTS,
            )
        # One consistent read: the rows, their services' status rows and the tracking record.
        with self.view.snapshot() as snap:
            tracking = snap.tracking(PROJECTION)
            records = snap.governance(service)
            by_service = snap.statuses(None if service is None else [service])
        if tracking is None:
            raise ReadModelError(f"projection {PROJECTION} has no tracking record")
        mismatched = check_digests(records, by_service)
        if mismatched:
            self._refuse(mismatched, "their rows do not match the digests stored with them")
        if verify:
            self._refuse(sorted(by_service), None)
        statuses = [by_service[name] for name in sorted(by_service)]
        ordered = sorted(records, key=lambda rec: (rec.service, rec.ordinal))  # code-point order, not the collation's
        overdue = {name: from_json(status["overdue_reviews"]) for name, status in by_service.items()}
        rows = [governance_row(rec, overdue.get(rec.service, [])) for rec in ordered]
        errors = {s["service"]: s["error"] for s in statuses if s["error"]}
        known = {s["service"] for s in statuses}
        if service is not None and not rows and service not in known and service not in self.ledger.services():
            raise ServiceNotFoundError(f"no events of service {service!r} in this store")
        behind = max(self.ledger.head_size() - int(tracking["entry_position"]), 0)
        if behind and self.refusal and note is None:
            note = f"{self.refusal}; shown as they stand"
        # Services whose indexed events are not yet in their rows (a run that has not finished,
        # or none allowed here): shown as last computed, and counted as behind.
        dirty = [s["service"] for s in statuses if s["dirty"]]
        if dirty:
            behind += sum(self.view.pending_entries(dirty).values())
            shown = ", ".join(dirty[:5]) + (f" and {len(dirty) - 5} more" if len(dirty) > 5 else "")
            pending = f"{len(dirty)} service(s) not yet recomputed, shown as last computed: {shown}"
            note = f"{note}; {pending}" if note else pending
        return GovernanceResult(
            rows=rows,
            source=READ_MODELS,
            entries_behind=behind,
            errors=errors,
            report=report,
            note=note,
            dirty=dirty,
            checked=RECOMPUTED if verify else DIGESTS,
        )

    def verify(self, services: Iterable[str] | None = None) -> ReadModelCheck:
        """Recompute the read models (all, or those of ``services``) from the events and compare."""
        from insightlog.projections.verify import verify_read_models

        return verify_read_models(self.ledger, self.view, services=services, policy=self.projection.policy)

    def _refuse(self, services: list[str], why: str | None) -> None:
        """Recompute ``services`` and raise, naming the first difference, unless they all match."""
        check = self.verify(services)
        if check.ok and why is None:
            return
        detail = check.summary() if not check.ok else f"read models of {', '.join(services)}: {why}"
        raise ReadModelMismatchError(
            f"{detail}; nothing shown from them (`insightlog projections verify` names every difference, "
            "`insightlog projections rebuild` by the projector rebuilds them, "
            "`insightlog view --as-of now` computes from the events)"
        )
