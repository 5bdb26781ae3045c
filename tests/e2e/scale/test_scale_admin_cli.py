"""The administration commands: help with an example for each, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import HARBOUR, invoke

ADMIN_COMMANDS = [["db"], ["db", "roles"], ["db", "new-key"], ["backup"], ["migrate"]]


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=" ".join)
def test_every_admin_command_has_help_with_an_example(command: list[str]) -> None:
    result = invoke([*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("mysql://somewhere/db", "neither a postgresql:// URL nor a SQLite path"),
        ("postgresql://localhost", "names no database"),
    ],
)
def test_migrate_names_a_bad_target_in_one_line(tmp_path: Path, target: str, message: str) -> None:
    db = tmp_path / "s.sqlite"
    assert invoke(["--db", str(db), "import", str(HARBOUR)]).exit_code == 0
    result = invoke(["--db", str(db), "migrate", "--to", target])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_migrate_to_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    assert invoke(["--db", str(db), "import", str(HARBOUR)]).exit_code == 0
    result = invoke(["--db", str(db), "migrate", "--to", "postgresql://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 1
    assert "cannot connect to the target" in result.output and "Traceback" not in result.output


def test_migrate_refuses_a_missing_or_empty_source_without_creating_anything(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite"
    result = invoke(["--db", str(missing), "migrate", "--to", str(tmp_path / "t.sqlite")])
    assert result.exit_code == 1 and "no ledger at" in result.output
    assert not missing.exists() and not (tmp_path / "t.sqlite").exists()
    empty = tmp_path / "empty.sqlite"
    assert invoke(["--db", str(empty), "init"]).exit_code == 0
    result = invoke(["--db", str(empty), "migrate", "--to", str(tmp_path / "t.sqlite")])
    assert result.exit_code == 1 and "holds no events" in result.output
