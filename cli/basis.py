"""The --basis option shared by analyse, view, history, report and pack (definitions §3.5)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from insightlog.cli import output

if TYPE_CHECKING:
    from insightlog.cli.context import Context

F = TypeVar("F", bound=Callable[..., Any])
BASES = ("recorded", "ledger", "proven")
BASIS_HELP = (
    "Whose clock says when each event was recorded: the provider's recorded_at, this store's append time, "
    "or the verified timestamp of the first checkpoint covering it (definitions §3.5)."
)
# What "recorded by T" means on each basis, in the words a command prints.
RECORDED_BY = {
    "recorded": "recorded by T means the provider's recorded_at is at or before T",
    "ledger": "recorded by T means appended to this store by T (its own append time, not the provider's recorded_at)",
    "proven": "recorded by T means covered by T by a checkpoint with a verified timestamp",
}


def basis_option(command: F) -> F:
    """``--basis recorded|ledger|proven`` (default ``recorded``)."""
    return click.option("--basis", type=click.Choice(BASES), default="recorded", show_default=True, help=BASIS_HELP)(
        command
    )


def tsa_ca_option(command: F) -> F:
    """``--tsa-ca FILE``: the CA the timestamp tokens must chain to under ``--basis proven``."""
    return click.option(
        "--tsa-ca",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="With --basis proven: the TSA's CA certificate the timestamp tokens must chain to.",
    )(command)


def chosen_basis(obj: Context, name: str, tsa_ca: Path | None = None) -> Any:
    """The basis called ``name`` for this store, through the use cases; its notes go to stderr."""
    basis, notes = obj.app.analysis_basis(name, tsa_ca=tsa_ca)
    for text in notes:
        output.note(text)
    return basis
