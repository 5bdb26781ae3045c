r"""Strict JSON at the edge: what the interchange format accepts beyond what orjson checks.

orjson refuses bad syntax, NaN and Infinity, numbers that overflow a double, lone surrogates and
invalid UTF-8. It silently keeps the last of two equal keys, turns an integer literal beyond 64
bits into a float, and nests up to 1024 levels. This module refuses, wherever they occur in a
value (docs/spec-notes.md):

* a key named twice in one object;
* an integer outside the I-JSON range ±(2**53-1) (RFC 7493 §2.2), also one orjson made a float;
* nesting deeper than ``MAX_DEPTH`` levels (the interchange line's own object is level 1);
* a string that breaks the free-text rule, an object key that breaks the name rule
  (``textrules``).

The fast path costs a few memchr-speed scans of the bytes, a count of the key separators and one
walk over the containers and numbers of the payload. With no DEL or C1 byte and no escape of a
control character but \n, \r and \t, no string holds a control character other than tab, LF and
CR (the name rule, applied to names and keys, refuses those and any escaped invisible character
there). A key spelt two ways (``"a"``, ``"\u0061"``) is one key to orjson. With the whitespace taken out, every
key of the text ends in an unescaped '"' followed by ':', and any other '":' only adds to the
count, so the text names a key twice exactly when it has more '":' than the decoded objects have
keys. Anything else (a control escape, a float that may have been a big integer literal, a count
that differs) takes a careful second parse: ``json.loads`` with an ``object_pairs_hook``, exact
integers, every string and key checked.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

from insightlog.interchange.textrules import name_problem, text_problem

MAX_DEPTH = 64
MAX_INT = 2**53 - 1
_FLOAT_INT_LIMIT = float(2**53)  # a float this large may be an integer literal orjson converted
_C1_BYTES = re.compile(rb"\xc2[\x80-\x9f]")
# An escape that can write a control character other than tab, LF and CR (\b, \f, and \u for
# U+0000-U+001F, U+007F-U+009F) sends the line to the careful parse. (An escaped backslash before
# such text matches too: a false alarm only costs the careful parse.)
_CONTROL_ESCAPE = re.compile(rb"\\[bf]|\\u00[01][0-9A-Fa-f]|\\u007[Ff]|\\u00[89][0-9A-Fa-f]")
_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"  # JSON's insignificant whitespace (RFC 8259 §2)


class JSONInputError(ValueError):
    """A value the interchange format refuses: ``path`` names where ("" for the whole value,
    ``payload.items[2]`` below it) and ``message`` says why. ``root`` is the decoded value when
    decoding got that far (so a caller can name the event), else None."""

    def __init__(self, path: str, message: str, root: Any = None) -> None:
        self.path = path
        self.message = message
        self.root = root
        super().__init__(f"{path or '(value)'}: {message}")


class _Bad(Exception):
    """Raised inside a walk; each level adds its key or index on the way out."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.parts: list[str] = []


def loads(data: bytes | str, *, depth: int = 1) -> Any:
    """Decode one JSON text under the rules above; ``depth`` is the level of its outermost value."""
    return _loads(data, depth, envelope=False)[0]


def loads_line(data: bytes | str) -> tuple[Any, bool]:
    """Decode one interchange line (level 1) under the rules above.

    Returns the value and whether every string in it is printable (true of a text that is all
    ASCII with no escape and no DEL, so callers may skip the name rule). The walk of the fast path
    covers only ``payload`` and ``ledger``: every other envelope field must be a string or null,
    which ``validation.validate_object`` checks; duplicate keys, escapes and the free-text rule
    are checked over the whole line."""
    return _loads(data, 1, envelope=True)


