"""Every call the web application makes into the ledger, in one place.

The pages and the API call only this module's ``LedgerUseCases`` (through the ``UseCases``
protocol), never the store, the read models or the analysis directly, so the calls can later be
pointed at the application layer (issue 11) by changing this file alone. Each method is one use
case; it returns plain data (DTOs) and raises the errors below, each with a one-line message.

The calls are the ones the CLI makes: ``services`` is ``insightlog services``; ``governance`` is
``insightlog view --service S`` (read models, caught up first) or ``view --service S --as-of A``
(computed from the events, writing nothing) as in ``cli/readmodels.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from insightlog.errors import InsightlogError

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.application.committee import Comparison, ProviderOverview, ThemeDetail, WorkLists
    from insightlog.application.ledger import Ledger
    from insightlog.application.recording import EntryDetail, ServiceVocabulary
    from insightlog.bootstrap import House
    from insightlog.interchange.timeutil import AsOf


# Seconds between catch-ups of the read models under a stream of writes; within this long of the
# last one, the governance page reads them as they stand (saying how far behind they are).
CATCH_UP_PAUSE = 2.0

# The analysis bases (definitions §3.5), as ``insightlog analyse --basis`` names them.
BASES = ("recorded", "ledger", "proven")


class UseCaseError(InsightlogError):
    """Raised when a use case refuses its input; the message is one line for the user."""


class NotFoundError(UseCaseError):
    """Raised when the service (or other thing) asked for does not exist."""


class InputError(UseCaseError):
    """Raised when an input is malformed; ``field`` names the form field or query parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GovernanceView:
    """A service's governance view as of an instant (the rows of ``insightlog view --json``)."""

    service: str
    as_of: str  # the instant, RFC 3339 text
    asked: str | None  # the as-of the user gave (None: now)
    source: str  # "read_models" (now, from the SQL read models) or "events" (computed as of a past instant)
    rows: list[dict[str, Any]] = field(default_factory=list)
    taxonomy_version: str | None = None
    overdue_reviews: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None  # the read model could not be computed for this service
    entries_behind: int = 0
    basis: str = "recorded"


@dataclass(frozen=True)
class Recorded:
    """What recording one event did: stored now, or already stored (a retry of the same form)."""

    event_id: str
    service: str
    stored: bool
    position: int | None = None
    leaf_hash: str | None = None
    source: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass
class SheetReport:
    """A spreadsheet under a mapping: what it gives, how it stands against the store, and (when
    imported) what was stored."""

    file_name: str
    conversion: dict[str, Any]  # ConversionResult.as_dict(): summary, problems, unmapped, preview
    new: int = 0
    unchanged: int = 0
    store_problems: list[str] = field(default_factory=list)
    imported: int | None = None
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.conversion["ok"]) and not self.store_problems


@dataclass(frozen=True)
class EntryPage:
    """One entry as its page shows it: the detail, the stored object (with its leaf hash)."""

    detail: EntryDetail
    stored: dict[str, Any]


class UseCases(Protocol):
    """What the web application needs from the ledger."""

    def services(self) -> list[str]: ...

    def vocabulary(self, service: str) -> ServiceVocabulary: ...

    def record(self, event: dict[str, Any], door: str) -> Recorded: ...

    def entry(self, service: str, event_id: str) -> EntryPage: ...

    def prove(self, service: str, event_id: str) -> dict[str, Any]: ...

    def new_event_id(self) -> str: ...

    def sheet(
        self,
        service: str,
        data: bytes,
        file_name: str,
        mapping: bytes,
        mapping_name: str,
        *,
        do_import: bool = False,
        preview: int = 20,
    ) -> SheetReport: ...

    def governance(self, service: str, as_of: str | None = None, basis: str | None = None) -> GovernanceView: ...

    def provider(
        self, services: list[str], as_of: str | None, basis: str | None
    ) -> tuple[ProviderOverview, list[str]]: ...

    def theme(
        self, service: str, theme: str, as_of: str | None, basis: str | None
    ) -> tuple[ThemeDetail, list[str]]: ...

    def compare(
        self, service: str, then: str | None, now: str | None, basis: str | None
    ) -> tuple[Comparison, list[str]]: ...

    def work(self, services: list[str], as_of: str | None = None) -> WorkLists: ...

    def report_html(self, service: str, as_of: str | None) -> tuple[str, str]: ...

    def report_pdf(self, service: str, as_of: str | None) -> tuple[bytes, str]: ...

    def pack(self, service: str, as_of: str | None, theme: str | None) -> tuple[bytes, dict[str, Any]]: ...

    def history(
        self, service: str, *, theme: str | None = None, kind: str | None = None, as_of: str | None = None
    ) -> list[dict[str, Any]]: ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...


