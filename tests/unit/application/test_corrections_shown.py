"""Corrections shown through the use cases, on the in-memory store: the history marks, links and
hides withdrawn entries, services registered in error are listed only when asked for, the view
and the evidence pack work on any basis and name it."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from insightlog.analysis import LEDGER_BASIS
from insightlog.bootstrap import House, memory_config
from insightlog.interchange.timeutil import parse_as_of
from insightlog.interchange.validation import LineError

ROOT = Path(__file__).resolve().parents[3]
CORRECTIONS = ROOT / "examples" / "harbour_home_care_corrections.jsonl"
SERVICE = "Harbour Home Care"
UTC = UTC
WITHDRAWN = {
    "HHC-046": ("HHC-W01", "2026-07-02", "registered_manager", "note belongs to another service"),
    "HHC-051": ("HHC-W02", "2026-07-02", "registered_manager", "wrong care round"),
    "HHC-030": ("HHC-W03", "2026-07-03", "quality_lead", "amended the wrong audit section"),
    "HHC-063": ("HHC-W04", "2026-07-06", "registered_manager", "draft minutes, never approved"),
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 8, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def house(tmp_path: Path, clock: Clock) -> Iterator[House]:
    config = memory_config(
        clock=clock, key_path=tmp_path / "keys" / "provider.key", checkpoint_file=tmp_path / "cp.jsonl"
    )
    built = House(config)
    built.usecases.import_file(CORRECTIONS)
    yield built
    built.close()


def rows_by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["event_id"]: r for r in rows}


def test_the_history_marks_each_withdrawn_entry_with_when_who_and_why(house: House) -> None:
    rows = rows_by_id(house.usecases.history(SERVICE))
    for event_id, (by, day, role, reason) in WITHDRAWN.items():
        row = rows[event_id]
        assert row["withdrawn"] is not None and row["withdrawn"]["by"] == by
        assert f"withdrawn on {day} by {role}: {reason}" in row["flags"]
        assert rows[by]["withdraws"] == event_id
    assert [r["event_id"] for r in rows.values() if r["withdrawn"]] == ["HHC-030", "HHC-046", "HHC-051", "HHC-063"]
    assert rows["HHC-051"]["replaced_by"] == ["HHC-051R"] and rows["HHC-051R"]["corrects"] == "HHC-051"


def test_the_history_as_of_a_moment_knows_only_the_withdrawals_recorded_by_then(house: House) -> None:
    june = house.usecases.history(SERVICE, as_of=parse_as_of("2026-06-30"))
    assert not any(r["withdrawn"] for r in june) and len(june) == 70
    between = rows_by_id(house.usecases.history(SERVICE, as_of=parse_as_of("2026-07-02T09:12:00Z")))
    assert {k for k, r in between.items() if r["withdrawn"]} == {"HHC-046", "HHC-051"}
    assert between["HHC-051"]["replaced_by"] == [] and "HHC-051R" not in between


def test_hide_withdrawn_hides_what_was_withdrawn_as_of_the_moment(house: House) -> None:
    shown = {r["event_id"] for r in house.usecases.history(SERVICE, hide_withdrawn=True)}
    assert shown.isdisjoint(WITHDRAWN) and {"HHC-W01", "HHC-051R", "HHC-W04"} <= shown
    assert len(shown) == 75 - 4
    july_2 = {
        r["event_id"] for r in house.usecases.history(SERVICE, as_of=parse_as_of("2026-07-02"), hide_withdrawn=True)
    }
    assert "HHC-030" in july_2 and "HHC-063" in july_2 and "HHC-046" not in july_2 and "HHC-051" not in july_2


def test_the_history_on_the_ledger_basis_counts_the_append_time(house: House, clock: Clock) -> None:
    # Everything was appended on 2026-08-01: as of July, on the ledger basis, nothing was recorded yet.
    assert house.usecases.history(SERVICE, as_of=parse_as_of("2026-07-31"), basis=LEDGER_BASIS) == []
    rows = house.usecases.history(SERVICE, basis=LEDGER_BASIS)
    assert len(rows) == 75 and {r["known_at"] for r in rows} == {"2026-08-01T09:00:00Z"}
    assert [r["position"] for r in rows] == list(range(1, 76))  # log order is append order


def registration(event_id: str, name: str, recorded: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "service": name,
        "kind": "ServiceRegistered",
        "actor_role": "registered_manager",
        "actor_id": "RM-1",
        "observed_at": recorded,
        "recorded_at": recorded,
        "payload": {
            "service_type": "care home",
            "framework": {"name": "CQC", "taxonomy_version": "SAF-2024"},
            "scopes": [],
        },
    }


def withdrawal(event_id: str, name: str, target: str, recorded: str, reason: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "service": name,
        "kind": "EntryWithdrawn",
        "actor_role": "registered_manager",
        "actor_id": "RM-1",
        "observed_at": recorded,
        "recorded_at": recorded,
        "payload": {"withdraws": target, "reason": reason},
    }


def lines(*rows: dict[str, Any]) -> list[str]:
    return [json.dumps(r) for r in rows]


def test_a_service_registered_in_error_is_listed_only_when_every_service_is_asked_for(house: House) -> None:
    house.usecases.import_lines(
        lines(
            registration("OH-1", "Oak Hous", "2026-07-20T09:00:00Z"),
            withdrawal("OH-W1", "Oak Hous", "OH-1", "2026-07-20T09:05:00Z", "typo: the service is Oak House"),
        ),
        source_name="typo.jsonl",
    )
    assert house.usecases.services() == [SERVICE]
    assert house.usecases.services(include_withdrawn=True) == [SERVICE, "Oak Hous"]
    listing = {s.name: s.as_dict() for s in house.usecases.service_listing()}
    assert listing[SERVICE]["registered_in_error"] is None
    assert listing["Oak Hous"]["registered_in_error"] == {
        "registration": "OH-1",
        "by": "OH-W1",
        "recorded_at": "2026-07-20T09:05:00Z",
        "actor_role": "registered_manager",
        "actor_id": "RM-1",
        "reason": "typo: the service is Oak House",
    }
    # As of a moment between the registration and its withdrawal, it was an ordinary service.
    between = parse_as_of("2026-07-20T09:02:00Z")
    assert house.usecases.services(between) == [SERVICE, "Oak Hous"]
    assert [s.registered_in_error for s in house.usecases.service_listing(between)] == [False, False]
    # Check the ledger refuses it further events (the mark the listing shows is the one it enforces).
    with pytest.raises(LineError, match="registered in error"):
        house.usecases.import_lines(
            lines(registration("OH-2", "Oak Hous", "2026-07-21T09:00:00Z")), source_name="x.jsonl"
        )


def test_the_view_on_a_non_default_basis_is_computed_from_the_events_as_of_now_and_names_it(
    house: House, clock: Clock
) -> None:
    from insightlog.projections.readmodels import EVENTS

    result = house.usecases.view(SERVICE, basis=LEDGER_BASIS)
    assert result.source == EVENTS and result.rows
    assert {r["basis"] for r in result.rows} == {"ledger"}
    assert {r["as_of"] for r in result.rows} == {"2026-08-01T09:00:00Z"}
    assert house.usecases.view(SERVICE, parse_as_of("2026-07-31"), LEDGER_BASIS).rows == []
    recorded = house.usecases.view(SERVICE, parse_as_of("2026-07-31")).rows
    assert recorded and all("basis" not in r for r in recorded)


def make_key(house: House) -> None:
    from insightlog.proof.keys import create_key_files

    key = house.config.key_path
    key.parent.mkdir(parents=True)
    create_key_files(key, key.with_name(key.name + ".pub"), None)


def test_the_pack_readme_names_its_basis_and_marks_every_withdrawn_entry(house: House, tmp_path: Path) -> None:
    make_key(house)
    house.usecases.checkpoint()
    out = tmp_path / "pack.zip"
    summary = house.usecases.pack(out, service=SERVICE, as_of=parse_as_of("2026-07-31"))
    assert (summary.withdrawn, summary.basis, summary.events) == (4, "recorded", 75)
    with zipfile.ZipFile(out) as z:
        readme = z.read("README.txt").decode()
        analysis = json.loads(z.read("analysis.json"))
        events = [json.loads(line)["event_id"] for line in z.read("events.jsonl").splitlines()]
    assert "Basis recorded (definitions §3.5)" in readme and "basis" not in analysis
    for event_id, (by, day, role, reason) in WITHDRAWN.items():
        assert f"WITHDRAWN {event_id} " in readme
        assert f"withdrawn on {day} by {role}: {reason} (by {by})" in " ".join(readme.split())
        assert event_id in events and by in events  # nothing is left out: both are proven
    assert "replaced by HHC-051R" in readme and "REPLACEMENT HHC-051R (position 73) corrects HHC-051" in readme
    # As of before the withdrawals, the pack marks none.
    early = tmp_path / "june.zip"
    assert house.usecases.pack(early, service=SERVICE, as_of=parse_as_of("2026-06-30")).withdrawn == 0
    with zipfile.ZipFile(early) as z:
        assert "No entry in this pack was withdrawn by then." in z.read("README.txt").decode()
        assert "WITHDRAWN HHC" not in z.read("README.txt").decode()


def test_a_pack_on_the_ledger_basis_says_so_in_its_readme_and_its_analysis(house: House, tmp_path: Path) -> None:
    make_key(house)
    house.usecases.checkpoint()
    out = tmp_path / "ledger.zip"
    summary = house.usecases.pack(
        out, service=SERVICE, as_of=parse_as_of("2026-08-01"), theme="medicines", basis=LEDGER_BASIS
    )
    assert summary.basis == "ledger" and summary.withdrawn == 2  # HHC-030 and HHC-051 are medicines entries
    with zipfile.ZipFile(out) as z:
        readme = z.read("README.txt").decode()
        analysis = json.loads(z.read("analysis.json"))
    assert "Basis ledger (definitions §3.5)" in readme and '"basis": "ledger"' in readme
    assert analysis["basis"] == "ledger"
    assert "WITHDRAWN HHC-051 " in readme and "WITHDRAWN HHC-046 " not in readme
