"""Run every insightlog benchmark on SQLite and PostgreSQL and print one table.

    .venv/bin/python bench/run.py [--size tiny|small|full] [--backends sqlite,postgres] [--json FILE]

Every figure is compared with a baseline measured in the same run on the same data (a ratio), so it
holds on a noisy machine; absolute times are printed beside it, for information. ``full`` uses the
sizes of the issue (100k-event imports, a 200k-event store); ``small`` runs in a few minutes;
``tiny`` in seconds (CI runs it, with no timed assertion). See docs/performance.md.

PostgreSQL: throwaway databases on ``INSIGHTLOG_BENCH_PG_URL`` (a server URL without a database;
default ``INSIGHTLOG_TEST_PG_URL`` or ``postgresql://postgres@localhost:5432``), dropped afterwards.
"""

from __future__ import annotations

import argparse
import functools
import gc
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.generate import generate, generate_services  # noqa: E402

PG_SERVER = (
    os.environ.get("INSIGHTLOG_BENCH_PG_URL")
    or os.environ.get("INSIGHTLOG_TEST_PG_URL")
    or "postgresql://postgres@localhost:5432"
)
AS_OF = "2026-06-30"  # the generated histories end that day
SEED = 20260630
RECORD_PAYLOAD = '{"evidence_score": 2, "evidence_category": "observation", "source_type": "spot_check", "summary": "benchmark check: 2 of 5 charts unsigned"}'
IMPORT_CHUNK = 50_000  # lines per import when building the larger stores (not timed)
# The event store writes a save as one INSERT sent in psycopg's pipeline mode, which hangs for
# ever once the statement passes several MB (about 10,000 events). When the product does not
# select its chunking recorder (insightlog.storage.postgres), imports on PostgreSQL are split into
# imports of this many events (see docs/performance.md).
PG_IMPORT_CHUNK = 5_000


@functools.lru_cache(maxsize=1)
def pg_large_transactions_ok() -> bool:
    """Whether the product's PostgreSQL settings select a recorder that splits large saves."""
    from insightlog.storage.pgconnect import postgres_env

    try:
        from insightlog.storage.settings import StoreSettings

        env = StoreSettings(database_url=f"{PG_SERVER}/insightlog_bench_probe_absent").library_env()
    except Exception:  # noqa: BLE001
        env = postgres_env(f"{PG_SERVER}/x")
    return "pgrecorder" in env.get("APPLICATION_RECORDER_TOPIC", "")


@dataclass(frozen=True)
class Size:
    name: str
    import_services: int  # store A (import, catch-up, view, verify): services x events
    import_events: int
    big: int  # store B (append, analyse, export, record): the big, mid and small services
    mid: int
    small: int
    store_b: int  # store B's total number of events (filler services make up the rest)
    export_small: tuple[int, int]  # the small export store: services x events
    records: int  # live records per series (median of)
    repeats: int  # in-process timings: median of


SIZES = {
    "tiny": Size("tiny", 4, 30, 400, 100, 10, 1_000, (4, 25), 3, 1),
    "small": Size("small", 20, 500, 20_000, 2_000, 10, 40_000, (4, 1_000), 10, 3),
    "full": Size("full", 100, 1_000, 100_000, 10_000, 10, 200_000, (20, 1_000), 20, 3),
}

# Every figure the suite produces (key -> label); the smoke test checks each is there.
FIGURE_KEYS = (
    "import",
    "catch_up",
    "view",
    "view_cli",
    "verify",
    "analyse_mid",
    "analyse_big",
    "analyse_cli",
    "export_small",
    "export_big",
    "export_growth",
    "record",
    "record_big_store",
    "record_growth",
    "append",
)


@dataclass
class Figure:
    key: str
    label: str
    backend: str
    measured: str  # what was measured, with its absolute time
    baseline: str  # the baseline, with its absolute time ("-" when none)
    value: float  # the number compared with the target (a ratio, seconds or MB)
    shown: str  # the value as shown in the ratio column
    target: str  # "" for figures given for information only
    met: bool | None  # None for information only
    raw: dict[str, float] = field(default_factory=dict)


