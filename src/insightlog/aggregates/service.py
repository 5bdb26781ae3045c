"""The service ledger: one aggregate per regulated service, one event per history entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event
from eventsourcing.utils import get_topic
from pydantic import Field

from insightlog.aggregates.base import Aggregate, AggregateSnapshot, SnapshotState
from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self
from insightlog.interchange.timeutil import format_utc
from insightlog.proof.frontier import frontier_extend, frontier_root

NAMESPACE = uuid5(NAMESPACE_URL, "https://insightlog.invalid/ledger")
SCOPE_FIELDS = ("location", "team", "shift")


class RecordedOrderError(ValueError):
    """Raised when an entry would be appended before the service's latest recorded time."""


class ThemeCycleError(ValueError):
    """Raised when a theme definition would make the parent links form a cycle."""


class ServiceLedgerState(SnapshotState):
    name: str
    latest_recorded_at: str | None
    entry_count: int
    themes: dict[str, str | None]
    # Absent from snapshots taken before interchange 1.1, which could hold no withdrawal.
    withdrawn: dict[str, list[str]] = Field(default_factory=dict)
    # None when restored from such a snapshot: the registrations before it are not known here.
    registrations: list[str] | None = None
    # Absent from snapshots taken before 0.2: None, the scopes used before are not known here
    # (the door then reads the service's log instead).
    scopes: dict[str, list[str]] | None = None
    registered_at: str | None = None


class ServiceLedger(Aggregate):
    """A service's history. State is only what the append rules need; entries live in events."""

    class Snapshot(AggregateSnapshot):
        state: ServiceLedgerState

    class Opened(Aggregate.Created):
        name: str

    class EntryAppended(Aggregate.Event):
        entry: dict[str, Any]
        position: int
        appended_at: str
        source: str

        def apply(self, aggregate: ServiceLedger) -> None:
            aggregate.apply_entry(self.entry)

    @staticmethod
    def create_id(name: str) -> UUID:
        return uuid5(NAMESPACE, f"service:{name}")

    @event(Opened)
    def __init__(self, name: str) -> None:
        self.name = name
        self.latest_recorded_at: str | None = None
        self.entry_count = 0
        self.themes: dict[str, str | None] = {}
        # {withdrawn event id: [the EntryWithdrawn's id, its recorded_at]}: withdrawals are rare.
        self.withdrawn: dict[str, list[str]] = {}
        # The ids of the service's ServiceRegistered events (None: unknown, see the snapshot state).
        self.registrations: list[str] | None = []
        # {location|team|shift: values declared in ServiceRegistered.scopes or used}: what a live
        # record may name without saying the scope is new (None: unknown, see the snapshot state).
        self.scopes: dict[str, list[str]] | None = {name: [] for name in SCOPE_FIELDS}
        self.registered_at: str | None = None  # the first ServiceRegistered's recorded_at

    # Guards ------------------------------------------------------------------------------

    def check_recorded_order(self, recorded_at: str, *, backfill: bool) -> None:
        """Entries are appended in recorded order unless the caller declared a back-fill."""
        if backfill or self.latest_recorded_at is None:
            return
        if recorded_at < self.latest_recorded_at:
            raise RecordedOrderError(
                f"recorded_at {recorded_at} is earlier than the latest recorded_at "
                f"{self.latest_recorded_at} stored for service {self.name!r} "
                "(declare a back-fill to append earlier history)"
            )

    def check_no_theme_cycle(self, theme: str, parent: str | None, themes: dict[str, str | None] | None = None) -> None:
        """A theme's parent chain must not lead back to the theme."""
        links = dict(self.themes if themes is None else themes)
        links[theme] = parent
        try:
            for _ancestor in ancestors_or_self(theme, links.get):
                pass
        except ParentCycleError:
            raise ThemeCycleError(
                f"theme {theme!r} with parent {parent!r} makes the parent links form a cycle"
            ) from None

    # Commands ------------------------------------------------------------------------------

    def check_not_before_registration(self, recorded_at: str, *, backfill: bool) -> None:
        """A back-filled entry may not be recorded before its service was registered."""
        if backfill and self.registered_at is not None and recorded_at < self.registered_at:
            raise RecordedOrderError(
                f"recorded_at {recorded_at} is before service {self.name!r} was registered "
                f"({self.registered_at}); a back-fill cannot reach before the registration"
            )

    def append(
        self, entry: dict[str, Any], *, position: int, appended_at: datetime, source: str, backfill: bool
    ) -> None:
        """Append one validated interchange entry (its 13 fields, timestamps as text)."""
        self.check_recorded_order(entry["recorded_at"], backfill=backfill)
        self.check_not_before_registration(entry["recorded_at"], backfill=backfill)
        if entry["kind"] == "ThemeDefined":
            self.check_no_theme_cycle(entry["payload"]["theme"], entry["payload"].get("parent"))
        # An explicit trigger (no @event decorator): the decorator's argument mapping cost more
        # than the rest of an append in a bulk import (docs/performance.md).
        self.trigger_event(
            self.EntryAppended, entry=entry, position=position, appended_at=_text(appended_at), source=source
        )

    def apply_entry(self, entry: dict[str, Any]) -> None:
        """What an ``EntryAppended`` changes in the state the append rules need."""
        self.entry_count += 1
        if self.latest_recorded_at is None or entry["recorded_at"] > self.latest_recorded_at:
            self.latest_recorded_at = entry["recorded_at"]
        kind = entry["kind"]
        if kind == "ThemeDefined":
            self.themes[entry["payload"]["theme"]] = entry["payload"].get("parent")
        elif kind == "EntryWithdrawn":
            self.withdrawn[entry["payload"]["withdraws"]] = [entry["event_id"], entry["recorded_at"]]
        elif kind == "ServiceRegistered":
            if self.registrations is not None:
                self.registrations.append(entry["event_id"])
            if self.scopes is not None:
                if self.registered_at is None or entry["recorded_at"] < self.registered_at:
                    self.registered_at = entry["recorded_at"]
                for declared in entry["payload"].get("scopes") or ():
                    if isinstance(declared, str):
                        scope, _, value = declared.partition(":")
                        self._learn_scope(scope, value)
        scopes = self.scopes
        if scopes is not None:
            for name in SCOPE_FIELDS:
                value = entry[name]
                if value is not None and value not in scopes[name]:
                    scopes[name].append(value)

    def _learn_scope(self, scope: str, value: str) -> None:
        if self.scopes is not None and scope in self.scopes and value and value not in self.scopes[scope]:
            self.scopes[scope].append(value)


