"""The SQL read models agree with the analysis: after import, live records, a rebuild, and a crash."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from insightlog.analysis.engine import analyse
from insightlog.interchange.timeutil import parse_as_of
from tests.helpers import ROOT
from tests.integration.readmodels.conftest import (
    END_OF_JUNE,
    END_OF_MARCH,
    SERVICE,
    UTC,
    harbour_text,
)

EXPECTED_JUNE = json.loads((ROOT / "examples" / "harbour_home_care.expected.json").read_text())
EXPECTED_MARCH = json.loads((ROOT / "examples" / "harbour_home_care.asof-2026-03-31.expected.json").read_text())


def analysis_now(store: Any, service: str = SERVICE) -> dict[str, Any]:
    """The analysis of a service as of the as_of its read models were computed at."""
    status = {s["service"]: s for s in store.models.view.service_status()}[service]
    return analyse(store.ledger.service_entries(service), service, parse_as_of(status["as_of"]))


def query(store: Any, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with store.models.view.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def assert_models_equal_analysis(store: Any, service: str = SERVICE) -> None:
    expected = analysis_now(store, service)
    assert store.models.view.analysis_document(service) == expected
    # Check the tables row by row with plain SQL, as an auditor would query them.
    drift = query(
        store,
        "SELECT theme, scope, month, j, j_event, e, d, sign FROM rm_drift WHERE service = :s ORDER BY ordinal",
        s=service,
    )
    assert drift == [
        (r["theme"], r["scope"], r["month"], r["J"], r["J_event"], r["E"], r["D"], r["sign"]) for r in expected["drift"]
    ]
    triggers = query(
        store,
        "SELECT trigger, theme, scope, fired_on, events FROM rm_triggers WHERE service = :s ORDER BY ordinal",
        s=service,
    )
    assert [(t, th, sc, f, json.loads(ev)) for t, th, sc, f, ev in triggers] == [
        (r["trigger"], r["theme"], r["scope"], r["fired_on"], r["events"]) for r in expected["triggers"]
    ]
    recognition = query(
        store,
        "SELECT theme, first_signal, acknowledgement, recognition_lag_days, after_acknowledgement "
        "FROM rm_recognition WHERE service = :s ORDER BY ordinal",
        s=service,
    )
    assert [(a, b, c, d, json.loads(e)) for a, b, c, d, e in recognition] == [
        (r["theme"], r["first_signal"], r["acknowledgement"], r["recognition_lag_days"], r["after_acknowledgement"])
        for r in expected["recognition"]
    ]
    overdue = query(
        store,
        "SELECT level, due_by, held, days_overdue FROM rm_overdue_reviews WHERE service = :s ORDER BY ordinal",
        s=service,
    )
    assert overdue == [(r["level"], r["due_by"], r["held"], r["days_overdue"]) for r in expected["reviews"]["overdue"]]


def assert_each_position_once(store: Any) -> None:
    positions = store.models.view.event_positions()
    assert positions == list(range(1, store.ledger.head_size() + 1))


def test_read_models_equal_the_analysis_after_importing_the_worked_example(harbour) -> None:  # type: ignore[no-untyped-def]
    report = harbour.models.catch_up()

    assert report.entries == 70 and report.services == [SERVICE]
    assert_models_equal_analysis(harbour)
    # Check the stored as_of is the ledger clock, so the tables are the published example.
    assert harbour.models.view.analysis_document(SERVICE) == EXPECTED_JUNE
    assert_each_position_once(harbour)


def test_the_event_index_holds_every_entry_with_its_provenance(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()

    rows = query(
        harbour, "SELECT event_id, kind, theme, team, recorded_at, source, payload FROM rm_events WHERE position = 51"
    )
    event_id, kind, theme, team, recorded_at, source, payload = rows[0]
    assert (event_id, kind, theme, team, recorded_at) == (
        "HHC-051",
        "SpotCheckRecorded",
        "medicines.mar_charts",
        "east",
        "2026-04-08T11:00:00Z",
    )
    assert source == "import:harbour_home_care.jsonl"
    assert json.loads(payload)["evidence_score"] == 2


def test_read_models_follow_live_records_exactly_once(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store(END_OF_MARCH)
    store.ledger.import_lines(harbour_text(until="2026-03-31T23:59:59Z"), source_name="march.jsonl")
    store.models.catch_up()
    # Check what was known by the end of March is the published replay.
    assert store.models.view.analysis_document(SERVICE) == EXPECTED_MARCH

    store.clock.now = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)
    store.ledger.record(
        {
            "event_id": "LIVE-1",
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
                "summary": "3 of 5 unsigned",
            },
        }
    )
    store.ledger.record(
        {
            "event_id": "LIVE-2",
            "service": SERVICE,
            "theme": "call_punctuality",
            "kind": "JudgementRevised",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "payload": {
                "score": 2,
                "confidence": "qualified",
                "exceptions": [],
                "supersedes": None,
                "narrative": "late calls",
            },
        }
    )
    report = store.models.catch_up()

    assert report.entries == 2
    assert_models_equal_analysis(store)
    assert store.models.view.analysis_document(SERVICE)["as_of"] == "2026-04-02T09:30:00Z"
    assert_each_position_once(store)
    # Check a second run finds nothing new and writes nothing.
    assert store.models.catch_up().entries == 0
    assert_each_position_once(store)


def test_a_rebuild_gives_the_same_read_models(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()
    before = harbour.models.view.governance_rows()

    report = harbour.models.rebuild()

    assert report.rebuilt and report.entries == 70
    assert_models_equal_analysis(harbour)
    assert harbour.models.view.governance_rows() == before
    assert_each_position_once(harbour)


class Crash(Exception):
    """Raised to simulate a process killed in the middle of a run."""


def test_a_run_killed_half_way_resumes_and_applies_each_event_once(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store(END_OF_JUNE, chunk_size=25)
    store.ledger.import_lines(harbour_text(), source_name="harbour_home_care.jsonl")
    batches: list[int] = []

    def crash_on_second_batch(batch: Any) -> None:
        batches.append(batch.position)
        if len(batches) == 2:
            raise Crash

    store.models.view.before_commit = crash_on_second_batch
    with pytest.raises(Crash):
        store.models.catch_up()

    # Check the first chunk was committed with its tracking record, the second rolled back.
    tracking = store.models.projection.tracking()
    assert tracking.position == batches[0] and tracking.entry_position == 25
    assert store.models.view.event_positions() == list(range(1, 26))
    assert store.models.status().entries_behind == 45

    store.models.view.before_commit = None
    report = store.models.catch_up()

    assert report.entries == 45 and report.chunks == 2
    assert_models_equal_analysis(store)
    assert_each_position_once(store)


def test_services_computed_on_an_earlier_day_are_refreshed_before_a_query(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()
    harbour.clock.now = END_OF_JUNE + timedelta(days=30)

    result = harbour.models.governance(SERVICE)

    assert result.report is not None and result.report.refreshed == [SERVICE]
    assert {r["as_of"] for r in result.rows} == {"2026-07-30T23:59:59Z"}
    assert_models_equal_analysis(harbour)
    # Check "now"-dependent figures moved: the rm_monthly review due 07-19 is open and overdue.
    assert {"level": "rm_monthly", "due_by": "2026-07-19", "held": None, "days_overdue": 11} in result.rows[0][
        "overdue_reviews"
    ]


def test_a_read_only_store_is_read_as_it_stands_and_says_how_far_behind(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()
    before = harbour.models.view.governance_rows()
    positions = harbour.models.view.event_positions()
    harbour.clock.now = END_OF_JUNE + timedelta(days=3)
    harbour.ledger.record(
        {
            "event_id": "LIVE-RO",
            "service": SERVICE,
            "kind": "EscalationRaised",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "payload": {"to": "nominated_individual", "reason": "check"},
        }
    )

    readonly = harbour.read_only_models()
    result = readonly.governance()

    assert result.entries_behind == 1
    assert result.rows == before
    with pytest.raises(Exception, match="read-only"):
        readonly.catch_up()
    # Check nothing was written: no catch-up, no refresh for the new day.
    assert harbour.models.view.event_positions() == positions
    assert harbour.models.view.governance_rows() == before


def test_a_read_only_store_without_read_models_computes_from_the_events(harbour) -> None:  # type: ignore[no-untyped-def]
    readonly = harbour.read_only_models()

    result = readonly.governance(SERVICE)

    assert result.source == "events" and result.note
    assert not readonly.view.exists()
    assert [r["theme"] for r in result.rows][:2] == ["call_punctuality", "medicines"]


def test_status_reports_positions_and_each_services_as_of(harbour) -> None:  # type: ignore[no-untyped-def]
    assert harbour.models.status().exists is False
    harbour.models.catch_up()

    status = harbour.models.status()

    assert status.exists and status.entry_position == 70 and status.entries_behind == 0
    assert status.position <= status.latest_notification
    assert [(s["service"], s["as_of"], s["events"]) for s in status.services] == [(SERVICE, "2026-06-30T23:59:59Z", 70)]


def test_tables_of_an_older_schema_are_rebuilt_automatically(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()
    with harbour.models.view.write_engine.begin() as conn:
        conn.execute(text("UPDATE rm_tracking SET schema_version = 0"))

    report = harbour.models.catch_up()

    assert report.rebuilt and report.entries == 70
    assert_models_equal_analysis(harbour)


def test_a_service_the_analysis_rejects_is_reported_and_does_not_stop_the_others(harbour, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from insightlog.analysis import governance
    from insightlog.analysis.errors import AnalysisInputError

    def reject(*args: Any, **kwargs: Any) -> Any:
        raise AnalysisInputError("event X: payload field 'evidence_score' must be an integer score")

    monkeypatch.setattr(governance, "service_governance", reject)
    result = harbour.models.governance()

    assert result.rows == []
    assert result.errors == {SERVICE: "event X: payload field 'evidence_score' must be an integer score"}
    assert_each_position_once(harbour)


def test_two_runs_racing_apply_each_event_once(harbour) -> None:  # type: ignore[no-untyped-def]
    from insightlog.projections.readmodels import ReadModels

    other = ReadModels(harbour.ledger, harbour.settings)
    harbour.opened.append(other)
    harbour.models.projection.ensure()
    compute = harbour.models.projection.compute
    raced: list[int] = []

    def compute_while_another_run_commits(*args: Any) -> Any:
        batch = compute(*args)
        if not raced:
            raced.append(other.catch_up().entries)
        return batch

    harbour.models.projection.compute = compute_while_another_run_commits  # type: ignore[method-assign]
    report = harbour.models.catch_up()

    # Check the other run applied everything and this one, finding its batch stale, nothing.
    assert raced == [70] and report.entries == 0
    assert_models_equal_analysis(harbour)
    assert_each_position_once(harbour)
