"""The ledger commands: init, import, export, record, services, history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from insightlog.cli import output
from insightlog.cli.basis import RECORDED_BY, basis_option, chosen_basis, tsa_ca_option
from insightlog.cli.context import Context, creates_store, parse_as_of
from insightlog.cli.kinds import RecordCommand


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
@click.option(
    "--backfill",
    is_flag=True,
    help="Declare earlier history for services already in the store; flagged wherever shown.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse lines naming a service, theme or scope not registered, defined or used before them (default: warn).",
)
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
    output.report_write(outcome)
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
@click.option(
    "-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout)."
)
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


def _observed(value: str | None) -> str | None:
    if value is None:
        return None
    from insightlog.interchange.timeutil import parse_observed

    return parse_observed(value)


@click.command(cls=RecordCommand)
@click.argument("kind")
@click.option("--service", metavar="NAME", help="The service (required).")
@click.option("--theme", metavar="THEME", help="The theme (required for evidence and AuditCompleted).")
@click.option("--location")
@click.option("--team")
@click.option("--shift")
@click.option("--actor-role", metavar="ROLE", help="Who made the entry: one of the roles below (required).")
@click.option("--actor-id", metavar="ID", help="A staff id, never a name (required).")
@click.option("--record", "record_label", metavar="LABEL", help="The provider's own name for the record.")
@click.option(
    "--observed-at", metavar="TIME", help="When it happened (RFC 3339 or a date); default now; never later than now."
)
@click.option(
    "--event-id",
    metavar="ID",
    help="Your own id for the event (default: generated); a retry with the same id and content records nothing twice.",
)
@click.option(
    "--new-scope",
    is_flag=True,
    help="The location, team or shift named is new to the service (otherwise it must be declared or used before).",
)
@click.option("--payload", metavar="JSON", help="The payload (required): JSON text, @file.json, or - for stdin.")
@click.option("--prompt/--no-prompt", default=None, help="Ask for missing required fields [default: on a terminal].")
@click.option("--json", "as_json", is_flag=True, help="Print the stored event as JSON.")
@click.pass_obj
@creates_store
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
    new_scope: bool,
    payload: str | None,
    prompt: bool | None,
    as_json: bool,
) -> None:
    """Record one event as it happens; the ledger stamps recorded_at with its own clock.

    Every missing or invalid field is reported at once; on a terminal, missing required fields
    can be entered at a prompt. The service must be registered, the theme defined for it, and a
    location, team or shift declared or used before (--new-scope says it is new).

    Example:

        \b
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
    record_event(obj, kind, fields, payload, prompt=prompt, as_json=as_json, new_scope=new_scope)


@click.command()
@click.option("--as-of", metavar="TIME", help="Only services with an event recorded by then (RFC 3339 or a date).")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list services registered in error (their ServiceRegistered withdrawn), marked; "
    "with --json, objects {service, registered_in_error}.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def services(obj: Context, as_of: str | None, show_all: bool, as_json: bool) -> None:
    """List the services in the store.

    A service whose registration was withdrawn (registered in error: a misspelt name, say) takes
    no further events and is listed only with --all, marked as withdrawn.

    Example:

        \b
        insightlog services
        insightlog services --all
    """
    when = parse_as_of(as_of) if as_of else None
    if not show_all:
        names = obj.app.services(when)
        if as_json:
            output.emit_json(names)
            return
        for name in names:
            output.line(name)
        return
    listing = obj.app.service_listing(when)
    if as_json:
        output.emit_json([s.as_dict() for s in listing])
        return
    for s in listing:
        w = s.withdrawal
        if w is None:
            output.line(s.name)
        else:
            output.line(
                f"{s.name}  [WITHDRAWN: registered in error; its ServiceRegistered {w.withdraws} "
                f"withdrawn on {w.recorded_at.date().isoformat()} by {w.actor_role}: {w.reason} ({w.event_id})]"
            )


def _correction_cell(r: dict[str, Any]) -> str:
    parts = []
    w = r["withdrawn"]
    if w is not None:
        parts.append(f"WITHDRAWN on {w['recorded_at'][:10]} by {w['actor_role']}")
    if r["corrects"]:
        parts.append(f"corrects {r['corrects']}")
    if r["replaced_by"]:
        parts.append(f"replaced by {', '.join(r['replaced_by'])}")
    return "; ".join(parts) or "-"


_CORRECTION_FLAGS = ("withdrawn on ", "corrects ", "replaced by ", "imported history")


