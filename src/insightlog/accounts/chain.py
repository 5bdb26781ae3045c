"""The access log's hash chain: each row's hash covers its fields and the previous row's hash.

``hash(n) = SHA-256(JSON [prev_hash, seq, at, event, user_id, user_name, staff_id, via, client,
subject, detail])`` with the values exactly as stored (``detail`` is its JSON text), and
``prev_hash`` of row 1 is 64 zeros. Rows are numbered 1, 2, 3... without gaps. So a changed byte in
any field, a removed or inserted row, or rows put in another order, break the chain at that row;
removing rows at the end is seen by comparing the head (count and hash) with one noted earlier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = "0" * 64
FIELDS = ("seq", "at", "event", "user_id", "user_name", "staff_id", "via", "client", "subject", "detail")


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The hash of one row given the previous row's hash."""
    values = [prev_hash, *(row[name] for name in FIELDS)]
    return hashlib.sha256(orjson.dumps(values)).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The outcome of checking the chain: ``ok``, how many rows, the head, and the first problem."""

    ok: bool
    rows: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    bad_seq: int | None = None


def verify_chain(rows: Iterable[Mapping[str, Any]], *, expected_head: tuple[int, str] | None = None) -> ChainReport:
    """Check rows given in ``seq`` order; ``expected_head`` (seq, hash) noted earlier must still be in the chain."""
    prev = GENESIS
    count = 0
    seen_head = expected_head is None
    for row in rows:
        count += 1
        seq = row["seq"]
        if seq != count:
            return ChainReport(
                False,
                count - 1,
                count - 1,
                prev,
                f"row {count} is numbered {seq}: a row is missing or out of place",
                count,
            )
        if row["prev_hash"] != prev:
            return ChainReport(
                False, count - 1, count - 1, prev, f"row {seq}: its previous hash is not row {seq - 1}'s hash", seq
            )
        digest = row_hash(prev, row)
        if row["hash"] != digest:
            return ChainReport(False, count - 1, count - 1, prev, f"row {seq}: its contents do not match its hash", seq)
        if expected_head is not None and seq == expected_head[0]:
            if digest != expected_head[1]:
                return ChainReport(False, count, seq, digest, f"row {seq} is not the row noted earlier", seq)
            seen_head = True
        prev = digest
    if not seen_head and expected_head is not None:
        return ChainReport(
            False,
            count,
            count,
            prev,
            f"the log has {count} rows; row {expected_head[0]} noted earlier is gone",
            count + 1,
        )
    return ChainReport(True, count, count, prev)