def _loads(data: bytes | str, depth: int, *, envelope: bool) -> tuple[Any, bool]:
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JSONInputError(
                "", f"is not valid Unicode text (a lone surrogate at character {exc.start + 1})"
            ) from None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise JSONInputError("", _syntax_message(data, exc)) from None
    printable = data.isascii()
    if b"\x7f" in data or (not printable and _C1_BYTES.search(data) is not None):
        return _careful(data, depth, value), False
    if b"\\" in data:
        if _CONTROL_ESCAPE.search(data) is not None:
            return _careful(data, depth, value), False
        printable = False  # an escape may write a tab, a line break or an invisible character
    try:
        if envelope and type(value) is dict:
            keys = len(value)
            for key in ("payload", "ledger"):
                item = value.get(key)
                if type(item) is dict or type(item) is list:
                    try:
                        keys += _fast_walk(item, depth + 1, not printable)
                    except _Bad as bad:
                        bad.parts.append(_key_part(key))
                        raise
        else:
            keys = _fast_walk(value, depth, not printable)
    except _Bad as bad:
        raise JSONInputError(_path(bad.parts), bad.message, value) from None
    except _NeedsCare:
        return _careful(data, depth, value), False
    # With the whitespace taken out, every key of the text ends in an unescaped '"' followed by
    # ':'; any other '":' (inside a string, an escaped quote before a colon) only adds to the
    # count. So the text names no key twice when the count equals the keys decoded.
    if data.translate(None, _WHITESPACE).count(b'":') != keys:
        return _careful(data, depth, value), False
    return value, printable


def check_value(value: Any, path: str = "", *, depth: int = 1) -> None:
    """Apply the same rules to a value built in Python (a dict from a form or an API): only JSON
    types (dict with str keys, list, str, int, float, bool, None), finite floats, I-JSON integers,
    the text and name rules, at most ``MAX_DEPTH`` levels."""
    try:
        _strict_walk(value, depth, python=True)
    except _Bad as bad:
        if path:
            bad.parts.append(f".{path}")
        raise JSONInputError(_path(bad.parts), bad.message) from None


def _key_part(key: Any) -> str:
    """A key's step in a path: ``.name``, or ``["..."]`` (JSON-escaped) for a key that is not a
    plain printable name, so the path itself never carries an invisible or control character."""
    if isinstance(key, str) and key.isprintable() and "." not in key and "[" not in key and key:
        return f".{key}"
    return f"[{json.dumps(key)}]" if isinstance(key, str) else f"[{key!r}]"


def _path(parts: list[str]) -> str:
    ordered = list(reversed(parts))
    if len(ordered) > 6:  # a deeply nested place: its start is enough to find it
        ordered = [*ordered[:4], "…"]
    joined = "".join(ordered)
    return joined[1:] if joined.startswith(".") else joined


def _syntax_message(data: bytes, exc: orjson.JSONDecodeError) -> str:
    text = str(exc)
    if data.startswith(_BOM):
        return "starts with a byte-order mark (U+FEFF); save the file as UTF-8 without one"
    if "UTF-8" in text:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return f"is not valid UTF-8: byte 0x{data[bad.start]:02x} at byte {bad.start + 1} ({bad.reason})"
        return "is not valid UTF-8"
    if "depth limit" in text or "recursion" in text:
        return f"nests deeper than {MAX_DEPTH} levels"
    return f"is not valid JSON: {text}"


class _NeedsCare(Exception):
    """A float at or beyond 2**53 may be an integer literal orjson converted: parse exactly."""


def _fast_walk(value: Any, depth: int, check_keys: bool = True) -> int:
    """Depth, integers and keys of an orjson value whose text holds no control escape, DEL or C1
    byte (so no string holds a control character but tab, LF or CR); returns the number of keys
    of its objects. ``check_keys`` False: the text is ASCII without escapes, so keys print."""
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
        keys = len(value)
        if check_keys and keys and not "".join(value).isprintable():
            _check_keys(value)
    elif kind is list:
        items = value
        keys = 0
    else:
        _check_scalar(value)
        return 0
    if depth > MAX_DEPTH:
        raise _Bad(f"nests deeper than {MAX_DEPTH} levels")
    for item in items:
        sub = type(item)
        if sub is str or item is None or sub is bool:
            continue
        if sub is int:
            if -MAX_INT <= item <= MAX_INT:
                continue
        elif sub is float:
            if abs(item) < _FLOAT_INT_LIMIT:
                continue
        elif sub is dict or sub is list:
            try:
                keys += _fast_walk(item, depth + 1, check_keys)
                continue
            except _Bad as bad:
                bad.parts.append(_step_of(value, item))
                raise
        try:
            _check_scalar(item)
        except _Bad as bad:
            bad.parts.append(_step_of(value, item))
            raise
    return keys


