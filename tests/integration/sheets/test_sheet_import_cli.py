"""`insightlog import-sheet` and `mapping check` against real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from insightlog.application.ledger import open_ledger
from tests.helpers import HARBOUR, invoke
from tests.unit.sheets.sheetfiles import SPOT_CHECK_MAPPING, SPOT_HEADER, csv_bytes, spot_row

ROOT = Path(__file__).resolve().parents[3]
SHEETS = ROOT / "examples" / "sheets"
TRACKER, TRACKER_MAP = SHEETS / "audit_tracker.xlsx", SHEETS / "audit_tracker.toml"
EXPORT, EXPORT_MAP = SHEETS / "care_system_export.csv", SHEETS / "care_system_export.toml"
SERVICE = "Harbour Home Care"


def size_of(settings: Any) -> int:
    ledger = open_ledger(settings)
    try:
        return ledger.head_size()
    finally:
        ledger.close()


def exported(stores: Any, settings: Any) -> list[dict[str, Any]]:
    result = invoke([*stores.cli_args(settings), "export"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def sheet(stores: Any, settings: Any, *args: Any) -> Any:
    return invoke([*stores.cli_args(settings), "import-sheet", *map(str, args)])


def test_the_examples_import_into_the_worked_example_and_the_analysis_uses_their_evidence(
    stores: Any, tmp_path: Path
) -> None:
    settings = stores.new()
    args = stores.cli_args(settings)
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    first = sheet(stores, settings, TRACKER, "--mapping", TRACKER_MAP)
    assert first.exit_code == 0, first.output
    assert "imported 12 events from audit_tracker.xlsx (12 rows) into 1 service(s)" in first.output
    second = sheet(stores, settings, EXPORT, "--mapping", EXPORT_MAP)
    assert second.exit_code == 0, second.output
    assert "imported 9 events from care_system_export.csv (10 rows)" in second.output
    result = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-11-30", "--json"])
    document = json.loads(result.output)
    episode = next(r for r in document["recognition"] if r["first_signal"] == "HHC-AT-MAR-AUDIT-2026-09-MAR-charts")
    assert episode["theme"] == "medicines.mar_charts" and episode["acknowledgement"] is None
    assert episode["pattern_detectable"] == "HHC-CS-CMP-2026-0077"
    fired = {(t["trigger"], t["fired_on"], t.get("scope")): t["events"] for t in document["triggers"]}
    assert fired[("T2_HEADLINE_MASKS_DETAIL", "2026-09-16", "team:east")] == [
        "HHC-AT-MAR-AUDIT-2026-09-headline",
        "HHC-AT-MAR-AUDIT-2026-09-MAR-charts",
    ]
    assert ("T1_REPEATED_THEME_UNACKNOWLEDGED", "2026-10-20", None) in fired
    # Check what was known at the end of June did not change
    expected = json.loads((HARBOUR.parent / "harbour_home_care.expected.json").read_text())
    june = invoke([*args, "analyse", "--service", SERVICE, "--as-of", expected["as_of"], "--json"])
    assert json.loads(june.output) == expected
    # Check the text survived the Windows encoding
    events = {e["event_id"]: e for e in exported(stores, settings)}
    assert (
        events["HHC-CS-CMP-2026-0085"]["payload"]["summary"]
        == "Client paid £12 for a taxi to clinic after a missed lunch call"
    )
    assert "HHC-CS-INC-2026-0430" not in events  # a draft, skipped by the mapping


def test_importing_the_same_sheet_again_adds_nothing(stores: Any) -> None:
    settings = stores.new()
    assert sheet(stores, settings, EXPORT, "--mapping", EXPORT_MAP).exit_code == 0
    before = exported(stores, settings)
    again = sheet(stores, settings, EXPORT, "--mapping", EXPORT_MAP)
    assert again.exit_code == 0, again.output
    assert "imported 0 events" in again.output and "9 already stored, skipped" in again.output
    assert exported(stores, settings) == before


def test_a_changed_cell_is_reported_as_a_changed_event_and_nothing_is_written(stores: Any, tmp_path: Path) -> None:
    settings = stores.new()
    assert sheet(stores, settings, EXPORT, "--mapping", EXPORT_MAP).exit_code == 0
    size = size_of(settings)
    edited = tmp_path / "care_system_export.csv"
    data = EXPORT.read_bytes()
    assert data.count(b"Near miss") == 2
    edited.write_bytes(data.replace(b"Near miss", b"Low harm", 1))
    extra = tmp_path / "more.csv"
    extra.write_bytes(
        data.replace(b"Near miss", b"Low harm", 1) + b"INC-2026-0460;Incident;26/11/2026 09:00;26/11/2026 10:00;"
        b"North round;Medication - MAR;new one;No harm;;TL-N;Team leader;Closed\r\n"
    )
    for path in (edited, extra):
        result = sheet(stores, settings, path, "--mapping", EXPORT_MAP)
        assert result.exit_code == 1
        assert (
            "row 2, column H ('Harm level') (event HHC-CS-INC-2026-0412): payload.harm: this row's event is "
            "already stored with different content (payload.harm: stored 'near_miss', now 'low_harm')"
        ) in result.output
        assert "1 problem(s) against the store; nothing was imported" in result.output
        assert "Traceback" not in result.output
    assert size_of(settings) == size
    dry = sheet(stores, settings, extra, "--mapping", EXPORT_MAP, "--dry-run")
    assert dry.exit_code == 1
    assert "against the store: 1 new, 8 already stored (skipped), 1 changed, 0 out of recorded order" in dry.output
    assert size_of(settings) == size


def test_to_jsonl_output_imports_to_the_same_ledger_state_as_the_direct_import(stores: Any, tmp_path: Path) -> None:
    direct, via_file = stores.new(), stores.new()
    for path, mapping in ((TRACKER, TRACKER_MAP), (EXPORT, EXPORT_MAP)):
        out = tmp_path / f"{path.stem}.jsonl"  # --to-jsonl never overwrites a file
        assert sheet(stores, direct, path, "--mapping", mapping).exit_code == 0
        written = invoke(["import-sheet", str(path), "--mapping", str(mapping), "--to-jsonl", str(out)])
        assert written.exit_code == 0, written.output
        assert "(nothing imported)" in written.output
        assert invoke([*stores.cli_args(via_file), "import", str(out)]).exit_code == 0
    assert exported(stores, direct) == exported(stores, via_file)
    assert len(exported(stores, direct)) == 21


def test_a_dry_run_previews_the_events_and_writes_nothing(stores: Any, tmp_path: Path) -> None:
    settings = stores.new(created=False)
    result = sheet(stores, settings, TRACKER, "--mapping", TRACKER_MAP, "--dry-run", "--preview", "3")
    assert result.exit_code == 0, result.output
    assert "audit_tracker.xlsx: 12 rows -> 12 events (4 AuditCompleted, 8 AuditSectionScored)" in result.output
    assert "first 3 of 12 events, in the order they would be appended:" in result.output
    assert "HHC-AT-MAR-AUDIT-2026-07-MAR-charts" in result.output and "dry run: nothing was written" in result.output
    if settings.sqlite_path:
        assert not Path(settings.sqlite_path).exists()
    else:
        assert "against the store: 12 new" in result.output or "could not" in result.output
    as_json = json.loads(sheet(stores, settings, TRACKER, "--mapping", TRACKER_MAP, "--dry-run", "--json").output)
    assert as_json["ok"] is True and as_json["events"] == 12 and len(as_json["preview"]) == 10


def test_problems_are_one_line_each_with_a_non_zero_exit_and_nothing_written(stores: Any, tmp_path: Path) -> None:
    settings = stores.new(created=False)
    mapping = tmp_path / "spot.toml"
    mapping.write_text(SPOT_CHECK_MAPPING)
    bad = tmp_path / "spot.csv"
    bad.write_bytes(
        csv_bytes(
            [
                SPOT_HEADER,
                spot_row("1"),
                spot_row("2", rnd="West"),
                spot_row("3", on="yesterday"),
                spot_row("4", rnd="West"),
            ]
        )
    )
    for extra in ([], ["--dry-run"], ["--to-jsonl", str(tmp_path / "out.jsonl")]):
        result = sheet(stores, settings, bad, "--mapping", mapping, *extra)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.output.splitlines() if line.startswith(("row ", "column "))]
        assert lines == [
            "row 4, column E ('Checked on'): value 'yesterday': observed_at: is not a date and time in the formats "
            "%d/%m/%Y %H:%M:%S, %d/%m/%Y %H:%M, %d/%m/%Y, %Y-%m-%d %H:%M:%S, %Y-%m-%d %H:%M, %Y-%m-%d",
            "column C ('Round'): value 'West' is not in the value map of team (in 2 rows: 3, 5); "
            "the map knows 'North', 'South', 'East'",
        ]
        assert "Error: 2 problem(s) in spot.csv; nothing" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.partial").exists()
    if settings.sqlite_path:
        assert not Path(settings.sqlite_path).exists()
    else:
        assert size_of(settings) == 0
    as_json = sheet(stores, settings, bad, "--mapping", mapping, "--json")
    assert as_json.exit_code == 1
    document = json.loads(as_json.output)
    assert document["ok"] is False and document["unmapped"][0]["count"] == 2
    assert document["problem_list"][0]["column"] == "E" and document["problem_list"][0]["row"] == 4


def test_rows_earlier_than_the_store_need_backfill_and_are_then_flagged(stores: Any, tmp_path: Path) -> None:
    settings = stores.new()
    assert invoke([*stores.cli_args(settings), "import", str(HARBOUR)]).exit_code == 0
    mapping = tmp_path / "spot.toml"
    mapping.write_text(SPOT_CHECK_MAPPING)
    early = tmp_path / "paper_checks.csv"
    early.write_bytes(
        csv_bytes(
            [
                SPOT_HEADER,
                spot_row("P1", on="02/05/2026 10:00", entered="03/05/2026 09:00"),
                spot_row("P2", on="02/07/2026 10:00", entered="03/07/2026 09:00"),
            ]
        )
    )
    refused = sheet(stores, settings, early, "--mapping", mapping)
    assert refused.exit_code == 1
    assert (
        "row 2, column F ('Entered') (event SC-P1): value '2026-05-03T08:00:00Z': recorded_at: is earlier than "
        "the latest event stored for 'Harbour Home Care' (2026-06-18T16:00:00Z); earlier history is imported "
        "with --backfill"
    ) in refused.output
    assert "SC-P2" not in refused.output
    done = sheet(stores, settings, early, "--mapping", mapping, "--backfill")
    assert done.exit_code == 0, done.output
    assert "back-filled 2 events from paper_checks.csv" in done.output
    provenance = invoke([*stores.cli_args(settings), "export", "--with-provenance"])
    sources = {
        json.loads(line)["event_id"]: json.loads(line)["ledger"]["source"]
        for line in provenance.output.splitlines()
        if line.startswith("{")
    }
    assert sources["SC-P1"] == "backfill:paper_checks.csv"


def test_an_error_only_the_ledger_finds_is_pointed_at_the_cell(stores: Any, tmp_path: Path) -> None:
    settings = stores.new()
    mapping = tmp_path / "amend.toml"
    mapping.write_text("""
