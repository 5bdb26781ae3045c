"""Checkpoints: signed tree heads of the store's Merkle tree.

A ``Checkpoint`` names the tree by ``origin`` (the store's id), its ``size``, its ``root_hash``
and the whole-second UTC ``timestamp`` at which it was taken. Its *signed body* is the text
(in the style of C2SP tlog-checkpoint, with the timestamp as an extension line)::

    <origin>\\n
    <size, decimal>\\n
    <root hash, standard base64>\\n
    <timestamp, YYYY-MM-DDTHH:MM:SSZ>\\n

Ed25519 signatures (by the provider, and optionally co-signatures by witnesses) are over exactly
those bytes, so ``openssl pkeyutl -verify -rawin`` can check them; an RFC 3161 timestamp token's
message imprint is SHA-256 of the same bytes.

``SignedCheckpoint`` bundles a checkpoint with its signatures and optional timestamp token, and
serialises as one line of JSON (orjson), used both in the database and in the external
checkpoint file (JSON Lines, one checkpoint per line). See ``docs/proof-format.md``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from insightlog.errors import InsightlogError
from insightlog.proof.keys import PROVIDER, ROLES, key_id

CHECKPOINT_FORMAT_VERSION = 1
_TIMESTAMP = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_DECIMAL = re.compile(r"\A(0|[1-9][0-9]*)\Z")
_HEX64 = re.compile(r"\A[0-9a-f]{64}\Z")
_BASE64_32 = re.compile(r"\A[A-Za-z0-9+/]{43}=\Z")


class CheckpointFormatError(InsightlogError, ValueError):
    """Raised when a checkpoint, its body text or its JSON form is malformed."""


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise CheckpointFormatError(f"timestamp {text!r} is not YYYY-MM-DDTHH:MM:SSZ")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise CheckpointFormatError(f"timestamp {text!r} is not a valid date and time") from None


def _b64decode(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise CheckpointFormatError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise CheckpointFormatError(f"{what} is not valid base64") from None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: ``size`` leaves of the log ``origin`` hash to ``root_hash`` at ``timestamp``."""

    origin: str
    size: int
    root_hash: bytes
    timestamp: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise CheckpointFormatError(f"origin {self.origin!r} must be non-empty, on one line")
        if self.origin != self.origin.strip():
            raise CheckpointFormatError(f"origin {self.origin!r} has surrounding white space")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise CheckpointFormatError(f"size {self.size!r} is not a non-negative integer")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise CheckpointFormatError("root_hash must be 32 bytes")
        ts = self.timestamp
        if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
            raise CheckpointFormatError(f"timestamp {ts!r} must be an aware datetime")
        if ts.microsecond:
            raise CheckpointFormatError(f"timestamp {ts.isoformat()} is not a whole second")
        object.__setattr__(self, "timestamp", ts.astimezone(UTC))

    def signed_body(self) -> bytes:
        """The exact bytes that are signed and timestamped."""
        return signed_body(self)


def signed_body(checkpoint: Checkpoint) -> bytes:
    """``origin\\nsize\\nbase64(root_hash)\\ntimestamp\\n`` as UTF-8."""
    return (
        f"{checkpoint.origin}\n{checkpoint.size}\n"
        f"{base64.b64encode(checkpoint.root_hash).decode('ascii')}\n"
        f"{_format_time(checkpoint.timestamp)}\n"
    ).encode()


def parse_signed_body(body: bytes) -> Checkpoint:
    """Parse a signed body back into a ``Checkpoint``; the round trip must be byte-exact."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointFormatError("checkpoint body is not UTF-8") from None
    lines = text.split("\n")
    if len(lines) != 5 or lines[4] != "":
        raise CheckpointFormatError("checkpoint body must be exactly four newline-ended lines")
    origin, size_text, root_text, time_text = lines[:4]
    if not _DECIMAL.fullmatch(size_text):
        raise CheckpointFormatError(f"checkpoint size {size_text!r} is not a decimal number")
    if not _BASE64_32.fullmatch(root_text):
        raise CheckpointFormatError("checkpoint root hash is not 32 bytes in base64")
    checkpoint = Checkpoint(origin, int(size_text), _b64decode(root_text, "root hash"), _parse_time(time_text))
    if signed_body(checkpoint) != body:
        raise CheckpointFormatError("checkpoint body is not in canonical form")
    return checkpoint


@dataclass(frozen=True, slots=True)
class Signature:
    """An Ed25519 signature over a checkpoint's signed body, by the key ``key_id`` in ``role``."""

    key_id: str
    role: str
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _HEX64.fullmatch(self.key_id):
            raise CheckpointFormatError(f"key id {self.key_id!r} is not 64 lowercase hex digits")
        if self.role not in ROLES:
            raise CheckpointFormatError(f"role {self.role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(self.signature, bytes) or len(self.signature) != 64:
            raise CheckpointFormatError("an Ed25519 signature is 64 bytes")


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey, role: str = PROVIDER) -> Signature:
    """Sign the checkpoint's body with ``private_key`` as ``role`` (``provider`` or ``witness``)."""
    return Signature(key_id(private_key.public_key()), role, private_key.sign(signed_body(checkpoint)))