class EventKey(Aggregate):
    """Index of an event id: makes ``event_id`` unique per store, finds its service and kind, and
    keeps the leaf hash committed when it was appended (``verify`` compares against it)."""

    class Snapshot(AggregateSnapshot):
        state: SnapshotState

    class Registered(Aggregate.Created):
        event_id: str
        service: str
        kind: str
        digest: str
        position: int
        leaf_hash: str

    @staticmethod
    def create_id(event_id: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE, f"event:{event_id}")

    @classmethod
    def registration(
        cls, *, event_id: str, service: str, kind: str, digest: str, position: int, leaf_hash: str
    ) -> EventKey.Registered:
        """The ``Registered`` event that starts the key of ``event_id``, without building the
        aggregate (a bulk import saves these events as they are; reading the key builds it)."""
        return cls.Registered(
            originator_id=cls.create_id(event_id),
            originator_version=cls.INITIAL_VERSION,
            timestamp=cls.Registered.create_timestamp(),
            originator_topic=_EVENT_KEY_TOPIC,
            event_id=event_id,
            service=service,
            kind=kind,
            digest=digest,
            position=position,
            leaf_hash=leaf_hash,
        )

    @event(Registered)
    def __init__(self, event_id: str, service: str, kind: str, digest: str, position: int, leaf_hash: str) -> None:
        self.event_id = event_id
        self.service = service
        self.kind = kind
        self.digest = digest
        self.position = position
        self.leaf_hash = leaf_hash


_EVENT_KEY_TOPIC = get_topic(EventKey)


class HeadState(SnapshotState):
    origin: str
    size: int
    frontier: list[str]


class LedgerHead(Aggregate):
    """The store-wide head: the log's origin (its name in checkpoints), the number of entries,
    and the Merkle tree frontier over them.

    Every write includes the head in its transaction, so positions are dense, unique and in
    commit order, and concurrent writers meet in an optimistic-concurrency conflict.
    """

    class Snapshot(AggregateSnapshot):
        state: HeadState

    class Started(Aggregate.Created):
        origin: str

    class Advanced(Aggregate.Event):
        size: int
        frontier: list[str]

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return uuid5(NAMESPACE, "ledger-head")

    @event(Started)
    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.size = 0
        self.frontier: list[str] = []

    def extend(self, leaf_hashes: list[bytes]) -> None:
        """Add leaves to the tree: compute the new frontier, then record it."""
        frontier, size = frontier_extend([bytes.fromhex(h) for h in self.frontier], self.size, leaf_hashes)
        self.advance(size=size, frontier=[h.hex() for h in frontier])

    def root(self) -> bytes:
        return frontier_root([bytes.fromhex(h) for h in self.frontier])

    @event(Advanced)
    def advance(self, size: int, frontier: list[str]) -> None:
        if size < self.size:
            raise ValueError("the ledger head never moves backwards")
        self.size = size
        self.frontier = list(frontier)


def _text(value: datetime) -> str:
    return format_utc(value)
