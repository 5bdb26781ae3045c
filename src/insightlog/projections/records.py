"""The records the projection and its view exchange: the tracking record, a batch (what one
projection step writes, in one transaction), and a service's computed rows or its failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from insightlog.analysis.governance import ServiceGovernance


@dataclass(frozen=True)
class Tracking:
    """The tracking record of a projection."""

    projection: str
    position: int
    entry_position: int
    schema_version: int
    definitions_version: str
    updated_at: str


@dataclass
class ServiceFailure:
    """A service whose analysis raised: its rows are cleared and the error kept in its status."""

    service: str
    as_of: str
    error: str
    entry_count: int = 0
    last_position: int = 0
    taxonomy_version: str | None = None


@dataclass
class PreparedService:
    """A service's computed models as the rows of its tables (values in column order): what a
    phase-2 worker process sends back, smaller than the analysis document it came from."""

    service: str
    as_of: str
    taxonomy_version: str | None
    definitions_version: str
    isolated_themes: str
    overdue_reviews: str
    entry_count: int
    last_position: int
    tables: dict[str, list[tuple[Any, ...]]]
    digests: str = ""  # rows.service_digests of these rows and status fields


@dataclass
class Batch:
    """One projection step, written atomically.

    ``dirty`` names the services whose rows no longer reflect every indexed event (the services
    of ``events``, or of an added taxonomy version): they are flagged, a placeholder status row
    is made for a service not seen before. ``services`` replace their service's rows and status
    (flag cleared).
    """

    expected_position: int
    position: int
    entry_position: int
    updated_at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    services: list[ServiceResult] = field(default_factory=list)
    dirty: list[str] = field(default_factory=list)


# A service's computed models (as the analysis gives them, or as table rows) or its failure.
ServiceResult: TypeAlias = "ServiceGovernance | PreparedService | ServiceFailure"
