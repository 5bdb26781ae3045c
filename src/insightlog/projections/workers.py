"""The projection's worker processes: while phase 1 indexes a large catch-up, they compute the
services phase 2 will need (see ``GovernanceProjection._start_ahead``), each from its own read-only
connection to the store, and send back the services' table rows.

``compute_service`` is the one computation of a service's models, used by the workers and by the
projection's own process alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from insightlog.gcpause import cyclic_gc_paused
from insightlog.projections.records import PreparedService, ServiceFailure
from insightlog.projections.rows import prepare_service

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.entry import Entry
    from insightlog.projections.records import Tracking
    from insightlog.storage.settings import StoreSettings
    from insightlog.taxonomies import TaxonomyVersion

MAX_WORKERS = 8


def default_workers(configured: int | None = None) -> int:
    """Worker processes a large run may start: one per CPU this process may use, at most
    ``MAX_WORKERS``. A configured number (``INSIGHTLOG_WORKERS``) overrides; 0 computes every
    service in this process."""
    import os

    if configured is not None:
        return max(0, configured)
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        available = os.cpu_count() or 1
    return min(available, MAX_WORKERS)


def compute_service(
    service: str, entries: Sequence[Entry], now: datetime, taxonomies: dict[str, TaxonomyVersion], policy: Policy | None
) -> ServiceGovernance | ServiceFailure:
    """One service's models as of ``now`` (or its latest recording, if a writer's clock ran ahead)."""
    from insightlog.analysis.errors import AnalysisInputError
    from insightlog.analysis.governance import service_governance
    from insightlog.interchange.timeutil import now_as_of
    from insightlog.taxonomies import version_of_service

    latest = max((e.recorded_at for e in entries), default=now)
    as_of = now_as_of(max(now, latest))
    try:
        return service_governance(entries, service, as_of, taxonomies, policy=policy)
    except AnalysisInputError as exc:
        return ServiceFailure(
            service=service,
            as_of=as_of.text,
            error=str(exc),
            entry_count=len(entries),
            last_position=max((e.position for e in entries), default=0),
            taxonomy_version=version_of_service(entries),
        )


_WORKER_STORES: dict[Any, tuple[Ledger, dict[str, TaxonomyVersion]]] = {}


def watch_parent(parent: int) -> None:
    """In a worker process: exit when the process that started it is gone (killed, say), rather
    than wait for work for ever holding a connection to the store."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="insightlog-parent-watch", daemon=True).start()


def compute_in_worker(
    settings: StoreSettings, policy: Policy | None, service: str, up_to: int, now: datetime
) -> PreparedService | ServiceFailure:
    """In a worker process: read one service's entries up to ``up_to`` and compute its rows."""
    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.application.ledger import open_ledger
    from insightlog.application.taxonomy import load_taxonomies

    if settings not in _WORKER_STORES:
        ledger = open_ledger(settings)
        _WORKER_STORES[settings] = (ledger, load_taxonomies(ledger))
    ledger, taxonomies = _WORKER_STORES[settings]
    with cyclic_gc_paused():
        entries = [e for e in ledger.service_entries(service) if e.position <= up_to]
        result = compute_service(service, entries, now, taxonomies, policy)
        return prepare_service(result) if isinstance(result, ServiceGovernance) else result


class Ahead:
    """Services being computed by worker processes (see ``GovernanceProjection._start_ahead``)."""

    def __init__(
        self, pool: ProcessPoolExecutor, futures: dict[str, Future[PreparedService | ServiceFailure]], head: int
    ) -> None:
        self.pool = pool
        self.futures = futures
        self.head = head

    def result(self, service: str, tracking: Tracking) -> PreparedService | ServiceFailure | None:
        """The worker's result for ``service`` if it is still right at ``tracking``, else None."""
        future = self.futures.pop(service, None)
        if future is None or tracking.entry_position != self.head:
            return None
        try:
            return future.result()
        except Exception:  # noqa: BLE001 - the caller computes the service itself (and meets any real error)
            return None

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def start_ahead(
    settings: StoreSettings, policy: Policy | None, services: Sequence[str], head: int, now: datetime, *, workers: int
) -> Ahead:
    """Start computing ``services`` as of ``now`` in at most ``workers`` worker processes, each
    from the store's entries up to the ledger head ``head``."""
    import multiprocessing
    import os
    import sys
    from concurrent.futures import ProcessPoolExecutor
    from dataclasses import replace

    # Workers read, never write, and open their own connections: forked (cheap, no imports
    # again) they leave this process's connections alone; where fork is not the platform's
    # way, spawned (the calling script then needs the usual ``if __name__ == "__main__"``).
    read_only = replace(settings, read_only=True)
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(services)),
        mp_context=multiprocessing.get_context(method),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )
    futures = {name: pool.submit(compute_in_worker, read_only, policy, name, head, now) for name in services}
    return Ahead(pool, futures, head)
