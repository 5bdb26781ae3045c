"""Large runs compute new services in worker processes while phase 1 indexes: the read models are
the same as one process computes, and a result is used only if it is still right when written."""

from __future__ import annotations

from typing import Any

from insightlog.projections import projection as projection_module
from insightlog.projections import workers as workers_module
from tests.integration.readmodels.conftest import END_OF_JUNE
from tests.integration.readmodels.test_read_models import assert_each_position_once, assert_models_equal_analysis
from tests.integration.readmodels.test_recompute_once import NAMES, count_computations, interleaved

TABLES = (
    "rm_events",
    "rm_service_status",
    "rm_governance",
    "rm_recognition",
    "rm_drift",
    "rm_improvement",
    "rm_triggers",
    "rm_overdue_reviews",
    "rm_late_reviews",
    "rm_tracking",
)


def with_workers(store: Any, workers: int = 2) -> Any:
    store.models.projection.workers = workers
    store.models.projection.parallel_min_entries = 1  # every run is "large" here
    return store


def dump(store: Any) -> dict[str, list[tuple[Any, ...]]]:
    from sqlalchemy import text

    with store.models.view.engine.connect() as conn:
        return {t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}"))) for t in TABLES}


def loaded(make_store: Any, workers: int) -> Any:
    store = with_workers(make_store(END_OF_JUNE, chunk_size=40), workers)
    store.ledger.import_lines(interleaved(), source_name="three.jsonl")
    return store


def test_one_worker_computes_every_new_service(make_store) -> None:  # type: ignore[no-untyped-def]
    store = loaded(make_store, 1)
    calls = count_computations(store)
    store.models.catch_up()
    assert calls == {}
    for name in NAMES:
        assert_models_equal_analysis(store, name)


def test_workers_write_exactly_the_rows_one_process_writes(make_store) -> None:  # type: ignore[no-untyped-def]
    alone, shared = loaded(make_store, 0), loaded(make_store, 2)
    calls = count_computations(shared)

    report = shared.models.catch_up()
    alone.models.catch_up()

    assert calls == {}  # every service was computed by a worker process, none in this one
    assert report.services == NAMES
    assert dump(shared) == dump(alone)
    for name in NAMES:
        assert_models_equal_analysis(shared, name)
    assert_each_position_once(shared)


def test_a_write_during_the_run_makes_this_process_compute_again(make_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = loaded(make_store, 2)
    calls = count_computations(store)
    start = projection_module.GovernanceProjection._start_ahead

    def start_then_someone_records(self: Any, tracking: Any) -> Any:
        ahead = start(self, tracking)
        assert ahead is not None
        # Another writer appends after the workers were given the head they compute to.
        line = [o for o in map(__import__("json").loads, interleaved()) if o["service"] == NAMES[1]][-1]
        line = {**line, "event_id": "late-1"}
        line.pop("recorded_at")
        line.pop("observed_at")
        store.ledger.record(line)
        return ahead

    monkeypatch.setattr(projection_module.GovernanceProjection, "_start_ahead", start_then_someone_records)
    report = store.models.catch_up()

    assert report.entries == len(interleaved()) + 1
    assert calls == dict.fromkeys(NAMES, 1)  # every worker result was set aside
    for name in NAMES:
        assert_models_equal_analysis(store, name)


def test_a_worker_that_fails_leaves_its_service_to_this_process(make_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    store = loaded(make_store, 2)
    calls = count_computations(store)
    real = workers_module.compute_service
    parent = os.getpid()

    def failing_in_workers_for_one(service: str, *args: Any) -> Any:
        if service == NAMES[2] and os.getpid() != parent:
            raise RuntimeError("worker lost its connection")
        return real(service, *args)

    # Worker processes are forked from this one, so they run the patched function.
    monkeypatch.setattr(workers_module, "compute_service", failing_in_workers_for_one)
    store.models.catch_up()

    assert calls == {NAMES[2]: 1}
    for name in NAMES:
        assert_models_equal_analysis(store, name)


def test_small_runs_and_single_cpu_settings_stay_in_one_process(make_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = make_store(END_OF_JUNE)
    store.ledger.import_lines(interleaved(), source_name="three.jsonl")
    calls = count_computations(store)
    monkeypatch.setenv("INSIGHTLOG_WORKERS", "0")
    from insightlog.bootstrap import config_from_env

    assert workers_module.default_workers(config_from_env().store.workers) == 0
    assert store.models.projection.parallel_min_entries > len(interleaved())  # the default threshold
    store.models.catch_up()
    assert calls == dict.fromkeys(NAMES, 1)


def test_a_run_keeps_entries_for_phase_2_only_up_to_its_limit(make_store) -> None:  # type: ignore[no-untyped-def]
    store = with_workers(make_store(END_OF_JUNE, chunk_size=40), 0)
    store.models.projection.cache_limit = 100  # fewer than the three services hold together
    store.ledger.import_lines(interleaved(), source_name="three.jsonl")
    read = []
    service_entries = store.ledger.service_entries

    def reading(service: str) -> Any:
        read.append(service)
        return service_entries(service)

    store.ledger.service_entries = reading
    store.models.catch_up()

    # Those kept were not read again; those past the limit were, whole, from the ledger.
    assert 0 < len(read) < len(NAMES)
    for name in NAMES:
        assert_models_equal_analysis(store, name)


def test_a_history_phase_1_only_partly_read_is_never_taken_for_a_whole_one(make_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # As if this run had read the status rows just after another process emptied them (a rebuild)
    # and before it wrote them again: every service then looks new, though part of its history was
    # indexed before this run's tracking position.
    store = with_workers(make_store(END_OF_JUNE, chunk_size=40), 0)
    lines = interleaved()
    store.ledger.import_lines(lines[: len(lines) // 2], source_name="first-half.jsonl")
    store.models.catch_up()
    store.ledger.import_lines(lines[len(lines) // 2 :], source_name="second-half.jsonl")
    status = store.models.view.service_status
    monkeypatch.setattr(
        projection_module.GovernanceProjection,
        "_start_cache",
        lambda self, enabled=True: _start_blind(self, status, enabled),
    )
    store.models.catch_up()
    for name in NAMES:
        assert_models_equal_analysis(store, name)


def _start_blind(projection: Any, status: Any, enabled: bool) -> None:
    """``_start_cache`` reading no status rows."""
    projection.view.service_status = lambda: []
    try:
        ORIGINAL_START_CACHE(projection, enabled=enabled)
    finally:
        projection.view.service_status = status


ORIGINAL_START_CACHE = projection_module.GovernanceProjection._start_cache


def _exit_when_orphaned() -> None:
    import time

    workers_module.watch_parent(-1)  # a parent that is already gone
    time.sleep(30)


def test_a_worker_exits_when_the_process_that_started_it_is_gone() -> None:
    import multiprocessing

    child = multiprocessing.get_context("fork").Process(target=_exit_when_orphaned)
    child.start()
    child.join(timeout=10)
    assert child.exitcode == 1
