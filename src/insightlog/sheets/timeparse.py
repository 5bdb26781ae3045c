"""Naive local times from spreadsheets -> interchange UTC timestamps, with ``zoneinfo``.

A spreadsheet's times carry no offset: they are wall-clock times in the mapping's zone (default
``Europe/London``). A wall time that does not exist (the spring gap) or happens twice (the autumn
hour) is an error unless the mapping says how to resolve it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
_AWARE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|z|[+-]\d{2}:?\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_FAST_DIRECTIVES = {
    "%d": r"(\d{1,2})",
    "%m": r"(\d{1,2})",
    "%Y": r"(\d{4})",
    "%H": r"(\d{1,2})",
    "%M": r"(\d{2})",
    "%S": r"(\d{2})",
}


class TimeValueError(ValueError):
    """Raised when a cell is not a time the mapping can read; the message says what was expected."""


_Fast = tuple[re.Pattern[str], tuple[int, int, int, int, int, int]]


def _fast_parser(fmt: str) -> _Fast | None:
    """A regex and the group of each of Y m d H M S (-1: absent), for formats made only of
    %d %m %Y %H %M %S and literal separators; None for any other format (strptime reads it)."""
    parts = re.split(r"(%.)", fmt)
    pattern = ""
    order: list[str] = []
    for part in parts:
        if part.startswith("%") and len(part) == 2:
            if part not in _FAST_DIRECTIVES or part in order:
                return None
            pattern += _FAST_DIRECTIVES[part]
            order.append(part)
        elif "%" in part:
            return None
        else:
            pattern += re.escape(part)
    if "%Y" not in order or "%m" not in order or "%d" not in order:
        return None
    y, mo, d, hh, mm, ss = (order.index(x) if x in order else -1 for x in ("%Y", "%m", "%d", "%H", "%M", "%S"))
    return re.compile(f"^{pattern}$"), (y, mo, d, hh, mm, ss)


class LocalTimes:
    """Reads cells as times in one zone and turns them into UTC."""

    def __init__(
        self,
        zone: str = "Europe/London",
        formats: tuple[str, ...] | list[str] = DEFAULT_FORMATS,
        date_only_at: str = "12:00",
        nonexistent: str = "error",
        ambiguous: str = "error",
    ) -> None:
        self.zone_name = zone
        self.zone = ZoneInfo(zone)
        self.formats = tuple(formats)
        self.nonexistent = nonexistent
        self.ambiguous = ambiguous
        self.date_only_at = parse_clock(date_only_at)
        self._fast = [(fmt, _fast_parser(fmt), _has_time(fmt)) for fmt in self.formats]
        self._offsets: dict[date, timedelta | None] = {}

    # -------------------------------------------------------------- reading cells

    def naive(self, value: Any, time_of_day: time | None = None) -> datetime | str:
        """A cell as a naive local datetime, or an aware RFC 3339 text already in UTC form."""
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                return format_z(value)
            return value
        if isinstance(value, date):
            return datetime.combine(value, time_of_day or self.date_only_at)
        if isinstance(value, (bool, int, float)):
            raise TimeValueError("is a number, not a date; format the column as a date or text in the spreadsheet")
        if not isinstance(value, str):
            raise TimeValueError(f"is a {type(value).__name__}, not a date and time")
        text = value.strip()
        for fmt, fast, has_time in self._fast:
            parsed = self._try(text, fmt, fast)
            if parsed is not None:
                if not has_time:
                    return datetime.combine(parsed.date(), time_of_day or self.date_only_at)
                return parsed
        m = _AWARE.match(text)
        if m:
            return _aware_text(m, text)
        raise TimeValueError(f"is not a date and time in the formats {', '.join(self.formats)}")

    @staticmethod
    def _try(text: str, fmt: str, fast: _Fast | None) -> datetime | None:
        if fast is not None:
            m = fast[0].match(text)
            if not m:
                return None
            g = m.groups()
            y, mo, d, hh, mm, ss = fast[1]
            try:
                return datetime(
                    int(g[y]),
                    int(g[mo]),
                    int(g[d]),
                    int(g[hh]) if hh >= 0 else 0,
                    int(g[mm]) if mm >= 0 else 0,
                    int(g[ss]) if ss >= 0 else 0,
                )
            except ValueError:
                return None
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            return None

    def date_text(self, value: Any) -> str:
        """A cell as a calendar date ``YYYY-MM-DD`` (no zone conversion)."""
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and _ISO_DATE.match(value.strip()):
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise TimeValueError(f"{value.strip()!r} is not a valid date") from None
        naive = self.naive(value)
        if isinstance(naive, str):
            return naive[:10]
        return naive.date().isoformat()

    # -------------------------------------------------------------- to UTC

    def to_utc(self, value: Any, time_of_day: time | None = None) -> str:
        """A cell as an interchange timestamp (``YYYY-MM-DDTHH:MM:SSZ``); raises TimeValueError."""
        naive = self.naive(value, time_of_day)
        if isinstance(naive, str):
            return naive
        if not naive.microsecond:
            offset = self._offsets.get(naive.date(), ...)
            if offset is not ... and offset is not None:  # the usual day: no clock change
                return (naive - offset).isoformat() + "Z"
        return format_z(self.localize(naive))

    def localize(self, naive: datetime) -> datetime:
        """The UTC instant of a local wall time; gaps and overlaps resolved by the mapping or refused."""
        naive = naive.replace(microsecond=0)
        day = naive.date()
        offset = self._offsets.get(day, ...)
        if offset is ...:
            offset = self._steady_offset(day)
            self._offsets[day] = offset
        if offset is not None:
            return (naive - offset).replace(tzinfo=UTC)
        early = naive.replace(tzinfo=self.zone, fold=0)
        late = naive.replace(tzinfo=self.zone, fold=1)
        if early.utcoffset() == late.utcoffset():
            return early.astimezone(UTC)
        exists = early.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None) == naive
        wall = naive.strftime("%d/%m/%Y %H:%M")
        if exists:  # the autumn hour: the wall time happens twice
            if self.ambiguous == "earlier":
                return early.astimezone(UTC)
            if self.ambiguous == "later":
                return late.astimezone(UTC)
            raise TimeValueError(
                f"{wall} happens twice in {self.zone_name} (clocks go back); "
                'say which with time.ambiguous = "earlier" or "later" in the mapping'
            )
        if self.nonexistent == "forward":  # read with the offset before the change: 01:30 -> 02:30 summer time
            return early.astimezone(UTC)
        if self.nonexistent == "backward":
            return late.astimezone(UTC)
        raise TimeValueError(
            f"{wall} does not exist in {self.zone_name} (clocks go forward); "
            'say how to read it with time.nonexistent = "forward" or "backward" in the mapping'
        )

    def _steady_offset(self, day: date) -> timedelta | None:
        """The zone's offset on ``day`` when it does not change that day (else None)."""
        start = datetime.combine(day, time(0, 0)).replace(tzinfo=self.zone).utcoffset()
        end = datetime.combine(day, time(23, 59, 59)).replace(tzinfo=self.zone).utcoffset()
        before = datetime.combine(day - timedelta(days=1), time(23, 0)).replace(tzinfo=self.zone).utcoffset()
        if start is None or start != end or start != before:
            return None
        return start


