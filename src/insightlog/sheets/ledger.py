"""A converted sheet against a ledger: what is new, already stored or changed, and the import.

The import goes through the ledger's own use case (``Ledger.import_lines``: all or nothing, the
same checks as a JSON Lines import); its errors are pointed back at the sheet's row and column.
Storage modules are imported inside the functions, so ``insightlog.sheets`` stays storage-free.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from insightlog.sheets.convert import ConversionResult
from insightlog.sheets.problems import Problem, show_value

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger

R = TypeVar("R", covariant=True)


class Importer(Protocol[R]):
    """What imports interchange lines all or nothing: ``Ledger`` (or a use-case layer over it)."""

    def import_lines(
        self,
        lines: Iterable[bytes | str],
        *,
        source_name: str,
        backfill: bool = ...,
        progress: Callable[[int], None] | None = ...,
    ) -> R: ...


class SheetImportError(ValueError):
    """Raised when the ledger refuses a converted sheet; names the sheet, row and column."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass
class StoreCheck:
    """How the converted events stand against what a store already holds."""

    new: int = 0
    unchanged: int = 0
    changed: list[Problem] = field(default_factory=list)
    out_of_order: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [*self.changed, *self.out_of_order]


def _canonical(fields: dict[str, Any]) -> bytes:
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def compare_with_store(ledger: Ledger, result: ConversionResult, *, backfill: bool = False) -> StoreCheck:
    """Classify each event: new, stored with the same content (skipped on import), or stored with
    different content (a changed cell: reported, never imported twice); and, outside a back-fill,
    new events recorded before the service's latest stored event."""
    from insightlog.errors import ServiceNotFoundError

    check = StoreCheck()
    stored: dict[str, dict[str, Any]] = {}
    latest: dict[str, str] = {}
    for service in sorted({e["service"] for e in result.events}):
        try:
            for entry in ledger.service_entries(service):
                fields = entry.interchange()
                stored[entry.event_id] = fields
                if fields["recorded_at"] > latest.get(service, ""):
                    latest[service] = fields["recorded_at"]
        except ServiceNotFoundError:
            continue
    for index, event in enumerate(result.events):
        before = stored.get(event["event_id"])
        if before is not None:
            if _canonical(before) == _canonical(event):
                check.unchanged += 1
                continue
            changes = _differences(before, event)
            first = changes[0][0] if changes else "event_id"
            listed = "; ".join(
                f"{name}: stored {show_value(old)}, now {show_value(new)}" for name, old, new in changes[:4]
            )
            check.changed.append(
                Problem.at(
                    result.cell_of(index, first),
                    f"this row's event is already stored with different content ({listed}); the ledger never "
                    "overwrites: record the correction as an EvidenceAmended event, or restore the cell",
                    field=first,
                    event_id=event["event_id"],
                )
            )
            continue
        check.new += 1
        last = latest.get(event["service"])
        if not backfill and last is not None and event["recorded_at"] < last:
            check.out_of_order.append(
                Problem.at(
                    result.cell_of(index, "recorded_at"),
                    f"is earlier than the latest event stored for {event['service']!r} ({last}); "
                    "earlier history is imported with --backfill",
                    value=event["recorded_at"],
                    has_value=True,
                    field="recorded_at",
                    event_id=event["event_id"],
                )
            )
    return check


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []
    for name in after:
        if name == "payload":
            continue
        if before.get(name) != after.get(name):
            out.append((name, before.get(name), after.get(name)))
    old, new = before.get("payload") or {}, after.get("payload") or {}
    for name in [*new, *(k for k in old if k not in new)]:
        if old.get(name) != new.get(name) or (name in old) != (name in new):
            out.append((f"payload.{name}", old.get(name), new.get(name)))
    return out


def import_result(
    ledger: Importer[R],
    result: ConversionResult,
    *,
    source_name: str,
    backfill: bool = False,
    progress: Callable[[int], None] | None = None,
) -> R:
    """Import the converted events with ``import_lines`` (all or nothing): the ledger's, or that of
    a use-case layer over it that does more after a write (a checkpoint, an access-log entry).

    Refuses a result that still has problems; a ledger error (an id stored with other content,
    a reference to no earlier event, recorded order) is raised as SheetImportError at its cell.
    """
    from insightlog.interchange.validation import LineError

    if not result.ok:
        raise SheetImportError(Problem(f"{result.problem_count} problem(s) remain; nothing was imported"))
    try:
        return ledger.import_lines(list(result.jsonl()), source_name=source_name, backfill=backfill, progress=progress)
    except LineError as exc:
        if exc.line is None or not 1 <= exc.line <= len(result.events):
            raise
        cell = result.cell_of(exc.line - 1, exc.field)
        raise SheetImportError(Problem.at(cell, exc.message, field=exc.field, event_id=exc.event_id)) from None
