"""The governance projection: a pull loop over the notification log into the read models.

A run has two phases.

1. **Index.** It reads the notifications after the tracking position (topics: ledger entries and
   added taxonomy versions) in chunks. For each chunk, ONE transaction inserts the chunk's
   ``rm_events`` rows, moves the tracking record past the chunk, and flags dirty in
   ``rm_service_status`` every service the chunk touches (a placeholder status row for a service
   not seen before; for an added taxonomy version, the services that name it). A crash rolls the
   chunk back; the next run resumes from the last committed position, so each event is indexed
   exactly once.
2. **Recompute.** After the last chunk, every dirty service (those of this run and any left by a
   run that crashed or lost a race) is computed ONCE, as of the run's instant (the ledger clock,
   read after the tracking record, so every event it covers is known then), from its stored
   entries up to the tracking's entry position. Its rows replace the old ones and its flag is
   cleared in one transaction per small group of services, which also checks that the tracking
   position has not moved meanwhile (another run's phase 1 may have flagged it again). A crash
   leaves the remaining flags set for the next run.

A service is therefore recomputed once per run however many chunks touch it, and its rows
always come from a whole prefix of its entries; until it is recomputed its previous rows stand
(``rm_service_status.dirty`` = 1; readers report it as behind).

The eventsourcing library has no subscriptions on SQLite, hence a pull loop on both databases.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from insightlog.gcpause import cyclic_gc_paused
from insightlog.projections.cache import CACHE_ENTRIES, EntryCache
from insightlog.projections.port import GovernanceView, StaleTrackingError
from insightlog.projections.records import Batch, ServiceFailure, ServiceResult, Tracking
from insightlog.projections.rows import event_row
from insightlog.projections.workers import Ahead, compute_service, default_workers, start_ahead

if TYPE_CHECKING:
    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.entry import Entry
    from insightlog.storage.settings import StoreSettings
    from insightlog.taxonomies import TaxonomyVersion

CHUNK = 20_000
PAGE = 5_000
PARALLEL_MIN_ENTRIES = 20_000  # a run this many entries behind (or more) starts worker processes
REFRESH_BATCH = 50
MAX_STALE_RETRIES = 5


@dataclass
class RunReport:
    """What one projection run did (``services``: those recomputed in phase 2)."""

    notifications: int = 0
    entries: int = 0
    chunks: int = 0
    services: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    rebuilt: bool = False
    position: int = 0
    seconds: float = 0.0


@dataclass
class Status:
    """Where a projection stands against the ledger.

    ``entries_behind`` counts the ledger's entries not yet indexed; ``dirty`` names the services
    whose rows do not yet reflect every indexed entry (``pending_entries`` of them in all).
    """

    projection: str
    exists: bool
    position: int
    entry_position: int
    latest_notification: int
    ledger_entries: int
    schema_version: int | None
    definitions_version: str | None
    updated_at: str | None
    services: list[dict[str, Any]] = field(default_factory=list)
    dirty: list[str] = field(default_factory=list)
    pending_entries: int = 0
    checked: str = ""  # how the status rows were checked before being shown (see ReadModels.status)

    @property
    def entries_behind(self) -> int:
        return max(self.ledger_entries - self.entry_position, 0)


@dataclass
class _Chunk:
    position: int
    entry_position: int
    notifications: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    services: set[str] = field(default_factory=set)
    taxonomy_names: set[str] = field(default_factory=set)


class GovernanceProjection:
    """Keeps the governance read models of a ledger up to date (see the module docstring)."""

    name = "governance"

    def __init__(
        self,
        ledger: Ledger,
        view: GovernanceView,
        *,
        chunk_size: int = CHUNK,
        page_size: int = PAGE,
        policy: Policy | None = None,
        settings: StoreSettings | None = None,
    ) -> None:
        from insightlog.aggregates.taxonomy import added_topic
        from insightlog.application.ledger import ENTRY_TOPIC

        self.ledger = ledger
        self.view = view
        self.chunk_size = chunk_size
        self.page_size = min(page_size, chunk_size)
        self.policy = policy
        self.entry_topic = ENTRY_TOPIC
        self.taxonomy_topic = added_topic()
        self.topics = (ENTRY_TOPIC, self.taxonomy_topic)
        self._taxonomies: dict[str, TaxonomyVersion] | None = None
        self.cache_limit = CACHE_ENTRIES
        self.settings = settings  # where worker processes open the ledger (None: no workers)
        self.workers = default_workers(settings.workers if settings is not None else None)
        self.parallel_min_entries = PARALLEL_MIN_ENTRIES
        self._cache = EntryCache()

    # -- setup -------------------------------------------------------------------------------

    def _now_text(self) -> str:
        from insightlog.interchange.timeutil import format_utc

        return format_utc(self.ledger.now())

    def ensure(self) -> bool:
        """Create the tables if missing; rebuild them when the schema or definitions changed.

        Returns True when the tables were dropped and recreated.
        """
        from insightlog.analysis.policy import DEFINITIONS_VERSION
        from insightlog.projections.tables import SCHEMA_VERSION

        tracking = self.view.tracking(self.name) if self.view.exists() else None
        if tracking is not None and (
            tracking.schema_version != SCHEMA_VERSION or tracking.definitions_version != DEFINITIONS_VERSION
        ):
            self.view.drop()
            self.view.create(self.name, SCHEMA_VERSION, DEFINITIONS_VERSION, self._now_text())
            return True
        if tracking is None:
            try:
                self.view.create(self.name, SCHEMA_VERSION, DEFINITIONS_VERSION, self._now_text())
            except Exception:
                # Another process may have created them at the same moment: fine if they exist now.
                if not (self.view.exists() and self.view.tracking(self.name) is not None):
                    raise
        return False

    def tracking(self) -> Tracking:
        found = self.view.tracking(self.name)
        if found is None:
            raise RuntimeError(f"projection {self.name} has no tracking record")
        return found

    def taxonomies(self, reload: bool = False) -> dict[str, TaxonomyVersion]:
        from insightlog.application.taxonomy import load_taxonomies

        if self._taxonomies is None or reload:
            self._taxonomies = load_taxonomies(self.ledger)
        return self._taxonomies

    # -- running -----------------------------------------------------------------------------

    @cyclic_gc_paused()
    def run(self, *, refresh_stale: bool = True) -> RunReport:
        """Catch up with the ledger, then (optionally) refresh services computed on an earlier day."""
        started = time.perf_counter()
        report = RunReport(rebuilt=self.ensure())
        tracking = self.tracking()
        ahead = self._start_ahead(tracking)
        try:
            return self._phases(report, tracking, ahead, refresh_stale, started)
        finally:
            if ahead is not None:
                ahead.close()
            self._cache = EntryCache()

    def _phases(
        self, report: RunReport, tracking: Tracking, ahead: Ahead | None, refresh_stale: bool, started: float
    ) -> RunReport:
        self._start_cache(enabled=ahead is None)
        flagged: set[str] = set()
        taxonomy_added = False
        stale_retries = 0
        # Phase 1: index the new events chunk by chunk, flagging the services they touch.
        while True:
            chunk = self.read_chunk(tracking.position, tracking.entry_position)
            if chunk.notifications == 0:
                break
            batch = self.compute(chunk, tracking)
            try:
                self.view.write(self.name, batch)
            except StaleTrackingError:
                stale_retries += 1
                if stale_retries > MAX_STALE_RETRIES:
                    raise
                tracking = self.tracking()
                self._start_cache(enabled=ahead is None)  # another run indexed events this one has not read
                continue
            self._cache.complete = batch.entry_position
            report.notifications += chunk.notifications
            report.entries += len(chunk.events)
            report.chunks += 1
            flagged.update(batch.dirty)
            taxonomy_added = taxonomy_added or bool(chunk.taxonomy_names)
            tracking = replace(
                tracking, position=batch.position, entry_position=batch.entry_position, updated_at=batch.updated_at
            )
            if chunk.notifications < self.chunk_size:
                break
        # Phase 2: recompute each dirty service once (this run's, and any an earlier run left).
        if ahead is not None and taxonomy_added:
            ahead.close()  # computed with the taxonomy versions known before this run
            ahead = None
        report.services = self.recompute_dirty(flagged=flagged, taxonomy_added=taxonomy_added, ahead=ahead)
        self._cache = EntryCache()
        if refresh_stale:
            report.refreshed = self.refresh_stale()
        report.position = self.tracking().position
        report.seconds = time.perf_counter() - started
        return report

    def rebuild(self) -> RunReport:
        """Empty every read-model table (recreating them if their schema is not current), then
        run from the start of the log. Emptying, not dropping, so a role that may write the
        tables but not create them can rebuild."""
        from insightlog.analysis.policy import DEFINITIONS_VERSION
        from insightlog.projections.tables import SCHEMA_VERSION

        started = time.perf_counter()
        self.ensure()
        self.view.reset(self.name, SCHEMA_VERSION, DEFINITIONS_VERSION, self._now_text())
        report = self.run(refresh_stale=False)
        report.rebuilt = True
        report.seconds = time.perf_counter() - started
        return report

    def read_chunk(self, position: int, entry_position: int) -> _Chunk:
        """Decode up to ``chunk_size`` notifications after ``position``."""
        from insightlog.application.ledger import entry_from_state

        chunk = _Chunk(position=position, entry_position=entry_position)
        ledger = self.ledger
        cache = self._cache
        for n in ledger.notifications(self.topics, position, limit=self.chunk_size, page_size=self.page_size):
            state = ledger.decode(n)
            if n.topic == self.entry_topic:
                chunk.events.append(event_row(n.id, state))
                service = state["entry"]["service"]
                chunk.services.add(service)
                chunk.entry_position = max(chunk.entry_position, state["position"])
                if cache.wants(service):
                    cache.add(service, entry_from_state(state))
            elif n.topic == self.taxonomy_topic:
                chunk.taxonomy_names.add(state["name"])
            chunk.position = n.id
            chunk.notifications += 1
        return chunk

    def compute(self, chunk: _Chunk, tracking: Tracking) -> Batch:
        """Phase 1 of a chunk: its ``rm_events`` rows, the new tracking position, and the services
        to flag dirty (those it touches, and those naming a taxonomy version it adds)."""
        dirty = set(chunk.services)
        if chunk.taxonomy_names:
            dirty.update(self.view.services_with_version(chunk.taxonomy_names))
        return Batch(
            expected_position=tracking.position,
            position=chunk.position,
            entry_position=chunk.entry_position,
            updated_at=self._now_text(),
            events=chunk.events,
            dirty=sorted(dirty),
        )

    def recompute_dirty(
        self, *, flagged: Iterable[str] = (), taxonomy_added: bool = False, ahead: Ahead | None = None
    ) -> list[str]:
        """Phase 2: compute every dirty service once, from its stored entries up to the tracking's
        entry position, as of now; write its rows and clear its flag, a group of services per
        transaction (at most ``REFRESH_BATCH`` services, and about ``chunk_size`` entries unless
        one service has more). Returns the services written, sorted.

        ``flagged``: the services this run flagged; when others are dirty too (left by another
        run) or ``taxonomy_added``, the taxonomy versions are loaded again first.
        """
        names = self.view.dirty_services()
        if not names:
            return []
        taxonomies = self.taxonomies(reload=taxonomy_added or not set(names) <= set(flagged))
        done: list[str] = []
        i = 0
        while i < len(names):
            end = i

            def group_from(tracking: Tracking, first: int = i) -> list[ServiceResult]:
                nonlocal end
                now = self.ledger.now()
                group: list[ServiceResult] = []
                size = 0
                end = first
                while end < len(names) and len(group) < REFRESH_BATCH and (not group or size < self.chunk_size):
                    computed = ahead.result(names[end], tracking) if ahead is not None else None
                    if computed is not None:
                        group.append(computed)
                        size += computed.entry_count
                    else:
                        entries = self.stored_entries(names[end], tracking.entry_position)
                        group.append(self.compute_service(names[end], entries, now, taxonomies))
                        size += len(entries)
                    end += 1
                return group

            self._write_services(group_from)
            done += names[i:end]
            i = end
        return done

    def _write_services(self, compute: Callable[[Tracking], list[ServiceResult]]) -> None:
        """Write the services ``compute(tracking)`` gives at the current tracking position. When
        another run indexed more events meanwhile (and flagged these services again if it touched
        them), compute them again from the new position, up to ``MAX_STALE_RETRIES`` times."""
        for attempt in range(MAX_STALE_RETRIES):
            tracking = self.tracking()
            batch = Batch(
                expected_position=tracking.position,
                position=tracking.position,
                entry_position=tracking.entry_position,
                updated_at=self._now_text(),
                services=compute(tracking),
            )
            try:
                self.view.write(self.name, batch)
                return
            except StaleTrackingError:
                if attempt == MAX_STALE_RETRIES - 1:
                    raise

    def _start_ahead(self, tracking: Tracking) -> Ahead | None:
        """Start computing, in worker processes, the services phase 2 will have to compute.

        Only for a large run (at least ``parallel_min_entries`` entries behind) with workers
        allowed (``workers`` > 0) and the store's settings known, and only for services with no status
        row yet (all their entries are after the tracking position, so all are dirty after
        phase 1). Each worker opens the store read-only, reads a service's stream up to the
        ledger head read here, computes it and sends back its table rows; meanwhile this process
        runs phase 1. Phase 2 takes a result only if phase 1 ended exactly at that head (no
        concurrent writer) and added no taxonomy version; otherwise it computes the service
        itself, as it does every other dirty service.
        """
        if self.settings is None or self.workers < 1:
            return None
        head = self.ledger.head_size()
        if head - tracking.entry_position < self.parallel_min_entries:
            return None
        known = {s["service"] for s in self.view.service_status()}
        new = [name for name in self.ledger.services() if name not in known]
        if len(new) < 2:
            return None
        return start_ahead(self.settings, self.policy, new, head, self.ledger.now(), workers=self.workers)

    def stored_entries(self, service: str, up_to: int) -> list[Entry]:
        """A service's entries with positions up to ``up_to`` (the tracking's entry position).

        From this run's cache when phase 1 read the service's whole history (see ``_start_cache``;
        checked against the service's first stored entry, one indexed read, so a run that raced a
        rebuild between reading the tracking record and the status rows cannot use a partial
        history), else from the ledger."""
        cached = self._cache.entries(service, up_to)
        if cached is not None and (not cached or cached[0].position == self.ledger.first_position(service)):
            return cached
        return [e for e in self.ledger.service_entries(service) if e.position <= up_to]

    def _start_cache(self, *, enabled: bool = True) -> None:
        """Begin (again) to keep the entries phase 1 reads, for phase 2.

        Only services with no status row yet are kept: their every entry lies after the tracking
        position (a service's first events and its status row are written in one transaction),
        so phase 1 reads all of them. The tracking record is read before the status rows, so a
        run that indexed events in between makes this run's next write stale, and the cache is
        started again. A catch-up from the start (a new store, a rebuild) thus reads each entry
        once instead of twice.
        """
        known = {s["service"] for s in self.view.service_status()} if enabled and self.cache_limit > 0 else None
        self._cache = EntryCache(known, self.cache_limit)

    def compute_service(
        self, service: str, entries: Sequence[Entry], now: datetime, taxonomies: dict[str, TaxonomyVersion]
    ) -> ServiceGovernance | ServiceFailure:
        """One service's models as of ``now`` (or its latest recording, if a writer's clock ran ahead)."""
        return compute_service(service, entries, now, taxonomies, self.policy)

    def refresh_stale(self, services: Iterable[str] | None = None) -> list[str]:
        """Recompute, as of now, the services whose stored as_of is on an earlier UTC date than today.

        Figures that depend on "now" (open overdue reviews, the current month, the 90-day trigger
        window, open lags) are then right for today. With ``services``, refresh those regardless.
        """
        now = self.ledger.now()
        today = now.date().isoformat()
        if services is None:
            # Dirty services are phase 2's (a run recomputes them before refreshing).
            names = [
                s["service"]
                for s in self.view.service_status()
                if not s["dirty"] and s["as_of"] is not None and s["as_of"][:10] < today
            ]
        else:
            names = sorted(services)
        refreshed: list[str] = []
        for start in range(0, len(names), REFRESH_BATCH):
            part = names[start : start + REFRESH_BATCH]

            def compute(tracking: Tracking, part: list[str] = part) -> list[ServiceResult]:
                return [
                    self.compute_service(
                        name, self.stored_entries(name, tracking.entry_position), now, self.taxonomies()
                    )
                    for name in part
                ]

            self._write_services(compute)
            refreshed += part
        return refreshed

    # -- status ------------------------------------------------------------------------------

    def status(self) -> Status:
        """The tracking record against the ledger's latest notification and entry count."""
        latest = self.ledger.recorder.max_notification_id() or 0
        entries = self.ledger.head_size()
        tracking = self.view.tracking(self.name) if self.view.exists() else None
        if tracking is None:
            return Status(self.name, False, 0, 0, latest, entries, None, None, None, [])
        services = self.view.service_status()
        dirty = [s["service"] for s in services if s["dirty"]]
        return Status(
            projection=self.name,
            exists=True,
            position=tracking.position,
            entry_position=tracking.entry_position,
            latest_notification=latest,
            ledger_entries=entries,
            schema_version=tracking.schema_version,
            definitions_version=tracking.definitions_version,
            updated_at=tracking.updated_at,
            services=services,
            dirty=dirty,
            pending_entries=sum(self.view.pending_entries(dirty).values()) if dirty else 0,
        )
