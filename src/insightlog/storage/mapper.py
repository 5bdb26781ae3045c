"""Mapper and transcoder: pydantic events serialised with ``model_dump(mode="json")`` and orjson.

The shape follows the eventsourcing library's aggregate8 example; ``mode="json"`` turns every
datetime (including freezegun's) into text, so no transcoding registry is needed.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import Mapper, ProgrammingError, StoredEvent, Transcoder, Transcoding
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

from insightlog.aggregates.base import STORED_TOPICS, DomainEvent

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEventProtocol


class PydanticMapper(Mapper[UUID]):
    """Converts pydantic domain events to stored events and back."""

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        cls = domain_event.__class__
        topic = STORED_TOPICS.get(cls) or get_topic(cls)
        stored_state = _dump_event(cast(BaseModel, domain_event))
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=stored_state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[Any]:
        state = self.decode_state(stored_event)
        cls = _event_class(stored_event.topic)
        # The library resolves these topics too (the class of a new aggregate, of a snapshot's).
        for name in ("originator_topic", "topic"):
            if name in state:
                _aggregate_class(state[name])
        event: DomainEventProtocol[Any] = cls(**state)
        return event

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The event's JSON state, without building the domain event (fast path for readers)."""
        stored_state = stored_event.state
        if self.cipher:
            stored_state = self.cipher.decrypt(stored_state)
        if self.compressor:
            stored_state = self.compressor.decompress(stored_state)
        return cast(dict[str, Any], self.transcoder.decode(stored_state))


def _event_class(topic: Any) -> Any:
    """The event class of a stored topic; only insightlog's own event classes are resolved, so a
    row written outside insightlog cannot make a reader import another module."""
    cls = _resolve_own(topic)
    if not isinstance(cls, type) or not issubclass(cls, DomainEvent):
        raise _refused(topic)
    return cls


def _aggregate_class(topic: Any) -> Any:
    from eventsourcing.domain import BaseAggregate

    cls = _resolve_own(topic)
    if not isinstance(cls, type) or not issubclass(cls, BaseAggregate):
        raise _refused(topic)
    return cls


def _resolve_own(topic: Any) -> Any:
    if not isinstance(topic, str) or not topic.startswith("insightlog.") or ":" not in topic:
        raise _refused(topic)
    try:
        return resolve_topic(topic)
    except Exception:  # noqa: BLE001 - any topic that does not resolve
        raise _refused(topic) from None


def _refused(topic: Any) -> Exception:
    from insightlog.errors import StoredDataError

    text = repr(topic)
    if len(text) > 80:
        text = text[:79] + "…"
    return StoredDataError(
        f"a stored event names the class {text}, which insightlog never writes; run 'insightlog verify'"
    )


def _dump_event(event: BaseModel) -> bytes:
    """``orjson.dumps(event.model_dump(mode="json"))``, byte for byte, without the dump.

    orjson writes the event's own fields directly (UUIDs and aware datetimes exactly as pydantic's
    JSON mode writes them, with ``OPT_UTC_Z``); a nested model (a snapshot's state) or a datetime
    subclass (freezegun's) goes through ``_json_default``. A model with extra fields keeps them
    outside ``__dict__``, so it is dumped by pydantic.
    """
    if event.__pydantic_extra__:
        return orjson.dumps(event.model_dump(mode="json"))
    return orjson.dumps(event.__dict__, default=_json_default, option=orjson.OPT_UTC_Z)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, datetime):  # a subclass orjson does not know, as freezegun's FakeDatetime
        text = obj.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


class OrjsonTranscoder(Transcoder):
    """JSON by orjson; pydantic does the typing, so nothing is registered."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)

    def register(self, transcoding: Transcoding) -> None:  # pragma: no cover
        raise ProgrammingError("use pydantic models, not transcodings")
