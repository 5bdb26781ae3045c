"""The ledger commands: init, import, export, record, services, history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from insightlog.cli import output
from insightlog.cli.context import Context, creates_store, parse_as_of


@click.command()
@click.pass_obj
@creates_store
def init(obj: Context) -> None:
    """Create the ledger's schema (it is also created on first use).

    Example:

        \b
        insightlog --db provider.sqlite init
    """
    size = obj.app.init_store()
    output.line(f"ledger and read models ready at {obj.settings.describe()} ({size} events)")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backfill", is_flag=True, help="Declare earlier history for services already in the store; flagged wherever shown.")
@click.option("--strict", is_flag=True, help="Refuse lines naming a service, theme or scope not registered, defined or used before them (default: warn).")
@click.option("--json", "as_json", is_flag=True, help="Print receipts (position per event) as JSON.")
@click.pass_obj
@creates_store
def import_(obj: Context, file: Path, backfill: bool, strict: bool, as_json: bool) -> None:
    """Import a JSON Lines history file, all or nothing.

    Lines already stored with the same content are skipped; a bad line stops the import with an
    error naming the line, the event id and the field, and nothing is written.

    Example:

        \b
        insightlog import examples/harbour_home_care.jsonl
    """
    from insightlog.application.ledger import read_file_lines

    size = file.stat().st_size
    if sys.stderr.isatty() and size > 1_000_000 and not as_json:
        with click.progressbar(length=size, label="validating", file=sys.stderr) as bar:

            def lines() -> Any:
                for raw in read_file_lines(file):
                    bar.update(len(raw))
                    yield raw

            outcome = obj.app.import_file(file, backfill=backfill, lines=lines(), strict=strict)
    else:
        outcome = obj.app.import_file(file, backfill=backfill, strict=strict)
    result = outcome.result
    report_write(outcome)
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


@click.command()
@click.option("--service", metavar="NAME", help="Only this service.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout).")
@click.option("--with-provenance", is_flag=True, help="Add the ledger object (position, appended_at, source).")
@click.option("--force", is_flag=True, help="Replace FILE if it exists (never through a symbolic link).")
@click.pass_obj
def export(obj: Context, service: str | None, out: Path | None, with_provenance: bool, force: bool) -> None:
    """Export the history in the interchange format (JSON Lines), in log order.

    Example:

        \b
        insightlog export --service "Harbour Home Care" -o harbour.jsonl
    """
    if out is None:
        obj.app.export(sys.stdout.buffer, service=service, with_provenance=with_provenance)
        sys.stdout.flush()
        return
    count = obj.app.export_file(out, service=service, with_provenance=with_provenance, overwrite=force)
    output.note(f"exported {count} events to {out}")


def _payload(value: str) -> Any:
    import orjson

    if value == "-":
        text = sys.stdin.read()
    elif value.startswith("@"):
        text = Path(value[1:]).read_text(encoding="utf-8")
    else:
        text = value
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"field 'payload': is not valid JSON: {exc}") from None


def _observed(value: str | None) -> str | None:
    if value is None:
        return None
    from insightlog.interchange.timeutil import parse_observed

    return parse_observed(value)


@click.command()
@click.argument("kind")
@click.option("--service", required=True, metavar="NAME")
@click.option("--theme", metavar="THEME")
@click.option("--location")
@click.option("--team")
@click.option("--shift")
@click.option("--actor-role", required=True, metavar="ROLE")
@click.option("--actor-id", required=True, metavar="ID", help="A staff id, never a name.")
@click.option("--record", "record_label", metavar="LABEL", help="The provider's own name for the record.")
@click.option("--observed-at", metavar="TIME", help="When it happened (RFC 3339 or a date); default now; never later than now.")
@click.option("--event-id", metavar="ID", help="Your own id for the event (default: generated); a retry with the same id and content records nothing twice.")
@click.option("--new-scope", is_flag=True, help="The location, team or shift named is new to the service (otherwise it must be declared or used before).")
@click.option("--payload", required=True, metavar="JSON", help="The payload: JSON text, @file.json, or - for stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print the stored event as JSON.")
@click.pass_obj
@creates_store
def record(
    obj: Context,
    kind: str,
    service: str,
    theme: str | None,
    location: str | None,
    team: str | None,
    shift: str | None,
    actor_role: str,
    actor_id: str,
    record_label: str | None,
    observed_at: str | None,
    event_id: str | None,
    new_scope: bool,
    payload: str,
    as_json: bool,
) -> None:
    """Record one event as it happens; the ledger stamps recorded_at with its own clock.

    Example:

        \b
        insightlog record SpotCheckRecorded --service "Harbour Home Care" --theme medicines.mar_charts \\
            --team north --actor-role deputy_manager --actor-id DM-1 \\
            --payload '{"evidence_score": 2, "evidence_category": "observation", "source_type": "spot_check", "summary": "2 of 5 charts unsigned"}'
    """
    event = {
        "event_id": event_id,
        "service": service,
        "theme": theme,
        "location": location,
        "team": team,
        "shift": shift,
        "kind": kind,
        "actor_role": actor_role,
        "actor_id": actor_id,
        "record": record_label,
        "observed_at": _observed(observed_at),
        "payload": _payload(payload),
    }
    outcome = obj.app.record(event, new_scope=new_scope)
    report_write(outcome)
    result = outcome.result
    stored_id = result.receipts[0].event_id if result.receipts else result.skipped[0]
    if as_json:
        stored = obj.app.stored_event(stored_id)
        output.emit_json(stored if stored else result.receipts[0].as_dict())
        return
    if result.skipped:
        output.note(f"{stored_id} was already stored with the same content; nothing written")
    output.line(stored_id)


@click.command()
@click.option("--as-of", metavar="TIME", help="Only services with an event recorded by then (RFC 3339 or a date).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def services(obj: Context, as_of: str | None, as_json: bool) -> None:
    """List the services in the store.

    Example:

        \b
        insightlog services
    """
    names = obj.app.services(parse_as_of(as_of) if as_of else None)
    if as_json:
        output.emit_json(names)
        return
    for name in names:
        output.line(name)


@click.command()
@click.option("--service", required=True, metavar="NAME")
@click.option("--theme", metavar="THEME", help="Only this theme, its sub-themes and their amendments.")
@click.option("--as-of", metavar="TIME", help="What the log said then: RFC 3339, or a date (end of that UTC day).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history(obj: Context, service: str, theme: str | None, as_of: str | None, as_json: bool) -> None:
    """Show a service's full, unedited history: both times, who, which record, what changed.

    Example:

        \b
        insightlog history --service "Harbour Home Care" --theme medicines --as-of 2026-03-01
    """
    when = parse_as_of(as_of) if as_of else None
    rows = obj.app.history(service, theme=theme, as_of=when)
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


def report_write(outcome: Any) -> None:
    """The notes every write prints after it: warnings, then the checkpoint taken."""
    for warning in outcome.warnings:
        output.note(f"warning: {warning}")
    cp = outcome.checkpoint
    if cp.taken:
        output.note(f"checkpoint: {cp.size} events, root {cp.root_hash[:16]}…, signed and appended to {cp.outside_file}")


def register(group: click.Group) -> None:
    for command in (init, import_, export, record, services, history):
        group.add_command(command)
