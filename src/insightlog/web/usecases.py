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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from insightlog.errors import InsightlogError

if TYPE_CHECKING:
    from insightlog.application.ledger import Ledger
    from insightlog.application.recording import EntryDetail, ServiceVocabulary
    from insightlog.bootstrap import House


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

    def governance(self, service: str, as_of: str | None = None) -> GovernanceView: ...

    def healthy(self) -> bool: ...

    def close(self) -> None: ...


class LedgerUseCases:
    """The web's use cases over one house: each is one call of the application's ``UseCases``."""

    def __init__(self, house: House) -> None:
        self.house = house
        # One catch-up of the read models at a time in this process (other processes are kept
        # apart by the projection's tracking record).
        self._models_lock = threading.Lock()

    @property
    def ledger(self) -> Ledger:
        return self.house.ledger

    def close(self) -> None:
        self.house.close()

    def services(self) -> list[str]:
        """Names of the services with at least one event, sorted."""
        return self.house.usecases.services()

    def governance(self, service: str, as_of: str | None = None) -> GovernanceView:
        """The governance view of one service: now (read models) or as of ``as_of`` (from the events)."""
        from insightlog.errors import InsightlogError, ServiceNotFoundError
        from insightlog.interchange.timeutil import TimeFormatError, parse_as_of

        app = self.house.usecases
        try:
            if as_of is not None and as_of.strip():
                try:
                    when = parse_as_of(as_of)
                except TimeFormatError as exc:
                    raise InputError("as_of", str(exc).replace("--as-of ", "the date ")) from None
                result = app.view(service, when)
                return _view(service, when.text, as_of.strip(), "events", result.rows)
            with self._models_lock:
                result = app.view(service)
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
            with _translated():
                outcome = self.house.usecases.record(event, door=door)
        except LineError as exc:
            raise InputError(exc.field, exc.message) from None
        result = outcome.result
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
