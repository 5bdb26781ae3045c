"""The ledger entry: one stored interchange event, as every reader sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
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

    def interchange(self) -> dict[str, Any]:
        """The 13 interchange fields, in the canonical order (timestamps as ``…Z`` text)."""
        return {
            "event_id": self.event_id,
            "service": self.service,
            "theme": self.theme,
            "location": self.location,
            "team": self.team,
            "shift": self.shift,
            "kind": self.kind,
            "actor_role": self.actor_role,
            "actor_id": self.actor_id,
            "record": self.record,
            "observed_at": _utc_text(self.observed_at),
            "recorded_at": _utc_text(self.recorded_at),
            "payload": self.payload,
        }

    @property
    def is_backfill(self) -> bool:
        return self.source.startswith("backfill:")

    @property
    def is_imported(self) -> bool:
        return self.source != "live"


def _utc_text(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
