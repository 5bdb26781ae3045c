"""The ledger entry: one stored interchange event, as every reader sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from insightlog.interchange.timeutil import format_utc

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
    provenance: ``live`` (``live:web``, ``live:api`` from the web's doors), ``import:<file name>`` or ``backfill:<file name>``.
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
        return interchange_dict(self)

    @property
    def withdraws(self) -> str | None:
        """The event this entry withdraws, when it is an ``EntryWithdrawn`` (interchange 1.1)."""
        if self.kind != "EntryWithdrawn":
            return None
        value = self.payload.get("withdraws")
        return value if isinstance(value, str) and value else None

    @property
    def corrects(self) -> str | None:
        """The withdrawn event this entry replaces (payload ``corrects``), if it names one."""
        if self.kind == "EntryWithdrawn":
            return None
        value = self.payload.get("corrects")
        return value if isinstance(value, str) and value else None

    @property
    def is_backfill(self) -> bool:
        return self.source.startswith("backfill:")

    @property
    def is_live(self) -> bool:
        """Recorded as it happened, through any door: ``live`` (the CLI), ``live:web``, ``live:api``."""
        return is_live_source(self.source)

    @property
    def is_imported(self) -> bool:
        return not self.is_live


def is_live_source(source: str) -> bool:
    return source == "live" or source.startswith("live:")


def interchange_dict(event: Any) -> dict[str, Any]:
    """The 13 interchange fields of any object that has them, in the canonical order."""
    return {
        "event_id": event.event_id,
        "service": event.service,
        "theme": event.theme,
        "location": event.location,
        "team": event.team,
        "shift": event.shift,
        "kind": event.kind,
        "actor_role": event.actor_role,
        "actor_id": event.actor_id,
        "record": event.record,
        "observed_at": _utc_text(event.observed_at),
        "recorded_at": _utc_text(event.recorded_at),
        "payload": event.payload,
    }


def _utc_text(value: datetime) -> str:
    return format_utc(value)
