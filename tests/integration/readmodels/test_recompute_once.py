"""Each service is recomputed once per run, after the run has indexed every chunk (phase 2), and a
run killed or raced while recomputing is completed by the next one."""

from __future__ import annotations

import heapq
import json
from collections import Counter
from typing import Any

import pytest

from tests.integration.readmodels.conftest import END_OF_JUNE, SERVICE, harbour_text
from tests.integration.readmodels.synthetic import service_lines
from tests.integration.readmodels.test_read_models import (
    Crash,
    assert_each_position_once,
    assert_models_equal_analysis,
)

NAMES = [f"Service {i:03d}" for i in range(3)]
PER_SERVICE = 70


def interleaved() -> list[str]:
    """Three clones of the worked example, merged in recorded order (as an import interleaves them)."""
    lines = heapq.merge(*(service_lines(i) for i in range(len(NAMES))), key=lambda o: o["recorded_at"])
    return [json.dumps(o) for o in lines]


def count_computations(store: Any) -> Counter[str]:
    calls: Counter[str] = Counter()
    compute = store.models.projection.compute_service

    def counting(service: str, *args: Any) -> Any:
        calls[service] += 1
        return compute(service, *args)

    store.models.projection.compute_service = counting
    return calls


def spot_check(event_id: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "service": SERVICE,
        "theme": "medicines.mar_charts",
        "team": "north",
        "kind": "SpotCheckRecorded",
        "actor_role": "deputy_manager",
        "actor_id": "DM-1",
        "payload": {
            "evidence_score": 2,
            "evidence_category": "observation",
            "source_type": "spot_check",
            "summary": "2 of 5 unsigned",
        },
    }


