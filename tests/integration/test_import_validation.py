"""Every validation rule of the interchange format: a bad line names the line, the event id and
the field, the exit status is non-zero, and nothing of the file is written (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import harbour_lines, invoke, write_jsonl

Rows = list[dict[str, Any]]


def _set(index: int, path: str, value: Any) -> Callable[[Rows], None]:
    def mutate(rows: Rows) -> None:
        target = rows[index]
        *parents, last = path.split(".")
        for p in parents:
            target = target[p]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value

    return mutate


_DELETE = object()


def _both(*mutations: Callable[[Rows], None]) -> Callable[[Rows], None]:
    def mutate(rows: Rows) -> None:
        for m in mutations:
            m(rows)

    return mutate


def _append(row_from: int, **changes: Any) -> Callable[[Rows], None]:
    def mutate(rows: Rows) -> None:
        row = copy.deepcopy(rows[row_from])
        for k, v in changes.items():
            row[k] = v
        rows.append(row)

    return mutate


# Lines of the worked example used below (1-based line numbers = index + 1):
# 1 ServiceRegistered, 2-7 ThemeDefined, 10 JudgementRecorded, 13 AuditCompleted,
# 14 AuditSectionScored (compliance_pct 55, score 2), 16 FeedbackReceived, 30 EvidenceAmended.
CASES = [
    ("unknown kind", _set(15, "kind", "RumourHeard"), 16, "kind", "unknown kind"),
    ("missing actor id", _set(15, "actor_id", _DELETE), 16, "actor_id", "is required"),
    ("ill-typed score", _set(15, "payload.evidence_score", "2"), 16, "payload.evidence_score", "integer"),
    (
        "score out of range",
        _set(15, "payload.evidence_score", 5),
        16,
        "payload.evidence_score",
        "less than or equal to 4",
    ),
    ("missing payload field", _set(15, "payload.summary", _DELETE), 16, "payload.summary", "is required"),
    (
        "bad category",
        _set(15, "payload.evidence_category", "gossip"),
        16,
        "payload.evidence_category",
        "Input should be",
    ),
    ("timestamp without Z", _set(15, "observed_at", "2026-01-20T18:00:00+00:00"), 16, "observed_at", "RFC 3339"),
    ("timestamp with fraction", _set(15, "recorded_at", "2026-01-21T09:00:00.5Z"), 16, "recorded_at", "whole second"),
    ("impossible date", _set(15, "observed_at", "2026-02-30T18:00:00Z"), 16, "observed_at", "not a valid date"),
    (
        "observed after recorded",
        _set(15, "observed_at", "2026-01-22T18:00:00Z"),
        16,
        "observed_at",
        "later than recorded_at",
    ),
    (
        "recorded before previous line",
        _both(_set(15, "observed_at", "2026-01-10T08:00:00Z"), _set(15, "recorded_at", "2026-01-12T08:00:00Z")),
        16,
        "recorded_at",
        "earlier than the previous line",
    ),
    (
        "recorded in the future",
        _append(15, event_id="X-FUT", observed_at="2099-01-01T00:00:00Z", recorded_at="2099-01-01T00:00:00Z"),
        71,
        "recorded_at",
        "future",
    ),
    ("amends names no event", _set(29, "payload.amends", "HHC-999"), 30, "payload.amends", "names no earlier event"),
    (
        "amends names a later event",
        _set(29, "payload.amends", "HHC-040"),
        30,
        "payload.amends",
        "names no earlier event",
    ),
    (
        "amends names a judgement",
        _set(29, "payload.amends", "HHC-010"),
        30,
        "payload.amends",
        "only evidence and AuditCompleted",
    ),
    ("amendment changes nothing", _set(29, "payload.changes", {}), 30, "payload.changes", "at least one"),
    (
        "amended score out of range",
        _set(29, "payload.changes.evidence_score", 0),
        30,
        "payload.changes.evidence_score",
        "1 to 4",
    ),
    (
        "supersedes names no event",
        _set(28, "payload.supersedes", "NOPE-1"),
        29,
        "payload.supersedes",
        "names no earlier event",
    ),
    (
        "score disagrees with its band",
        _set(13, "payload.evidence_score", 3),
        14,
        "payload.evidence_score",
        "CQC band 2",
    ),
    ("evidence without a theme", _set(15, "theme", None), 16, "theme", "required for FeedbackReceived"),
    ("bad event id", _set(15, "event_id", "HHC 016"), 16, "event_id", "1-64 characters"),
    ("unknown role", _set(15, "actor_role", "cleaner"), 16, "actor_role", "unknown role"),
    ("unknown envelope field", _set(15, "colour", "red"), 16, "colour", "not an interchange field"),
    (
        "integer beyond I-JSON",
        _set(15, "payload.ref_number", 2**60),
        16,
        "payload.ref_number",
        "outside the I-JSON range",
    ),
    ("theme cycle", _set(1, "payload.parent", "medicines.mar_charts"), 3, "payload.parent", "cycle"),
    (
        "same id, other content, in one file",
        _append(15, event_id="HHC-016", recorded_at="2026-06-30T12:00:00Z", observed_at="2026-06-30T12:00:00Z"),
        71,
        "event_id",
        "different content",
    ),
]


def _export(args: list[str]) -> bytes:
    result = invoke([*args, "export"])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


@pytest.mark.parametrize(("name", "mutate", "line", "field", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_line_is_refused_naming_line_event_and_field_and_nothing_is_written(
    stores, tmp_path: Path, name: str, mutate: Callable[[Rows], None], line: int, field: str, message: str
) -> None:
    args = stores.cli_args(stores.new())
    rows = harbour_lines()
    mutate(rows)
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    before = _export(args)
    result = invoke([*args, "import", str(bad)])
    # Check the one-line message, the exit status, and that the store is unchanged.
    assert result.exit_code != 0
    err = result.output.strip()
    assert err.count("\n") == 0, err
    assert f"line {line}" in err
    event_id = rows[line - 1].get("event_id") if line <= len(rows) else None
    if event_id and name != "bad event id":
        assert f"event {event_id}" in err
    assert f"field '{field}'" in err
    assert message in err
    assert "Traceback" not in err
    assert _export(args) == before == b""


def test_not_json_names_the_line(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    path = tmp_path / "bad.jsonl"
    path.write_text(harbour_lines and '{"event_id": "A-1",\n')
    result = invoke([*args, "import", str(path)])
    assert result.exit_code != 0
    assert "line 1" in result.output and "not valid JSON" in result.output


def test_an_import_recorded_before_the_service_latest_is_refused_unless_a_backfill(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = harbour_lines()
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "h.jsonl", rows))]).exit_code == 0
    paper = copy.deepcopy(rows[15])
    paper.update(event_id="PAPER-1", observed_at="2026-03-01T09:00:00Z", recorded_at="2026-03-02T09:00:00Z")
    write_jsonl(tmp_path / "earlier.jsonl", [paper])
    before = _export(args)
    refused = invoke([*args, "import", str(tmp_path / "earlier.jsonl")])
    # Check the refusal names the line and recorded_at, and nothing was written.
    assert refused.exit_code != 0
    assert "line 1 (event PAPER-1): field 'recorded_at'" in refused.output
    assert "back-fill" in refused.output
    assert _export(args) == before
    accepted = invoke([*args, "import", "--backfill", str(tmp_path / "earlier.jsonl")])
    assert accepted.exit_code == 0, accepted.output
    assert "back-filled 1 events" in accepted.output
    # Check back-filled events are flagged in the history and in the provenance export.
    history = invoke([*args, "history", "--service", "Harbour Home Care", "--json"])
    flags = {row["event_id"]: row["flags"] for row in json.loads(history.stdout)}
    assert any("back-filled" in f for f in flags["PAPER-1"])
    assert not any("back-filled" in f for f in flags["HHC-041"])
    prov = invoke([*args, "export", "--with-provenance"]).stdout
    assert '"event_id":"PAPER-1"' in prov and '"source":"backfill:earlier.jsonl"' in prov


def test_an_amendment_may_not_name_an_event_of_another_service(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = harbour_lines()
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "a.jsonl", rows))]).exit_code == 0
    other = copy.deepcopy(rows[29])
    other.update(service="Other Service", event_id="OTH-1", recorded_at="2026-07-01T09:00:00Z")
    result = invoke([*args, "import", str(write_jsonl(tmp_path / "b.jsonl", [other]))])
    assert result.exit_code != 0
    assert "line 1 (event OTH-1): field 'payload.amends'" in result.output
    assert "service 'Other Service'" in result.output


def test_reimporting_the_same_file_skips_every_event(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    path = write_jsonl(tmp_path / "h.jsonl", harbour_lines())
    assert "imported 70 events" in invoke([*args, "import", str(path)]).output
    again = invoke([*args, "import", str(path)])
    assert again.exit_code == 0
    assert "imported 0 events" in again.output and "70 already stored, skipped" in again.output


def test_reimporting_an_id_with_different_content_is_an_error(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = harbour_lines()
    assert invoke([*args, "import", str(write_jsonl(tmp_path / "h.jsonl", rows))]).exit_code == 0
    changed = copy.deepcopy(rows[15])
    changed["payload"]["summary"] = "quietly edited"
    before = _export(args)
    result = invoke([*args, "import", str(write_jsonl(tmp_path / "c.jsonl", [changed]))])
    assert result.exit_code != 0
    assert "line 1 (event HHC-016): field 'event_id'" in result.output
    assert "different content" in result.output
    assert _export(args) == before


def test_a_theme_naming_a_statement_the_taxonomy_lacks_is_a_warning_not_an_error(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    rows = harbour_lines()
    rows[2]["payload"]["quality_statements"] = ["S8", "Z99"]
    result = invoke([*args, "import", str(write_jsonl(tmp_path / "w.jsonl", rows))])
    assert result.exit_code == 0, result.output
    assert "imported 70 events" in result.stdout
    assert "warning:" in result.stderr and "Z99" in result.stderr and "HHC-003" in result.stderr
