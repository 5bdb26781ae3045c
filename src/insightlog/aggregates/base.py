"""Pydantic-based aggregate and event base classes (after eventsourcing's aggregate8 example)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate as BaseAggregate
from eventsourcing.domain import CanInitAggregate, CanMutateAggregate, CanSnapshotAggregate
from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime


class Aggregate(BaseAggregate):
    class Event(DomainEvent, CanMutateAggregate):  # type: ignore[misc]
        pass

    class Created(Event, CanInitAggregate):  # type: ignore[misc]
        originator_topic: str


class SnapshotState(BaseModel):
    model_config = ConfigDict(extra="allow")


class AggregateSnapshot(DomainEvent, CanSnapshotAggregate):  # type: ignore[misc]
    topic: str
    state: SnapshotState
