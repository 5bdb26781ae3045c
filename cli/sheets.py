"""`insightlog import-sheet` and `insightlog mapping check`: spreadsheets in, with a mapping file.

Registered on the root group by ``register(cli)``; the sheet modules are imported inside commands.
"""

from __future__ import annotations

import sys
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from insightlog.cli import output
from insightlog.cli.context import Context

if TYPE_CHECKING:
    from insightlog.sheets.convert import ConversionResult
    from insightlog.sheets.ledger import StoreCheck
    from insightlog.sheets.mapping import SheetMapping

_PREVIEW_HEADERS = ["sheet", "row", "event", "kind", "theme", "scope", "observed", "recorded", "score", "summary"]


def _load(path: Path) -> SheetMapping:
    from insightlog.sheets.mapping import MappingError, load_mapping

    try:
        return load_mapping(path)
    except MappingError as exc:
        raise click.ClickException(str(exc)) from None


class _Bar:
    """A progress bar on stderr, opened on the first report (the total is known then)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _convert(file: Path, mapping: SheetMapping, max_problems: int, quiet: bool) -> ConversionResult:
    from datetime import datetime

    from insightlog.sheets.convert import convert

    bar = _Bar("reading rows") if sys.stderr.isatty() and not quiet else None
    try:
        result = convert(file, mapping, now=datetime.now(tz=UTC), max_problems=max_problems, progress=bar)
    except OSError as exc:
        raise click.ClickException(f"{file}: cannot be read: {exc.strerror or exc}") from None
    finally:
        if bar is not None:
            bar.close()
    return result


def _summary_line(result: ConversionResult) -> str:
    s = result.summary()
    kinds = ", ".join(f"{n} {k}" for k, n in s["kinds"].items()) or "no events"
    extra = []
    if s["blank_rows"]:
        extra.append(f"{s['blank_rows']} blank")
    if s["skipped_rows"]:
        extra.append(f"{s['skipped_rows']} skipped by the mapping")
    if s["repeated_rows"]:
        extra.append(f"{s['repeated_rows']} repeating another row exactly")
    rows = f"{s['rows']} rows" + (f" ({', '.join(extra)})" if extra else "")
    return f"{result.file_name}: {rows} -> {len(result.events)} events ({kinds})"


def _report_problems(result: ConversionResult) -> int:
    lines = result.messages()
    for text in lines:
        output.note(text)
    return len(lines)


def _preview(result: ConversionResult, limit: int) -> None:
    if limit <= 0:
        return
    rows = result.preview(limit)
    output.table(
        _PREVIEW_HEADERS,
        [
            [
                r["sheet"],
                r["row"],
                r["event_id"],
                r["kind"],
                r["theme"],
                r["scope"],
                r["observed_at"],
                r["recorded_at"],
                r["score"],
                r["summary"],
            ]
            for r in rows
        ],
        max_width=48,
        title=f"first {len(rows)} of {len(result.events)} events, in the order they would be appended:",
    )


def _compare_read_only(obj: Context, result: ConversionResult, backfill: bool) -> tuple[StoreCheck | None, str]:
    """Compare with the store without writing anything (a store that does not exist is not created)."""
    import dataclasses

    from insightlog.bootstrap import build
    from insightlog.errors import one_line

    settings = obj.settings
    if not settings.backend.exists():
        return (
            None,
            f"against the store: {len(result.events)} new (no store at {settings.describe()} yet; nothing was created)",
        )
    house = build(obj.config.with_store(dataclasses.replace(settings, read_only=True)), may_create=False)
    try:
        return house.usecases.compare_sheet(result, backfill=backfill), ""
    except Exception as exc:  # noqa: BLE001 - infrastructure errors at the boundary: the dry run says so
        return None, f"could not compare with the store ({settings.describe()}): {one_line(exc)}"
    finally:
        house.close()


def _check_dict(check: StoreCheck | None, note: str) -> dict[str, Any]:
    if check is None:
        return {"compared": False, "note": note}
    return {
        "compared": True,
        "new": check.new,
        "already_stored": check.unchanged,
        "changed": [p.as_dict() for p in check.changed],
        "out_of_order": [p.as_dict() for p in check.out_of_order],
    }


@click.command("import-sheet")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    "mapping_path",
    required=True,
    metavar="MAP.toml",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The mapping file (docs/sheets.md).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the first events and every problem, and compare with the store; write nothing.",
)
@click.option(
    "--to-jsonl",
    "out",
    metavar="OUT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the events as interchange JSON Lines to OUT instead of importing them.",
)
@click.option(
    "--backfill",
    is_flag=True,
    help="Declare earlier history for services already in the store; flagged wherever shown.",
)
@click.option(
    "--preview",
    "preview_rows",
    default=10,
    show_default=True,
    type=click.IntRange(0, 10_000),
    help="Events shown by --dry-run.",
)
@click.option(
    "--max-problems", default=200, show_default=True, type=click.IntRange(1, 1_000_000), help="Problems listed at most."
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome (problems, preview, receipts) as JSON.")
@click.pass_obj
def import_sheet(
    obj: Context,
    file: Path,
    mapping_path: Path,
    dry_run: bool,
    out: Path | None,
    backfill: bool,
    preview_rows: int,
    max_problems: int,
    as_json: bool,
) -> None:
    """Import a CSV, XLSX or ODS file through a mapping file, all or nothing.

    Every row becomes one interchange event; the events are put in recorded order (ties keep row
    order), validated like a JSON Lines import and appended in one transaction. Every problem is
    listed with its sheet, row, column and value, and nothing is written while any remains.
    Importing the same file again adds nothing; a row edited since is reported, never duplicated.

    Example:

        insightlog import-sheet examples/sheets/audit_tracker.xlsx --dry-run
        --mapping examples/sheets/audit_tracker.toml

        insightlog import-sheet examples/sheets/care_system_export.csv --mapping examples/sheets/care_system_export.toml
    """
    if dry_run and out is not None:
        raise click.UsageError("--dry-run and --to-jsonl are alternatives; give one")
    mapping = _load(mapping_path)
    result = _convert(file, mapping, max_problems, as_json)
    if not as_json:
        for note in result.notes:
            output.note(f"note: {note}")
    if dry_run:
        _dry_run(obj, file, result, backfill, preview_rows, as_json)
        return
    if not result.ok:
        if as_json:
            output.emit_json(result.as_dict(0))
            raise click.exceptions.Exit(1)
        count = _report_problems(result)
        raise click.ClickException(f"{count} problem(s) in {file.name}; nothing was imported")
    if out is not None:
        if backfill and not as_json:
            output.note(
                "note: --backfill is for importing: import the written file with `insightlog import --backfill`"
            )
        _write_jsonl(result, out)
        if as_json:
            output.emit_json({**result.summary(), "written": str(out)})
        else:
            output.line(f"{_summary_line(result)}; written to {out} (nothing imported)")
        return
    _import(obj, file, result, backfill, as_json)


def _dry_run(
    obj: Context, file: Path, result: ConversionResult, backfill: bool, preview_rows: int, as_json: bool
) -> None:
    check, note = _compare_read_only(obj, result, backfill) if result.events else (None, "")
    problems = [*result.messages(), *(str(p) for p in (check.problems if check else []))]
    if as_json:
        output.emit_json({**result.as_dict(preview_rows), "store": _check_dict(check, note)})
        if problems:
            raise click.exceptions.Exit(1)
        return
    output.line(_summary_line(result))
    _preview(result, preview_rows)
    if check is not None:
        output.line(
            f"against the store: {check.new} new, {check.unchanged} already stored (skipped), "
            f"{len(check.changed)} changed, {len(check.out_of_order)} out of recorded order"
        )
    elif note:
        output.line(note)
    for text in problems:
        output.note(text)
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s) in {file.name}; nothing would be imported (dry run)")
    output.line("dry run: nothing was written")


def _write_jsonl(result: ConversionResult, out: Path) -> None:
    """The events as JSON Lines, written without following symbolic links, never over a file."""
    from insightlog.safefile import write_with

    def write(fh: Any) -> None:
        for line in result.jsonl():
            fh.write(line)
            fh.write(b"\n")

    write_with(out, write)


def _import(obj: Context, file: Path, result: ConversionResult, backfill: bool, as_json: bool) -> None:
    from insightlog.sheets.ledger import SheetImportError

    obj.may_create = True  # importing creates the store, as 'import' does
    check = obj.app.compare_sheet(result, backfill=backfill)
    if check.problems:
        if as_json:
            output.emit_json({**result.summary(), "store": _check_dict(check, "")})
            raise click.exceptions.Exit(1)
        for problem in check.problems:
            output.note(str(problem))
        raise click.ClickException(f"{len(check.problems)} problem(s) against the store; nothing was imported")
    bar: Any = None
    progress = None
    if sys.stderr.isatty() and not as_json and len(result.events) > 2000:
        bar = click.progressbar(length=len(result.events), label="validating", file=sys.stderr)
        bar.__enter__()

        def progress(number: int) -> None:
            if number % 500 == 0:
                bar.update(500)

    try:
        outcome = obj.app.import_sheet(result, source_name=file.name, backfill=backfill, progress=progress)
    except SheetImportError as exc:
        raise click.ClickException(f"{exc}; nothing was imported") from None
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)

    receipts = outcome.result
    output.report_write(outcome)
    if as_json:
        output.emit_json(
            {
                **result.summary(),
                "imported": len(receipts.receipts),
                "skipped": len(receipts.skipped),
                "services": receipts.services,
                "warnings": receipts.warnings,
                "receipts": [r.as_dict() for r in receipts.receipts],
            }
        )
        return
    verb = "back-filled" if backfill else "imported"
    output.line(
        f"{verb} {len(receipts.receipts)} events from {file.name} ({result.rows} rows) into "
        f"{len(receipts.services)} service(s); {len(receipts.skipped)} already stored, skipped"
    )


@click.group("mapping")
def mapping_group() -> None:
    """Mapping files that say how a spreadsheet's rows become events (docs/sheets.md).

    Example:

        insightlog mapping check examples/sheets/audit_tracker.toml examples/sheets/audit_tracker.xlsx
    """


@mapping_group.command("check")
@click.argument("mapping_path", metavar="MAP.toml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--max-problems", default=200, show_default=True, type=click.IntRange(1, 1_000_000), help="Problems listed at most."
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def check(mapping_path: Path, file: Path | None, max_problems: int, as_json: bool) -> None:
    """Check a mapping file, and with FILE every row of it, without importing anything.

    Without FILE: the keys, kinds, roles, categories, value maps and computed fields, and that
    every field a kind requires is fed. With FILE: also the sheets and columns it names, and every
    row converted and validated as import-sheet would.

    Example:

        insightlog mapping check examples/sheets/care_system_export.toml examples/sheets/care_system_export.csv
    """
    mapping = _load(mapping_path)
    head = f"{mapping_path.name}: mapping_version 1; {mapping.describe()}"
    if file is None:
        if as_json:
            output.emit_json({"mapping": mapping_path.name, "ok": True, "tables": mapping.describe()})
        else:
            output.line(f"{head}: OK")
        return
    result = _convert(file, mapping, max_problems, as_json)
    if as_json:
        output.emit_json({"mapping": mapping_path.name, **result.as_dict(0)})
        if not result.ok:
            raise click.exceptions.Exit(1)
        return
    output.line(head)
    for note in result.notes:
        output.note(f"note: {note}")
    output.line(_summary_line(result))
    if not result.ok:
        count = _report_problems(result)
        raise click.ClickException(f"{count} problem(s) in {file.name}")
    output.line("OK: every row converts and validates")


def register(group: click.Group) -> None:
    for command in (import_sheet, mapping_group):
        group.add_command(command)