def _check_scalar(item: Any) -> None:
    if type(item) is int and not -MAX_INT <= item <= MAX_INT:
        raise _Bad(_int_message(item))
    if type(item) is float and abs(item) >= _FLOAT_INT_LIMIT:
        raise _NeedsCare


def _step_of(container: Any, item: Any) -> str:
    """The path step of ``item`` in ``container`` (found again only on the error path)."""
    if type(container) is dict:
        return next(_key_part(k) for k, v in container.items() if v is item)
    return next(f"[{i}]" for i, v in enumerate(container) if v is item)


def _check_keys(obj: dict[str, Any]) -> None:
    for key in obj:
        problem = name_problem(key)
        if problem is not None:
            bad = _Bad(f"key {key!r} {problem}")
            bad.parts.append(_key_part(key))
            raise bad


def _int_message(value: int) -> str:
    return f"integer {value} is outside the I-JSON range ±(2**53-1); write it as a string"


class _Pairs(dict):  # type: ignore[type-arg]
    """An object decoded by the careful parse that named a key twice (only on the error path)."""

    duplicate: str


def _hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        marked = _Pairs(obj)
        marked.duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return marked
    return obj


def _careful(data: bytes, depth: int, root: Any) -> Any:
    """The exact parse: every key pair seen, integers as written, every string checked."""
    try:
        value = json.loads(data, object_pairs_hook=_hook)
    except RecursionError:  # orjson reads up to 1024 levels, json fewer
        raise JSONInputError("", f"nests deeper than {MAX_DEPTH} levels", root) from None
    except ValueError as exc:  # orjson accepted it; json should too
        raise JSONInputError("", f"is not valid JSON: {exc}", root) from None
    try:
        _strict_walk(value, depth, python=False)
    except _Bad as bad:
        raise JSONInputError(_path(bad.parts), bad.message, root) from None
    return value


def _strict_walk(value: Any, depth: int, *, python: bool) -> None:
    """Every rule on every node; ``python`` also checks the types a JSON text cannot produce."""
    kind = type(value)
    if kind is str:
        problem = text_problem(value)
        if problem is not None:
            raise _Bad(problem)
    elif kind is dict or kind is _Pairs:
        if depth > MAX_DEPTH:
            raise _Bad(f"nests deeper than {MAX_DEPTH} levels")
        if kind is _Pairs:
            bad = _Bad("appears twice in one object; a key may be named only once")
            bad.parts.append(_key_part(value.duplicate))
            raise bad
        for key, item in value.items():
            try:
                if type(key) is not str:
                    raise _Bad(f"key {key!r} is not a string")
                problem = name_problem(key)
                if problem is not None:
                    raise _Bad(f"key {key!r} {problem}")
                _strict_walk(item, depth + 1, python=python)
            except _Bad as bad:
                bad.parts.append(_key_part(key))
                raise
    elif kind is list:
        if depth > MAX_DEPTH:
            raise _Bad(f"nests deeper than {MAX_DEPTH} levels")
        for index, item in enumerate(value):
            try:
                _strict_walk(item, depth + 1, python=python)
            except _Bad as bad:
                bad.parts.append(f"[{index}]")
                raise
    elif kind is int:
        if not -MAX_INT <= value <= MAX_INT:
            raise _Bad(_int_message(value))
    elif kind is float:
        if not math.isfinite(value):
            raise _Bad(f"number {value} is not finite")
    elif kind is bool or value is None:
        return
    elif python:
        raise _Bad(f"is a {kind.__name__}, not a JSON value")
