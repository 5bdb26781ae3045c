"""The benchmark suite still runs: every figure at the ``tiny`` size, on SQLite and PostgreSQL.

No timed assertion: only that each figure was produced and is a positive number (the figures
themselves are in docs/performance.md, from ``bench/run.py --size full``).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from bench.run import FIGURE_KEYS, format_table, run_suite  # noqa: E402


def test_generator_is_deterministic_and_valid(tmp_path: Path) -> None:
    from insightlog.application.ledger import open_ledger
    from insightlog.storage.settings import StoreSettings

    first = list(generate(3, 60, 7))
    assert first == list(generate(3, 60, 7))
    assert first != list(generate(3, 60, 8))
    assert len(first) == 180
    ledger = open_ledger(StoreSettings(sqlite_path=str(tmp_path / "gen.sqlite")))
    try:
        result = ledger.import_lines(first, source_name="generated.jsonl")
    finally:
        ledger.close()
    assert len(result.receipts) == 180


def test_every_figure_is_produced(stores, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    figures = run_suite("tiny", [stores.backend], workdir=tmp_path, new_store=stores.new)
    produced = {f.key: f for f in figures}
    assert sorted(produced) == sorted(FIGURE_KEYS)
    for figure in figures:
        assert figure.backend == stores.backend
        assert math.isfinite(figure.value) and figure.value > 0, figure
    assert format_table(figures).count("\n") == len(figures) + 1
