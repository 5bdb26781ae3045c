"""The web load test still runs (a few seconds, two clients) on SQLite and PostgreSQL, and its
correctness checks hold: every accepted write stored exactly once, no 5xx, verify passes. No timed
assertion: the figures are in docs/performance.md, from ``bench/web_load.py --full``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.web_load import main  # noqa: E402


def test_the_web_load_test_runs_and_loses_nothing(stores: Any, tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    args = ["--clients", "2", "--seconds", "3", "--events", "300", "--backends", stores.backend, "--json", str(out)]
    assert main(args) == 0
    (result,) = json.loads(out.read_text())
    assert result["backend"] == stores.backend and result["verify_ok"]
    assert result["accepted_writes"] > 0 and result["lost"] == [] and result["stored_twice"] == []
    assert result["responses_5xx"] == 0
    assert {"governance page", "record (API)"} <= set(result["operations"])
