"""All printing of the CLI: human tables and orjson for --json. Nothing under src/ prints."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click


def emit_json(obj: Any) -> None:
    import orjson

    sys.stdout.buffer.write(orjson.dumps(obj) + b"\n")
    sys.stdout.flush()


def emit_jsonl(rows: Sequence[Any]) -> None:
    import orjson

    out = sys.stdout.buffer
    for row in rows:
        out.write(orjson.dumps(row) + b"\n")
    out.flush()


def line(text: str = "") -> None:
    click.echo(text)


def note(text: str) -> None:
    """A message for the user on stderr (keeps stdout clean for data)."""
    click.echo(text, err=True)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    return str(value)


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 60, title: str | None = None
) -> None:
    """A plain-text table; long cells are cut with an ellipsis."""
    cells = [[_cell(v) for v in row] for row in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    if title:
        click.echo(title)
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    if not rows:
        click.echo("(none)")


def report_write(outcome: Any) -> None:
    """The notes every write prints after it: warnings, then the checkpoint taken."""
    for warning in outcome.warnings:
        note(f"warning: {warning}")
    cp = outcome.checkpoint
    if cp.taken:
        note(f"checkpoint: {cp.size} events, root {cp.root_hash[:16]}…, signed and appended to {cp.outside_file}")
