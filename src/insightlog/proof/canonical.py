"""RFC 8785 (JCS) canonical JSON, and the canonical encoding of a ledger entry (a Merkle leaf).

``canonicalize(value)`` turns plain JSON data (``dict``/``Mapping``, ``list``/``tuple``, ``str``,
``int``, ``float``, ``bool``, ``None``) into the RFC 8785 byte string: no whitespace, object members
sorted by the UTF-16 code units of their names, strings with the minimal JSON escapes, numbers as
ECMAScript's ``Number.prototype.toString`` writes them, UTF-8.

``entry_leaf_bytes(entry)`` is the canonical encoding of one logical event: the 13 interchange
envelope fields, the ``ledger`` provenance object and the version tag ``"v": 1``. It depends only
on the event, never on how a database stores it, so encryption at rest and migration leave every
hash unchanged. ``leaf_hash(entry)`` is the RFC 9162 leaf hash of those bytes. The format is
specified in ``docs/proof-format.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from json.encoder import encode_basestring as _encode_basestring
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from insightlog.entry import Entry

LEAF_FORMAT_VERSION = 1
"""The value of the ``"v"`` member of every leaf encoding defined here."""

MAX_SAFE_INTEGER = 2**53
"""Largest integer magnitude accepted: beyond it an integer may not be exactly one double."""



class CanonicalizationError(ValueError):
    """Raised when a value has no RFC 8785 canonical form (NaN, a huge integer, a lone surrogate)."""


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of ``value``."""
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(f"string holds a lone surrogate: {exc}") from None


def canonical_text(value: Any) -> str:
    """Return the RFC 8785 canonical form of ``value`` as text (see ``canonicalize``)."""
    return canonicalize(value).decode("utf-8")


def format_number(value: int | float) -> str:
    """Format a JSON number as ECMAScript ``Number.prototype.toString`` does (RFC 8785 §3.2.2.3).

    Integers are accepted when their magnitude is at most 2**53 (so that they denote exactly one
    IEEE 754 double); larger ones, NaN and the infinities are refused.
    """
    if isinstance(value, bool):
        raise CanonicalizationError("a bool is not a number")
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalizationError(
                f"integer {value} is outside the I-JSON range ±2**53; encode it as a string"
            )
        return str(value)
    if not isinstance(value, float):
        raise CanonicalizationError(f"{type(value).__name__} is not a JSON number")
    if math.isnan(value) or math.isinf(value):
        raise CanonicalizationError(f"{value!r} has no JSON form")
    if value == 0.0:
        return "0"  # both +0 and -0
    sign = "-" if value < 0 else ""
    # repr() gives the shortest digit string that round-trips, choosing the nearest when there is
    # a tie: the same digits ECMAScript's Number::toString chooses. Only the layout differs.
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent = int(exponent) + len(digit_tuple) - len(digits)  # account for stripped trailing zeros
    k = len(digits)
    n = exponent + k  # value = 0.d1d2...dk × 10**n
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        text = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + text


def _write_string(value: str, parts: list[str]) -> None:
    # The standard library's C escaper gives exactly RFC 8785's string form: the two-character
    # escapes for \b \t \n \f \r " and \\, \u00xx (lower-case hex) for other controls,
    # everything else as is.
    parts.append(_encode_basestring(value))


def _utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly as the sequences of 16-bit code units do.
    try:
        return name.encode("utf-16-be")
    except UnicodeEncodeError:
        raise CanonicalizationError(f"member name {name!r} holds a lone surrogate") from None


def _write(value: Any, parts: list[str]) -> None:
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        _write_string(value, parts)
    elif isinstance(value, (int, float)):
        parts.append(format_number(value))
    elif isinstance(value, Mapping):
        for name in value:
            if not isinstance(name, str):
                raise CanonicalizationError(f"object member name {name!r} is not a string")
        parts.append("{")
        for i, name in enumerate(sorted(value, key=_utf16_key)):
            if i:
                parts.append(",")
            _write_string(name, parts)
            parts.append(":")
            _write(value[name], parts)
        parts.append("}")
    elif isinstance(value, (list, tuple)):
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _write(item, parts)
        parts.append("]")
    else:
        raise CanonicalizationError(f"{type(value).__name__} is not a JSON value")


def _parse_int(text: str) -> int | float:
    value = int(text)
    # A canonical integer beyond ±2**53 can only have come from a double: read it back as one.
    return value if abs(value) <= MAX_SAFE_INTEGER else float(text)


def _refuse_constant(name: str) -> Any:
    raise CanonicalizationError(f"{name} is not JSON")


def parse_json(data: bytes | str) -> Any:
    """Parse JSON as RFC 8785 reads numbers, so that ``canonicalize(parse_json(b)) == b`` for
    canonical ``b``: integers beyond ±2**53 become doubles; NaN and Infinity are refused."""
    try:
        return json.loads(data, parse_int=_parse_int, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, CanonicalizationError):
            raise
        raise CanonicalizationError(f"not JSON: {exc}") from None


def format_timestamp(value: datetime, what: str = "timestamp") -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, dropping any fraction."""
    if not isinstance(value, datetime):
        raise CanonicalizationError(f"{what} is not a datetime: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalizationError(f"{what} {value.isoformat()} has no time zone")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_leaf_object(entry: Entry) -> dict[str, Any]:
    """The JSON object that ``entry_leaf_bytes`` canonicalises (before canonicalisation)."""
    if entry.position < 1:
        raise CanonicalizationError(
            f"event {entry.event_id!r} has no ledger position yet (position {entry.position})"
        )
    if entry.appended_at is None:
        raise CanonicalizationError(f"event {entry.event_id!r} has no appended_at")
    return {
        "v": LEAF_FORMAT_VERSION,
        "event_id": entry.event_id,
        "service": entry.service,
        "theme": entry.theme,
        "location": entry.location,
        "team": entry.team,
        "shift": entry.shift,
        "kind": entry.kind,
        "actor_role": entry.actor_role,
        "actor_id": entry.actor_id,
        "record": entry.record,
        "observed_at": format_timestamp(entry.observed_at, "observed_at"),
        "recorded_at": format_timestamp(entry.recorded_at, "recorded_at"),
        "payload": entry.payload,
        "ledger": {
            "position": entry.position,
            "appended_at": format_timestamp(entry.appended_at, "appended_at"),
            "source": entry.source,
        },
    }


def entry_leaf_bytes(entry: Entry) -> bytes:
    """The canonical encoding of a stored event: the input of its Merkle leaf hash.

    A JSON object with exactly the members ``v`` (1), the 13 interchange envelope fields
    (``event_id`` ... ``payload``, absent optional fields as ``null``, timestamps as
    ``YYYY-MM-DDTHH:MM:SSZ``) and ``ledger`` {``position``, ``appended_at``, ``source``},
    serialised by RFC 8785. ``Entry.extra`` is not part of it.
    """
    return canonicalize(entry_leaf_object(entry))


def leaf_hash_of_bytes(leaf_bytes: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf_bytes)."""
    return hashlib.sha256(b"\x00" + leaf_bytes).digest()


def leaf_hash(entry: Entry) -> bytes:
    """SHA-256(0x00 || entry_leaf_bytes(entry)): the entry's leaf in the store's Merkle tree."""
    return leaf_hash_of_bytes(entry_leaf_bytes(entry))
