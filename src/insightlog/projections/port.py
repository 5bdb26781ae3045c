"""The governance read models' port: the view interface the projection writes to and the
queries read from (a tracking recorder).

A ``Batch`` is what one projection step writes: the rows of the ``rm_events`` index for the new
notifications with the services they touch marked dirty, or recomputed per-service models (which
clear their service's dirty flag), and the tracking position. The view writes all of it in ONE
transaction, after checking that the tracking position is still the one the batch was computed
from, so each event is applied exactly once and a crash leaves nothing half written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from insightlog.projections.records import Batch, Tracking


class StaleTrackingError(Exception):
    """Raised when the tracking position moved since a batch was computed (another run wrote first)."""


class GovernanceView(ABC):
    """The port the projection writes to and the queries read from (a tracking recorder)."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the read-model tables exist."""

    @abstractmethod
    def create(self, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
        """Create the tables and the tracking record (position 0) if missing."""

    @abstractmethod
    def drop(self) -> None:
        """Drop every read-model table."""

    @abstractmethod
    def reset(self, projection: str, schema_version: int, definitions_version: str, now: str) -> None:
        """Empty every read-model table and set the tracking record back to position 0, in one
        transaction (needs no right to create or drop tables)."""

    @abstractmethod
    def tracking(self, projection: str) -> Tracking | None:
        """The tracking record, or None when there is none."""

    @abstractmethod
    def write(self, projection: str, batch: Batch) -> None:
        """Write the batch and move the tracking record, in one transaction.

        Raises ``StaleTrackingError`` (and writes nothing) when the tracking position is no
        longer ``batch.expected_position``.
        """

    @abstractmethod
    def service_status(self) -> list[dict[str, Any]]:
        """One dict per service: service, as_of, events, last_entry_position, ..., error."""

    @abstractmethod
    def services_with_version(self, names: Iterable[str]) -> list[str]:
        """Services whose taxonomy version is one of ``names``."""

    @abstractmethod
    def dirty_services(self) -> list[str]:
        """Services flagged dirty (indexed events not yet reflected in their rows), sorted."""

    @abstractmethod
    def pending_entries(self, services: Iterable[str]) -> dict[str, int]:
        """For each of ``services``: its indexed entries after the last one its rows reflect."""

    @abstractmethod
    def governance_rows(self, service: str | None = None) -> list[dict[str, Any]]:
        """The stored governance view rows (same shape as ``insightlog.analysis.governance``)."""

    @abstractmethod
    def analysis_document(self, service: str) -> dict[str, Any] | None:
        """The analysis document of a service rebuilt from the tables (as of its stored as_of)."""

    @abstractmethod
    def event_positions(self) -> list[int]:
        """Every position in the ``rm_events`` index, ascending (duplicates kept, for checks)."""