def verify_signature(checkpoint: Checkpoint, signature: Signature, public_key: Ed25519PublicKey) -> bool:
    """True when ``signature`` is ``public_key``'s valid signature over the checkpoint's body."""
    if key_id(public_key) != signature.key_id:
        return False
    try:
        public_key.verify(signature.signature, signed_body(checkpoint))
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with its signatures and, optionally, an RFC 3161 timestamp token (DER)."""

    checkpoint: Checkpoint
    signatures: tuple[Signature, ...] = ()
    tsa_token: bytes | None = None

    def with_signature(self, signature: Signature) -> SignedCheckpoint:
        """A copy with ``signature`` added (replacing an earlier one by the same key)."""
        kept = tuple(s for s in self.signatures if s.key_id != signature.key_id)
        return replace(self, signatures=(*kept, signature))

    def with_tsa_token(self, token: bytes) -> SignedCheckpoint:
        """A copy carrying the timestamp token ``token`` (DER ContentInfo)."""
        return replace(self, tsa_token=token)

    def signatures_by(self, role: str) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if s.role == role)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (see ``to_json``)."""
        cp = self.checkpoint
        return {
            "v": CHECKPOINT_FORMAT_VERSION,
            "origin": cp.origin,
            "size": cp.size,
            "root_hash": cp.root_hash.hex(),
            "timestamp": _format_time(cp.timestamp),
            "signatures": [
                {
                    "key_id": s.key_id,
                    "role": s.role,
                    "signature": base64.b64encode(s.signature).decode("ascii"),
                }
                for s in self.signatures
            ],
            "tsa_token": (None if self.tsa_token is None else base64.b64encode(self.tsa_token).decode("ascii")),
        }

    def to_json(self) -> bytes:
        """One line of JSON, no trailing newline."""
        return orjson.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> SignedCheckpoint:
        """Parse the form written by ``to_dict``; unknown or missing members are errors."""
        if not isinstance(data, dict):
            raise CheckpointFormatError("a checkpoint record is a JSON object")
        expected = {"v", "origin", "size", "root_hash", "timestamp", "signatures", "tsa_token"}
        if set(data) != expected:
            missing, extra = expected - set(data), set(data) - expected
            raise CheckpointFormatError(
                f"checkpoint record members differ: missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        if data["v"] != CHECKPOINT_FORMAT_VERSION:
            raise CheckpointFormatError(f"checkpoint record version {data['v']!r} is not 1")
        root = data["root_hash"]
        if not isinstance(root, str) or not _HEX64.fullmatch(root):
            raise CheckpointFormatError("root_hash is not 64 lowercase hex digits")
        checkpoint = Checkpoint(data["origin"], data["size"], bytes.fromhex(root), _parse_time(data["timestamp"]))
        raw_signatures = data["signatures"]
        if not isinstance(raw_signatures, list):
            raise CheckpointFormatError("signatures is not a list")
        signatures = []
        for item in raw_signatures:
            if not isinstance(item, dict) or set(item) != {"key_id", "role", "signature"}:
                raise CheckpointFormatError("a signature has members key_id, role, signature")
            signatures.append(Signature(item["key_id"], item["role"], _b64decode(item["signature"], "signature")))
        token = data["tsa_token"]
        return cls(
            checkpoint,
            tuple(signatures),
            None if token is None else _b64decode(token, "tsa_token"),
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> SignedCheckpoint:
        """Parse one JSON record written by ``to_json``."""
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise CheckpointFormatError(f"checkpoint record is not JSON: {exc}") from None
        return cls.from_dict(parsed)


def dump_jsonl(checkpoints: Iterable[SignedCheckpoint]) -> bytes:
    """JSON Lines: one checkpoint record per line, each line ending in a newline."""
    return b"".join(c.to_json() + b"\n" for c in checkpoints)


def load_jsonl(data: bytes) -> list[SignedCheckpoint]:
    """Parse a JSON Lines checkpoint file; blank lines are not allowed except a final newline."""
    if not data:
        return []
    if not data.endswith(b"\n"):
        raise CheckpointFormatError("checkpoint file does not end with a newline")
    records = []
    for number, line in enumerate(data[:-1].split(b"\n"), start=1):
        try:
            records.append(SignedCheckpoint.from_json(line))
        except CheckpointFormatError as exc:
            raise CheckpointFormatError(f"line {number}: {exc}") from None
    return records
