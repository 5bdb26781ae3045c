"""Typos are refused at the door for live records, with suggestions; imports warn, or refuse
with --strict; a back-fill cannot reach before its service's registration."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from insightlog.application.doorchecks import UnknownNameError, suggestion
from insightlog.bootstrap import House, memory_config
from insightlog.interchange.validation import LineError

ROOT = Path(__file__).resolve().parents[3]
HARBOUR = ROOT / "examples" / "harbour_home_care.jsonl"
SERVICE = "Harbour Home Care"
SPOT = {
    "service": SERVICE,
    "kind": "SpotCheckRecorded",
    "theme": "medicines.mar_charts",
    "team": "north",
    "actor_role": "deputy_manager",
    "actor_id": "DM-1",
    "payload": {
        "evidence_score": 3,
        "evidence_category": "observation",
        "source_type": "spot_check",
        "summary": "all signed",
    },
}


@pytest.fixture
def house() -> House:
    built = House(memory_config(clock=lambda: datetime(2026, 7, 1, 9, 0, tzinfo=UTC)))
    built.usecases.import_file(HARBOUR)
    return built


def head(house: House) -> int:
    return house.ledger.head_size()


@pytest.mark.parametrize(
    ("change", "field", "suggested"),
    [
        ({"service": "Harbour Home Cair"}, "service", "'Harbour Home Care'"),
        ({"service": "harbour home care"}, "service", "'Harbour Home Care'"),
        ({"theme": "medicines.mar_chart"}, "theme", "'medicines.mar_charts'"),
        ({"team": "nort"}, "team", "'north'"),
        ({"team": "North"}, "team", "'north'"),
    ],
)
def test_a_typo_in_a_live_record_is_refused_with_a_suggestion_and_nothing_written(
    house: House, change: dict[str, str], field: str, suggested: str
) -> None:
    before = head(house)
    with pytest.raises(UnknownNameError) as raised:
        house.usecases.record({**SPOT, **change})
    assert raised.value.field == field
    assert f"did you mean {suggested}" in str(raised.value)
    assert head(house) == before


def test_a_new_scope_is_accepted_only_when_said_to_be_new(house: House) -> None:
    with pytest.raises(UnknownNameError, match="--new-scope"):
        house.usecases.record({**SPOT, "team": "west"})
    outcome = house.usecases.record({**SPOT, "team": "west"}, new_scope=True)
    assert len(outcome.result.receipts) == 1
    # Check the scope is known from then on.
    assert len(house.usecases.record({**SPOT, "team": "west", "event_id": "WEST-2"}).result.receipts) == 1


def test_registering_a_service_and_defining_a_theme_need_no_prior_name(house: House) -> None:
    registered = {
        "service": "Oak House",
        "kind": "ServiceRegistered",
        "actor_role": "registered_manager",
        "actor_id": "RM-2",
        "payload": {
            "framework": {"name": "CQC", "taxonomy_version": "SAF-2024"},
            "service_type": "care home",
            "scopes": ["location:Maple"],
        },
    }
    assert house.usecases.record(registered).result.receipts
    defined = {
        "service": "Oak House",
        "kind": "ThemeDefined",
        "theme": "falls",
        "actor_role": "registered_manager",
        "actor_id": "RM-2",
        "payload": {
            "theme": "falls",
            "parent": None,
            "scope_by": "location",
            "label": "Falls",
            "quality_statements": [],
        },
    }
    assert house.usecases.record(defined).result.receipts
    # Check a declared scope needs no --new-scope.
    spot = {**SPOT, "service": "Oak House", "theme": "falls", "team": None, "location": "Maple"}
    assert house.usecases.record(spot).result.receipts
    with pytest.raises(UnknownNameError, match="did you mean 'Maple'"):
        house.usecases.record({**spot, "location": "Mapel"})


def test_the_suggestion_names_known_names_when_none_is_close() -> None:
    assert suggestion("zzz", ["north", "south"]) == " (known: 'north', 'south')"
    assert suggestion("zzz", []) == ""


def lines_with(*rows: dict[str, object]) -> list[bytes]:
    return [json.dumps(r).encode() for r in rows]


def unknown_theme_line(event_id: str, recorded_at: str) -> dict[str, object]:
    return {
        **SPOT,
        "event_id": event_id,
        "theme": "medicines.mar_chart",
        "observed_at": recorded_at,
        "recorded_at": recorded_at,
    }


def test_an_import_warns_with_counts_and_first_examples(house: House) -> None:
    outcome = house.usecases.import_lines(
        lines_with(
            unknown_theme_line("T-1", "2026-06-30T10:00:00Z"), unknown_theme_line("T-2", "2026-06-30T10:01:00Z")
        ),
        source_name="typos.jsonl",
    )
    assert len(outcome.result.receipts) == 2
    warning = next(w for w in outcome.warnings if "theme not defined" in w)
    assert warning.startswith(
        "2 line(s) name(s) a theme not defined before them, first T-1 ('medicines.mar_chart'), T-2"
    )


def test_a_strict_import_refuses_the_first_unknown_name_and_writes_nothing(house: House) -> None:
    before = head(house)
    with pytest.raises(LineError) as raised:
        house.usecases.import_lines(
            lines_with(unknown_theme_line("T-9", "2026-06-30T10:00:00Z")), source_name="typos.jsonl", strict=True
        )
    assert (raised.value.line, raised.value.event_id, raised.value.field) == (1, "T-9", "theme")
    assert "did you mean 'medicines.mar_charts'" in str(raised.value)
    assert head(house) == before


def test_an_ordinary_import_of_a_history_that_declares_nothing_still_succeeds() -> None:
    fresh = House(memory_config(clock=lambda: datetime(2026, 7, 1, 9, 0, tzinfo=UTC)))
    rows = [json.loads(line) for line in HARBOUR.read_text().splitlines() if line.strip()]
    undeclared = [r for r in rows if r["kind"] != "ThemeDefined"]  # themes never defined first
    outcome = fresh.usecases.import_lines(lines_with(*undeclared), source_name="undeclared.jsonl")
    assert len(outcome.result.receipts) == len(undeclared)
    assert any("theme not defined" in w for w in outcome.warnings)


def test_a_backfill_line_recorded_before_its_services_registration_is_refused(house: House) -> None:
    before = head(house)
    early = {
        **SPOT,
        "event_id": "EARLY-1",
        "observed_at": "2025-12-01T09:00:00Z",
        "recorded_at": "2025-12-01T09:00:00Z",
    }
    with pytest.raises(LineError, match="before service 'Harbour Home Care' was registered"):
        house.usecases.import_lines(lines_with(early), source_name="old-paper.jsonl", backfill=True)
    assert head(house) == before
    # Check a back-fill after the registration is still accepted.
    later = {
        **early,
        "event_id": "EARLY-2",
        "observed_at": "2026-01-05T09:00:00Z",
        "recorded_at": "2026-01-05T09:00:00Z",
    }
    assert house.usecases.import_lines(lines_with(later), source_name="old-paper.jsonl", backfill=True).result.receipts
