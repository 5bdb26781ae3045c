"""Problems a person can act on: each names the sheet, the row and column as a spreadsheet
program shows them, the header, the value and what was expected.

Nothing here touches storage; the web door and the CLI render these the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> A, 25 -> Z, 26 -> AA."""
    if index < 0:
        raise ValueError("column index must be >= 0")
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letter: str) -> int:
    """The 0-based index of a spreadsheet column letter (``A`` -> 0); raises ValueError."""
    text = letter.strip().upper()
    if not text or not text.isascii() or not text.isalpha():
        raise ValueError(f"{letter!r} is not a column letter (A, B, ..., AA, ...)")
    n = 0
    for ch in text:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def show_value(value: Any, limit: int = 60) -> str:
    """A cell value as the user would recognise it, cut to ``limit`` characters."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        text = repr(int(value))
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


@dataclass(frozen=True)
class Cell:
    """Where a value came from: sheet (None for a CSV file), 1-based row, 0-based column."""

    sheet: str | None
    row: int | None
    column: int | None = None
    header: str | None = None

    @property
    def letter(self) -> str | None:
        return column_letter(self.column) if self.column is not None else None

    def describe(self) -> str:
        parts = []
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            col = f"column {self.letter}"
            if self.header:
                col += f" ({self.header!r})"
            parts.append(col)
        return ", ".join(parts) if parts else "file"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, at one place, with what was expected."""

    message: str
    sheet: str | None = None
    row: int | None = None
    column: int | None = None
    header: str | None = None
    value: Any = None
    has_value: bool = False
    field: str | None = None
    event_id: str | None = None

    @classmethod
    def at(
        cls,
        cell: Cell | None,
        message: str,
        *,
        value: Any = None,
        has_value: bool = False,
        field: str | None = None,
        event_id: str | None = None,
    ) -> Problem:
        if cell is None:
            return cls(message, value=value, has_value=has_value, field=field, event_id=event_id)
        return cls(message, cell.sheet, cell.row, cell.column, cell.header, value, has_value, field, event_id)

    @property
    def letter(self) -> str | None:
        return column_letter(self.column) if self.column is not None else None

    def where(self) -> str:
        return Cell(self.sheet, self.row, self.column, self.header).describe()

    def __str__(self) -> str:
        text = self.where()
        if self.event_id:
            text += f" (event {self.event_id})"
        if self.has_value:
            text += f": value {show_value(self.value)}"
        if self.field:
            text += f": {self.field}"
        return f"{text}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (for --json and a web page)."""
        value = self.value
        if value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.letter,
            "header": self.header,
            "value": value if self.has_value else None,
            "field": self.field,
            "event_id": self.event_id,
            "message": self.message,
            "text": str(self),
        }


@dataclass
class UnmappedValue:
    """A value that a value map does not cover, listed once with how often it occurs."""

    sheet: str | None
    column: int | None
    header: str | None
    field: str
    value: str
    count: int = 0
    rows: list[int] = dataclasses.field(default_factory=list)
    known: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = Cell(self.sheet, None, self.column, self.header).describe()
        rows = ", ".join(str(r) for r in self.rows[:5]) + (", …" if len(self.rows) > 5 else "")
        noun = "row" if self.count == 1 else "rows"
        known = ", ".join(repr(k) for k in self.known[:8]) + (", …" if len(self.known) > 8 else "")
        return (
            f"{where}: value {show_value(self.value)} is not in the value map of {self.field} "
            f"(in {self.count} {noun}: {rows}); the map knows {known or 'no values'}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "column": column_letter(self.column) if self.column is not None else None,
            "header": self.header,
            "field": self.field,
            "value": self.value,
            "count": self.count,
            "rows": list(self.rows),
            "text": str(self),
        }
