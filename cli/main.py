"""The insightlog command line. Heavy modules are imported inside commands, so --help is fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from insightlog.cli import output
from insightlog.cli.kinds import RecordCommand

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.timeutil import AsOf


class Context:
    """Built once by the root group; opens the ledger on first use."""

    def __init__(
        self,
        db: str | None,
        database_url: str | None,
        read_only: bool | None,
        key: str | None = None,
        checkpoint_file: str | None = None,
    ) -> None:
        self.db = db
        self.database_url = database_url
        self.read_only = read_only
        self.key = key
        self.checkpoint_file = checkpoint_file
        self._ledger: Ledger | None = None

    @property
    def settings(self) -> Any:
        from insightlog.storage.settings import resolve

        return run(resolve, self.db, self.database_url, self.read_only)

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            from insightlog.application.ledger import open_ledger

            try:
                self._ledger = open_ledger(self.settings)
            except Exception as exc:  # infrastructure errors at the boundary
                raise click.ClickException(f"cannot open the ledger ({self.settings.describe()}): {exc}") from None
        return self._ledger

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()


def _user_errors() -> tuple[type[BaseException], ...]:
    from insightlog.errors import LedgerError
    from insightlog.interchange.validation import LineError
    from insightlog.storage.settings import SettingsError
    from insightlog.interchange.timeutil import TimeFormatError

    return (LedgerError, LineError, SettingsError, TimeFormatError)


def run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call into the application, turning domain errors into one-line messages."""
    try:
        return fn(*args, **kwargs)
    except _user_errors() as exc:
        raise click.ClickException(str(exc)) from None


def parse_as_of(value: str | None) -> AsOf:
    from insightlog.interchange.timeutil import now_as_of
    from insightlog.interchange.timeutil import parse_as_of as _parse

    if value is None:
        from datetime import datetime, timezone

        return now_as_of(datetime.now(tz=timezone.utc))
    return run(_parse, value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="INSIGHTLOG_DB", metavar="PATH", help="SQLite ledger file [env INSIGHTLOG_DB; default ./insightlog.sqlite].")
@click.option(
    "--database-url",
    envvar="INSIGHTLOG_DATABASE_URL",
    metavar="URL",
    help="postgresql:// URL; wins over --db [env INSIGHTLOG_DATABASE_URL].",
)
@click.option(
    "--read-only/--read-write",
    "read_only",
    default=None,
    help="Open the store so nothing can be written [env INSIGHTLOG_READ_ONLY=1].",
)
@click.option("--key", envvar="INSIGHTLOG_KEY", metavar="PATH", help="Private signing key [env INSIGHTLOG_KEY; default insightlog-keys/provider.key].")
@click.option(
    "--checkpoint-file",
    envvar="INSIGHTLOG_CHECKPOINT_FILE",
    metavar="PATH",
    help="Checkpoint file kept outside the database [env INSIGHTLOG_CHECKPOINT_FILE; default insightlog-checkpoints.jsonl].",
)
@click.version_option(package_name="insightlog")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    database_url: str | None,
    read_only: bool | None,
    key: str | None,
    checkpoint_file: str | None,
) -> None:
    """insightlog: the immutable, bitemporal audit trail of what a care service's leaders knew, and when.

    Example:

        insightlog import examples/harbour_home_care.jsonl

        insightlog history --service "Harbour Home Care"
    """
    ctx.obj = Context(db, database_url, read_only, key, checkpoint_file)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.pass_obj
def init(obj: Context) -> None:
    """Create the ledger's schema (it is also created on first use).

    Example:

        insightlog --db provider.sqlite init
    """
    from insightlog.projections.readmodels import ReadModels

    size = obj.ledger.head_size()
    with ReadModels(obj.ledger, obj.settings) as models:
        run(models.ensure)
    output.line(f"ledger and read models ready at {obj.settings.describe()} ({size} events)")


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backfill", is_flag=True, help="Declare earlier history for services already in the store; flagged wherever shown.")
@click.option("--json", "as_json", is_flag=True, help="Print receipts (position per event) as JSON.")
@click.pass_obj
def import_(obj: Context, file: Path, backfill: bool, as_json: bool) -> None:
    """Import a JSON Lines history file, all or nothing.

    Lines already stored with the same content are skipped; a bad line stops the import with an
    error naming the line, the event id and the field, and nothing is written.

    Example:

        insightlog import examples/harbour_home_care.jsonl
    """
    from insightlog.application.ledger import read_file_lines

    ledger = obj.ledger
    size = file.stat().st_size
    if sys.stderr.isatty() and size > 1_000_000 and not as_json:
        with click.progressbar(length=size, label="validating", file=sys.stderr) as bar:

            def lines() -> Any:
                for raw in read_file_lines(file):
                    bar.update(len(raw))
                    yield raw

            result = run(ledger.import_lines, lines(), source_name=file.name, backfill=backfill)
    else:
        result = run(ledger.import_lines, read_file_lines(file), source_name=file.name, backfill=backfill)
    for warning in result.warnings:
        output.note(f"warning: {warning}")
    if result.receipts:
        auto_checkpoint(obj)
    if as_json:
        output.emit_json(
            {
                "imported": len(result.receipts),
                "skipped": len(result.skipped),
                "services": result.services,
                "warnings": result.warnings,
                "receipts": [r.as_dict() for r in result.receipts],
            }
        )
        return
    kind = "back-filled" if backfill else "imported"
    output.line(
        f"{kind} {len(result.receipts)} events from {file.name} into {len(result.services)} service(s); "
        f"{len(result.skipped)} already stored, skipped"
    )