def _fmt_rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f} ev/s ({seconds:.2f} s)"


def _check(value: float, op: str, limit: float) -> bool:
    return value >= limit if op == ">=" else value <= limit


def _median(values: list[float]) -> float:
    return statistics.median(values)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ stores


class Stores:
    """Fresh stores of one backend, and the raw connections the baselines use."""

    def __init__(self, backend: str, workdir: Path, new_store: Callable[[], Any] | None = None) -> None:
        self.backend = backend
        self.workdir = workdir
        self._external = new_store
        self.count = 0
        self.databases: list[str] = []

    def new(self) -> Any:
        from insightlog.storage.settings import StoreSettings

        if self._external is not None:
            return self._external()
        self.count += 1
        if self.backend == "sqlite":
            return StoreSettings(sqlite_path=str(self.workdir / f"bench{self.count}.sqlite"))
        name = f"insightlog_bench_{uuid.uuid4().hex[:12]}"
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return StoreSettings(database_url=f"{PG_SERVER}/{name}")

    def cleanup(self) -> None:
        for name in self.databases:
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.databases.clear()


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)


def cli_args(settings: Any) -> list[str]:
    if settings.database_url:
        return ["--database-url", settings.database_url]
    return ["--db", str(settings.sqlite_path)]


def console_script() -> str:
    here = Path(sys.executable).parent / "insightlog"
    if here.exists():
        return str(here)
    found = shutil.which("insightlog")
    if not found:
        raise SystemExit("the insightlog console script is not installed (pip install -e .)")
    return found


def subprocess_env() -> dict[str, str]:
    """The environment less every INSIGHTLOG_* setting (no signing key, no cipher, no read-only)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("INSIGHTLOG_")}


def open_store(settings: Any) -> Any:
    from insightlog.application.ledger import open_ledger

    return open_ledger(settings)


def import_all(settings: Any, lines: Iterable[str], name: str) -> int:
    """Import lines in chunks (each chunk one transaction); returns the number imported."""
    ledger = open_store(settings)
    total = 0
    try:
        iterator = iter(lines)
        part = 0
        size = PG_IMPORT_CHUNK if settings.database_url and not pg_large_transactions_ok() else IMPORT_CHUNK
        while True:
            chunk = [line.encode("utf-8") for line in itertools.islice(iterator, size)]
            if not chunk:
                break
            part += 1
            total += len(ledger.import_lines(chunk, source_name=f"{name}-{part}.jsonl").receipts)
    finally:
        ledger.close()
    return total


# ------------------------------------------------------------------ baselines


def stored_rows(settings: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row of the store's event and snapshot tables, in notification order."""
    if settings.database_url:
        import psycopg

        with psycopg.connect(settings.database_url) as conn:
            events = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM insightlog_events ORDER BY notification_id"
            ).fetchall()
            snapshots = conn.execute(
                "SELECT originator_id, originator_version, topic, state FROM insightlog_snapshots"
            ).fetchall()
        return events, snapshots
    conn = sqlite3.connect(settings.sqlite_path)
    try:
        events = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        ).fetchall()
        snapshots = conn.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_snapshots"
        ).fetchall()
    finally:
        conn.close()
    return events, snapshots


