"""A row changed outside insightlog makes the commands that read it refuse in one line naming
verify, never a traceback; and no stored topic makes a reader import a module insightlog does not
own. On SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner

from insightlog.cli.main import cli
from tests.helpers import HARBOUR, invoke
from tests.integration.proof.tamperkit import Raw, state_of

SERVICE = "Harbour Home Care"


def _store(stores: Any) -> tuple[Any, list[str]]:
    settings = stores.new()
    args = stores.cli_args(settings)
    assert invoke([*args, "import", str(HARBOUR)]).exit_code == 0
    return settings, args


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(cli, args, catch_exceptions=True)


def _entry_row(raw: Raw, position: int) -> dict[str, Any]:
    return next(
        r for r in raw.event_rows() if r["topic"].endswith("EntryAppended") and state_of(r)["position"] == position
    )


def test_a_damaged_entry_is_refused_in_one_line_by_the_read_paths(stores: Any) -> None:
    settings, args = _store(stores)
    raw = Raw(settings)
    try:
        row = _entry_row(raw, 46)
        data = state_of(row)
        del data["entry"]["payload"]  # no longer an entry
        raw.set_event(row, {**row, "state": orjson.dumps(data)})
    finally:
        raw.close()
    for command in (["history", "--service", SERVICE, "--json"], ["analyse", "--service", SERVICE, "--json"],
                    ["export"], ["prove", "HHC-046"]):  # fmt: skip
        result = _run([*args, "--read-only", *command])
        assert result.exit_code == 1, (command, result.output)
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), (
            command,
            result.exception,
        )
        assert "cannot be read" in result.output and "run 'insightlog verify'" in result.output
    report = invoke([*args, "--read-only", "verify", "--json"])  # verify names it, without a traceback
    assert report.exit_code == 1 and b'"first_bad_position":46' in report.stdout_bytes


def test_a_stored_topic_naming_another_module_is_refused_without_importing_it(stores: Any, tmp_path: Path) -> None:
    settings, args = _store(stores)
    raw = Raw(settings)
    try:
        # The head's latest event names a class in a module insightlog does not own (``this``
        # prints when imported): the write path, which builds the head from it, must refuse.
        head_rows = [r for r in raw.event_rows() if r["topic"].endswith("LedgerHead.Advanced")]
        raw.set_event(head_rows[-1], {**head_rows[-1], "topic": "this:Advanced"})
    finally:
        raw.close()
    sys.modules.pop("this", None)
    line = '{"event_id": "NEW-1", "service": "Harbour Home Care", "theme": "medicines.mar_charts", "location": null, "team": null, "shift": null, ' \
           '"kind": "SpotCheckRecorded", "actor_role": "deputy_manager", "actor_id": "DM-1", "record": null, ' \
           '"observed_at": "2026-07-01T00:00:00Z", "recorded_at": "2026-07-01T00:00:00Z", "payload": {"evidence_score": 3, ' \
           '"evidence_category": "observation", "source_type": "spot_check", "summary": "ok"}}\n'  # fmt: skip
    (tmp_path / "new.jsonl").write_text(line)
    result = _run([*args, "import", str(tmp_path / "new.jsonl")])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "names the class 'this:Advanced', which insightlog never writes" in result.output
    assert "this" not in sys.modules
    report = invoke([*args, "--read-only", "verify", "--json"])
    assert (
        report.exit_code == 1
        and b"its topic 'this:Advanced' is not what the ledger writes for it" in report.stdout_bytes
    )
