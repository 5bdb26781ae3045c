"""Administration commands: PostgreSQL roles, encryption keys, backup and migration.

Registered on the root group by ``register(cli)``; heavy modules are imported inside commands.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from insightlog.cli import output
from insightlog.cli.context import Context


@click.group()
def db() -> None:
    """Database administration: PostgreSQL roles for writers and auditors, encryption keys.

    Example:

        \b
        insightlog --database-url postgresql://owner@db.example/care db roles

        \b
        insightlog db new-key
    """


@db.command("roles")
@click.option(
    "--writer",
    default="insightlog_writer",
    show_default=True,
    metavar="NAME",
    help="The writer role (record, import, the web).",
)
@click.option(
    "--projector",
    default="insightlog_projector",
    show_default=True,
    metavar="NAME",
    help="The projector role (the read models).",
)
@click.option(
    "--auditor", default="insightlog_auditor", show_default=True, metavar="NAME", help="The auditor role (select only)."
)
@click.option(
    "--writer-password",
    metavar="PASSWORD",
    help="Set the writer's password [env INSIGHTLOG_WRITER_PASSWORD; prefer the env var to the option].",
)
@click.option(
    "--projector-password",
    metavar="PASSWORD",
    help="Set the projector's password [env INSIGHTLOG_PROJECTOR_PASSWORD; prefer the env var to the option].",
)
@click.option(
    "--auditor-password",
    metavar="PASSWORD",
    help="Set the auditor's password [env INSIGHTLOG_AUDITOR_PASSWORD; prefer the env var to the option].",
)
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Change nothing: list every privilege of each role and flag any beyond the documented set.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done (or found) as JSON.")
@click.pass_obj
def roles(
    obj: Context,
    writer: str,
    projector: str,
    auditor: str,
    writer_password: str | None,
    projector_password: str | None,
    auditor_password: str | None,
    check_only: bool,
    as_json: bool,
) -> None:
    """Create a writer, a projector and a select-only auditor role with the least privileges
    each needs (PostgreSQL; idempotent), or with --check list what they hold.

    Run it as the schema owner after `insightlog init`, and again after an upgrade that adds
    tables. The writer may insert events and use the web's accounts tables, and read the read
    models; only the projector may write the read models (run `insightlog projections update` as
    it); the auditor may only select. None may create, alter or drop anything, create temporary
    tables or large objects, or hold the writers' lock. The documented set is in
    docs/operations.md; --check exits 1 when a role holds more (or less) than it.

    Example:

        \b
        insightlog --database-url postgresql://owner@db.example/care init

        \b
        INSIGHTLOG_WRITER_PASSWORD=... INSIGHTLOG_PROJECTOR_PASSWORD=... INSIGHTLOG_AUDITOR_PASSWORD=... \\
          insightlog --database-url postgresql://owner@db.example/care db roles

        \b
        insightlog --database-url postgresql://owner@db.example/care db roles --check
    """
    if check_only:
        _check_roles(obj, writer, projector, auditor, as_json)
        return
    report = obj.app.ensure_roles(
        writer=writer,
        auditor=auditor,
        projector=projector,
        writer_password=writer_password,
        auditor_password=auditor_password,
        projector_password=projector_password,
    )
    if as_json:
        output.emit_json(
            {
                "writer": report.writer,
                "projector": report.projector,
                "auditor": report.auditor,
                "created": report.created,
                "ledger_tables": report.ledger_tables,
                "read_model_tables": report.read_model_tables,
                "web_tables": report.web_tables,
                "writer_url": report.writer_url,
                "projector_url": report.projector_url,
                "auditor_url": report.auditor_url,
                "warnings": report.warnings,
            }
        )
        return
    created = f" (created {', '.join(report.created)})" if report.created else " (already existed)"
    output.line(
        f"roles ready{created}: {len(report.ledger_tables)} ledger, {len(report.read_model_tables)} read-model "
        f"and {len(report.web_tables)} web tables granted"
    )
    output.line(f"  writer:    {report.writer_url}")
    output.line(f"  projector: {report.projector_url}   (runs `insightlog projections update`)")
    output.line(f"  auditor:   {report.auditor_url}   (use with --read-only)")
    for warning in report.warnings:
        output.note(f"warning: {warning}")


def _check_roles(obj: Context, writer: str, projector: str, auditor: str, as_json: bool) -> None:
    check = obj.app.check_roles(writer=writer, auditor=auditor, projector=projector)
    if as_json:
        output.emit_json(check.as_dict())
    else:
        for role, function in check.roles.items():
            held = [p for p in check.privileges if p.role == role]
            output.line(f"{role} ({function}): {len(held)} privilege(s)")
            # One line per object and standing: "table rm_events: SELECT, INSERT (via direct)".
            lines: dict[tuple[str, str, str, str, str], list[str]] = {}
            elsewhere: dict[str, set[str]] = {}
            for p in held:
                if p.scope == "other database":
                    elsewhere.setdefault(p.privilege, set()).add(p.target)
                    continue
                mark = "FLAGGED" if p.flagged else "ok"
                lines.setdefault((mark, p.kind, p.target, p.via, p.scope), []).append(p.privilege)
            for (mark, kind, target, via, scope), privileges in lines.items():
                where = "" if scope == "this database" else f" [{scope}]"
                output.line(f"  {mark:<8} {kind} {target}: {', '.join(privileges)} (via {via}){where}")
            for privilege, databases in sorted(elsewhere.items()):
                output.line(
                    f"  listed   {privilege} on {len(databases)} other database(s) of the cluster "
                    "(not flagged: see docs/operations.md)"
                )
        for missing in check.missing:
            output.line(f"  MISSING  {missing}")
        for note in check.notes:
            output.line(f"note: {note}")
        flagged = len(check.flagged)
        verdict = "OK" if check.ok else "FLAGGED"
        output.line(
            f"{verdict}: {flagged} privilege(s) beyond the documented set, "
            f"{len(check.missing)} documented one(s) missing "
            f"(database {check.database})"
        )
    if not check.ok:
        raise SystemExit(1)


@db.command("new-key")
def new_key() -> None:
    """Print a fresh AES-256 key for encrypting event payloads at rest (INSIGHTLOG_CIPHER_KEY).

    A store is encrypted from its first event or not at all. Keep the key apart from the
    database and its backups: without it the events cannot be read.

    Example:

        \b
        export INSIGHTLOG_CIPHER_KEY="$(insightlog db new-key)"

        \b
        insightlog --db encrypted.sqlite init
    """
    from insightlog.application.usecases import UseCases

    output.line(UseCases.new_cipher_key())


@click.command()
@click.argument("dest", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(obj: Context, dest: Path) -> None:
    """Copy a live SQLite ledger to DEST, consistently, while writers carry on.

    Uses SQLite's online backup API (one read transaction), never overwrites a file, and checks
    the copy before reporting. For PostgreSQL use pg_dump or pg_basebackup (docs/operations.md).

    Example:

        \b
        insightlog --db provider.sqlite backup backups/provider-2026-03-31.sqlite
    """
    started = time.monotonic()
    events, pages = obj.app.backup(dest)
    output.line(
        f"backed up {events} events ({pages} pages) to {dest} in {time.monotonic() - started:.2f} s; the copy checks out"
    )


@click.command()
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL_OR_PATH",
    help="The target store: a postgresql:// URL or a SQLite file.",
)
@click.pass_obj
def migrate(obj: Context, target: str) -> None:
    """Copy this ledger to another store (SQLite to PostgreSQL or back), keeping every event,
    its position, append time, source and hashes.

    The target must be empty or hold the start of this ledger (an interrupted migration is
    resumed by running it again). Taxonomy versions and checkpoints are copied too; the
    read models of the target are built on first use. Both stores use INSIGHTLOG_CIPHER_KEY.

    Example:

        \b
        insightlog --db provider.sqlite migrate --to postgresql://owner@db.example/care

        \b
        insightlog --database-url postgresql://auditor@db.example/care --read-only migrate --to copy.sqlite
    """
    started = time.monotonic()
    progress = _progress if sys.stderr.isatty() else None
    report, target_name = obj.app.migrate(target, progress)
    seconds = time.monotonic() - started
    extra = f", {report.other_events} taxonomy/checkpoint events" if report.other_events else ""
    output.line(
        f"copied {report.copied} events{extra} to {target_name} in {seconds:.1f} s "
        f"({report.already} were already there); {report.size} events, root {report.root[:16]}…"
    )
    if report.behind:
        output.note(f"the source gained {report.behind} events during the copy; run the migration again to copy them")


def _progress(copied: int) -> None:
    output.note(f"  {copied} events copied…")


def register(group: click.Group) -> None:
    for command in (db, backup, migrate):
        group.add_command(command)
