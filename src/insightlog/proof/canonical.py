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
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring as _encode_basestring
from typing import TYPE_CHECKING, Any

import orjson

from insightlog.errors import InsightlogError
from insightlog.interchange.entry import ENVELOPE_FIELDS
from insightlog.interchange.timeutil import format_utc

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry

LEAF_FORMAT_VERSION = 1
"""The value of the ``"v"`` member of every leaf encoding defined here."""

MAX_SAFE_INTEGER = 2**53
"""Largest integer magnitude accepted: beyond it an integer may not be exactly one double."""


class CanonicalizationError(InsightlogError, ValueError):
    """Raised when a value has no RFC 8785 canonical form (NaN, a huge integer, a lone surrogate)."""


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 encoding of ``value``."""
    fast = _dumps_fast(value)
    return fast if fast is not None else canonicalize_general(value)


def canonicalize_general(value: Any) -> bytes:
    """``canonicalize`` without the orjson fast path: RFC 8785 written out rule by rule."""
    parts: list[str] = []
    _write(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalizationError(f"string holds a lone surrogate: {exc}") from None


# orjson writes a float as the shortest round-tripping digits, as ECMAScript does, but lays them
# out differently outside this range (``1e-5`` for ``0.00001``) and writes integral floats with a
# fraction (``80.0`` for ``80``); those are handed to it as ints.
_FAST_FLOAT_MIN = 1e-4
_FAST_FLOAT_MAX = 1e15
_SLOW = object()


def _orjson_form(value: Any) -> Any:
    """``value`` made ready for ``orjson.dumps(..., option=OPT_SORT_KEYS)`` to write its RFC 8785
    form, or ``_SLOW`` when orjson would not.

    orjson agrees with RFC 8785 when every object is a ``dict`` with ``str`` names below U+E000
    (there code-point order, which orjson sorts by, is UTF-16 order), every number an integer
    within ±2**53 or a non-integral float in [1e-4, 1e15), and every other value a ``str``,
    ``bool``, ``None`` or a ``list``/``tuple`` of such values; orjson escapes strings exactly as
    RFC 8785 does. Integral floats within ±2**53 become ints (a copy is made only of the
    containers that hold one). Anything else, and a lone surrogate (which orjson refuses), takes
    the general writer. ``tests/proof/test_proof_canonical.py`` checks the two writers agree.
    """
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return value
    if kind is dict:
        copy = None
        for name, item in value.items():
            if type(name) is not str or (not name.isascii() and max(name) >= "\ue000"):
                return _SLOW
            ready = _orjson_form(item)
            if ready is not item:
                if ready is _SLOW:
                    return _SLOW
                if copy is None:
                    copy = dict(value)
                copy[name] = ready
        return value if copy is None else copy
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _SLOW
    if kind is float:
        if value.is_integer():
            return int(value) if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _SLOW
        return value if _FAST_FLOAT_MIN <= abs(value) < _FAST_FLOAT_MAX else _SLOW
    if kind is list or kind is tuple:
        items = None
        for index, item in enumerate(value):
            ready = _orjson_form(item)
            if ready is not item:
                if ready is _SLOW:
                    return _SLOW
                if items is None:
                    items = list(value)
                items[index] = ready
        return value if items is None else items
    return _SLOW


def _dumps_fast(value: Any) -> bytes | None:
    """The RFC 8785 form of ``value`` by orjson, or None when the general writer must do it."""
    ready = _orjson_form(value)
    if ready is _SLOW:
        return None
    try:
        return orjson.dumps(ready, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None  # a lone surrogate: the general writer names it


def canonical_text(value: Any) -> str:
    """Return the RFC 8785 canonical form of ``value`` as text (see ``canonicalize``)."""
    return canonicalize(value).decode("utf-8")


def format_number(value: float) -> str:
    """Format a JSON number as ECMAScript ``Number.prototype.toString`` does (RFC 8785 §3.2.2.3).

    Integers are accepted when their magnitude is at most 2**53 (so that they denote exactly one
    IEEE 754 double); larger ones, NaN and the infinities are refused.
    """
    if isinstance(value, bool):
        raise CanonicalizationError("a bool is not a number")
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalizationError(f"integer {value} is outside the I-JSON range ±2**53; encode it as a string")
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
    if value.__class__ is datetime and value.tzinfo is UTC:
        return value.isoformat()[:19] + "Z"
    if not isinstance(value, datetime):
        raise CanonicalizationError(f"{what} is not a datetime: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalizationError(f"{what} {value.isoformat()} has no time zone")
    return format_utc(value)


def entry_leaf_object(entry: Entry) -> dict[str, Any]:
    """The JSON object that ``entry_leaf_bytes`` canonicalises (before canonicalisation)."""
    if entry.position < 1:
        raise CanonicalizationError(f"event {entry.event_id!r} has no ledger position yet (position {entry.position})")
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


def fields_leaf_object(fields: dict[str, Any], position: int, appended_at: str, source: str) -> dict[str, Any]:
    """``entry_leaf_object`` built from an event's 13 interchange fields (timestamps already as
    ``YYYY-MM-DDTHH:MM:SSZ`` text) and its ledger provenance: what the ledger hashes when it
    appends, before any ``Entry`` exists."""
    obj: dict[str, Any] = {"v": LEAF_FORMAT_VERSION}
    obj.update(fields)
    obj["ledger"] = {"position": position, "appended_at": appended_at, "source": source}
    return obj


def leaf_object_bytes(obj: dict[str, Any]) -> bytes:
    """``canonicalize`` for a leaf object. Its envelope members hold text or None and its ledger
    member two texts and the position, so only the payload needs ``_orjson_form``'s scrutiny;
    anything else takes the general writer."""
    if obj.keys() == _LEAF_MEMBERS and type(obj["v"]) is int and obj["v"] == LEAF_FORMAT_VERSION:
        payload = _orjson_form(obj["payload"])
        ledger = obj["ledger"]
        if (
            payload is not _SLOW
            and all(type(obj[name]) is str or obj[name] is None for name in _ENVELOPE_TEXT)
            and type(ledger) is dict
            and ledger.keys() == _LEDGER_MEMBERS
            and type(ledger["position"]) is int
            and 0 <= ledger["position"] <= MAX_SAFE_INTEGER
            and type(ledger["appended_at"]) is str
            and type(ledger["source"]) is str
        ):
            ready = dict(obj)
            ready["payload"] = payload
            try:
                return orjson.dumps(ready, option=orjson.OPT_SORT_KEYS)
            except orjson.JSONEncodeError:
                pass  # a lone surrogate: the general writer names it
    return canonicalize(obj)


_ENVELOPE_TEXT = tuple(name for name in ENVELOPE_FIELDS if name != "payload")  # text or None each
_LEAF_MEMBERS = frozenset(("v", *_ENVELOPE_TEXT, "payload", "ledger"))
_LEDGER_MEMBERS = frozenset(("position", "appended_at", "source"))


def entry_leaf_bytes(entry: Entry) -> bytes:
    """The canonical encoding of a stored event: the input of its Merkle leaf hash.

    A JSON object with exactly the members ``v`` (1), the 13 interchange envelope fields
    (``event_id`` ... ``payload``, absent optional fields as ``null``, timestamps as
    ``YYYY-MM-DDTHH:MM:SSZ``) and ``ledger`` {``position``, ``appended_at``, ``source``},
    serialised by RFC 8785. ``Entry.extra`` is not part of it.
    """
    return leaf_object_bytes(entry_leaf_object(entry))


def leaf_hash_of_bytes(leaf_bytes: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf_bytes)."""
    return hashlib.sha256(b"\x00" + leaf_bytes).digest()


def leaf_hash(entry: Entry) -> bytes:
    """SHA-256(0x00 || entry_leaf_bytes(entry)): the entry's leaf in the store's Merkle tree."""
    return leaf_hash_of_bytes(entry_leaf_bytes(entry))
