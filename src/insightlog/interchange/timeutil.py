"""Time parsing and formatting: RFC 3339 UTC, whole seconds, and the --as-of grammar."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

from insightlog.errors import InsightlogError

UTC = UTC

# Matched whole (fullmatch; \A...\Z besides), ASCII digits only: ``$`` accepts a trailing "\n"
# and ``\d`` any Unicode digit.
_STRICT = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_DATE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_RFC3339 = re.compile(
    r"\A([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|z|[+-][0-9]{2}:[0-9]{2})\Z"
)

# The instants an --as-of may name (docs/spec-notes.md). The analysis looks back over windows from
# the as-of (which must stay after year 1) and the provider report keeps a column per month up to
# it, so its time and memory grow with the months: as of 2199 it takes seconds and 300 MB, as of
# 9998 gigabytes. Nothing of a care service's governance lies outside these years.
AS_OF_MIN = datetime(1900, 1, 1, tzinfo=UTC)
AS_OF_MAX = datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)


class TimeFormatError(InsightlogError, ValueError):
    """Raised when a timestamp is not in the accepted format."""


def parse_strict_utc(value: str) -> datetime:
    """Parse an interchange timestamp: ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds)."""
    if not isinstance(value, str) or not _STRICT.fullmatch(value):
        raise TimeFormatError(f"{value!r} is not an RFC 3339 UTC timestamp to the whole second (YYYY-MM-DDTHH:MM:SSZ)")
    try:
        return datetime.fromisoformat(value)  # the pattern above leaves only Python's own date checks
    except ValueError as exc:
        raise TimeFormatError(f"{value!r} is not a valid date and time: {exc}") from None


def format_utc(value: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` (fractions dropped).

    ``isoformat`` always writes four year digits (``strftime("%Y")`` drops leading zeros on
    glibc) and is several times faster; this runs for every timestamp of every entry.
    """
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()[:19] + "Z"


class AsOf:
    """An as-of instant: the UTC datetime plus its canonical text (fraction digits kept)."""

    __slots__ = ("instant", "text")

    def __init__(self, instant: datetime, text: str) -> None:
        self.instant = instant
        self.text = text

    def __repr__(self) -> str:
        return f"AsOf({self.text})"


def parse_as_of(value: str) -> AsOf:
    """Parse ``--as-of``: RFC 3339 (any offset, converted to UTC) or a bare date (end of day).

    The instant must lie from ``AS_OF_MIN`` to ``AS_OF_MAX`` once converted to UTC."""
    value = value.strip()
    if _DATE.fullmatch(value):
        try:
            d = date.fromisoformat(value)
        except ValueError as exc:
            raise TimeFormatError(f"--as-of {value!r} is not a valid date: {exc}") from None
        instant = datetime.combine(d, time(23, 59, 59), tzinfo=UTC)
        _check_as_of_range(value, instant)
        return AsOf(instant, format_utc(instant))
    m = _RFC3339.fullmatch(value)
    if not m:
        raise TimeFormatError(
            f"--as-of {value!r} is neither an RFC 3339 timestamp (2026-03-31T23:59:59Z) nor a date (2026-03-31)"
        )
    day, hh, mm, ss, frac, offset = m.groups()
    instant = _to_utc("--as-of", value, f"{day}T{hh}:{mm}:{ss}", offset)
    _check_as_of_range(value, instant)
    digits = (frac or "")[1:]
    if digits:
        micro = int((digits + "000000")[:6])
        instant = instant.replace(microsecond=micro)
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if digits.strip("0"):
        text += "." + digits
    return AsOf(instant, text + "Z")


def _to_utc(option: str, value: str, local: str, offset: str) -> datetime:
    """The UTC instant of a local date and time with an RFC 3339 offset (hours 00-23, minutes 00-59)."""
    try:
        base = datetime.fromisoformat(local)
    except ValueError as exc:
        raise TimeFormatError(f"{option} {value!r} is not a valid date and time: {exc}") from None
    if offset in ("Z", "z"):
        return base.replace(tzinfo=UTC)
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    if hours > 23 or minutes > 59:
        raise TimeFormatError(f"{option} {value!r} has the offset {offset}; an offset is -23:59 to +23:59")
    sign = 1 if offset[0] == "+" else -1
    tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return base.replace(tzinfo=tz).astimezone(UTC)
    except OverflowError:
        raise TimeFormatError(f"{option} {value!r} lies outside the years 1-9999 once converted to UTC") from None


def _check_as_of_range(value: str, instant: datetime) -> None:
    if not AS_OF_MIN <= instant <= AS_OF_MAX:
        raise TimeFormatError(
            f"--as-of {value!r} lies outside the range an analysis can be asked for "
            f"({format_utc(AS_OF_MIN)} to {format_utc(AS_OF_MAX)})"
        )


def now_as_of(now: datetime) -> AsOf:
    """The default as-of: the given clock reading truncated to whole seconds."""
    instant = now.astimezone(UTC).replace(microsecond=0)
    return AsOf(instant, format_utc(instant))


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59), tzinfo=UTC)


def parse_observed(value: str) -> str:
    """Parse a user-given observed time: RFC 3339 whole seconds (any offset) or a date (00:00Z)."""
    value = value.strip()
    if _DATE.fullmatch(value):
        try:
            d = date.fromisoformat(value)
        except ValueError as exc:
            raise TimeFormatError(f"--observed-at {value!r} is not a valid date: {exc}") from None
        return format_utc(datetime.combine(d, time(0, 0, 0), tzinfo=UTC))
    m = _RFC3339.fullmatch(value)
    if not m or (m.group(5) and m.group(5)[1:].strip("0")):
        raise TimeFormatError(f"--observed-at {value!r} is not an RFC 3339 timestamp to the whole second or a date")
    day, hh, mm, ss, _frac, offset = m.groups()
    return format_utc(_to_utc("--observed-at", value, f"{day}T{hh}:{mm}:{ss}", offset))
