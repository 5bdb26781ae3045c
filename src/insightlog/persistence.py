"""Mapper and transcoder: pydantic events serialised with ``model_dump(mode="json")`` and orjson.

The shape follows the eventsourcing library's aggregate8 example; ``mode="json"`` turns every
datetime (including freezegun's) into text, so no transcoding registry is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import orjson
from eventsourcing.persistence import Mapper, ProgrammingError, StoredEvent, Transcoder, Transcoding
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import BaseModel

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEventProtocol


class PydanticMapper(Mapper):  # type: ignore[type-arg]
    """Converts pydantic domain events to stored events and back."""

    def to_stored_event(self, domain_event: DomainEventProtocol[Any]) -> StoredEvent:
        topic = get_topic(domain_event.__class__)
        event_state = cast(BaseModel, domain_event).model_dump(mode="json")
        stored_state = self.transcoder.encode(event_state)
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
        return resolve_topic(stored_event.topic)(**self.decode_state(stored_event))

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The event's JSON state, without building the domain event (fast path for readers)."""
        stored_state = stored_event.state
        if self.cipher:
            stored_state = self.cipher.decrypt(stored_state)
        if self.compressor:
            stored_state = self.compressor.decompress(stored_state)
        return cast(dict[str, Any], self.transcoder.decode(stored_state))


class OrjsonTranscoder(Transcoder):
    """JSON by orjson; pydantic does the typing, so nothing is registered."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)

    def register(self, transcoding: Transcoding) -> None:  # pragma: no cover
        raise ProgrammingError("use pydantic models, not transcodings")
