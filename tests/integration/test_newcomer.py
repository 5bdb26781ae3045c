"""The newcomer's path: a query pointed at no store says so and creates nothing; python -m
insightlog works; help examples keep their lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import HARBOUR, invoke

QUERIES = [
    ["services"],
    ["history", "--service", "Harbour Home Care"],
    ["analyse", "--service", "Harbour Home Care"],
    ["view"],
    ["export"],
    ["verify"],
    ["prove", "HHC-046"],
    ["projections", "status"],
]


@pytest.mark.parametrize("args", QUERIES, ids=[" ".join(a) for a in QUERIES])
def test_a_query_on_a_path_with_no_store_says_so_and_creates_nothing(stores, tmp_path: Path, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    settings = stores.new(created=False)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke([*stores.cli_args(settings), *args])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no ledger at ")
    assert "nothing was created" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not settings.backend.exists()


def test_a_writing_command_creates_the_store(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = stores.new(created=False)
    assert invoke([*stores.cli_args(settings), "import", str(HARBOUR)]).exit_code == 0
    assert settings.backend.exists()
    assert invoke([*stores.cli_args(settings), "services"]).output == "Harbour Home Care\n"


def test_listing_the_taxonomies_needs_no_store(tmp_path: Path) -> None:
    result = invoke(["--db", str(tmp_path / "none.sqlite"), "taxonomy"])
    assert result.exit_code == 0 and "SAF-2024" in result.output
    assert not (tmp_path / "none.sqlite").exists()


def test_python_dash_m_insightlog_runs_the_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "insightlog", "--help"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("Usage: insightlog ")
    assert "record" in out.stdout


def test_help_examples_are_not_rewrapped() -> None:
    text = invoke(["record", "--help"]).output
    lines = [line.strip() for line in text.splitlines()]
    start = lines.index(
        'insightlog record SpotCheckRecorded --service "Harbour Home Care" --theme medicines.mar_charts \\'
    )
    assert lines[start + 1] == "--team north --actor-role deputy_manager --actor-id DM-1 \\"
    assert lines[start + 2].startswith("--payload '{")
