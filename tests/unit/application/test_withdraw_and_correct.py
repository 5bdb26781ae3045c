"""Mistakes put right without rewriting history: withdraw, and correct (withdraw + replacement in
one atomic append), through the use cases on the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from insightlog.application.doorchecks import UnknownNameError
from insightlog.bootstrap import House, memory_config
from insightlog.errors import LedgerError
from insightlog.interchange.timeutil import parse_as_of
from insightlog.interchange.validation import LineError

ROOT = Path(__file__).resolve().parents[3]
HARBOUR = ROOT / "examples" / "harbour_home_care.jsonl"
SERVICE = "Harbour Home Care"
UTC = UTC
QL = {"actor_role": "quality_lead", "actor_id": "QL-1"}


@pytest.fixture
def house() -> House:
    built = House(memory_config(clock=lambda: datetime(2026, 7, 1, 9, 0, tzinfo=UTC)))
    built.usecases.import_file(HARBOUR)
    return built


def rows(house: House, **kwargs: object) -> dict[str, dict[str, object]]:
    return {r["event_id"]: r for r in house.usecases.history(SERVICE, **kwargs)}  # type: ignore[arg-type]


def test_a_withdrawal_is_a_new_event_and_the_original_stays(house: House) -> None:
    before = house.usecases.history(SERVICE)
    outcome = house.usecases.withdraw("HHC-019", reason="entered twice", **QL)
    [receipt] = outcome.result.receipts
    after = rows(house)
    original = next(r for r in before if r["event_id"] == "HHC-019")
    marks = ("withdrawn", "replaced_by", "flags")
    # Check nothing of the entry was edited: it is only marked as withdrawn.
    assert {k: v for k, v in after["HHC-019"].items() if k not in marks} == {
        k: v for k, v in original.items() if k not in marks
    }
    assert after["HHC-019"]["withdrawn"]["reason"] == "entered twice"
    assert after[receipt.event_id]["kind"] == "EntryWithdrawn"
    entry = house.ledger.find_entry(receipt.event_id)
    assert entry is not None and entry.payload == {"withdraws": "HHC-019", "reason": "entered twice"}


def test_correct_withdraws_and_records_the_replacement_in_one_append(house: House) -> None:
    outcome = house.usecases.correct("HHC-019", changes={"team": "north"}, reason="wrong round", **QL)
    withdrawal, replacement = outcome.result.receipts
    assert replacement.position == withdrawal.position + 1 and replacement.appended_at == withdrawal.appended_at
    original = house.ledger.find_entry("HHC-019")
    copy = house.ledger.find_entry(replacement.event_id)
    assert original is not None and copy is not None
    assert (copy.team, copy.kind, copy.theme, copy.observed_at) == (
        "north",
        original.kind,
        original.theme,
        original.observed_at,
    )
    assert copy.payload == {**original.payload, "corrects": "HHC-019"}
    # Check the replacement keeps the original's author; the withdrawal names the corrector.
    assert (copy.actor_role, copy.actor_id) == (original.actor_role, original.actor_id)
    assert house.ledger.find_entry(withdrawal.event_id).actor_id == "QL-1"  # type: ignore[union-attr]


def test_a_correction_with_a_typo_writes_nothing_at_all(house: House) -> None:
    size = house.ledger.head_size()
    with pytest.raises(UnknownNameError, match="did you mean 'north'"):
        house.usecases.correct("HHC-019", changes={"team": "nort"}, reason="wrong round", **QL)
    assert house.ledger.head_size() == size  # neither the withdrawal nor the replacement


@pytest.mark.parametrize(
    ("event_id", "changes", "message"),
    [
        ("NOPE-1", {"team": "north"}, "no event 'NOPE-1'"),
        ("HHC-019", {}, "needs at least one changed field"),
        ("HHC-019", {"payload": {"evidence_score": 4}}, "EvidenceAmended"),
    ],
)
def test_a_correction_that_cannot_be_made_says_why(
    house: House, event_id: str, changes: dict[str, object], message: str
) -> None:
    size = house.ledger.head_size()
    with pytest.raises(LedgerError, match=message):
        house.usecases.correct(event_id, changes=changes, reason="r", **QL)
    assert house.ledger.head_size() == size


def test_an_event_is_withdrawn_once_and_a_reason_is_required(house: House) -> None:
    house.usecases.withdraw("HHC-019", reason="entered twice", **QL)
    with pytest.raises(LineError, match="already withdrawn"):
        house.usecases.withdraw("HHC-019", reason="again", **QL)
    with pytest.raises(LineError, match="reason"):
        house.usecases.withdraw("HHC-021", reason="", **QL)


def test_the_analysis_as_of_before_a_withdrawal_is_the_analysis_without_it(house: House) -> None:
    when = parse_as_of("2026-06-30T23:59:59Z")
    before = house.usecases.analyse(SERVICE, when)
    house.usecases.withdraw("HHC-046", reason="entered under the wrong service", **QL)
    assert house.usecases.analyse(SERVICE, when) == before
    now = parse_as_of("2026-07-01T23:59:59Z")
    assert house.usecases.analyse(SERVICE, now)["recognition"] != before["recognition"]
