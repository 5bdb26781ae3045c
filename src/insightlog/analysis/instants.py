"""Instants and dates as plain integers (§2).

Instants are integers (microseconds since the epoch, UTC) and dates are proleptic ordinals, so
that every rule compares plain integers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from insightlog.analysis.errors import AnalysisInputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_END_OF_DAY_US = 86_399_000_000


def instant_us(value: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (UTC)."""
    if value.tzinfo is None:
        raise AnalysisInputError(f"naive datetime {value!r}: instants must be aware (UTC)")
    return (value - _EPOCH) // _ONE_US


def date_ordinal(value: datetime) -> int:
    """The UTC calendar date of an aware datetime, as a proleptic ordinal (§2.2)."""
    if value.tzinfo is None:
        raise AnalysisInputError(f"naive datetime {value!r}: instants must be aware (UTC)")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.toordinal()


def end_of_day_us(ordinal: int) -> int:
    """The instant ``dT23:59:59Z`` of a date ordinal (§2.4)."""
    return (ordinal - _EPOCH_ORDINAL) * _DAY_US + _END_OF_DAY_US


def instant_date(t: int) -> int:
    """The UTC date ordinal of an instant given in microseconds."""
    return _EPOCH_ORDINAL + t // _DAY_US


def ordinal_text(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def month_index(ordinal: int) -> int:
    d = date.fromordinal(ordinal)
    return d.year * 12 + d.month - 1


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_first_day(index: int) -> int:
    return date(index // 12, index % 12 + 1, 1).toordinal()


def month_last_day(index: int) -> int:
    return month_first_day(index + 1) - 1


def parse_month(text: str) -> int:
    """``YYYY-MM`` as a month index."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        value = date(int(year), int(month), 1)
    except ValueError:
        raise AnalysisInputError(f"{text!r} is not a month (YYYY-MM)") from None
    return value.year * 12 + value.month - 1
