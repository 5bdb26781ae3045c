"""Small helpers shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from insightlog.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
HARBOUR = ROOT / "examples" / "harbour_home_care.jsonl"


def harbour_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in HARBOUR.read_text().splitlines() if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def invoke(args: list[str], input: str | None = None) -> Result:
    return CliRunner().invoke(cli, args, input=input, catch_exceptions=False)
