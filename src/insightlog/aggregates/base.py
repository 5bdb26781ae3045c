"""Pydantic-based aggregate and event base classes (after eventsourcing's aggregate8 example)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate as BaseAggregate
from eventsourcing.domain import CanInitAggregate, CanMutateAggregate, CanSnapshotAggregate
from eventsourcing.utils import register_topic
from pydantic import BaseModel, ConfigDict

T = TypeVar("T", bound=type)

# Stored topics are strings in the database. A class that moved keeps the topic it was first
# stored under: the mapper writes that topic for its events, and the library resolves it.
STORED_TOPICS: dict[type, str] = {}


def stored_as(topic: str) -> Callable[[T], T]:
    """Keep an aggregate's stored topic (``module:Class``) and its events' (``module:Class.Event``)."""

    def register(cls: T) -> T:
        register_topic(topic, cls)
        STORED_TOPICS[cls] = topic
        for name, value in vars(cls).items():
            if isinstance(value, type) and issubclass(value, DomainEvent):
                STORED_TOPICS[value] = f"{topic}.{name}"
        return cls

    return register


class DomainEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    originator_id: UUID
    originator_version: int
    timestamp: datetime


class Aggregate(BaseAggregate):
    class Event(DomainEvent, CanMutateAggregate[UUID]):
        pass

    class Created(Event, CanInitAggregate[UUID]):
        originator_topic: str


class SnapshotState(BaseModel):
    model_config = ConfigDict(extra="allow")


class AggregateSnapshot(DomainEvent, CanSnapshotAggregate[UUID]):
    topic: str
    state: SnapshotState