@cli.command()
@click.option("--service", metavar="NAME", help="Only this service.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout).")
@click.option("--with-provenance", is_flag=True, help="Add the ledger object (position, appended_at, source).")
@click.pass_obj
def export(obj: Context, service: str | None, out: Path | None, with_provenance: bool) -> None:
    """Export the history in the interchange format (JSON Lines), in log order.

    Example:

        insightlog export --service "Harbour Home Care" -o harbour.jsonl
    """
    from insightlog.application.ledger import write_export

    ledger = obj.ledger
    if out is None:
        run(write_export, ledger, sys.stdout.buffer, service=service, with_provenance=with_provenance)
        sys.stdout.flush()
        return
    tmp = out.with_name(out.name + ".partial")
    with tmp.open("wb") as fh:
        count = run(write_export, ledger, fh, service=service, with_provenance=with_provenance)
    tmp.replace(out)
    output.note(f"exported {count} events to {out}")


@cli.command(cls=RecordCommand)
@click.argument("kind")
@click.option("--service", metavar="NAME", help="The service (required).")
@click.option("--theme", metavar="THEME", help="The theme (required for evidence and AuditCompleted).")
@click.option("--location")
@click.option("--team")
@click.option("--shift")
@click.option("--actor-role", metavar="ROLE", help="Who made the entry: one of the roles below (required).")
@click.option("--actor-id", metavar="ID", help="A staff id, never a name (required).")
@click.option("--record", "record_label", metavar="LABEL", help="The provider's own name for the record.")
@click.option("--observed-at", metavar="TIME", help="When it happened (RFC 3339 or a date); default now; never later than now.")
@click.option("--event-id", metavar="ID", help="Your own id for the event (default: generated).")
@click.option("--payload", metavar="JSON", help="The payload (required): JSON text, @file.json, or - for stdin.")
@click.option("--prompt/--no-prompt", default=None, help="Ask for missing required fields [default: on a terminal].")
@click.option("--json", "as_json", is_flag=True, help="Print the stored event as JSON.")
@click.pass_obj
def record(
    obj: Context,
    kind: str,
    service: str | None,
    theme: str | None,
    location: str | None,
    team: str | None,
    shift: str | None,
    actor_role: str | None,
    actor_id: str | None,
    record_label: str | None,
    observed_at: str | None,
    event_id: str | None,
    payload: str | None,
    prompt: bool | None,
    as_json: bool,
) -> None:
    """Record one event as it happens; the ledger stamps recorded_at with its own clock.

    Every missing or invalid field is reported at once; on a terminal, missing required fields
    can be entered at a prompt.

    \b
    Example:
        insightlog record SpotCheckRecorded --service "Harbour Home Care" --theme medicines.mar_charts \\
          --team north --actor-role deputy_manager --actor-id DM-1 \\
          --payload '{"evidence_score": 2, "evidence_category": "observation", "source_type": "spot_check", "summary": "2 of 5 charts unsigned"}'
    """
    from insightlog.cli.kinds import record_event

    fields = {
        "event_id": event_id,
        "service": service,
        "theme": theme,
        "location": location,
        "team": team,
        "shift": shift,
        "actor_role": actor_role,
        "actor_id": actor_id,
        "record": record_label,
        "observed_at": observed_at,
    }
    record_event(obj, kind, fields, payload, prompt=prompt, as_json=as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def services(obj: Context, as_json: bool) -> None:
    """List the services in the store.

    Example:

        insightlog services
    """
    names = run(obj.ledger.services)
    if as_json:
        output.emit_json(names)
        return
    for name in names:
        output.line(name)


@cli.command()
@click.option("--service", required=True, metavar="NAME")
@click.option("--theme", metavar="THEME", help="Only this theme, its sub-themes and their amendments.")
@click.option("--as-of", metavar="TIME", help="What the log said then: RFC 3339, or a date (end of that UTC day).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history(obj: Context, service: str, theme: str | None, as_of: str | None, as_json: bool) -> None:
    """Show a service's full, unedited history: both times, who, which record, what changed.

    Example:

        insightlog history --service "Harbour Home Care" --theme medicines --as-of 2026-03-01
    """
    from insightlog.analysis.history import history_rows

    when = parse_as_of(as_of) if as_of else None
    entries = run(lambda: obj.ledger.read_service(service))
    rows = history_rows(entries, theme=theme, as_of=when.instant if when else None)
    if as_json:
        output.emit_json(rows)
        return
    title = f"{service}: {len(rows)} events" + (f" as of {when.text}" if when else "")
    output.table(
        ["pos", "event", "recorded", "observed", "role", "record", "kind", "theme", "scope", "what", "provenance"],
        [
            [
                r["position"],
                r["event_id"],
                r["recorded_at"],
                r["observed_at"],
                r["actor_role"],
                r["record"],
                r["kind"],
                r["theme"],
                r["scope"],
                r["change"],
                "; ".join([*(f for f in r["flags"] if f != "imported history"), r["source"]]),
            ]
            for r in rows
        ],
        max_width=70,
        title=title,
    )


def auto_checkpoint(obj: Context) -> None:
    from insightlog.cli.proof import auto_checkpoint as _auto

    _auto(obj)


def main() -> None:  # pragma: no cover
    cli()


from insightlog.cli.analysis import register as _register_analysis  # noqa: E402

_register_analysis(cli)

from insightlog.cli.readmodels import register as _register_readmodels  # noqa: E402

_register_readmodels(cli)

from insightlog.cli.proof import register as _register_proof  # noqa: E402

_register_proof(cli)

from insightlog.cli.report import register as _register_report  # noqa: E402

_register_report(cli)

from insightlog.cli.admin import register as _register_admin  # noqa: E402

_register_admin(cli)

from insightlog.cli.kinds import register as _register_kinds  # noqa: E402

_register_kinds(cli)
