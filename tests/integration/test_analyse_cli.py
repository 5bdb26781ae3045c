"""`insightlog analyse` end to end, on SQLite and PostgreSQL: the worked example, field for field."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path

import pytest

from tests.helpers import HARBOUR, invoke

EXAMPLES = HARBOUR.parent
SERVICE = "Harbour Home Care"


def _strict(value):  # type: ignore[no-untyped-def]
    """A form in which 2, 2.0 and "2" differ, and key order counts."""
    if isinstance(value, dict):
        return ("dict", [(k, _strict(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_strict(v) for v in value])
    return (type(value).__name__, value)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-06-30T23:59:59Z", "harbour_home_care.expected.json"),
        ("2026-03-31T23:59:59Z", "harbour_home_care.asof-2026-03-31.expected.json"),
        ("2026-03-31", "harbour_home_care.asof-2026-03-31.expected.json"),
    ],
)
def test_analyse_json_equals_the_worked_example_field_for_field(stores, as_of: str, expected: str) -> None:
    args = stores.cli_args(stores.new())
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    result = invoke([*args, "analyse", "--service", SERVICE, "--as-of", as_of, "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("}\n") and result.stdout.count("\n") == 1
    got = json.loads(result.stdout)
    want = json.loads((EXAMPLES / expected).read_text())
    assert _strict(got) == _strict(want)


def test_analyse_is_deterministic_and_works_read_only(stores, tmp_path: Path) -> None:
    settings = stores.new()
    args = stores.cli_args(settings)
    invoke([*args, "import", str(HARBOUR)])
    first = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-05-01", "--json"]).stdout
    read_only = invoke([*args, "--read-only", "analyse", "--service", SERVICE, "--as-of", "2026-05-01", "--json"])
    assert read_only.exit_code == 0, read_only.output
    assert read_only.stdout == first


def test_analyse_of_an_unknown_service_prints_nothing_and_fails(stores) -> None:
    args = stores.cli_args(stores.new())
    invoke([*args, "import", str(HARBOUR)])
    result = invoke([*args, "analyse", "--service", "Nowhere", "--json"])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "no events of service 'Nowhere'" in result.stderr


def test_analyse_with_an_unparsable_as_of_fails_plainly(stores) -> None:
    args = stores.cli_args(stores.new())
    result = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-13-45", "--json"])
    assert result.exit_code != 0 and result.stdout == ""
    assert "--as-of" in result.stderr


def test_the_human_report_names_the_events_behind_each_figure(stores) -> None:
    args = stores.cli_args(stores.new())
    invoke([*args, "import", str(HARBOUR)])
    text = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-06-30"]).stdout
    assert "HHC-046 rec 2026-03-20" in text and "58/30/37/-" in text
    assert "T1_REPEATED_THEME_UNACKNOWLEDGED" in text and "HHC-030" in text
    assert "HHC-052" in text  # the late-recorded review


def test_a_policy_file_changes_the_thresholds_and_says_so(stores, tmp_path: Path) -> None:
    args = stores.cli_args(stores.new())
    invoke([*args, "import", str(HARBOUR)])
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"name": "lenient-minutes", "overrides": {"late_recorded_days": 20}}))
    doc = json.loads(
        invoke(
            [*args, "analyse", "--service", SERVICE, "--as-of", "2026-06-30", "--policy", str(policy), "--json"]
        ).stdout
    )
    assert doc["policy"] == {"name": "lenient-minutes", "overrides": {"late_recorded_days": 20}}
    assert doc["reviews"]["late_recorded"] == []  # 14 days late is within a 20-day allowance


CORRECTIONS = EXAMPLES / "harbour_home_care_corrections.jsonl"


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-07-31T23:59:59Z", "harbour_home_care_corrections.expected.json"),
        ("2026-07-02T23:59:59Z", "harbour_home_care_corrections.asof-2026-07-02.expected.json"),
        ("2026-06-30T23:59:59Z", "harbour_home_care.expected.json"),
    ],
)
def test_analyse_json_equals_the_corrections_example_field_for_field(stores, as_of: str, expected: str) -> None:
    args = stores.cli_args(stores.new())
    assert invoke([*args, "import", str(CORRECTIONS)]).exit_code == 0
    result = invoke([*args, "analyse", "--service", SERVICE, "--as-of", as_of, "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    want = json.loads((EXAMPLES / expected).read_text())
    assert _strict(got) == _strict(want)


def test_analyse_on_the_ledger_basis_shows_what_the_store_itself_knew(stores) -> None:
    """Two imports: January–March on 2026-04-01, the rest on 2026-07-01. On the ledger basis, as of
    2026-06-30 the store knew only the first; on the recorded basis it already shows the rest."""
    from datetime import datetime

    from insightlog.analysis import LEDGER_BASIS, analyse
    from insightlog.application.ledger import open_ledger
    from insightlog.interchange.timeutil import parse_as_of

    settings = stores.new()
    lines = HARBOUR.read_text().splitlines()
    for part, day in ((lines[:50], 4), (lines[50:], 7)):
        ledger = open_ledger(settings, clock=lambda day=day: datetime(2026, day, 1, tzinfo=UTC))
        try:
            ledger.import_lines(part, source_name=f"part-{day}.jsonl")
        finally:
            ledger.close()
    args = stores.cli_args(settings)
    result = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-06-30", "--basis", "ledger", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc)[:3] == ["definitions_version", "basis", "service"] and doc["basis"] == "ledger"
    # Check: nothing recorded in April–June had reached the store by 06-30 ...
    assert "medicines.time_critical" not in doc["isolated_themes"]
    # The January and February reviews reached the store on 04-01: late-recorded on this basis.
    late = doc["reviews"]["late_recorded"]
    assert [(r["event_id"], r["recorded"]) for r in late] == [("HHC-020", "2026-04-01"), ("HHC-036", "2026-04-01")]
    assert sorted({r["month"] for r in doc["drift"]}) == ["2026-04", "2026-05", "2026-06"]
    # ... while the provider's clock says it was all there.
    recorded = json.loads(invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-06-30", "--json"]).stdout)
    assert "medicines.time_critical" in recorded["isolated_themes"] and "basis" not in recorded
    # Check: the CLI gives the pure engine's answer on the store's own entries.
    ledger = open_ledger(settings)
    try:
        entries = ledger.read_service(SERVICE)
    finally:
        ledger.close()
    assert doc == json.loads(json.dumps(analyse(entries, SERVICE, parse_as_of("2026-06-30"), basis=LEDGER_BASIS)))
    text = invoke([*args, "analyse", "--service", SERVICE, "--as-of", "2026-06-30", "--basis", "ledger"]).stdout
    assert "basis ledger" in text


def test_analyse_refuses_an_unknown_basis_plainly(stores) -> None:
    args = stores.cli_args(stores.new())
    invoke([*args, "import", str(HARBOUR)])
    result = invoke([*args, "analyse", "--service", SERVICE, "--basis", "witnessed", "--json"])
    assert result.exit_code != 0 and result.stdout == ""
    assert "--basis" in result.output and "Traceback" not in result.output
