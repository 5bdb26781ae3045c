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
@click.option("--writer", default="insightlog_writer", show_default=True, metavar="NAME", help="The writer role (record, import).")
@click.option("--auditor", default="insightlog_auditor", show_default=True, metavar="NAME", help="The auditor role (select only).")
@click.option(
    "--writer-password",
    metavar="PASSWORD",
    help="Set the writer's password [env INSIGHTLOG_WRITER_PASSWORD; prefer the env var to the option].",
)
@click.option(
    "--auditor-password",
    metavar="PASSWORD",
    help="Set the auditor's password [env INSIGHTLOG_AUDITOR_PASSWORD; prefer the env var to the option].",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_obj
def roles(obj: Context, writer: str, auditor: str, writer_password: str | None, auditor_password: str | None, as_json: bool) -> None:
    """Create a least-privilege writer role and a select-only auditor role (PostgreSQL; idempotent).

    Run it as the schema owner after `insightlog init`, and again after an upgrade that adds
    read-model tables. The writer may insert events and maintain the read models but not
    create, alter or drop anything, and the guard triggers refuse its updates and deletes;
    the auditor may only select. Roles are cluster-wide; the grants are on this database.

    Example:

        \b
        insightlog --database-url postgresql://owner@db.example/care init

        \b
        INSIGHTLOG_WRITER_PASSWORD=... INSIGHTLOG_AUDITOR_PASSWORD=... insightlog --database-url postgresql://owner@db.example/care db roles
    """
    report = obj.app.ensure_roles(
        writer=writer,
        auditor=auditor,
        writer_password=writer_password or obj.config.writer_password,
        auditor_password=auditor_password or obj.config.auditor_password,
    )
    if as_json:
        output.emit_json(
            {
                "writer": report.writer,
                "auditor": report.auditor,
                "created": report.created,
                "ledger_tables": report.ledger_tables,
                "read_model_tables": report.read_model_tables,
                "writer_url": report.writer_url,
                "auditor_url": report.auditor_url,
                "warnings": report.warnings,
            }
        )
        return
    created = f" (created {', '.join(report.created)})" if report.created else " (already existed)"
    output.line(f"roles ready{created}: {len(report.ledger_tables)} ledger and {len(report.read_model_tables)} read-model tables granted")
    output.line(f"  writer:  {report.writer_url}")
    output.line(f"  auditor: {report.auditor_url}   (use with --read-only)")
    for warning in report.warnings:
        output.note(f"warning: {warning}")


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
    output.line(f"backed up {events} events ({pages} pages) to {dest} in {time.monotonic() - started:.2f} s; the copy checks out")


@click.command()
@click.option("--to", "target", required=True, metavar="URL_OR_PATH", help="The target store: a postgresql:// URL or a SQLite file.")
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