class LedgerUseCases:
    """The web's use cases over one house: each is one call of the application's ``UseCases``."""

    def __init__(self, house: House, *, catch_up_after_writes: bool = True) -> None:
        self.house = house
        # One catch-up of the read models at a time in this process (other processes are kept
        # apart by the projection's tracking record).
        self._models_lock = threading.Lock()
        self._write_lock = threading.Lock()
        # After a write, a background thread catches the read models up, so that the next
        # reader of the governance page finds them current (or reads them as they stand).
        self._catch_up_after_writes = catch_up_after_writes
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self._caught_up_at = -CATCH_UP_PAUSE  # monotonic time of the last catch-up (never yet)
        self._catcher: threading.Thread | None = None

    def _catch_up_soon(self) -> None:
        if not self._catch_up_after_writes or self._stop.is_set():
            return
        if self._catcher is None:
            self._catcher = threading.Thread(target=self._catch_up_loop, name="read-model catch-up", daemon=True)
            self._catcher.start()
        self._wanted.set()

    def _catch_up_loop(self) -> None:
        while not self._stop.is_set():
            self._wanted.wait()
            self._wanted.clear()
            if self._stop.is_set():
                return
            with self._models_lock:
                try:
                    self.house.usecases.projections_update()
                    self._caught_up_at = time.monotonic()
                except Exception:  # noqa: BLE001 - a reader catches up (and reports) itself next time
                    pass
            # Writes that come meanwhile are taken together by the next run: under a stream of
            # writes the service is recomputed once per pause, not once per write.
            self._stop.wait(CATCH_UP_PAUSE)

    @property
    def ledger(self) -> Ledger:
        return self.house.ledger

    def close(self) -> None:
        self._stop.set()
        self._wanted.set()
        if self._catcher is not None:
            self._catcher.join(timeout=30)
        self.house.close()

    def services(self) -> list[str]:
        """Names of the services with at least one event, sorted."""
        return self.house.usecases.services()

    def governance(self, service: str, as_of: str | None = None, basis: str | None = None) -> GovernanceView:
        """The governance view of one service: now (read models) or as of ``as_of`` (from the
        events); on the ``recorded`` basis, or ``ledger`` / ``proven`` (computed from the events)."""
        from insightlog.errors import InsightlogError, ServiceNotFoundError

        app = self.house.usecases
        chosen, notes = self._basis(basis)
        try:
            if (as_of is not None and as_of.strip()) or not chosen.is_default:
                when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
                result = app.view(service, when, chosen)
                view = _view(service, when.text, as_of.strip() if as_of else None, "events", result.rows)
                return GovernanceView(**{**view.__dict__, "notes": notes, "basis": chosen.name})
            # One catch-up at a time: a reader that finds one running (another reader's, or the
            # one that follows each write) reads the read models as they stand, and is told how
            # far behind they are, rather than queueing behind it.
            fresh = time.monotonic() - self._caught_up_at < CATCH_UP_PAUSE
            if not fresh and self._models_lock.acquire(blocking=False):
                try:
                    result = app.view(service)
                    self._caught_up_at = time.monotonic()
                finally:
                    self._models_lock.release()
            else:
                result = app.view(service, catch_up=False)
        except ServiceNotFoundError:
            raise NotFoundError(f"no service named {service!r} in this store") from None
        except UseCaseError:
            raise
        except InsightlogError as exc:
            raise UseCaseError(str(exc)) from None
        notes = [result.note] if result.note else []
        if result.entries_behind:
            notes.append(f"the read models are {result.entries_behind} events behind the ledger; shown as they stand")
        view = _view(service, result.rows[0]["as_of"] if result.rows else "", None, result.source, result.rows)
        return GovernanceView(
            **{
                **view.__dict__,
                "notes": notes,
                "error": result.errors.get(service),
                "entries_behind": result.entries_behind,
            }
        )

    def _basis(self, name: str | None) -> tuple[Basis, list[str]]:
        """The basis called ``name`` (default ``recorded``), with notes for the reader."""
        name = (name or "recorded").strip() or "recorded"
        if name not in BASES:
            raise InputError("basis", f"the basis {name!r} is not one of {', '.join(BASES)}")
        with _translated():
            basis, notes = self.house.usecases.analysis_basis(name)
        return basis, [n.replace("--basis proven: ", "proven basis: ") for n in notes]

    def provider(self, services: list[str], as_of: str | None, basis: str | None) -> tuple[ProviderOverview, list[str]]:
        """The provider page of these services, as of a date (default now), on a basis."""
        chosen, notes = self._basis(basis)
        with _translated():
            app = self.house.usecases
            when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
            return app.provider_overview(services, when, chosen), notes

    def theme(self, service: str, theme: str, as_of: str | None, basis: str | None) -> tuple[ThemeDetail, list[str]]:
        chosen, notes = self._basis(basis)
        with _translated():
            app = self.house.usecases
            when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
            found = app.theme_detail(service, theme, when, chosen)
        if found is None:
            raise NotFoundError(f"no theme {theme!r} in {service!r} as of {when.text}")
        return found, notes

    def compare(
        self, service: str, then: str | None, now: str | None, basis: str | None
    ) -> tuple[Comparison, list[str]]:
        """What leaders believed at ``then`` and at ``now`` (default: the ledger's now)."""
        chosen, notes = self._basis(basis)
        if not then or not then.strip():
            raise InputError("then", "Choose the earlier date to compare with.")
        with _translated():
            app = self.house.usecases
            first = _parse_as_of(then, "then")
            second = _parse_as_of(now, "now") if now and now.strip() else app.now_as_of()
            if first.instant >= second.instant:
                raise InputError("then", "The first date must be earlier than the second.")
            return app.compare(service, first, second, chosen), notes

    def work(self, services: list[str], as_of: str | None = None) -> WorkLists:
        with _translated():
            app = self.house.usecases
            when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
            return app.work_lists(services, when)

    def history(
        self, service: str, *, theme: str | None = None, kind: str | None = None, as_of: str | None = None
    ) -> list[dict[str, Any]]:
        """The history of a service (``insightlog history``), newest first, filtered."""
        with _translated():
            when = _parse_as_of(as_of) if as_of and as_of.strip() else None
            rows = self.house.usecases.history(service, theme=theme or None, as_of=when)
        if kind:
            rows = [r for r in rows if r["kind"] == kind]
        return rows[::-1]

    def report_html(self, service: str, as_of: str | None) -> tuple[str, str]:
        """The service's governance report (``insightlog report``) and its as-of text."""
        with _translated():
            app = self.house.usecases
            when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
            return app.service_report(service, when), when.text

    def report_pdf(self, service: str, as_of: str | None) -> tuple[bytes, str]:
        """The report printed to PDF (``insightlog report --pdf``) and its as-of text."""
        with _translated():
            app = self.house.usecases
            when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
            return app.service_report_pdf(service, when), when.text

    def pack(self, service: str, as_of: str | None, theme: str | None) -> tuple[bytes, dict[str, Any]]:
        """An evidence pack (``insightlog pack``) as bytes, and what went into it."""
        with _translated():
            app = self.house.usecases
            when = _parse_as_of(as_of) if as_of and as_of.strip() else app.now_as_of()
            data, summary = app.pack_bytes(service=service, as_of=when, theme=theme or None)
        info = {"as_of": when.text, "theme": theme or None, "events": summary.events}
        info |= {"checkpoint_size": summary.checkpoint_size, "bytes": len(data)}
        return data, info

    def sheet(
        self,
        service: str,
        data: bytes,
        file_name: str,
        mapping: bytes,
        mapping_name: str,
        *,
        do_import: bool = False,
        preview: int = 20,
    ) -> SheetReport:
        """A spreadsheet and its TOML mapping (``insightlog import-sheet``): a dry run, or the
        import (all or nothing) when ``do_import`` and nothing is wrong. Every event must be of
        ``service``: an account imports into the service it may record for, no other."""
        from insightlog.sheets import MappingError, convert, load_mapping
        from insightlog.sheets.ledger import SheetImportError

        try:
            loaded = load_mapping(mapping, name=mapping_name)
        except MappingError as exc:
            raise InputError("mapping", str(exc)) from None
        app = self.house.usecases
        result = convert(data, loaded, file_name=file_name, now=app.now())
        others = sorted({str(e.get("service")) for e in result.events} - {service})
        if others:
            raise InputError(
                "sheet",
                f"the sheet has events of other services ({', '.join(others[:3])}); "
                f"it can be imported into {service!r} only",
            )
        report = SheetReport(file_name, result.as_dict(preview))
        with _translated():
            check = app.compare_sheet(result)
        report.new, report.unchanged = check.new, check.unchanged
        report.store_problems = [str(p) for p in check.problems]
        if not do_import or not report.ok:
            return report
        try:
            with self._write_lock, _translated():
                outcome = app.import_sheet(result, source_name=file_name)
        except SheetImportError as exc:
            report.store_problems.append(str(exc))
            return report
        report.imported = len(outcome.result.receipts)
        report.skipped = len(outcome.result.skipped)
        report.warnings = list(outcome.warnings)
        if outcome.result.receipts:
            self._catch_up_soon()
        return report

    def vocabulary(self, service: str) -> ServiceVocabulary:
        """The themes, scopes, judgements and actions a record form for ``service`` may offer."""
        with _translated():
            return self.house.usecases.service_vocabulary(service)

    def new_event_id(self) -> str:
        return self.house.usecases.new_event_id()

    def record(self, event: dict[str, Any], door: str) -> Recorded:
        """Record one live event through ``door`` (``web`` or ``api``): ``insightlog record``'s
        use case, so the entry differs from the CLI's only in its source (``live:<door>``).

        The event id is the idempotency key: the same id with the same content is not stored again
        (``stored`` False); with other content it is refused under ``event_id``."""
        from insightlog.interchange.validation import LineError

        if not self.house.usecases.has_service(str(event.get("service"))):
            raise NotFoundError("there is no such service in this store")
        try:
            # Writers take turns anyway (the store's writer lock); taking them in turn here first
            # keeps a process's request threads from each holding a pooled connection while they
            # wait for that lock, which would leave the writer holding it none to write with.
            with self._write_lock, _translated():
                outcome = self.house.usecases.record(event, door=door)
        except LineError as exc:
            raise InputError(exc.field, exc.message) from None
        result = outcome.result
        if result.receipts:
            self._catch_up_soon()
        if not result.receipts:
            return Recorded(event["event_id"], event["service"], False, warnings=tuple(outcome.warnings))
        receipt = result.receipts[0]
        return Recorded(
            receipt.event_id,
            receipt.service,
            True,
            receipt.position,
            receipt.leaf_hash,
            receipt.source,
            tuple(outcome.warnings),
        )

    def entry(self, service: str, event_id: str) -> EntryPage:
        """One entry of ``service`` with what the log says about it later, and its stored object."""
        with _translated():
            app = self.house.usecases
            detail = app.entry_detail(service, event_id)
            stored = app.stored_event(event_id) if detail is not None else None
        if detail is None or stored is None:
            raise NotFoundError(f"no entry {event_id!r} in {service!r}")
        return EntryPage(detail, stored)

    def prove(self, service: str, event_id: str) -> dict[str, Any]:
        """The inclusion proof of one entry of ``service`` (``insightlog prove``)."""
        self.entry(service, event_id)  # refuse an entry of another service
        with _translated():
            return self.house.usecases.prove(event_id)

    def healthy(self) -> bool:
        """Whether the ledger's database answers."""
        try:
            self.house.ledger.head_size()
        except Exception:  # noqa: BLE001 - any failure means unhealthy; the detail is not for the caller
            return False
        return True


def _view(service: str, as_of: str, asked: str | None, source: str, rows: list[dict[str, Any]]) -> GovernanceView:
    first = rows[0] if rows else {}
    return GovernanceView(
        service=service,
        as_of=as_of,
        asked=asked,
        source=source,
        rows=rows,
        taxonomy_version=first.get("taxonomy_version"),
        overdue_reviews=list(first.get("overdue_reviews") or []),
    )


@contextmanager
def _translated() -> Iterator[None]:
    """The application's errors as the web's: an unknown service is not found, the rest one line."""
    from insightlog.errors import InsightlogError, ServiceNotFoundError
    from insightlog.interchange.validation import LineError

    try:
        yield
    except ServiceNotFoundError:
        raise NotFoundError("there is no such service in this store") from None
    except (UseCaseError, LineError):
        raise
    except InsightlogError as exc:
        raise UseCaseError(str(exc)) from None


def _parse_as_of(text: str | None, field: str = "as_of") -> AsOf:
    from insightlog.interchange.timeutil import TimeFormatError, parse_as_of

    try:
        return parse_as_of(text or "")
    except TimeFormatError as exc:
        raise InputError(field, str(exc).replace("--as-of ", "the date ")) from None