mapping_version = 1
[[tables]]
kind = "EvidenceAmended"
event_id = { template = "AM-{Id}" }
service = "Harbour Home Care"
theme = "medicines.mar_charts"
actor_role = "quality_lead"
actor_id = "QL-1"
observed_at = { column = "When" }
recorded_at = { column = "When" }
[tables.payload]
amends = { column = "Corrects event" }
changes = { value = { evidence_score = 2 } }
reason = { column = "Why" }
""")
    data = tmp_path / "amendments.csv"
    data.write_bytes(
        csv_bytes([["Id", "When", "Corrects event", "Why"], ["1", "01/08/2026 10:00", "HHC-999", "miscounted"]])
    )
    assert invoke([*stores.cli_args(settings), "import", str(HARBOUR)]).exit_code == 0
    size = size_of(settings)
    result = sheet(stores, settings, data, "--mapping", mapping)
    assert result.exit_code == 1
    assert (
        "Error: row 2, column C ('Corrects event') (event AM-1): payload.amends: 'HHC-999' names no earlier event "
        "of service 'Harbour Home Care'; nothing was imported"
    ) in result.output
    assert size_of(settings) == size


def test_a_read_only_store_refuses_a_sheet_in_one_line(stores: Any) -> None:
    settings = stores.new()
    assert invoke([*stores.cli_args(settings), "import", str(HARBOUR)]).exit_code == 0
    result = invoke(
        [*stores.cli_args(settings), "--read-only", "import-sheet", str(EXPORT), "--mapping", str(EXPORT_MAP)]
    )
    assert result.exit_code == 1 and "read-only" in result.output and "Traceback" not in result.output


def test_mapping_check_validates_a_mapping_alone_and_against_a_file(tmp_path: Path) -> None:
    alone = invoke(["mapping", "check", str(TRACKER_MAP)])
    assert alone.exit_code == 0, alone.output
    assert "audit_tracker.toml: mapping_version 1; sheet 'Sections' (header row 3): AuditSectionScored;" in alone.output
    with_file = invoke(["mapping", "check", str(EXPORT_MAP), str(EXPORT)])
    assert with_file.exit_code == 0, with_file.output
    assert "care_system_export.csv: 10 rows (1 skipped by the mapping) -> 9 events" in with_file.output
    wrong = invoke(["mapping", "check", str(TRACKER_MAP), str(EXPORT)])
    assert wrong.exit_code == 1
    assert "the file is not an xlsx workbook" in wrong.output
    broken = tmp_path / "broken.toml"
    broken.write_text(TRACKER_MAP.read_text().replace('source_type = "audit"', 'source_typo = "audit"'))
    result = invoke(["mapping", "check", str(broken)])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: broken.toml: tables[0].payload.source_type: is required for AuditSectionScored "
        "(no column or constant feeds it)"
    )


def test_the_example_files_are_what_their_script_makes(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(SHEETS / "make_examples.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


ERRORS = {
    "bad encoding": (
        lambda: csv_bytes([SPOT_HEADER, spot_row("1", by="DM–1")], encoding="cp1252"),
        "utf-8",
        "row 2, column D: source.encoding: byte(s) 96 are not valid utf-8",
    ),
    "missing column": (
        lambda: csv_bytes([SPOT_HEADER[:-1], spot_row("1")[:-1]]),
        "auto",
        "there is no column 'OK' in header row 1",
    ),
    "unmapped value": (
        lambda: csv_bytes([SPOT_HEADER, spot_row("1", area="Falls")]),
        "auto",
        "column B ('Area'): value 'Falls' is not in the value map of theme (in 1 row: 2)",
    ),
    "bad date": (
        lambda: csv_bytes([SPOT_HEADER, spot_row("1", on="2026/02/03")]),
        "auto",
        "row 2, column E ('Checked on'): value '2026/02/03': observed_at: is not a date and time",
    ),
    "spring gap": (
        lambda: csv_bytes([SPOT_HEADER, spot_row("1", on="29/03/2026 01:15", entered="29/03/2026 09:00")]),
        "auto",
        "29/03/2026 01:15 does not exist in Europe/London",
    ),
    "autumn hour": (
        lambda: csv_bytes([SPOT_HEADER, spot_row("1", on="25/10/2026 01:15", entered="25/10/2026 09:00")]),
        "auto",
        "25/10/2026 01:15 happens twice in Europe/London",
    ),
    "required field empty": (
        lambda: csv_bytes([SPOT_HEADER, spot_row("1", by="  ")]),
        "auto",
        "row 2, column D ('By') (event SC-1): actor_id: is empty",
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_each_kind_of_bad_input_exits_non_zero_naming_the_cell_and_writes_nothing(
    stores: Any, tmp_path: Path, name: str
) -> None:
    make, encoding, expected = ERRORS[name]
    settings = stores.new()
    assert invoke([*stores.cli_args(settings), "import", str(HARBOUR)]).exit_code == 0
    before = exported(stores, settings)
    mapping = tmp_path / "spot.toml"
    mapping.write_text(SPOT_CHECK_MAPPING.replace("[defaults]", f'[source]\nencoding = "{encoding}"\n[defaults]'))
    data = tmp_path / "checks.csv"
    data.write_bytes(make())
    result = sheet(stores, settings, data, "--mapping", mapping)
    assert result.exit_code == 1
    assert expected in result.output
    assert "nothing was imported" in result.output and "Traceback" not in result.output
    assert exported(stores, settings) == before
