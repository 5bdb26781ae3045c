"""The service ledger aggregates, without storage."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from insightlog.aggregates.service import EventKey, LedgerHead, RecordedOrderError, ServiceLedger, ThemeCycleError

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def entry(event_id: str, recorded_at: str, kind: str = "IncidentRecorded", payload: dict | None = None) -> dict:
    return {
        "event_id": event_id,
        "service": "S",
        "theme": "t",
        "location": None,
        "team": None,
        "shift": None,
        "kind": kind,
        "actor_role": "quality_lead",
        "actor_id": "Q-1",
        "record": None,
        "observed_at": recorded_at,
        "recorded_at": recorded_at,
        "payload": payload or {},
    }


def theme(event_id: str, name: str, parent: str | None) -> dict:
    return entry(
        event_id, "2026-01-01T00:00:00Z", "ThemeDefined", {"theme": name, "parent": parent, "scope_by": "team"}
    )


def test_opening_a_service_produces_an_opened_event_with_its_name() -> None:
    ledger = ServiceLedger("Harbour")
    events = ledger.collect_events()
    assert [type(e).__name__ for e in events] == ["Opened"]
    assert events[0].name == "Harbour"
    assert ledger.id == ServiceLedger.create_id("Harbour")


def test_appending_an_entry_records_it_with_position_time_and_source() -> None:
    ledger = ServiceLedger("S")
    ledger.collect_events()
    ledger.append(entry("e1", "2026-01-05T10:00:00Z"), position=7, appended_at=NOW, source="live", backfill=False)
    (appended,) = ledger.collect_events()
    assert isinstance(appended, ServiceLedger.EntryAppended)
    assert appended.entry["event_id"] == "e1"
    assert (appended.position, appended.appended_at, appended.source) == (7, "2026-03-01T12:00:00Z", "live")
    assert ledger.latest_recorded_at == "2026-01-05T10:00:00Z"
    assert ledger.entry_count == 1


def test_refuses_an_entry_recorded_before_the_latest_stored_one() -> None:
    ledger = ServiceLedger("S")
    ledger.append(entry("e1", "2026-01-05T10:00:00Z"), position=1, appended_at=NOW, source="live", backfill=False)
    with pytest.raises(RecordedOrderError, match="earlier than the latest"):
        ledger.append(entry("e2", "2026-01-04T10:00:00Z"), position=2, appended_at=NOW, source="live", backfill=False)
    assert ledger.entry_count == 1


def test_accepts_an_earlier_entry_when_declared_a_backfill() -> None:
    ledger = ServiceLedger("S")
    ledger.append(entry("e1", "2026-01-05T10:00:00Z"), position=1, appended_at=NOW, source="live", backfill=False)
    ledger.append(entry("e0", "2026-01-01T10:00:00Z"), position=2, appended_at=NOW, source="backfill:f", backfill=True)
    assert ledger.entry_count == 2
    assert ledger.latest_recorded_at == "2026-01-05T10:00:00Z"


def test_refuses_a_theme_definition_that_makes_a_cycle() -> None:
    ledger = ServiceLedger("S")
    ledger.append(theme("t1", "a", None), position=1, appended_at=NOW, source="live", backfill=False)
    ledger.append(theme("t2", "b", "a"), position=2, appended_at=NOW, source="live", backfill=False)
    with pytest.raises(ThemeCycleError, match="cycle"):
        ledger.append(theme("t3", "a", "b"), position=3, appended_at=NOW, source="live", backfill=False)
    with pytest.raises(ThemeCycleError):
        ledger.append(theme("t4", "c", "c"), position=3, appended_at=NOW, source="live", backfill=False)
    assert ledger.themes == {"a": None, "b": "a"}


def test_redefining_a_theme_without_a_cycle_is_allowed() -> None:
    ledger = ServiceLedger("S")
    ledger.append(theme("t1", "a", None), position=1, appended_at=NOW, source="live", backfill=False)
    ledger.append(theme("t2", "b", None), position=2, appended_at=NOW, source="live", backfill=False)
    ledger.append(theme("t3", "b", "a"), position=3, appended_at=NOW, source="live", backfill=False)
    assert ledger.themes["b"] == "a"


def test_event_key_id_is_derived_from_the_event_id() -> None:
    key = EventKey(event_id="HHC-001", service="S", kind="IncidentRecorded", digest="d", position=1, leaf_hash="00")
    assert key.id == EventKey.create_id("HHC-001")
    assert key.id != EventKey.create_id("HHC-002")


def test_ledger_head_advances_and_never_moves_backwards() -> None:
    head = LedgerHead(origin="insightlog/test")
    head.advance(size=3, frontier=[])
    assert head.size == 3
    with pytest.raises(ValueError, match="backwards"):
        head.advance(size=2, frontier=[])


def _all_kinds_of_event() -> list:
    ledger = ServiceLedger("S")
    ledger.append(
        entry(
            "E-1",
            "2026-03-01T10:00:00Z",
            payload={"compliance_pct": 90.0, "items": [1, 2.5, None], "note": "Ärztin 😀"},
        ),
        position=1,
        appended_at=NOW,
        source="live",
        backfill=False,
    )
    ledger.append(
        entry("E-2", "2026-03-01T11:00:00Z", kind="ThemeDefined", payload={"theme": "t", "parent": None}),
        position=2,
        appended_at=NOW,
        source="live",
        backfill=False,
    )
    head = LedgerHead(origin="insightlog/test")
    head.extend([bytes(32)])
    events = [*ledger.collect_events(), *head.collect_events()]
    events.append(
        EventKey.registration(
            event_id="E-1", service="S", kind="IncidentRecorded", digest="00", position=1, leaf_hash="ab"
        )
    )
    events.extend(
        EventKey(
            event_id="E-2", service="S", kind="ThemeDefined", digest="01", position=2, leaf_hash="cd"
        ).collect_events()
    )
    events.append(ServiceLedger.Snapshot.take(ledger))
    events.append(LedgerHead.Snapshot.take(head))
    return events


def test_events_are_stored_exactly_as_pydantic_json_mode_writes_them() -> None:
    import orjson
    from freezegun import freeze_time

    from insightlog.storage.mapper import OrjsonTranscoder, PydanticMapper, _dump_event

    for event in _all_kinds_of_event():
        assert _dump_event(event) == orjson.dumps(event.model_dump(mode="json")), type(event).__name__
    with freeze_time("2026-03-01T12:00:00.250000Z"):  # timestamps are freezegun's FakeDatetime
        for event in _all_kinds_of_event():
            assert _dump_event(event) == orjson.dumps(event.model_dump(mode="json")), type(event).__name__
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    for event in _all_kinds_of_event():
        stored = mapper.to_stored_event(event)
        assert mapper.to_stored_event(mapper.to_domain_event(stored)).state == stored.state