def test_a_run_of_many_chunks_computes_each_service_once(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store(END_OF_JUNE, chunk_size=20)
    store.ledger.import_lines(interleaved(), source_name="three.jsonl")
    calls = count_computations(store)
    flagged: list[list[str]] = []
    store.models.view.before_commit = lambda batch: flagged.append(batch.dirty) if batch.events else None

    report = store.models.catch_up()

    assert report.entries == 3 * PER_SERVICE and report.chunks == 11
    # Check every service was touched by several chunks, yet computed once, after the last one.
    assert all(sum(name in dirty for dirty in flagged) > 1 for name in NAMES)
    assert calls == dict.fromkeys(NAMES, 1)
    assert report.services == NAMES
    for name in NAMES:
        assert_models_equal_analysis(store, name)
    assert_each_position_once(store)
    status = store.models.status()
    assert status.dirty == [] and status.pending_entries == 0
    assert [(s["service"], s["events"], s["dirty"]) for s in status.services] == [
        (name, PER_SERVICE, 0) for name in NAMES
    ]


def test_a_run_killed_while_recomputing_is_completed_by_the_next_run(make_store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from insightlog.projections import projection

    store = make_store(END_OF_JUNE, chunk_size=50)
    store.ledger.import_lines(interleaved(), source_name="three.jsonl")
    monkeypatch.setattr(projection, "REFRESH_BATCH", 1)
    recomputed: list[list[str]] = []

    def crash_on_second_recompute(batch: Any) -> None:
        if batch.services:
            recomputed.append([s.service for s in batch.services])
            if len(recomputed) == 2:
                raise Crash

    store.models.view.before_commit = crash_on_second_recompute
    with pytest.raises(Crash):
        store.models.catch_up()

    # Check phase 1 committed every chunk (each event indexed once), and the first service's rows.
    assert recomputed == [[NAMES[0]], [NAMES[1]]]
    assert store.models.projection.tracking().entry_position == 3 * PER_SERVICE
    assert_each_position_once(store)
    assert_models_equal_analysis(store, NAMES[0])
    status = store.models.status()
    assert status.entries_behind == 0
    assert status.dirty == NAMES[1:] and status.pending_entries == 2 * PER_SERVICE
    # Check a reader that may not write counts the services not yet recomputed as behind.
    result = store.read_only_models().governance()
    assert result.entries_behind == 2 * PER_SERVICE and result.dirty == NAMES[1:]
    assert result.note is not None and "2 service(s) not yet recomputed" in result.note
    assert {r["service"] for r in result.rows} == {NAMES[0]}

    store.models.view.before_commit = None
    calls = count_computations(store)
    report = store.models.catch_up()

    assert report.entries == 0 and report.services == NAMES[1:]
    assert calls == dict.fromkeys(NAMES[1:], 1)
    for name in NAMES:
        assert_models_equal_analysis(store, name)
    assert_each_position_once(store)
    assert store.models.status().dirty == []


def test_a_reader_shows_a_service_not_yet_recomputed_as_last_computed_and_behind(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()
    before = harbour.models.view.governance_rows()
    harbour.ledger.record(spot_check("LIVE-D"))

    def crash_when_recomputing(batch: Any) -> None:
        if batch.services:
            raise Crash

    harbour.models.view.before_commit = crash_when_recomputing
    with pytest.raises(Crash):
        harbour.models.catch_up()

    result = harbour.read_only_models().governance(SERVICE)

    assert result.rows == before
    assert result.entries_behind == 1 and result.dirty == [SERVICE]
    assert harbour.models.status().entries_behind == 0 and harbour.models.status().pending_entries == 1
    # Check a writable query completes the recompute first.
    harbour.models.view.before_commit = None
    result = harbour.models.governance(SERVICE)
    assert result.report is not None and result.report.services == [SERVICE] and result.report.entries == 0
    assert result.entries_behind == 0 and result.dirty == [] and result.note is None
    assert_models_equal_analysis(harbour)


def test_a_recompute_raced_by_another_run_is_done_again_from_the_new_position(harbour) -> None:  # type: ignore[no-untyped-def]
    from insightlog.projections.readmodels import ReadModels

    harbour.models.catch_up()
    other = ReadModels(harbour.ledger, harbour.settings)
    harbour.opened.append(other)
    harbour.ledger.record(spot_check("LIVE-R1"))
    compute = harbour.models.projection.compute_service
    raced: list[int] = []

    def compute_while_another_run_indexes_more(*args: Any) -> Any:
        result = compute(*args)
        if not raced:
            harbour.ledger.record(spot_check("LIVE-R2"))
            raced.append(other.catch_up().entries)
        return result

    harbour.models.projection.compute_service = compute_while_another_run_indexes_more
    report = harbour.models.catch_up()

    # Check this run's first recompute (71 entries) was refused as stale and done again (72).
    assert raced == [1] and report.entries == 1 and report.services == [SERVICE]
    assert_models_equal_analysis(harbour)
    assert_each_position_once(harbour)
    status = harbour.models.status()
    assert status.dirty == [] and [(s["events"], s["last_entry_position"]) for s in status.services] == [(72, 72)]


def test_a_store_of_the_previous_layout_is_rebuilt_with_the_dirty_flags(harbour) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    harbour.models.catch_up()
    # Check the layout of schema 1 (no dirty column) is replaced on the next writable run.
    with harbour.models.view.write_engine.begin() as conn:
        conn.execute(text("ALTER TABLE rm_service_status DROP COLUMN dirty"))
        conn.execute(text("UPDATE rm_tracking SET schema_version = 1"))
    assert not harbour.models.usable()
    assert [s["dirty"] for s in harbour.models.status().services] == [0]

    report = harbour.models.catch_up()

    assert report.rebuilt and report.entries == 70 and report.services == [SERVICE]
    assert harbour.models.usable()
    assert_models_equal_analysis(harbour)
    assert_each_position_once(harbour)


def test_only_the_services_a_run_touches_are_recomputed(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store(END_OF_JUNE, chunk_size=50)
    store.ledger.import_lines(interleaved(), source_name="three.jsonl")
    store.models.catch_up()
    store.ledger.import_lines(harbour_text(), source_name="harbour.jsonl")
    calls = count_computations(store)

    report = store.models.catch_up()

    assert report.entries == 70 and calls == {SERVICE: 1} and report.services == [SERVICE]
    for name in [*NAMES, SERVICE]:
        assert_models_equal_analysis(store, name)
