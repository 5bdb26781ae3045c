"""Reading the files providers have: CSV (the standard ``csv`` module, with dialect sniffing and
encoding detection) and XLSX / ODS workbooks (python-calamine; ADR 16). No hand-written parsing.

A reader gives whole rows, row 1 first, so that the row and column numbers of every problem are
the ones a spreadsheet program shows. Empty cells are ``None``.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from insightlog.sheets.problems import Problem

FORMATS = ("csv", "xlsx", "ods")
DELIMITERS = (",", ";", "\t", "|")
UTF8_BOM = b"\xef\xbb\xbf"
ZIP_MAGIC = b"PK\x03\x04"
SNIFF_BYTES = 16 * 1024
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods"}


class SourceError(ValueError):
    """Raised when a file cannot be read at all (bad encoding, not a workbook, no such sheet)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass
class SheetRows:
    """The rows of one sheet (or of a CSV file): ``rows[0]`` is row 1."""

    name: str | None
    rows: list[list[Any]]


@dataclass
class SourceFile:
    """An opened source: its format, its sheets' names, and notes on how it was read."""

    format: str
    sheet_names: list[str]
    notes: list[str] = field(default_factory=list)
    _csv: SheetRows | None = None
    _workbook: Any = None

    def sheet(self, name: str | None) -> SheetRows:
        """The rows of sheet ``name`` (the first sheet when None); raises SourceError."""
        if self._csv is not None:
            return self._csv
        if name is None:
            if not self.sheet_names:
                raise SourceError(Problem("the workbook has no sheets"))
            name = self.sheet_names[0]
        if name not in self.sheet_names:
            known = ", ".join(repr(s) for s in self.sheet_names)
            raise SourceError(Problem(f"the workbook has no sheet {name!r} (its sheets: {known})", field="sheet"))
        try:
            raw = self._workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001 - the reader's own errors, reported as one line
            raise SourceError(Problem(f"sheet {name!r} cannot be read: {_first_line(exc)}", sheet=name)) from None
        return SheetRows(name, [[None if v == "" else v for v in row] for row in raw])

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None


def detect_format(name: str | None, data: bytes | None = None) -> str | None:
    """The format named by a file's extension, else guessed from its first bytes."""
    if name:
        found = _EXTENSIONS.get(Path(name).suffix.lower())
        if found:
            return found
    if data is not None:
        if data.startswith(ZIP_MAGIC):
            return "ods" if b"opendocument.spreadsheet" in data[:200] else "xlsx"
        return "csv"
    return None


def open_source(data: bytes, fmt: str, *, encoding: str = "auto", delimiter: str = "auto") -> SourceFile:
    """Open the bytes of a file as ``fmt``; raises SourceError with a problem a person can act on."""
    if fmt == "csv":
        if data.startswith(ZIP_MAGIC):
            raise SourceError(Problem("the file is a zipped workbook (xlsx or ods), not CSV; set source.format"))
        text, notes = decode_text(data, encoding)
        delim, note = choose_delimiter(text, delimiter)
        if note:
            notes.append(note)
        rows = [
            [cell if cell != "" else None for cell in record]
            for record in csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        ]
        return SourceFile("csv", [], notes, _csv=SheetRows(None, rows))
    if fmt in ("xlsx", "ods"):
        if not data.startswith(ZIP_MAGIC):
            raise SourceError(
                Problem(f"the file is not an {fmt} workbook (a workbook is a zip file); is it CSV? set source.format")
            )
        from python_calamine import CalamineWorkbook

        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - calamine's errors (zip, xml, password) as one line
            raise SourceError(Problem(f"the file cannot be read as an {fmt} workbook: {_first_line(exc)}")) from None
        return SourceFile(fmt, list(workbook.sheet_names), _workbook=workbook)
    raise SourceError(Problem(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})", field="source.format"))


def decode_text(data: bytes, encoding: str) -> tuple[str, list[str]]:
    """Decode a CSV file. ``auto``: a UTF-16 BOM, else UTF-8, else Windows cp1252 (what Excel on
    Windows writes). A UTF-8 byte-order mark is dropped whatever the encoding."""
    notes: list[str] = []
    if encoding == "auto":
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _decode(data, "utf-16"), ["read as UTF-16 (byte-order mark)"]
        bom = data.startswith(UTF8_BOM)
        body = data[len(UTF8_BOM) :] if bom else data
        try:
            return body.decode("utf-8"), notes
        except UnicodeDecodeError as exc:
            first = _position(body, exc.start, exc.end)
        try:
            text = body.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise _encoding_problem(body, exc, "utf-8 or Windows cp1252") from None
        lead = "starts with a UTF-8 byte-order mark but " if bom else ""
        notes.append(f"the file {lead}is not UTF-8 ({first}); read it as Windows cp1252")
        return text, notes
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise SourceError(Problem(f"unknown encoding {encoding!r}", field="source.encoding")) from None
    body = data[len(UTF8_BOM) :] if data.startswith(UTF8_BOM) and not info.name.startswith("utf-16") else data
    return _decode(body, info.name), notes


def _decode(body: bytes, encoding: str) -> str:
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        hint = (
            '; the file may be Windows cp1252: set source.encoding = "cp1252" (or "auto")' if "utf" in encoding else ""
        )
        raise _encoding_problem(body, exc, encoding, hint) from None


def _encoding_problem(body: bytes, exc: UnicodeDecodeError, expected: str, hint: str = "") -> SourceError:
    row, column = _row_and_column(body, exc.start)
    bad = body[exc.start : exc.end].hex(" ")
    return SourceError(
        Problem(
            f"byte(s) {bad} are not valid {expected}{hint}",
            row=row,
            column=column,
            field="source.encoding",
        )
    )


def _position(body: bytes, start: int, end: int) -> str:
    row, column = _row_and_column(body, start)
    from insightlog.sheets.problems import column_letter

    return f"byte(s) {body[start:end].hex(' ')} in row {row}, column {column_letter(column)}"


def _row_and_column(body: bytes, offset: int) -> tuple[int, int]:
    """The spreadsheet row and column of a byte offset: records of the valid prefix, read as CSV."""
    prefix = body[:offset].decode("utf-8", errors="replace")
    records = list(csv.reader(io.StringIO(prefix + "x", newline=""), delimiter=choose_delimiter(prefix, "auto")[0]))
    if not records:
        return 1, 0
    return len(records), max(len(records[-1]) - 1, 0)


def choose_delimiter(text: str, delimiter: str) -> tuple[str, str | None]:
    """The delimiter to use, and a note when it was detected. ``csv.Sniffer`` first; its answer is
    kept when it splits the first rows into the same number of fields, else the candidate that does."""
    if delimiter != "auto":
        return delimiter, None
    sample = text[:SNIFF_BYTES]
    if len(text) > SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    scores = {d: _consistency(sample, d) for d in DELIMITERS}
    if sniffed in scores and scores[sniffed][0] >= 0.9 and scores[sniffed][1] > 1:
        chosen = sniffed
    else:
        chosen = max(DELIMITERS, key=lambda d: scores[d])
        if scores[chosen][1] <= 1:
            chosen = sniffed or ","
    name = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}[chosen]
    return chosen, f"columns separated by {name} (detected)"


def _consistency(sample: str, delimiter: str) -> tuple[float, int]:
    """How consistently ``delimiter`` splits the first rows: (share of rows with the usual width, width)."""
    try:
        widths = [len(r) for r in list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))[:50] if any(r)]
    except csv.Error:
        return 0.0, 0
    if not widths:
        return 0.0, 0
    width, count = Counter(widths).most_common(1)[0]
    return count / len(widths), width


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
