"""The record forms' vocabulary, kept between calls, is always what a fold of the whole log
gives: after new entries, a new judgement, a closed action and a withdrawal."""

from __future__ import annotations

import json

from insightlog.application.recording import service_vocabulary
from insightlog.bootstrap import House, memory_config
from tests.helpers import harbour_lines

SERVICE = "Harbour Home Care"


def _record(house: House, event_id: str, kind: str, payload: dict[str, object], theme: str | None = None) -> None:
    house.usecases.record(
        {
            "event_id": event_id,
            "service": SERVICE,
            "theme": theme,
            "location": None,
            "team": None,
            "shift": None,
            "kind": kind,
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "record": None,
            "observed_at": None,
            "payload": payload,
        }
    )


def test_the_kept_vocabulary_follows_every_new_entry_and_withdrawal() -> None:
    house = House(memory_config())
    app = house.usecases
    app.import_lines([json.dumps(r) for r in harbour_lines()], source_name="h.jsonl")

    def same() -> None:
        assert app.service_vocabulary(SERVICE) == service_vocabulary(SERVICE, app.entries(SERVICE))

    same()
    _record(house, "V-1", "ActionAssigned", {"action_id": "A-9", "owner_role": "team_leader", "description": "check"})
    _record(
        house,
        "V-2",
        "JudgementRecorded",
        {"score": 2, "confidence": "high", "exceptions": [], "supersedes": None, "narrative": "weak"},
        theme="call_punctuality",
    )
    same()
    assert app.service_vocabulary(SERVICE).judgements["call_punctuality"]["event_id"] == "V-2"
    assert "A-9" in [a["action_id"] for a in app.service_vocabulary(SERVICE).open_actions]
    _record(house, "V-3", "EntryWithdrawn", {"withdraws": "V-2", "reason": "wrong theme"})
    same()
    assert app.service_vocabulary(SERVICE).judgements["call_punctuality"]["event_id"] != "V-2"
    _record(house, "V-4", "ActionClosed", {"action_id": "A-9", "outcome": "done"})
    same()
    assert "A-9" not in [a["action_id"] for a in app.service_vocabulary(SERVICE).open_actions]
