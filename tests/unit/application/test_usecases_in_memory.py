"""The application's use cases on the library's in-memory store: no database, no SQLite file."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from insightlog.bootstrap import House, memory_config
from insightlog.errors import ServiceNotFoundError
from insightlog.interchange.timeutil import parse_as_of
from insightlog.interchange.validation import LineError

ROOT = Path(__file__).resolve().parents[3]
HARBOUR = ROOT / "examples" / "harbour_home_care.jsonl"
SERVICE = "Harbour Home Care"
SPOT_CHECK = {
    "service": SERVICE,
    "kind": "SpotCheckRecorded",
    "theme": "medicines.mar_charts",
    "team": "north",
    "actor_role": "deputy_manager",
    "actor_id": "DM-1",
    "payload": {
        "evidence_score": 2,
        "evidence_category": "observation",
        "source_type": "spot_check",
        "summary": "2 of 5 unsigned",
    },
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 7, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def house(tmp_path: Path, clock: Clock) -> House:
    config = memory_config(
        clock=clock, key_path=tmp_path / "keys" / "provider.key", checkpoint_file=tmp_path / "cp.jsonl"
    )
    built = House(config)
    yield built
    built.close()


def test_the_worked_example_imports_and_analyses_as_expected_on_the_memory_store(house: House) -> None:
    outcome = house.usecases.import_file(HARBOUR)
    assert len(outcome.result.receipts) == 70
    assert house.usecases.services() == [SERVICE]
    expected = json.loads((ROOT / "examples" / "harbour_home_care.expected.json").read_text())
    assert house.usecases.analyse(SERVICE, parse_as_of("2026-06-30T23:59:59Z")) == expected


def test_re_importing_the_same_file_adds_nothing_and_the_export_is_byte_identical(house: House) -> None:
    house.usecases.import_file(HARBOUR)
    again = house.usecases.import_file(HARBOUR)
    assert (len(again.result.receipts), len(again.result.skipped)) == (0, 70)
    out = io.BytesIO()
    assert house.usecases.export(out) == 70
    original = [json.loads(line) for line in HARBOUR.read_text().splitlines() if line.strip()]
    assert [json.loads(line) for line in out.getvalue().splitlines()] == original


def test_a_live_record_is_stamped_by_the_ledger_clock_and_shows_in_the_history(house: House, clock: Clock) -> None:
    house.usecases.import_file(HARBOUR)
    outcome = house.usecases.record({**SPOT_CHECK, "event_id": "LIVE-1"})
    assert [r.event_id for r in outcome.result.receipts] == ["LIVE-1"]
    row = house.usecases.history(SERVICE)[-1]
    assert (row["event_id"], row["recorded_at"], row["observed_at"]) == (
        "LIVE-1",
        "2026-07-01T09:00:00Z",
        "2026-07-01T09:00:00Z",
    )
    # Check the history as of before the record does not show it.
    assert "LIVE-1" not in [r["event_id"] for r in house.usecases.history(SERVICE, as_of=parse_as_of("2026-06-30"))]


def test_a_retried_record_with_the_same_event_id_is_stored_once(house: House, clock: Clock) -> None:
    house.usecases.import_file(HARBOUR)
    house.usecases.record({**SPOT_CHECK, "event_id": "RETRY-1"})
    clock.now = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)  # the same moment: the same content
    retry = house.usecases.record({**SPOT_CHECK, "event_id": "RETRY-1"})
    assert (retry.result.receipts, retry.result.skipped) == ([], ["RETRY-1"])
    assert [r["event_id"] for r in house.usecases.history(SERVICE)].count("RETRY-1") == 1


def test_a_record_without_an_event_id_gets_a_generated_one(house: House) -> None:
    house.usecases.import_file(HARBOUR)
    receipt = house.usecases.record(dict(SPOT_CHECK)).result.receipts[0]
    assert receipt.event_id.startswith("il-20260701T090000Z-")


def test_a_caller_cannot_supply_recorded_at_for_a_live_record(house: House) -> None:
    house.usecases.import_file(HARBOUR)
    with pytest.raises(LineError, match="recorded_at"):
        house.usecases.record({**SPOT_CHECK, "recorded_at": "2026-01-01T00:00:00Z"})


def test_an_unknown_service_is_a_user_error(house: House) -> None:
    with pytest.raises(ServiceNotFoundError, match="no events of service"):
        house.usecases.history("Oak House")


def test_writes_checkpoint_automatically_once_a_key_exists_and_verify_passes(house: House, tmp_path: Path) -> None:
    from insightlog.proof.keys import create_key_files

    key = house.config.key_path
    key.parent.mkdir(parents=True)
    create_key_files(key, key.with_name(key.name + ".pub"), None)
    outcome = house.usecases.import_file(HARBOUR)
    assert (outcome.checkpoint.size, outcome.checkpoint.warning) == (70, None)
    assert house.config.checkpoint_file.read_text().count("\n") == 1
    report = house.usecases.verify(
        outside_files=[house.config.checkpoint_file], trusted_key_files=[key.with_name(key.name + ".pub")]
    )
    assert report.ok, report.findings
    assert house.usecases.prove("HHC-046")["leaf_index"] == 45


def test_a_failing_automatic_checkpoint_is_a_warning_and_the_write_stands(house: House) -> None:
    key = house.config.key_path
    key.parent.mkdir(parents=True)
    key.write_text("not a key")
    outcome = house.usecases.import_file(HARBOUR)
    assert len(outcome.result.receipts) == 70
    assert outcome.checkpoint.warning is not None and "no checkpoint was taken" in outcome.checkpoint.warning
    assert len(house.usecases.history(SERVICE)) == 70


def test_a_retry_after_a_lost_answer_later_on_the_clock_records_nothing_twice(house: House, clock: Clock) -> None:
    house.usecases.import_file(HARBOUR)
    house.usecases.record({**SPOT_CHECK, "event_id": "LATE-RETRY"})
    clock.now = datetime(2026, 7, 1, 9, 3, tzinfo=UTC)  # the answer was lost; the user retries minutes later
    retry = house.usecases.record({**SPOT_CHECK, "event_id": "LATE-RETRY"})
    assert (retry.result.receipts, retry.result.skipped) == ([], ["LATE-RETRY"])
    assert [r["event_id"] for r in house.usecases.history(SERVICE)].count("LATE-RETRY") == 1
    # Check the same id with other content is still refused, not skipped.
    with pytest.raises(LineError, match="already stored with different content"):
        house.usecases.record(
            {**SPOT_CHECK, "event_id": "LATE-RETRY", "payload": {**SPOT_CHECK["payload"], "summary": "other"}}
        )
