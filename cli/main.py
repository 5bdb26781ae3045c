"""The insightlog command line: the root group, one error translator, the command families.

Each family lives in its own module (ledger, analysis, read models, proofs, report, admin) and
imports only ``context`` and ``output``; heavy modules are imported inside commands, so --help
and every command start fast.
"""

from __future__ import annotations

import functools
from typing import Any

import click

from insightlog.cli import admin, analysis, kinds, ledger, proof, readmodels, report, sheets, web
from insightlog.cli.context import Context
from insightlog.errors import InsightlogError, one_line


class UserError(click.ClickException):
    """A user error, as one line (never a traceback); exit 1, or another code by ``user_error``."""


@functools.cache
def _coded(code: int) -> type[UserError]:
    class CodedUserError(UserError):
        exit_code = code

    return CodedUserError


def user_error(message: str, exit_code: int = 1) -> UserError:
    """A user error with its exit code: click reads ``exit_code`` from the class (a ClassVar)."""
    return (UserError if exit_code == UserError.exit_code else _coded(exit_code))(message)


class Root(click.Group):
    """The root group: every ``InsightlogError`` a command raises ends here, as one line.

    Exit codes: 0 done; 1 a user error, or a verification that failed; 2 a usage error (an
    option or argument click refused), also as one line naming the command's --help.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            raise user_error(f"{exc.format_message()} (see '{where} --help')", exc.exit_code) from None
        except InsightlogError as exc:
            raise user_error(one_line(exc), exc.exit_code) from None
        except OSError as exc:  # a file the user named: missing, unwritable, a directory
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise user_error(f"{where}{exc.strerror or one_line(exc)}") from None


@click.group(cls=Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="PATH", help="SQLite ledger file [env INSIGHTLOG_DB; default ./insightlog.sqlite].")
@click.option(
    "--database-url",
    metavar="URL",
    help="postgresql:// URL; wins over --db [env INSIGHTLOG_DATABASE_URL].",
)
@click.option(
    "--read-only/--read-write",
    "read_only",
    default=None,
    help="Open the store so nothing can be written [env INSIGHTLOG_READ_ONLY=1].",
)
@click.option(
    "--key", metavar="PATH", help="Private signing key [env INSIGHTLOG_KEY; default insightlog-keys/provider.key]."
)
@click.option(
    "--checkpoint-file",
    metavar="PATH",
    help="Checkpoint file kept outside the database [env INSIGHTLOG_CHECKPOINT_FILE; default insightlog-checkpoints/<store origin>.jsonl, one per store].",
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

        \b
        insightlog import examples/harbour_home_care.jsonl

        \b
        insightlog history --service "Harbour Home Care"
    """
    ctx.obj = Context(db, database_url, read_only, key, checkpoint_file)
    ctx.call_on_close(ctx.obj.close)


for family in (ledger, kinds, analysis, readmodels, proof, report, admin, sheets, web):
    family.register(cli)


def main() -> None:  # pragma: no cover
    cli()
