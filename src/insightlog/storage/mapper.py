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

from insightlog.aggregates.base import STORED_TOPICS

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
        event: DomainEventProtocol[Any] = resolve_topic(stored_event.topic)(**self.decode_state(stored_event))
        return event

    def decode_state(self, stored_event: StoredEvent) -> dict[str, Any]:
        """The event's JSON state, without building the domain event (fast path for readers)."""
        stored_state = stored_event.state
        if self.cipher:
            stored_state = self.cipher.decrypt(stored_state)
        if self.compressor:
            stored_state = self.compressor.decompress(stored_state)
        return cast(dict[str, Any], self.transcoder.decode(stored_state))


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