def parse_clock(text: str) -> time:
    """``HH:MM`` or ``HH:MM:SS`` -> time; raises TimeValueError."""
    m = _CLOCK.match(text.strip())
    if not m:
        raise TimeValueError(f"{text!r} is not a time of day HH:MM")
    try:
        return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))
    except ValueError:
        raise TimeValueError(f"{text!r} is not a time of day HH:MM") from None


def clock_of(value: Any) -> time:
    """A time-of-day cell (a time, a datetime, or text HH:MM[:SS])."""
    if isinstance(value, datetime):
        return value.time()
    if isinstance(value, time):
        return value
    if isinstance(value, timedelta):  # calamine gives durations for some time-only cells
        seconds = int(value.total_seconds())
        if 0 <= seconds < 86400:
            return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    if isinstance(value, str):
        return parse_clock(value)
    raise TimeValueError("is not a time of day HH:MM")


def format_z(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(microsecond=0).isoformat()[:19] + "Z"


def _has_time(fmt: str) -> bool:
    return any(d in fmt for d in ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%R"))


def _aware_text(m: re.Match[str], text: str) -> str:
    y, mo, d, hh, mm, ss, off = m.groups()
    try:
        base = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0))
    except ValueError:
        raise TimeValueError(f"{text!r} is not a valid date and time") from None
    if off in ("Z", "z"):
        return format_z(base.replace(tzinfo=UTC))
    sign = 1 if off[0] == "+" else -1
    digits = off[1:].replace(":", "")
    tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return format_z(base.replace(tzinfo=tz))
