"""Checkpoints stored in the ledger: signed tree heads, co-signatures and timestamp tokens."""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import event

from insightlog.aggregates.base import Aggregate, AggregateSnapshot, SnapshotState
from insightlog.aggregates.service import NAMESPACE


class CheckpointRecord(Aggregate):
    """One checkpoint of the store's Merkle tree (id from origin and size: one per size)."""

    class Snapshot(AggregateSnapshot):
        state: SnapshotState

    class Taken(Aggregate.Created):
        origin: str
        size: int
        root_hash: str
        # The signed checkpoint's own time, stored under this name since 0.1.0 (it shadows the
        # event's datetime; renaming it would make existing stores unreadable).
        timestamp: str  # type: ignore[assignment]
        key_id: str
        role: str
        signature: str
        public_key_pem: str

    class Cosigned(Aggregate.Event):
        key_id: str
        role: str
        signature: str
        public_key_pem: str

    class Timestamped(Aggregate.Event):
        token: str
        tsa_url: str

    @staticmethod
    def create_id(origin: str, size: int, **_: object) -> UUID:
        return uuid5(NAMESPACE, f"checkpoint:{origin}:{size}")

    @event(Taken)
    def __init__(
        self,
        origin: str,
        size: int,
        root_hash: str,
        timestamp: str,
        key_id: str,
        role: str,
        signature: str,
        public_key_pem: str,
    ) -> None:
        self.origin = origin
        self.size = size
        self.root_hash = root_hash
        self.timestamp = timestamp
        self.signatures = [{"key_id": key_id, "role": role, "signature": signature}]
        self.keys = {key_id: public_key_pem}
        self.tsa_token: str | None = None

    def cosign(self, key_id: str, role: str, signature: str, public_key_pem: str) -> None:
        """Add a witness's signature; a key signs a checkpoint once."""
        if key_id in self.keys:
            raise ValueError(f"key {key_id[:16]} has already signed checkpoint {self.size}")
        self._cosign(key_id=key_id, role=role, signature=signature, public_key_pem=public_key_pem)

    @event(Cosigned)
    def _cosign(self, key_id: str, role: str, signature: str, public_key_pem: str) -> None:
        self.signatures.append({"key_id": key_id, "role": role, "signature": signature})
        self.keys[key_id] = public_key_pem

    def timestamp_with(self, token: str, tsa_url: str) -> None:
        """Attach an RFC 3161 token; a checkpoint keeps its first one."""
        if self.tsa_token is not None:
            raise ValueError(f"checkpoint {self.size} already has a timestamp token")
        self._timestamp(token=token, tsa_url=tsa_url)

    @event(Timestamped)
    def _timestamp(self, token: str, tsa_url: str) -> None:
        self.tsa_token = token
