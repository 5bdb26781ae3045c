"""The ledger entry: one stored interchange event, as every reader sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

ENVELOPE_FIELDS = (
    "event_id",
    "service",
    "theme",
    "location",
    "team",
    "shift",
    "kind",
    "actor_role",
    "actor_id",
    "record",
    "observed_at",
    "recorded_at",
    "payload",
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of a service's history as stored in the ledger.

    ``observed_at`` is valid time, ``recorded_at`` transaction time (both whole-second, aware UTC
    datetimes); ``position`` is the ledger's own append order across the whole store (1-based,
    dense), ``appended_at`` the ledger's own clock when it was appended, and ``source`` its
    provenance: ``live``, ``import:<file name>`` or ``backfill:<file name>``.
    """

    event_id: str
    service: str
    theme: str | None
    location: str | None
    team: str | None
    shift: str | None
    kind: str
    actor_role: str
    actor_id: str
    record: str | None
    observed_at: datetime
    recorded_at: datetime
    payload: Mapping[str, Any]
    position: int = 0
    appended_at: datetime | None = None
    source: str = "live"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_backfill(self) -> bool:
        return self.source.startswith("backfill:")

    @property
    def is_imported(self) -> bool:
        return self.source != "live"
