"""The governance view: judgements, E and drift sign, status, actions, reviews and triggers per theme."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from insightlog.analysis import latest_judgement
from insightlog.analysis.engine import analyse
from insightlog.analysis.governance import governance_rows, open_actions
from insightlog.application.governance import view_from_events
from insightlog.application.taxonomy import load_taxonomies
from insightlog.interchange.entry import Entry
from insightlog.interchange.timeutil import parse_as_of
from insightlog.taxonomies import TaxonomyVersion, parse_csv, statements_digest
from tests.helpers import invoke
from tests.integration.readmodels.conftest import END_OF_JUNE, SERVICE, UTC

SAF = load_taxonomies()


def expected_from(doc: dict[str, Any], row: dict[str, Any], window_start: str) -> None:
    """Check a view row against the analysis document it must agree with."""
    theme = row["theme"]
    drift = {(r["theme"], r["month"]): r for r in doc["drift"] if r["scope"] is None}
    for key in ("this_month", "previous_month"):
        cell = dict(row[key])
        month = cell.pop("month")
        found = drift.get((theme, month))
        assert cell == ({k: found[k] for k in ("J", "J_event", "E", "D", "sign")} if found else dict.fromkeys(cell))
    assert row["triggers_last_90_days"] == [
        {k: t[k] for k in ("trigger", "scope", "fired_on", "events")}
        for t in doc["triggers"]
        if t["theme"] == theme and t["fired_on"] >= window_start
    ]
    statuses = doc["improvement_status"].get(theme)
    assert row["improvement_status"] == (
        list(statuses.values())[-1] if statuses else ("no_adverse_signal_yet" if row["leaf"] else None)
    )
    assert row["overdue_reviews"] == [
        r for r in doc["reviews"]["overdue"] if r["held"] is None or r["held"] >= window_start
    ]
    # J of the current month is the current judgement's theme score.
    if row["judgement"] is not None and row["this_month"]["J_event"] is not None:
        assert (row["judgement"]["event_id"], row["judgement"]["score"]) == (
            row["this_month"]["J_event"],
            row["this_month"]["J"],
        )


def by_theme(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["theme"]: r for r in rows}


def test_view_as_of_end_of_march_agrees_with_the_analysis(store) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import HARBOUR

    args = ["--db", store.sqlite_path] if store.sqlite_path else ["--database-url", store.database_url]
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0

    result = invoke([*args, "view", "--as-of", "2026-03-31", "--json"])

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    doc = json.loads(invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-03-31", "--json"]).stdout)
    assert [r["theme"] for r in rows] == [
        "call_punctuality",
        "medicines",
        "medicines.mar_charts",
        "medicines.time_critical",
        "safeguarding",
        "safeguarding.referrals",
    ]
    for row in rows:
        expected_from(doc, row, "2026-01-01")
    themes = by_theme(rows)
    mar = themes["medicines.mar_charts"]
    assert (mar["key_question"], mar["quality_statement"]) == ("Safe", "S8")
    assert mar["judgement"]["event_id"] == "HHC-045" and mar["judgement"]["score"] == 2
    assert themes["medicines"]["judgement"]["score"] == 3
    assert mar["this_month"] == {"month": "2026-03", "J": 2, "J_event": "HHC-045", "E": "2.50", "D": "-0.50", "sign": 0}
    assert mar["previous_month"]["sign"] == 1
    assert [a["action_id"] for a in mar["open_actions"]] == ["LIL-MAR-01"]
    assert themes["safeguarding.referrals"]["judgement"]["exceptions"] == [
        {"theme": None, "scope": "team:east", "score": 2, "note": "east round referrals repeatedly late"}
    ]
    assert mar["overdue_reviews"] == [{"level": "rm_monthly", "due_by": "2026-03-28", "held": None, "days_overdue": 3}]


def test_view_from_the_read_models_equals_the_view_computed_from_events(harbour) -> None:  # type: ignore[no-untyped-def]
    result = harbour.models.governance()

    computed = view_from_events(harbour.ledger, parse_as_of("2026-06-30T23:59:59Z"))
    assert result.source == "read_models" and result.rows == computed
    doc = analyse(harbour.ledger.service_entries(SERVICE), SERVICE, parse_as_of("2026-06-30T23:59:59Z"))
    for row in result.rows:
        expected_from(doc, row, "2026-04-02")
    themes = by_theme(result.rows)
    assert themes["medicines.mar_charts"]["judgement"]["event_id"] == "HHC-069"
    assert themes["safeguarding"]["triggers_last_90_days"] == [
        {
            "trigger": "T7_UNQUALIFIED_POSITIVE_REPORT",
            "scope": None,
            "fired_on": "2026-05-21",
            "events": ["HHC-062", "HHC-053"],
        }
    ]
    assert themes["medicines.mar_charts"]["improvement_status"] == "embedded"


def test_view_now_through_the_cli_reads_the_read_models_and_matches_the_events(store) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import HARBOUR

    args = ["--db", store.sqlite_path] if store.sqlite_path else ["--database-url", store.database_url]
    invoke([*args, "import", str(HARBOUR)])

    rows = json.loads(invoke([*args, "view", "--service", SERVICE, "--json"]).stdout)
    again = json.loads(invoke([*args, "view", "--service", SERVICE, "--as-of", rows[0]["as_of"], "--json"]).stdout)

    assert rows == again
    status = json.loads(invoke([*args, "projections", "status", "--json"]).stdout)
    assert status["entries_behind"] == 0 and status["services"][0]["as_of"] == rows[0]["as_of"]


def test_view_text_is_grouped_by_service_then_key_question(harbour) -> None:  # type: ignore[no-untyped-def]
    args = (
        ["--db", harbour.settings.sqlite_path]
        if harbour.settings.sqlite_path
        else ["--database-url", harbour.settings.database_url]
    )

    result = invoke([*args, "view", "--as-of", "2026-06-30"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{SERVICE} (as of 2026-06-30T23:59:59Z, taxonomy SAF-2024)"
    assert lines[1].startswith("overdue reviews: senior_quarterly due 2026-04-03, held 2026-04-17 (14 days overdue)")
    assert "Safe (S3, S6, S8)" in lines
    assert any(line.startswith("medicines.mar_charts ") and "LIL-MAR-01" in line for line in lines)


def test_view_of_an_unknown_service_is_a_one_line_error(harbour) -> None:  # type: ignore[no-untyped-def]
    args = (
        ["--db", harbour.settings.sqlite_path]
        if harbour.settings.sqlite_path
        else ["--database-url", harbour.settings.database_url]
    )

    result = invoke([*args, "view", "--service", "Nowhere"])

    assert result.exit_code == 1
    assert result.output.strip() == "Error: no events of service 'Nowhere' in this store"


def test_read_only_view_says_how_many_events_the_read_models_are_behind(harbour) -> None:  # type: ignore[no-untyped-def]
    harbour.models.catch_up()
    harbour.clock.now = END_OF_JUNE + timedelta(hours=1)
    harbour.ledger.record(
        {
            "event_id": "LIVE-1",
            "service": SERVICE,
            "kind": "EscalationRaised",
            "actor_role": "registered_manager",
            "actor_id": "RM-1",
            "payload": {"to": "nominated_individual", "reason": "check"},
        }
    )
    args = (
        ["--db", harbour.settings.sqlite_path]
        if harbour.settings.sqlite_path
        else ["--database-url", harbour.settings.database_url]
    )

    result = invoke(["--read-only", *args, "view", "--json"])

    assert result.exit_code == 0
    assert "read models are 1 events behind" in result.stderr
    assert json.loads(result.stdout)[0]["as_of"] == "2026-06-30T23:59:59Z"


# ------------------------------------------------------------------ rules, without a store


def entry(
    position: int,
    kind: str,
    payload: dict[str, Any],
    *,
    theme: str | None = None,
    day: int = 1,
    role: str = "registered_manager",
) -> Entry:
    when = datetime(2026, 1, 1, 9, 0, tzinfo=UTC) + timedelta(days=day)
    return Entry(
        event_id=f"E{position}",
        service="S",
        theme=theme,
        location=None,
        team=None,
        shift=None,
        kind=kind,
        actor_role=role,
        actor_id="X-1",
        record=None,
        observed_at=when,
        recorded_at=when,
        payload=payload,
        position=position,
    )


def registered(version: str) -> Entry:
    return entry(
        1,
        "ServiceRegistered",
        {"framework": {"name": "CQC", "taxonomy_version": version}, "service_type": "x", "scopes": []},
        day=0,
    )


def defined(position: int, theme: str, parent: str | None, statements: list[str]) -> Entry:
    return entry(
        position,
        "ThemeDefined",
        {"theme": theme, "parent": parent, "scope_by": None, "label": theme, "quality_statements": statements},
        theme=theme,
        day=0,
    )


def test_themes_are_grouped_by_the_key_question_of_their_first_listed_statement() -> None:
    entries = [
        registered("SAF-2024 (34 quality statements)"),
        defined(2, "leadership", None, ["W1", "S1"]),
        defined(3, "leadership.culture", "leadership", []),
        defined(4, "meds", None, ["S8"]),
        defined(5, "mystery", None, ["Z9"]),
    ]

    rows = governance_rows(entries, "S", parse_as_of("2026-01-31"), SAF)

    assert [(r["theme"], r["quality_statement"], r["key_question"]) for r in rows] == [
        ("meds", "S8", "Safe"),
        ("leadership", "W1", "Well-led"),
        ("leadership.culture", "W1", "Well-led"),
        ("mystery", "Z9", None),
    ]


def test_a_service_on_a_version_not_loaded_has_no_key_questions() -> None:
    entries = [registered("SAF-2031"), defined(2, "meds", None, ["S8"])]

    rows = governance_rows(entries, "S", parse_as_of("2026-01-31"), SAF)

    assert (rows[0]["taxonomy_version"], rows[0]["key_question"]) == ("SAF-2031", None)
    custom = {
        "SAF-2031": TaxonomyVersion(
            "SAF-2031",
            "ledger",
            (s := parse_csv("id,key_question,quality_statement\nS8,Safe,Meds\n")),
            statements_digest(s),
        )
    }
    assert governance_rows(entries, "S", parse_as_of("2026-01-31"), custom)[0]["key_question"] == "Safe"


def test_the_current_judgement_is_the_latest_applicable_leadership_one_with_its_theme_score() -> None:
    entries = [
        registered("SAF-2024"),
        defined(2, "medicines", None, ["S8"]),
        defined(3, "medicines.mar_charts", "medicines", []),
        defined(4, "medicines.time_critical", "medicines", []),
        entry(
            5,
            "JudgementRecorded",
            {"score": 3, "confidence": "high", "exceptions": [], "supersedes": None, "narrative": ""},
            theme="medicines",
            day=2,
        ),
        entry(
            6,
            "JudgementRevised",
            {
                "score": 3,
                "confidence": "qualified",
                "exceptions": [
                    {"theme": "medicines.mar_charts", "score": 2, "note": "a"},
                    {"scope": "team:east", "score": 2, "note": "b"},
                ],
                "supersedes": "E5",
                "narrative": "",
            },
            theme="medicines",
            day=5,
        ),
        entry(
            7,
            "JudgementRecorded",
            {"score": 1, "confidence": "high", "exceptions": [], "supersedes": None, "narrative": ""},
            theme="medicines",
            day=6,
            role="team_leader",
        ),
    ]

    rows = {r["theme"]: r for r in governance_rows(entries, "S", parse_as_of("2026-01-31"), SAF)}

    assert {t: rows[t]["judgement"]["score"] for t in rows} == {
        "medicines": 3,
        "medicines.mar_charts": 2,
        "medicines.time_critical": 3,
    }
    # Check the view agrees with the analysis package's own query for every theme.
    for theme, row in rows.items():
        found = latest_judgement(entries, theme, parse_as_of("2026-01-31"))
        assert (found.entry.event_id, found.score) == (row["judgement"]["event_id"], row["judgement"]["score"])
    assert {rows[t]["judgement"]["event_id"] for t in rows} == {"E6"}
    # Check exceptions on another branch of the hierarchy are left out of a row.
    assert [e.get("theme") for e in rows["medicines.time_critical"]["judgement"]["exceptions"]] == [None]
    assert rows["medicines"]["judgement"]["recorded_at"] == "2026-01-06T09:00:00Z"
    # Check an as-of before the revision shows the earlier judgement.
    earlier = {r["theme"]: r for r in governance_rows(entries, "S", parse_as_of("2026-01-04"), SAF)}
    assert earlier["medicines.mar_charts"]["judgement"]["event_id"] == "E5"


def test_open_actions_are_assigned_and_not_closed_as_of_the_instant() -> None:
    entries = [
        entry(1, "ActionAssigned", {"action_id": "A1", "owner_role": "rm", "description": "x"}, theme="t", day=1),
        entry(
            2,
            "ActionAssigned",
            {"action_id": "A2", "owner_role": "rm", "description": "y", "due": "2026-02-01"},
            theme="t",
            day=2,
        ),
        entry(3, "ActionUpdated", {"action_id": "A2", "status": "in_progress", "note": ""}, theme="t", day=3),
        entry(4, "ActionClosed", {"action_id": "A1", "outcome": "done"}, theme=None, day=4),
    ]

    assert [a["action_id"] for a in open_actions(entries, parse_as_of("2026-01-03"))["t"]] == ["A1", "A2"]
    assert open_actions(entries, parse_as_of("2026-01-31"))["t"] == [
        {"action_id": "A2", "event_id": "E2", "owner_role": "rm", "due": "2026-02-01"}
    ]


@pytest.mark.parametrize("as_of, expected", [("2026-03-31", "2026-01-01"), ("2026-06-30", "2026-04-02")])
def test_the_trigger_window_is_the_90_days_up_to_the_as_of_date(as_of: str, expected: str) -> None:
    from insightlog.analysis.governance import window_start

    assert window_start(parse_as_of(as_of)) == expected
