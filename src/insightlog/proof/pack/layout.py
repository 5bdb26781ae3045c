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

import re
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

# Limits a verifier keeps, so that a hostile zip cannot exhaust memory or disk (the builder keeps
# them too, so every pack it makes can be verified). Sizes are uncompressed, as the zip declares
# them; the reader never produces more than a member declares.
MAX_MEMBERS = 50_000
"""Members in one pack: about 25,000 events (two files each) and their checkpoints."""
MAX_CENTRAL_DIRECTORY_BYTES = 8 * 1024 * 1024
"""The zip's table of contents, read before any member (about 80 bytes a member here)."""
MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""Any one member (events.jsonl is the largest); streamed, never held whole unless parsed."""
MAX_PARSED_MEMBER_BYTES = 16 * 1024 * 1024
"""Members the verifier parses in memory: the manifest, keys, checkpoints, proofs, events, analysis."""
STREAMED_MEMBERS = frozenset({"events.jsonl", "README.txt"})
"""Members only hashed or compared as streams; every other member is parsed whole."""
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
"""All members together."""
MAX_COMPRESSION_RATIO = 100
"""Uncompressed : compressed, for members over RATIO_FLOOR_BYTES (deflate can reach 1032:1)."""
RATIO_FLOOR_BYTES = 1024 * 1024

_MEMBER_NAME = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_DRIVE = re.compile(r"[A-Za-z]:")
MAX_NAME_LENGTH = 255


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


def member_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a pack member's name, or None when it can.

    A pack member name is relative, '/'-separated, ASCII letters, digits, '.', '_' and '-' only,
    with no empty, '.' or '..' component: nothing an unzip tool could place outside the folder
    it unpacks into (zip slip), on any operating system.
    """
    if not name:
        return "is empty"
    if "\\" in name:
        return "holds a backslash (a Windows path separator)"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    parts = name.split("/")
    if ".." in parts:
        return "holds a '..' component (it would unpack outside the pack's folder)"
    if "." in parts or "" in parts:
        return "holds an empty or '.' component"
    if len(name) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    if not _MEMBER_NAME.fullmatch(name):
        return "holds a character other than ASCII letters, digits, '.', '_', '-' and '/'"
    return None
