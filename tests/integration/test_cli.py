"""The command line: help for every command, one-line errors, fast start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from insightlog.cli.main import cli
from tests.helpers import invoke

COMMANDS = sorted(cli.commands)


def test_top_level_help_lists_every_command_with_an_example() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    assert "Example:" in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = invoke([name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output or "Commands:" in result.output


def test_the_cli_does_not_import_heavy_modules_for_help() -> None:
    code = (
        "import sys; from insightlog.cli.main import cli\n"
        "heavy = [m for m in ('eventsourcing', 'sqlalchemy', 'pydantic', 'psycopg', 'orjson') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_a_bad_database_url_is_a_one_line_error(tmp_path) -> None:
    result = invoke(["--database-url", "mysql://x/y", "services"])
    assert result.exit_code == 1
    assert "not a postgresql:// URL" in result.output
    assert "Traceback" not in result.output


def test_a_bad_as_of_is_a_one_line_error(tmp_path) -> None:
    result = invoke(["--db", str(tmp_path / "x.sqlite"), "history", "--service", "S", "--as-of", "last tuesday"])
    assert result.exit_code == 1
    assert "--as-of 'last tuesday' is neither" in result.output


def test_withdraw_and_correct_from_the_command_line(stores) -> None:  # type: ignore[no-untyped-def]
    import json as _json

    from tests.helpers import HARBOUR as _HARBOUR

    args = stores.cli_args(stores.new())
    assert invoke([*args, "import", str(_HARBOUR)]).exit_code == 0
    fixed = invoke(
        [
            *args,
            "correct",
            "HHC-019",
            "--team",
            "north",
            "--reason",
            "wrong round",
            "--actor-role",
            "quality_lead",
            "--actor-id",
            "QL-1",
            "--json",
        ]
    )
    assert fixed.exit_code == 0, fixed.output
    withdrawal, replacement = _json.loads(fixed.stdout)
    assert (withdrawal["position"], replacement["position"]) == (71, 72)
    gone = invoke(
        [*args, "withdraw", "HHC-021", "--reason", "duplicate", "--actor-role", "quality_lead", "--actor-id", "QL-1"]
    )
    assert gone.exit_code == 0 and gone.stdout.startswith("withdrew HHC-021: ")
    again = invoke(
        [*args, "withdraw", "HHC-021", "--reason", "again", "--actor-role", "quality_lead", "--actor-id", "QL-1"]
    )
    assert again.exit_code == 1 and "already withdrawn" in again.output
    exported = [_json.loads(line) for line in invoke([*args, "export"]).stdout.splitlines()]
    assert [e["kind"] for e in exported[70:]] == ["EntryWithdrawn", "SpotCheckRecorded", "EntryWithdrawn"]
    assert exported[71]["payload"]["corrects"] == "HHC-019"
