"""Concurrent writers: N processes x M live events, into one service and into one service each,
on SQLite and PostgreSQL. Nothing is lost or doubled, positions stay a dense total order, and
each service's recorded order holds.

4 x 150 per case keeps the suite fast; 4 x 500 was measured by hand (see docs/operations.md).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

import insightlog.application.ledger as application
from insightlog.application.ledger import open_ledger
from insightlog.errors import ConflictError
from tests.e2e.scale.conftest import WORKER

WRITERS = 4
EVENTS_EACH = 150
# Writers take turns on a store-wide writer lock, conflicts are retried with jittered backoff,
# and a live event is restamped in each attempt, after the head is read (docs/operations.md,
# "Concurrent writers"). Without these, under this load some writers give up after their
# retries, and two writers of one service can stamp out of order across a second boundary.


def run_writers(settings, tmp_path: Path, pattern: str) -> list[dict]:  # type: ignore[no-untyped-def]
    ready = tmp_path / "ready"
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), json.dumps(asdict(settings)), str(w), str(EVENTS_EACH), pattern, str(ready)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WRITERS)
    ]
    deadline = time.monotonic() + 60
    while len(list(ready.glob("ready-*"))) < WRITERS:
        failed = [p for p in procs if p.poll() is not None]
        assert not failed, failed[0].communicate()[1]
        assert time.monotonic() < deadline, "writers did not start"
        time.sleep(0.01)
    (ready / "go").touch()
    reports = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    return reports


@pytest.mark.parametrize(
    "pattern", [pytest.param("Shared Home", id="one-service"), pytest.param("Home {worker}", id="own-services")]
)
def test_concurrent_writers_lose_nothing_and_double_nothing(stores, tmp_path: Path, pattern: str) -> None:
    settings = stores.new()
    open_ledger(settings).close()  # the schema exists before the writers start
    reports = run_writers(settings, tmp_path, pattern)
    seconds = max(r["seconds"] for r in reports)
    # Check every writer stored every event, with no error other than conflicts it resubmitted.
    assert [r["errors"] for r in reports] == [[]] * WRITERS
    assert [r["gave_up"] for r in reports] == [[]] * WRITERS
    ledger = open_ledger(settings)
    try:
        entries = list(ledger.all_entries())
        total = WRITERS * EVENTS_EACH
        # Check positions are exactly 1..N*M, in log order, and the head agrees.
        assert [e.position for e in entries] == list(range(1, total + 1))
        assert ledger.head_size() == total
        # Check each event id is stored once, and where its receipt said.
        ids = [e.event_id for e in entries]
        assert len(set(ids)) == total
        expected = {f"w{w}-{i:05d}" for w in range(WRITERS) for i in range(EVENTS_EACH)}
        assert set(ids) == expected
        by_id = {e.event_id: e.position for e in entries}
        for report in reports:
            assert all(by_id[event_id] == position for event_id, position in report["stored"])
        # Check each service's entries are in recorded order, and each writer's in its own order.
        per_service: dict[str, list] = defaultdict(list)
        for e in entries:
            per_service[e.service].append(e)
        for service_entries in per_service.values():
            recorded = [e.recorded_at for e in service_entries]
            assert recorded == sorted(recorded)
        for w in range(WRITERS):
            mine = [e.event_id for e in entries if e.event_id.startswith(f"w{w}-")]
            assert mine == sorted(mine)
        # Check the service streams agree with the log.
        for service, service_entries in per_service.items():
            assert [e.event_id for e in ledger.service_entries(service)] == [e.event_id for e in service_entries]
    finally:
        ledger.close()
    conflicts = sum(r["conflicts"] for r in reports)
    resubmitted = sum(r["conflict_errors"] for r in reports)
    print(
        f"\n{stores.backend} {pattern!r}: {total} events by {WRITERS} writers in {seconds:.1f} s "
        f"({total / seconds:.0f}/s); {conflicts} conflicts retried, longest run {max(r['most_retries'] for r in reports)}, "
        f"{resubmitted} ConflictErrors resubmitted"
    )


def test_a_writer_that_keeps_conflicting_gives_up_after_bounded_attempts_with_a_clear_message(
    ledger_factory, monkeypatch
) -> None:
    ledger = ledger_factory()
    attempts = []

    def always_conflicts(*args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(1)
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(ledger, "_append_once", always_conflicts)
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    event = {
        "event_id": "c-1",
        "service": "Busy Home",
        "theme": "medicines",
        "kind": "SpotCheckRecorded",
        "actor_role": "deputy_manager",
        "actor_id": "DM-1",
        "payload": {
            "evidence_score": 3,
            "evidence_category": "observation",
            "source_type": "spot_check",
            "summary": "s",
        },
    }
    with pytest.raises(ConflictError) as caught:
        ledger.record(event)
    # Check the retries are bounded and the message says what happened, in one line.
    assert len(attempts) == application.MAX_ATTEMPTS
    message = str(caught.value)
    assert f"gave up after {application.MAX_ATTEMPTS} attempts" in message
    assert "nothing was written" in message
    assert "\n" not in message
    monkeypatch.undo()
    assert ledger.head_size() == 0


def test_the_writer_lock_lets_one_writer_in_at_a_time_and_says_when_it_waited_too_long(stores, ledger_factory) -> None:
    from insightlog.storage.writelock import WriterBusyError, writer_lock

    settings = stores.new()
    first, second = ledger_factory(settings), ledger_factory(settings)
    with (
        writer_lock(first),
        pytest.raises(
            WriterBusyError, match=r"another writer held the ledger for more than 0.2 s; nothing was written"
        ),
        writer_lock(second, wait=0.2),
    ):
        pass
    # Check the lock is free again once released, and can be taken again by the first.
    with writer_lock(second, wait=0.2):
        pass
    with writer_lock(first, wait=0.2):
        pass