@click.command()
@click.option("--service", required=True, metavar="NAME")
@click.option("--theme", metavar="THEME", help="Only this theme, its sub-themes and their amendments and withdrawals.")
@click.option("--as-of", metavar="TIME", help="What the log said then: RFC 3339, or a date (end of that UTC day).")
@click.option(
    "--hide-withdrawn", is_flag=True, help="Leave out the entries withdrawn by then (they are marked otherwise)."
)
@basis_option
@tsa_ca_option
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history(
    obj: Context,
    service: str,
    theme: str | None,
    as_of: str | None,
    hide_withdrawn: bool,
    basis: str,
    tsa_ca: Path | None,
    as_json: bool,
) -> None:
    """Show a service's full, unedited history: both times, who, which record, what changed.

    An entry withdrawn as made in error is marked "withdrawn on D by ROLE: reason" (as of
    --as-of: a withdrawal recorded later is not yet one), and a replacement and the entry it
    replaces name each other; --hide-withdrawn leaves the withdrawn entries out. --basis says
    which instant counts as "recorded by --as-of": with ledger, the store's own append time.

    Example:

        \b
        insightlog history --service "Harbour Home Care" --theme medicines --as-of 2026-03-01
        insightlog history --service "Harbour Home Care" --hide-withdrawn --basis ledger
    """
    when = parse_as_of(as_of) if as_of else None
    chosen = chosen_basis(obj, basis, tsa_ca)
    rows = obj.app.history(service, theme=theme, as_of=when, basis=chosen, hide_withdrawn=hide_withdrawn)
    if as_json:
        output.emit_json(rows)
        return
    title = f"{service}: {len(rows)} events" + (f" as of {when.text}" if when else "")
    if basis != "recorded":
        title += f" on the {basis} basis ({RECORDED_BY[basis]})"
    if hide_withdrawn:
        title += "; withdrawn entries hidden"
    output.table(
        [
            "pos",
            "event",
            "recorded",
            "observed",
            "role",
            "record",
            "kind",
            "theme",
            "scope",
            "what",
            "correction",
            "provenance",
        ],
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
                _correction_cell(r),
                "; ".join([*(f for f in r["flags"] if not f.startswith(_CORRECTION_FLAGS)), r["source"]]),
            ]
            for r in rows
        ],
        max_width=70,
        title=title,
    )
    withdrawn = [r for r in rows if r["withdrawn"] is not None]
    if withdrawn:
        output.line("")
        output.line(f"Withdrawn entries ({len(withdrawn)}; they count for nothing from their withdrawal on):")
        for r in withdrawn:
            w = r["withdrawn"]
            replaced = f"; replaced by {', '.join(r['replaced_by'])}" if r["replaced_by"] else ""
            output.line(
                f"  {r['event_id']}: withdrawn on {w['recorded_at'][:10]} by {w['actor_role']}: {w['reason']} "
                f"(by {w['by']}){replaced}"
            )


@click.command()
@click.argument("event_id")
@click.option("--reason", required=True, help="Why the entry was wrong (kept with the withdrawal).")
@click.option("--actor-role", required=True, metavar="ROLE", help="Your interchange role.")
@click.option("--actor-id", required=True, metavar="ID", help="Your staff id, never a name.")
@click.option("--json", "as_json", is_flag=True, help="Print the receipts as JSON.")
@click.pass_obj
def withdraw(obj: Context, event_id: str, reason: str, actor_role: str, actor_id: str, as_json: bool) -> None:
    """Withdraw an entry made in error (wrong service, theme, scope or time; a duplicate).

    Nothing is erased: the entry stays in the log, in exports and in proofs, marked as withdrawn
    from now on; as of any earlier moment it still counts, as it did then. Withdrawing a
    ServiceRegistered marks the service as registered in error. To put the right entry in its
    place in the same step, use 'insightlog correct'.

    Example:

        \b
        insightlog withdraw HHC-052 --reason "entered twice" --actor-role quality_lead --actor-id QL-1
    """
    outcome = obj.app.withdraw(event_id, reason=reason, actor_role=actor_role, actor_id=actor_id)
    _print_receipts(outcome, as_json, f"withdrew {event_id}")


@click.command()
@click.argument("event_id")
@click.option("--reason", required=True, help="Why the entry was wrong (kept with the withdrawal).")
@click.option("--actor-role", required=True, metavar="ROLE", help="Your interchange role.")
@click.option("--actor-id", required=True, metavar="ID", help="Your staff id, never a name.")
@click.option("--theme", metavar="THEME", help="The right theme.")
@click.option("--location", help="The right location.")
@click.option("--team", help="The right team.")
@click.option("--shift", help="The right shift.")
@click.option("--observed-at", metavar="TIME", help="The right time it happened (RFC 3339 or a date).")
@click.option("--record", "record_label", metavar="LABEL", help="The right record label.")
@click.option("--new-event-id", metavar="ID", help="The replacement's id (default: generated).")
@click.option("--new-scope", is_flag=True, help="The location, team or shift given is new to the service.")
@click.option("--json", "as_json", is_flag=True, help="Print the receipts as JSON.")
@click.pass_obj
def correct(
    obj: Context,
    event_id: str,
    reason: str,
    actor_role: str,
    actor_id: str,
    theme: str | None,
    location: str | None,
    team: str | None,
    shift: str | None,
    observed_at: str | None,
    record_label: str | None,
    new_event_id: str | None,
    new_scope: bool,
    as_json: bool,
) -> None:
    """Correct an entry's theme, scope, time or record label: withdraw it and record the same
    entry with the changes, in one atomic append; the replacement names the original (corrects).

    Payload fields (a score, a summary) are corrected with an EvidenceAmended record instead.

    Example:

        \b
        insightlog correct HHC-052 --theme medicines.mar_charts --reason "wrong theme" \\
            --actor-role quality_lead --actor-id QL-1
    """
    given = {"theme": theme, "location": location, "team": team, "shift": shift, "record": record_label}
    changes: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if observed_at is not None:
        changes["observed_at"] = _observed(observed_at)
    outcome = obj.app.correct(
        event_id,
        reason=reason,
        actor_role=actor_role,
        actor_id=actor_id,
        changes=changes,
        new_event_id=new_event_id,
        new_scope=new_scope,
    )
    _print_receipts(outcome, as_json, f"withdrew {event_id} and recorded its replacement")


def _print_receipts(outcome: Any, as_json: bool, done: str) -> None:
    output.report_write(outcome)
    receipts = outcome.result.receipts
    if as_json:
        output.emit_json([r.as_dict() for r in receipts])
        return
    output.line(f"{done}: " + ", ".join(f"{r.event_id} (position {r.position})" for r in receipts))


def register(group: click.Group) -> None:
    for command in (init, import_, export, record, withdraw, correct, services, history):
        group.add_command(command)
