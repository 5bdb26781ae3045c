"""The evidence pack's layout: member names, the manifest format and the limits a verifier keeps.

Layout (positions are zero-padded to 10 digits, checkpoints numbered 0001... in size order)::

    README.txt                          plain-language guide, with OpenSSL commands
    manifest.json                       RFC 8785 JSON: format, origin, latest tree head, sha256 of every file
    manifest.sig                        optional Ed25519 signature over manifest.json by a provider key
    analysis.json                       the analysis output, as given (optional)
    events.jsonl                        every event's canonical bytes, one per line, in position order
    events/<position>.json              the same bytes, one file each (no trailing newline)
    proofs/<position>.json              inclusion proof of that event in the latest checkpoint
    checkpoints.jsonl                   the signed checkpoints (JSON Lines, as in the checkpoint file)
    checkpoints/<n>/body.txt            the exact signed body of checkpoint n
    checkpoints/<n>/<role>-<keyid16>.sig  raw 64-byte Ed25519 signature over body.txt
    checkpoints/<n>/timestamp.tsr       RFC 3161 TimeStampResp holding the checkpoint's token (if any)
    consistency/<old>-<new>.json        consistency proof between two checkpoint sizes
    keys.json                           the public keys: key_id, role, file
    keys/<role>-<keyid16>.pem           Ed25519 public keys (PEM SubjectPublicKeyInfo)
    tsa/ca.pem                          the timestamping authority's CA certificate (if given)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from insightlog.errors import InsightlogError
from insightlog.proof.canonical import canonicalize
from insightlog.proof.checkpoint import SignedCheckpoint
from insightlog.proof.keys import short_key_id

PACK_FORMAT = "insightlog-evidence-pack"
PACK_FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.sig"
README = "README.txt"
MAX_MEMBER_BYTES = 256 * 1024 * 1024


class PackError(InsightlogError, ValueError):
    """Raised when a pack cannot be built from the data given."""


@dataclass(frozen=True, slots=True)
class CheckpointFiles:
    """Where one checkpoint's files lie in the pack (shared by the builder and the README)."""

    number: int
    signed: SignedCheckpoint
    directory: str
    signature_files: tuple[tuple[str, str, str], ...]  # (file, role, key file)


# --------------------------------------------------------------------------- names and JSON


def event_name(position: int) -> str:
    return f"events/{position:010d}.json"


def proof_name(position: int) -> str:
    return f"proofs/{position:010d}.json"


def checkpoint_dir(number: int) -> str:
    return f"checkpoints/{number:04d}"


def consistency_name(old_size: int, new_size: int) -> str:
    return f"consistency/{old_size:010d}-{new_size:010d}.json"


def key_name(role: str, full_key_id: str) -> str:
    return f"keys/{role}-{short_key_id(full_key_id)}.pem"


def json_bytes(value: Any) -> bytes:
    return canonicalize(value)


def hexes(path: Sequence[bytes]) -> list[str]:
    return [p.hex() for p in path]


def unhex_list(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} is not a list of hex strings")
    return [unhex(v, what) for v in value]


def unhex(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 64 or value != value.lower():
        raise ValueError(f"{what} is not 64 lowercase hex digits")
    return bytes.fromhex(value)


def file_position(name: str, prefix: str) -> int | None:
    stem = name[len(prefix) : -len(".json")]
    if name.startswith(prefix) and name.endswith(".json") and len(stem) == 10 and stem.isdigit():
        return int(stem)
    return None