def raw_insert_sqlite(path: Path, events: list[tuple[Any, ...]], snapshots: list[tuple[Any, ...]]) -> float:
    """raw sqlite3 executemany of the rows into tables keyed on (stream, version), one transaction,
    WAL and synchronous FULL as the library uses them. Returns the seconds of the transaction."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(
            "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(
            "CREATE TABLE stored_snapshots (originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version)) WITHOUT ROWID"
        )
        gc.collect()
        started = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO stored_events VALUES (?, ?, ?, ?)", events)
        conn.executemany("INSERT INTO stored_snapshots VALUES (?, ?, ?, ?)", snapshots)
        conn.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        conn.close()


def raw_insert_postgres(url: str, events: list[tuple[Any, ...]], snapshots: list[tuple[Any, ...]]) -> float:
    """raw psycopg executemany of the rows into tables keyed on (stream, version), one transaction."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_events, bench_raw_snapshots")
        conn.execute(
            "CREATE TABLE bench_raw_events (originator_id uuid, originator_version bigint, topic text, state bytea, PRIMARY KEY (originator_id, originator_version))"
        )
        conn.execute(
            "CREATE TABLE bench_raw_snapshots (originator_id uuid, originator_version bigint, topic text, state bytea, PRIMARY KEY (originator_id, originator_version))"
        )
    with psycopg.connect(url) as conn:
        gc.collect()
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany("INSERT INTO bench_raw_events VALUES (%s, %s, %s, %s)", events)
            cur.executemany("INSERT INTO bench_raw_snapshots VALUES (%s, %s, %s, %s)", snapshots)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_raw_events, bench_raw_snapshots")
        conn.commit()
    return elapsed


def read_notifications_raw(ledger: Any, topics: list[str], page: int) -> int:
    """The catch-up baseline: the same notifications, read page by page, never decoded."""
    start = 1
    count = 0
    while True:
        rows = ledger.recorder.select_notifications(start, page, topics=topics)
        count += len(rows)
        if len(rows) < page:
            return count
        start = rows[-1].id + 1


def hash_stored_entries(ledger: Any) -> int:
    """The verify baseline: read the stored entries and sha256 each one's canonical encoding."""
    from insightlog.application.ledger import ENTRY_TOPIC, PAGE, entry_from_state
    from insightlog.proof.canonical import entry_leaf_bytes

    decode = ledger.mapper.decode_state
    sha256 = hashlib.sha256
    start = 1
    count = 0
    while True:
        rows = ledger.recorder.select_notifications(start, PAGE, topics=[ENTRY_TOPIC])
        for n in rows:
            sha256(b"\x00" + entry_leaf_bytes(entry_from_state(decode(n)))).digest()
        count += len(rows)
        if len(rows) < PAGE:
            return count
        start = rows[-1].id + 1


# ------------------------------------------------------------------ subprocess timing


def timed_run(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=subprocess_env(), stdin=subprocess.DEVNULL, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr.decode(errors='replace')[-800:]}"
        )
    return elapsed


