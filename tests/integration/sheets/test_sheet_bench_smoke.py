"""The sheet benchmark still runs (a few hundred rows, no timed assertion; figures in docs/performance.md)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sheets import FIGURE_KEYS, format_table, generate_rows, run_sheets  # noqa: E402


def test_the_generated_sheet_is_deterministic() -> None:
    assert generate_rows(50, 1) == generate_rows(50, 1) != generate_rows(50, 2)


def test_every_sheet_figure_is_produced(tmp_path: Path) -> None:
    figures = run_sheets(300, tmp_path, repeats=1, log=lambda m: None, with_openpyxl=True)
    assert sorted(f.key for f in figures) == sorted([*FIGURE_KEYS, "xlsx_reader_choice"])
    for figure in figures:
        assert math.isfinite(figure.value) and figure.value > 0, figure
    assert format_table(figures).count("\n") == len(figures)
