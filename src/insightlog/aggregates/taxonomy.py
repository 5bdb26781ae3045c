"""A provider-added taxonomy version, stored in the ledger as an immutable aggregate."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from insightlog.aggregates.base import Aggregate, AggregateSnapshot, SnapshotState, stored_as

NAMESPACE = uuid5(NAMESPACE_URL, "https://insightlog.invalid/taxonomy")


@stored_as("insightlog.taxonomy:Taxonomy")
class Taxonomy(Aggregate):
    """A provider-added taxonomy version, stored in the ledger. It never changes once added."""

    class Snapshot(AggregateSnapshot):
        state: SnapshotState

    class Added(Aggregate.Created):
        name: str
        statements: list[dict[str, str]]
        digest: str

    @staticmethod
    def create_id(name: str, **_: Any) -> UUID:
        return uuid5(NAMESPACE, f"taxonomy:{name}")

    @event(Added)
    def __init__(self, name: str, statements: list[dict[str, str]], digest: str) -> None:
        self.name = name
        self.statements = statements
        self.digest = digest


def added_topic() -> str:
    """The notification topic of a provider-added version (for readers of the log)."""
    return ADDED_TOPIC


# Stored topics are strings in the database: 0.1.0 kept this class in ``insightlog.taxonomy``,
# and every store keeps that name (``stored_as``), so old and new stores read alike.
ADDED_TOPIC = "insightlog.taxonomy:Taxonomy.Added"
