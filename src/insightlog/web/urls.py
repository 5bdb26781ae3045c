"""Names in URLs, and where a sign-in may send the browser next.

Service and account names go into paths tilde-encoded, as Datasette does for table names: the
characters ``A-Z a-z 0-9 _ -`` stay, a space becomes ``+``, every other byte of the UTF-8 text
becomes ``~XX``. So ``Harbour Home Care`` is ``Harbour+Home+Care`` and a ``/`` in a name never
splits a path (percent-encoding would not survive: servers decode ``%2F`` before routing).
"""

from __future__ import annotations

import re

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_TILDE = re.compile(r"~([0-9A-F]{2})")
_ENCODED = re.compile(r"^(?:[A-Za-z0-9_+\-]|~[0-9A-F]{2})*$")


class NameEncodingError(ValueError):
    """Raised when a path segment is not a tilde-encoded name."""


def tilde_encode(name: str) -> str:
    out = []
    for byte in name.encode("utf-8"):
        if byte in _SAFE:
            out.append(chr(byte))
        elif byte == 0x20:
            out.append("+")
        else:
            out.append(f"~{byte:02X}")
    return "".join(out)


def tilde_decode(segment: str) -> str:
    if not _ENCODED.match(segment):
        raise NameEncodingError(f"{segment!r} is not a tilde-encoded name")
    raw = bytearray()
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "~":
            raw.append(int(segment[i + 1 : i + 3], 16))
            i += 3
            continue
        raw.append(0x20 if ch == "+" else ord(ch))
        i += 1
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NameEncodingError(f"{segment!r} does not decode to UTF-8 text") from None


def safe_next(value: str | None, default: str = "/services") -> str:
    """A local path to go to after signing in; anything else (another site, a scheme) gives ``default``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return default
    if value.startswith(("/sign-in", "/sign-out")):
        return default
    return value
