"""Benchmark the spreadsheet import against reading the same file with the reader alone, same run.

    .venv/bin/python bench/sheets.py [--rows 100000] [--json FILE] [--keep DIR]

One sheet of ``--rows`` spot-check rows (100 services x rows/100, twelve columns: value maps, a
computed percentage and band, templates, UK local times) is written as CSV (csv module) and as XLSX
(openpyxl, write-only). For each format it times, in this process:

* the reader alone: ``csv.reader`` over the decoded text; python-calamine's ``to_python`` (and,
  with ``--with-openpyxl``, openpyxl's read-only ``iter_rows``, the alternative of ADR 16);
* the conversion: ``insightlog.sheets.convert`` (read + map + validate every event);
* the import: conversion plus ``import_result`` (``Ledger.import_lines``) into a fresh SQLite store;
* first, for information, ``Ledger.import_lines`` of the same events as JSON Lines into a fresh
  store: the ledger's own rate, which bounds any import.

Figures are rates (rows/s) and ratios against the reader of the same format in the same run (issue
15: import at least 0.25 of the reader's rate on CSV and 0.5 on XLSX), by wall clock (the target)
and, for information, by CPU time of this process (steadier when other work shares the cores). Reader timings are the
median of three; imports run once (each is tens of seconds at 100k rows). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gc
import io
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEED = 20260630
HEADER = [
    "Ref",
    "Service",
    "Round",
    "Area",
    "Checked on",
    "Entered",
    "Items checked",
    "Items compliant",
    "Checked by",
    "Role",
    "Status",
    "Notes",
]
AREAS = {
    "MAR charts": "medicines.mar_charts",
    "Time-critical medicines": "medicines.time_critical",
    "Referrals": "safeguarding.referrals",
    "Call log": "call_punctuality",
}
ROUNDS = {"North": "north", "South": "south", "East": "east"}
MAPPING = """
mapping_version = 1
[time]
formats = ["%d/%m/%Y %H:%M"]
[[tables]]
sheet = "Checks"
kind = "SpotCheckRecorded"
skip = { column = "Status", values = ["Draft"] }
event_id = { template = "SC-{Ref}" }
service = { column = "Service" }
theme = { column = "Area", map = AREAS }
team = { column = "Round", map = ROUNDS }
actor_role = { column = "Role", map = { "Deputy manager" = "deputy_manager", "Team leader" = "team_leader" } }
actor_id = { column = "Checked by" }
record = "spot_check_app"
observed_at = { column = "Checked on" }
recorded_at = { column = "Entered" }
[tables.payload]
items_checked = { column = "Items checked" }
items_compliant = { column = "Items compliant" }
compliance_pct = { percent = ["items_compliant", "items_checked"] }
evidence_score = { band = "compliance_pct" }
evidence_category = "processes"
source_type = "spot_check"
summary = { template = "{Area} ({Round}): {Items compliant} of {Items checked}" }
note = { column = "Notes" }
"""


def mapping_text() -> str:
    def inline(d: dict[str, str]) -> str:
        return "{ " + ", ".join(f'"{k}" = "{v}"' for k, v in d.items()) + " }"

    return MAPPING.replace("map = AREAS", f"map = {inline(AREAS)}").replace("map = ROUNDS", f"map = {inline(ROUNDS)}")


def generate_rows(rows: int, seed: int = SEED) -> list[list[Any]]:
    """Deterministic rows, recorded between 2016 and 2026 (not sorted: a quarter arrive late)."""
    rng = random.Random(seed)
    services = max(1, rows // 1000)
    start = datetime(2016, 7, 1, 9, 0)
    span = (datetime(2026, 6, 30, 9, 0) - start).total_seconds()
    out: list[list[Any]] = []
    areas, rounds = list(AREAS), list(ROUNDS)
    for i in range(rows):
        entered = start + timedelta(seconds=int(span * i / rows) // 60 * 60)
        if (entered.month == 3 and entered.day >= 25) or (entered.month == 10 and entered.day >= 25):
            entered = entered.replace(hour=12)  # keep clear of the clock changes: not what is measured
        checked_on = entered - timedelta(hours=rng.randint(1, 6))
        checked = rng.randint(5, 20)
        ok = rng.randint(0, checked)
        out.append(
            [
                f"{i:07d}",
                f"Service {i % services:03d}",
                rng.choice(rounds),
                rng.choice(areas),
                checked_on.strftime("%d/%m/%Y %H:%M"),
                entered.strftime("%d/%m/%Y %H:%M"),
                checked,
                ok,
                f"DM-{rng.randint(1, 9)}",
                rng.choice(["Deputy manager", "Team leader"]),
                "Closed",
                rng.choice(["", "", "follow-up booked", "charts in the home"]),
            ]
        )
    # a spreadsheet is rarely sorted: swap some neighbours
    for i in range(0, rows - 1, 4):
        out[i], out[i + 1] = out[i + 1], out[i]
    return out


def write_csv(path: Path, rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Checks")
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    wb.save(path)


# ------------------------------------------------------------------ readers alone


def read_csv(path: Path) -> int:
    text = path.read_bytes().decode("utf-8")
    return sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=";")) - 1


def read_calamine(path: Path) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        return len(workbook.get_sheet_by_name("Checks").to_python(skip_empty_area=False)) - 1
    finally:
        workbook.close()


def read_openpyxl(path: Path) -> int:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(1 for _ in workbook["Checks"].iter_rows(values_only=True)) - 1
    finally:
        workbook.close()


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and CPU seconds of one call, and its value."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    runs = [timed(fn)[:2] for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


@dataclass
class Figure:
    key: str
    label: str
    measured: str
    baseline: str
    value: float  # the ratio of wall-clock rates, compared with the target
    cpu_value: float  # the same ratio of CPU-time rates (steadier on a shared machine), for information
    target: str
    met: bool | None


def fresh_ledger(workdir: Path, name: str) -> Any:
    from insightlog.application.ledger import open_ledger
    from insightlog.storage.settings import StoreSettings

    path = workdir / f"{name}.sqlite"
    for leftover in workdir.glob(f"{name}.sqlite*"):
        leftover.unlink()
    return open_ledger(StoreSettings(sqlite_path=str(path)))


def _sheet_import(ledger: Any, path: Path, mapping: Any) -> Any:
    from insightlog.sheets import convert
    from insightlog.sheets.ledger import import_result

    return import_result(ledger, convert(path, mapping), source_name=path.name)


def run_sheets(
    rows: int, workdir: Path, repeats: int = 3, log: Callable[[str], None] = print, with_openpyxl: bool = False
) -> list[Figure]:
    from insightlog.sheets import convert, load_mapping

    mapping = load_mapping(mapping_text())
    data = generate_rows(rows)
    csv_path, xlsx_path = workdir / "checks.csv", workdir / "checks.xlsx"
    log(f"writing {rows:,} rows as CSV and XLSX")
    write_csv(csv_path, data)
    write_xlsx(xlsx_path, data)
    del data
    figures: list[Figure] = []
    readers = {"csv": (csv_path, read_csv, "csv.reader"), "xlsx": (xlsx_path, read_calamine, "python-calamine")}
    wall: dict[str, float] = {}  # rows/s by wall clock
    cpu: dict[str, float] = {}  # rows/s by CPU time

    def record(key: str, seconds: tuple[float, float]) -> None:
        wall[key], cpu[key] = rows / seconds[0], rows / max(seconds[1], 1e-9)
        log(f"{key}: {wall[key]:,.0f} rows/s ({seconds[0]:.2f} s wall, {seconds[1]:.2f} s CPU)")

    for fmt, (path, reader, name) in readers.items():
        count = reader(path)
        if count != rows:
            raise RuntimeError(f"{name} read {count} rows of {rows}")
        record(f"read_{fmt}", median_time(functools.partial(reader, path), repeats))
    if with_openpyxl:
        record("read_openpyxl", median_time(lambda: read_openpyxl(xlsx_path), 1))
        figures.append(
            Figure(
                "xlsx_reader_choice",
                f"XLSX reader, {rows:,} rows: python-calamine vs openpyxl (read-only)",
                f"calamine {wall['read_xlsx']:,.0f} rows/s",
                f"openpyxl {wall['read_openpyxl']:,.0f} rows/s",
                wall["read_xlsx"] / wall["read_openpyxl"],
                cpu["read_xlsx"] / cpu["read_openpyxl"],
                "(info)",
                None,
            )
        )
    # The ledger's own import of the same events, first: what bounds any import into the store.
    ledger = fresh_ledger(workdir, "import_jsonl")
    try:
        lines = list(convert(csv_path, mapping).jsonl())
        w, c, _ = timed(functools.partial(ledger.import_lines, lines, source_name="checks.jsonl"))
        lines.clear()
    finally:
        ledger.close()
    record("import_jsonl", (w, c))
    for fmt, (path, _reader, name) in readers.items():
        w, c, result = timed(functools.partial(convert, path, mapping))
        if not result.ok or len(result.events) != rows:
            raise RuntimeError(f"conversion of {path.name}: {result.messages()[:3]}")
        del result
        record(f"convert_{fmt}", (w, c))
        figures.append(
            Figure(
                f"convert_{fmt}",
                f"{fmt.upper()} conversion (read + map + validate), {rows:,} rows",
                f"{wall[f'convert_{fmt}']:,.0f} rows/s ({w:.2f} s)",
                f"{name} alone: {wall[f'read_{fmt}']:,.0f} rows/s",
                wall[f"convert_{fmt}"] / wall[f"read_{fmt}"],
                cpu[f"convert_{fmt}"] / cpu[f"read_{fmt}"],
                "(info)",
                None,
            )
        )
        ledger = fresh_ledger(workdir, f"import_{fmt}")
        try:
            w, c, receipts = timed(functools.partial(_sheet_import, ledger, path, mapping))
        finally:
            ledger.close()
        if len(receipts.receipts) != rows:
            raise RuntimeError(f"import of {path.name} stored {len(receipts.receipts)} events")
        record(f"import_{fmt}", (w, c))
        target = 0.25 if fmt == "csv" else 0.5
        ratio = wall[f"import_{fmt}"] / wall[f"read_{fmt}"]
        figures.append(
            Figure(
                f"import_{fmt}",
                f"{fmt.upper()} import into a fresh SQLite store, {rows:,} rows",
                f"{wall[f'import_{fmt}']:,.0f} rows/s ({w:.2f} s)",
                f"{name} alone: {wall[f'read_{fmt}']:,.0f} rows/s",
                ratio,
                cpu[f"import_{fmt}"] / cpu[f"read_{fmt}"],
                f">= {target}",
                ratio >= target,
            )
        )
    for fmt in ("csv", "xlsx"):
        figures.append(
            Figure(
                f"sheet_vs_jsonl_{fmt}",
                f"{fmt.upper()} import vs the same events as JSON Lines",
                f"{wall[f'import_{fmt}']:,.0f} rows/s",
                f"Ledger.import_lines: {wall['import_jsonl']:,.0f} rows/s",
                wall[f"import_{fmt}"] / wall["import_jsonl"],
                cpu[f"import_{fmt}"] / cpu["import_jsonl"],
                "(info)",
                None,
            )
        )
    return figures


FIGURE_KEYS = ("convert_csv", "import_csv", "convert_xlsx", "import_xlsx", "sheet_vs_jsonl_csv", "sheet_vs_jsonl_xlsx")


def format_table(figures: list[Figure], markdown: bool = False) -> str:
    header = ["figure", "measured", "baseline (same run, same file)", "ratio", "ratio of CPU time", "target", "met?"]
    rows = [
        [
            f.label,
            f.measured,
            f.baseline,
            f"{f.value:.3f}",
            f"{f.cpu_value:.3f}",
            f.target,
            "-" if f.met is None else ("yes" if f.met else "NO"),
        ]
        for f in figures
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    parser.add_argument(
        "--with-openpyxl", action="store_true", help="also time openpyxl's reader (ADR 16; ~45 s at 100k rows)"
    )
    args = parser.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="insightlog-sheets-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    try:
        figures = run_sheets(
            args.rows, workdir, args.repeats, log=lambda m: print(m, file=sys.stderr), with_openpyxl=args.with_openpyxl
        )
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    import platform

    print(
        f"insightlog sheet benchmarks, {args.rows:,} rows; Python {platform.python_version()}; "
        f"{time.monotonic() - started:.0f} s"
    )
    print(format_table(figures, args.markdown))
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