PEAK_RSS_WRAPPER = (
    "import os, resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def peak_rss_run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run ``cmd``; return (seconds, peak resident set size in MB of that process).

    The command is started by a small wrapper interpreter that reads its children's peak RSS:
    a child forked straight from this (large) process would count this process's pages as its
    own high-water mark until it execs.
    """
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_WRAPPER, *cmd],
        cwd=cwd,
        env=subprocess_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:4])}... failed ({done.returncode}): {done.stderr.decode(errors='replace')[-800:]}"
        )
    return elapsed, int(done.stdout.split()[-1]) / 1024.0  # ru_maxrss is in KiB on Linux


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


# ------------------------------------------------------------------ the suite


class Suite:
    def __init__(
        self, backend: str, size: Size, workdir: Path, new_store: Callable[[], Any] | None = None, seed: int = SEED
    ) -> None:
        self.backend = backend
        self.size = size
        self.workdir = workdir
        self.stores = Stores(backend, workdir, new_store)
        self.seed = seed
        self.figures: list[Figure] = []
        self.script = console_script()
        self.pg = backend == "postgres"

    def add(
        self,
        key: str,
        label: str,
        measured: str,
        baseline: str,
        value: float,
        shown: str,
        target: str = "",
        op: str = "",
        limit: float = 0.0,
        **raw: float,
    ) -> None:
        met = _check(value, op, limit) if op else None
        fig = Figure(key, label, self.backend, measured, baseline, value, shown, target, met, dict(raw))
        self.figures.append(fig)
        log(
            f"[{self.backend}] {label}: {measured} | baseline {baseline} | {shown} {target} {'' if met is None else ('met' if met else 'NOT MET')}"
        )

    def cli(self, settings: Any, *args: str) -> list[str]:
        return [self.script, *cli_args(settings), *args]

    # -- store A: import, catch-up, view, verify -----------------------------------------------

    def bench_store_a(self) -> None:
        s = self.size
        n = s.import_services * s.import_events
        lines = [line.encode("utf-8") for line in generate(s.import_services, s.import_events, self.seed)]
        settings = self.stores.new()
        ledger = open_store(settings)
        log(f"[{self.backend}] bulk import of {n:,} events ({s.import_services} services x {s.import_events})...")
        batch = PG_IMPORT_CHUNK if self.pg and not pg_large_transactions_ok() else n

        def do_import() -> int:
            imported = 0
            for start in range(0, n, batch):
                imported += len(
                    ledger.import_lines(
                        lines[start : start + batch], source_name=f"bench-import-{start}.jsonl"
                    ).receipts
                )
            return imported

        seconds, imported = timed(do_import)
        ledger.close()
        if imported != n:
            raise RuntimeError(f"imported {imported} of {n}")
        lines.clear()  # free them before the baseline (do_import still refers to the list)
        events, snapshots = stored_rows(settings)
        raw_times = []
        for _ in range(max(1, s.repeats)):
            if self.pg:
                raw_times.append(raw_insert_postgres(settings.database_url, events, snapshots))
            else:
                raw_times.append(raw_insert_sqlite(self.workdir / "raw-baseline.sqlite", events, snapshots))
        raw = _median(raw_times)
        rows = len(events) + len(snapshots)
        del events, snapshots
        ratio = (n / seconds) / (n / raw)
        parts = -(-n // batch)
        self.add(
            "import",
            f"bulk import, {n:,} events" + (f" ({parts} imports of {batch:,})" if parts > 1 else ""),
            _fmt_rate(n, seconds),
            f"raw executemany of the same {rows:,} rows: {_fmt_rate(n, raw)}",
            ratio,
            f"{ratio:.3f}",
            ">= 0.25" if self.pg else ">= 0.15",
            ">=",
            0.25 if self.pg else 0.15,
            seconds=seconds,
            baseline_seconds=raw,
        )
        self.bench_catch_up(settings, n)
        self.bench_view(settings)
        self.bench_verify(settings, n)

    def bench_catch_up(self, settings: Any, n: int) -> None:
        from insightlog.projections.projection import PAGE
        from insightlog.projections.readmodels import ReadModels

        ledger = open_store(settings)
        try:
            models = ReadModels(ledger, settings)
            topics = list(models.projection.topics)
            log(f"[{self.backend}] projection catch-up over {n:,} events...")
            seconds, report = timed(models.catch_up)
            models.close()
            if report.entries != n:
                raise RuntimeError(f"catch-up applied {report.entries} of {n} entries")
            base_times = []
            for _ in range(max(1, self.size.repeats)):
                t, count = timed(lambda: read_notifications_raw(ledger, topics, PAGE))
                base_times.append(t)
            base = _median(base_times)
        finally:
            ledger.close()
        ratio = base / seconds
        self.add(
            "catch_up",
            f"projection catch-up, {n:,} events",
            _fmt_rate(n, seconds),
            f"select_notifications, not decoded: {_fmt_rate(count, base)}",
            ratio,
            f"{ratio:.3f}",
            ">= 0.12",
            ">=",
            0.12,
            seconds=seconds,
            baseline_seconds=base,
        )

    def bench_view(self, settings: Any) -> None:
        from insightlog.projections.readmodels import ReadModels

        s = self.size
        ledger = open_store(settings)
        times = []
        try:
            for _ in range(max(1, s.repeats)):

                def once() -> int:
                    with ReadModels(ledger, settings) as models:
                        return len(models.governance().rows)

                t, rows = timed(once)
                times.append(t)
        finally:
            ledger.close()
        seconds = _median(times)
        label = f"view, {s.import_services} services x {s.import_events:,} events"
        self.add(
            "view",
            label + ", from read models",
            f"{seconds:.3f} s ({rows} rows)",
            "-",
            seconds,
            f"{seconds:.3f} s",
            "<= 1 s",
            "<=",
            1.0,
            seconds=seconds,
        )
        cli_times = [timed_run(self.cli(settings, "view", "--json"), self.workdir) for _ in range(max(1, s.repeats))]
        cli_seconds = _median(cli_times)
        self.add(
            "view_cli",
            label + ", `insightlog view --json` whole process",
            f"{cli_seconds:.3f} s",
            "-",
            cli_seconds,
            f"{cli_seconds:.3f} s",
            seconds=cli_seconds,
        )

    def bench_verify(self, settings: Any, n: int) -> None:
        from insightlog.application.proofs import verify

        ledger = open_store(settings)
        try:
            log(f"[{self.backend}] verify over {n:,} events...")
            base_times, verify_times = [], []
            for _ in range(max(1, self.size.repeats)):
                t, _count = timed(lambda: hash_stored_entries(ledger))
                base_times.append(t)
                t, report = timed(lambda: verify(ledger))
                verify_times.append(t)
                if report.findings or report.events != n:
                    raise RuntimeError(f"verify found problems in a fresh store: {report.findings[:3]}")
        finally:
            ledger.close()
        seconds, base = _median(verify_times), _median(base_times)
        ratio = base / seconds
        self.add(
            "verify",
            f"verify, {n:,} events",
            _fmt_rate(n, seconds),
            f"read + sha256 of canonical encoding: {_fmt_rate(n, base)}",
            ratio,
            f"{ratio:.3f}",
            ">= 0.5",
            ">=",
            0.5,
            seconds=seconds,
            baseline_seconds=base,
        )

    # -- store B: analyse, export, append, record ----------------------------------------------

    def store_b_spec(self) -> list[tuple[str, int]]:
        s = self.size
        spec = [("Bench Big", s.big), ("Bench Mid", s.mid), ("Bench Small", s.small)]
        rest = s.store_b - s.big - s.mid - s.small
        i = 0
        while rest > 0:
            take = min(1_000, rest)
            spec.append((f"Bench Filler {i:04d}", take))
            rest -= take
            i += 1
        return spec

    def bench_analyse(self, settings: Any) -> None:
        from insightlog.analysis.engine import analyse
        from insightlog.interchange.timeutil import parse_as_of

        s = self.size
        as_of = parse_as_of(AS_OF)
        ledger = open_store(settings)

        def once(service: str) -> Callable[[], Any]:
            def run() -> Any:
                entries = ledger.read_service(service)
                return analyse(entries, service, as_of)

            return run

        try:
            log(f"[{self.backend}] analyse of {s.mid:,} and {s.big:,} events...")
            mid = _median([timed(once("Bench Mid"))[0] for _ in range(max(1, s.repeats))])
            big = _median([timed(once("Bench Big"))[0] for _ in range(max(1, s.repeats))])
        finally:
            ledger.close()
        self.add(
            "analyse_mid",
            f"analyse, service of {s.mid:,} events (read + compute)",
            f"{mid:.3f} s",
            "-",
            mid,
            f"{mid:.3f} s",
            "<= 1 s",
            "<=",
            1.0,
            seconds=mid,
        )
        ratio = big / mid
        self.add(
            "analyse_big",
            f"analyse, service of {s.big:,} events vs {s.mid:,}",
            f"{big:.3f} s",
            f"{mid:.3f} s ({s.mid:,} events)",
            ratio,
            f"{ratio:.2f}x",
            f"<= {s.big // s.mid * 1.2:g}x",
            "<=",
            s.big / s.mid * 1.2,
            seconds=big,
            baseline_seconds=mid,
        )
        cli = _median(
            [
                timed_run(
                    self.cli(settings, "analyse", "--service", "Bench Mid", "--as-of", AS_OF, "--json"), self.workdir
                )
                for _ in range(max(1, s.repeats))
            ]
        )
        self.add(
            "analyse_cli",
            f"analyse, {s.mid:,} events, `insightlog analyse --json` whole process",
            f"{cli:.3f} s",
            "-",
            cli,
            f"{cli:.3f} s",
            seconds=cli,
        )

    def bench_export(self, big_settings: Any, big_events: int) -> None:
        services, per = self.size.export_small
        small_events = services * per
        small_settings = self.stores.new()
        import_all(small_settings, generate(services, per, self.seed + 1), "bench-export-small")
        log(f"[{self.backend}] export of {small_events:,} and {big_events:,} events (peak RSS)...")
        out = self.workdir / "export.jsonl"
        t_small, mb_small = peak_rss_run(self.cli(small_settings, "export", "--force", "-o", str(out)), self.workdir)
        t_big, mb_big = peak_rss_run(self.cli(big_settings, "export", "--force", "-o", str(out)), self.workdir)
        lines = sum(1 for _ in out.open("rb"))
        if lines < big_events:
            raise RuntimeError(f"export wrote {lines} lines of {big_events}")
        out.unlink()
        self.add(
            "export_small",
            f"export, {small_events:,} events, peak RSS",
            f"{mb_small:.1f} MB ({t_small:.2f} s)",
            "-",
            mb_small,
            f"{mb_small:.1f} MB",
            seconds=t_small,
            mb=mb_small,
        )
        self.add(
            "export_big",
            f"export, {big_events:,} events, peak RSS",
            f"{mb_big:.1f} MB ({t_big:.2f} s)",
            "-",
            mb_big,
            f"{mb_big:.1f} MB",
            "<= 150 MB",
            "<=",
            150.0,
            seconds=t_big,
            mb=mb_big,
        )
        growth = mb_big / mb_small
        self.add(
            "export_growth",
            f"export peak RSS, {big_events:,} vs {small_events:,} events",
            f"{mb_big:.1f} MB",
            f"{mb_small:.1f} MB ({small_events:,} events)",
            growth,
            f"{growth:.2f}x",
            "<= 1.1x (constant)",
            "<=",
            1.1,
        )

    def bench_records(self, small_store: Any, store_b: Any, store_b_events: int) -> None:
        s = self.size
        click = [sys.executable, "-c", "import click"]

        def record(settings: Any, service: str) -> list[str]:
            return self.cli(
                settings, "record", "SpotCheckRecorded", "--service", service, "--theme", "medicines.mar_charts", "--team", "north",
                "--actor-role", "deputy_manager", "--actor-id", "DM-9", "--payload", RECORD_PAYLOAD,
            )  # fmt: skip

        series: dict[str, list[float]] = {"click": [], "small": [], "b_small": [], "b_big": []}
        commands = {
            "click": click,
            "small": record(small_store, "Bench Only"),
            "b_small": record(store_b, "Bench Small"),
            "b_big": record(store_b, "Bench Big"),
        }
        log(f"[{self.backend}] live record, {s.records} x 4 processes, interleaved...")
        timed_run(commands["small"], self.workdir)  # warm the file cache once
        for _ in range(s.records):
            for name, cmd in commands.items():
                series[name].append(timed_run(cmd, self.workdir))
        med = {k: _median(v) for k, v in series.items()}
        limit = 10.0 if self.pg else 6.0
        target = f"<= {limit:g}x"
        r_small = med["small"] / med["click"]
        r_big_store = med["b_small"] / med["click"]
        self.add(
            "record",
            f"live `insightlog record`, store of {s.small} events, median of {s.records}",
            f"{med['small']:.3f} s",
            f"python -c 'import click': {med['click']:.3f} s",
            r_small,
            f"{r_small:.2f}x",
            target,
            "<=",
            limit,
            seconds=med["small"],
            baseline_seconds=med["click"],
        )
        self.add(
            "record_big_store",
            f"live `insightlog record`, store of {store_b_events:,} events, median of {s.records}",
            f"{med['b_small']:.3f} s",
            f"python -c 'import click': {med['click']:.3f} s",
            r_big_store,
            f"{r_big_store:.2f}x",
            target,
            "<=",
            limit,
            seconds=med["b_small"],
            baseline_seconds=med["click"],
        )
        growth = med["b_small"] / med["small"]
        self.add(
            "record_growth",
            f"record into a {store_b_events:,}-event store vs a {s.small}-event store",
            f"{med['b_small']:.3f} s",
            f"{med['small']:.3f} s",
            growth,
            f"{growth:.2f}x",
            "<= 1.5x (not growing)",
            "<=",
            1.5,
        )
        ratio = med["b_big"] / med["b_small"]
        self.add(
            "append",
            f"append to a service of {s.big:,} events vs one of {s.small}",
            f"{med['b_big']:.3f} s",
            f"{med['b_small']:.3f} s (same command, small service)",
            ratio,
            f"{ratio:.2f}x",
            "<= 1.5x",
            "<=",
            1.5,
            seconds=med["b_big"],
            baseline_seconds=med["b_small"],
        )

    def run(self) -> list[Figure]:
        try:
            self.bench_store_a()
            s = self.size
            small_store = self.stores.new()
            import_all(small_store, generate_services([("Bench Only", s.small)], self.seed + 2), "bench-small")
            store_b = self.stores.new()
            log(
                f"[{self.backend}] building a store of {s.store_b:,} events (big service {s.big:,}, mid {s.mid:,}, small {s.small})..."
            )
            started = time.perf_counter()
            count = import_all(store_b, generate_services(self.store_b_spec(), self.seed + 3), "bench-store-b")
            log(f"[{self.backend}] ... {count:,} events in {time.perf_counter() - started:.1f} s")
            self.bench_analyse(store_b)
            self.bench_export(store_b, count)
            self.bench_records(small_store, store_b, count)
        finally:
            self.stores.cleanup()
        return self.figures


def run_suite(
    size: str,
    backends: Iterable[str],
    workdir: Path | None = None,
    new_store: Callable[[], Any] | None = None,
    seed: int = SEED,
) -> list[Figure]:
    """Run every benchmark on each backend; returns the figures (also the table's rows)."""
    figures: list[Figure] = []
    for backend in backends:
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix=f"insightlog-bench-{backend}-") as tmp:
                figures += Suite(backend, SIZES[size], Path(tmp), new_store, seed).run()
        else:
            folder = workdir / backend
            folder.mkdir(parents=True, exist_ok=True)
            figures += Suite(backend, SIZES[size], folder, new_store, seed).run()
    return figures


# ------------------------------------------------------------------ the table


COLUMNS = ("figure", "backend", "measured", "baseline (same run, same data)", "ratio", "target", "met?")


def table_rows(figures: Iterable[Figure]) -> Iterator[list[str]]:
    for f in figures:
        met = "-" if f.met is None else ("yes" if f.met else "NO")
        yield [f.label, f.backend, f.measured, f.baseline, f.shown, f.target or "(info)", met]


def format_table(figures: list[Figure], markdown: bool = False) -> str:
    rows = list(table_rows(figures))
    if markdown:
        out = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS)]
    line = "  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the insightlog benchmarks and print the table.")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--table-from", type=Path, metavar="FILE", help="print the table of a run saved with --json, run nothing"
    )
    args = parser.parse_args(argv)
    if args.table_from:
        saved = json.loads(args.table_from.read_text())
        figures = [Figure(**f) for f in saved["figures"]]
        print(
            f"insightlog benchmarks, size {saved['size']}, seed {saved['seed']}; {saved['machine']}; {saved['seconds']:.0f} s"
        )
        print(format_table(figures, markdown=args.markdown))
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("sqlite", "postgres"):
            parser.error(f"unknown backend {b!r}")
    started = time.perf_counter()
    figures = run_suite(args.size, backends, seed=args.seed)
    elapsed = time.perf_counter() - started
    print(f"insightlog benchmarks, size {args.size}, seed {args.seed}; {machine()}; {elapsed:.0f} s")
    print(format_table(figures, markdown=args.markdown))
    targets = [f for f in figures if f.met is not None]
    print(f"{sum(1 for f in targets if f.met)} of {len(targets)} targets met")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "size": args.size,
                    "seed": args.seed,
                    "machine": machine(),
                    "seconds": elapsed,
                    "figures": [asdict(f) for f in figures],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
