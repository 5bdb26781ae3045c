"""Rows -> interchange events, by a mapping. Pure: no storage, no printing, no clock.

``convert(file, mapping)`` reads every table of the mapping, turns each row into one event,
validates it with the interchange's own ``validate_object`` and returns a ``ConversionResult``:
the events in recorded order (ties keep row order), every problem found (up to a limit), and the
values that no value map covers, each listed once with its count.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from insightlog.gcpause import cyclic_gc_paused
from insightlog.interchange.validation import LineError, compliance_band, validate_object
from insightlog.sheets.mapping import ENVELOPE, Recipe, SheetMapping, TablePlan, field_name, parse_template
from insightlog.sheets.problems import Cell, Problem, UnmappedValue, column_index, column_letter, show_value
from insightlog.sheets.readers import SheetRows, SourceError, SourceFile, detect_format, open_source
from insightlog.sheets.timeparse import LocalTimes, TimeValueError, clock_of, parse_clock

MAX_PROBLEMS = 200
PROGRESS_EVERY = 1000
_ABSENT: Any = object()
_SLUG = re.compile(r"[^A-Za-z0-9._:-]+")
_INTEGER = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_WS = re.compile(r"\s+")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
PAYLOAD_PREFIX = "payload."


class _Bad(Exception):
    """A cell that cannot be read as the field needs (internal)."""

    def __init__(self, message: str, column: int | None = None, value: Any = None, has_value: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.value = value
        self.has_value = has_value


class _Unmapped(Exception):
    """A value that a value map does not cover (internal; collected, not reported per row)."""

    def __init__(self, text: str, info: tuple[int, str | None, str, int, str | None, tuple[str, ...]]) -> None:
        super().__init__(text)
        self.text = text
        self.info = info


class Origin(NamedTuple):
    """Where an event came from: its table, sheet and row."""

    table: int
    sheet: str | None
    row: int
    kind: str


@dataclass
class ConversionResult:
    """What a file gives under a mapping. ``ok`` when there is nothing to fix."""

    events: list[dict[str, Any]] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unmapped: list[UnmappedValue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: int = 0
    blank: int = 0
    skipped: int = 0
    repeated: int = 0
    truncated: int = 0
    file_name: str | None = None
    _columns: dict[tuple[int, str], dict[str, tuple[int | None, str | None]]] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unmapped and not self.truncated

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.truncated + len(self.unmapped)

    def messages(self) -> list[str]:
        """Every problem as one line, then each unmapped value once, then what was left out."""
        lines = [str(p) for p in self.problems]
        lines.extend(str(u) for u in self.unmapped)
        if self.truncated:
            lines.append(f"... and {self.truncated} more problems (only the first {len(self.problems)} are listed)")
        return lines

    def jsonl(self) -> Iterator[bytes]:
        """The events as interchange lines (no newline), in recorded order."""
        for event in self.events:
            yield orjson.dumps(event)

    def cell_of(self, index: int, field_path: str | None = None) -> Cell:
        """The sheet, row and (when known) column that event ``index``'s field came from."""
        origin = self.origins[index]
        column, header = None, None
        if field_path:
            column, header = _source_column(self._columns.get((origin.table, origin.kind), {}), field_path)
        return Cell(origin.sheet, origin.row, column, header)

    def preview(self, limit: int = 10) -> list[dict[str, Any]]:
        """The first events, in the order they will be appended, as rows for a table."""
        out = []
        for event, origin in list(zip(self.events, self.origins, strict=True))[:limit]:
            payload = event["payload"]
            scope = next((f"{k}:{event[k]}" for k in ("location", "team", "shift") if event.get(k)), None)
            score = next((payload[k] for k in ("evidence_score", "headline_score", "score") if k in payload), None)
            text = next(
                (payload[k] for k in ("summary", "narrative", "finding", "description", "note") if payload.get(k)), None
            )
            out.append(
                {
                    "sheet": origin.sheet,
                    "row": origin.row,
                    "event_id": event["event_id"],
                    "kind": event["kind"],
                    "theme": event.get("theme"),
                    "scope": scope,
                    "observed_at": event["observed_at"],
                    "recorded_at": event["recorded_at"],
                    "score": score,
                    "summary": text,
                }
            )
        return out

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, int] = {}
        for event in self.events:
            kinds[event["kind"]] = kinds.get(event["kind"], 0) + 1
        return {
            "rows": self.rows,
            "events": len(self.events),
            "blank_rows": self.blank,
            "skipped_rows": self.skipped,
            "repeated_rows": self.repeated,
            "kinds": dict(sorted(kinds.items())),
            "services": sorted({e["service"] for e in self.events}),
            "problems": self.problem_count,
        }

    def as_dict(self, preview: int = 10) -> dict[str, Any]:
        """A JSON-ready report (for --json and a web page)."""
        return {
            "file": self.file_name,
            "ok": self.ok,
            **self.summary(),
            "notes": list(self.notes),
            "problem_list": [p.as_dict() for p in self.problems],
            "unmapped": [u.as_dict() for u in self.unmapped],
            "problems_not_listed": self.truncated,
            "preview": self.preview(preview),
        }


def _source_column(columns: dict[str, tuple[int | None, str | None]], path: str) -> tuple[int | None, str | None]:
    target = path
    while target:
        if target in columns:
            return columns[target]
        target = target.rsplit(".", 1)[0] if "." in target else ""
    return None, None


# ------------------------------------------------------------------ the entry point


def convert(
    source: Path | bytes,
    mapping: SheetMapping,
    *,
    file_name: str | None = None,
    now: datetime | None = None,
    max_problems: int = MAX_PROBLEMS,
    progress: Callable[[int, int], None] | None = None,
) -> ConversionResult:
    """Convert a file (a path, or its bytes) into interchange events under ``mapping``.

    ``now`` (aware UTC), when given, makes a ``recorded_at`` after it a problem, as the ledger
    would. ``progress(done, total)`` is called every thousand rows.
    """
    if isinstance(source, Path):
        file_name = file_name or source.name
        data = source.read_bytes()
    else:
        data = source
    result = ConversionResult(file_name=file_name)
    fmt = mapping.source.format or detect_format(file_name, data) or "csv"
    try:
        opened = open_source(data, fmt, encoding=mapping.source.encoding, delimiter=mapping.source.delimiter)
    except SourceError as exc:
        result.problems.append(exc.problem)
        return result
    try:
        with cyclic_gc_paused():  # many small acyclic objects per row; see gcpause.py
            _convert_opened(opened, mapping, result, now, max_problems, progress)
    finally:
        opened.close()
    return result


def _convert_opened(
    opened: SourceFile,
    mapping: SheetMapping,
    result: ConversionResult,
    now: datetime | None,
    max_problems: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    result.notes.extend(opened.notes)
    spec = mapping.time
    times = LocalTimes(spec.zone, spec.formats, spec.date_only_at, spec.nonexistent, spec.ambiguous)
    sink = _Sink(result, max_problems)
    sheets: list[tuple[TablePlan, SheetRows]] = []
    for plan in mapping.tables:
        if opened.format == "csv" and plan.sheet is not None:
            result.notes.append(f"{plan.key}.sheet {plan.sheet!r} is ignored: a CSV file has one table")
        try:
            sheets.append((plan, opened.sheet(plan.sheet)))
        except SourceError as exc:
            sink.add(exc.problem)
    total = sum(max(0, len(rows.rows) - plan.first_data_row + 1) for plan, rows in sheets)
    done = 0
    collected: list[tuple[str, int, dict[str, Any], Origin]] = []
    now_text = _utc_text(now) if now is not None else None
    for plan, rows in sheets:
        converter = _TableConverter(plan, rows, times, sink, result)
        if not converter.ready():
            continue
        last = min(len(rows.rows), plan.spec.last_data_row or len(rows.rows))
        for index in range(plan.first_data_row - 1, last):
            converted = converter.row(index, now_text)
            if converted is not None:
                collected.append((converted[0]["recorded_at"], len(collected), converted[0], converted[1]))
            done += 1
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done, total)
    if progress is not None:
        progress(total, total)
    collected.sort(key=lambda item: (item[0], item[1]))
    _drop_repeats(collected, result, sink)


def _drop_repeats(
    collected: list[tuple[str, int, dict[str, Any], Origin]], result: ConversionResult, sink: _Sink
) -> None:
    """Two rows with one event id: once if identical, else a problem naming both rows."""
    seen: dict[str, tuple[dict[str, Any], Origin]] = {}
    for _, _, event, origin in collected:
        eid = event["event_id"]
        first = seen.get(eid)
        if first is None:
            seen[eid] = (event, origin)
            result.events.append(event)
            result.origins.append(origin)
            continue
        if orjson.dumps(first[0]) == orjson.dumps(event):
            result.repeated += 1
            continue
        other = f"{_where(first[1])}"
        columns = result._columns.get((origin.table, origin.kind), {})
        column, header = _source_column(columns, "event_id")
        sink.add(
            Problem.at(
                Cell(origin.sheet, origin.row, column, header),
                f"is also made by {other} with different content; make the event_id tell them apart "
                "(add a column to its template or digest)",
                value=eid,
                has_value=True,
                field="event_id",
            )
        )


def _where(origin: Origin) -> str:
    return f"sheet {origin.sheet!r}, row {origin.row}" if origin.sheet else f"row {origin.row}"


def _utc_text(now: datetime) -> str:
    from insightlog.sheets.timeparse import format_z

    return format_z(now)


class _Sink:
    """Collects problems up to the limit and counts the rest."""

    def __init__(self, result: ConversionResult, limit: int) -> None:
        self.result = result
        self.limit = limit
        self.unmapped: dict[tuple[int, str, int | None, str], UnmappedValue] = {}

    def add(self, problem: Problem) -> None:
        if len(self.result.problems) < self.limit:
            self.result.problems.append(problem)
        else:
            self.result.truncated += 1

    def unmapped_value(
        self,
        table: int,
        sheet: str | None,
        target: str,
        column: int | None,
        header: str | None,
        text: str,
        row: int,
        known: tuple[str, ...],
    ) -> None:
        key = (table, target, column, text)
        entry = self.unmapped.get(key)
        if entry is None:
            entry = UnmappedValue(sheet, column, header, target, text, known=known)
            self.unmapped[key] = entry
            self.result.unmapped.append(entry)
        entry.count += 1
        if len(entry.rows) < 50:
            entry.rows.append(row)


# ------------------------------------------------------------------ one table

_Evaluator = Callable[[list[Any], dict[str, Any]], Any]


@dataclass
class _Compiled:
    fields: list[tuple[str, _Evaluator, int | None]]
    columns: dict[str, tuple[int | None, str | None]]
    payload_names: dict[str, str]


class _TableConverter:
    def __init__(
        self, plan: TablePlan, rows: SheetRows, times: LocalTimes, sink: _Sink, result: ConversionResult
    ) -> None:
        self.plan = plan
        self.rows = rows
        self.times = times
        self.sink = sink
        self.result = result
        self.headers: dict[str, list[int]] = {}
        self.header_text: dict[int, str] = {}
        self.compiled: dict[str, _Compiled | None] = {}
        self.kind_eval: _Evaluator | None = None
        self.kind_column: int | None = None
        self.skip_column: int | None = None
        self.skip_values: frozenset[str] = frozenset()
        self.failed = False

    # -- set up

    def ready(self) -> bool:
        plan = self.plan
        if plan.header_row:
            if plan.header_row > len(self.rows.rows):
                self.sink.add(
                    Problem(
                        f"has no header row {plan.header_row}: it has {len(self.rows.rows)} rows",
                        sheet=self.rows.name,
                        field=f"{plan.key}.header_row",
                    )
                )
                return False
            for i, cell in enumerate(self.rows.rows[plan.header_row - 1]):
                if cell is None:
                    continue
                text = _WS.sub(" ", _display(cell)).strip()
                if text:
                    self.header_text[i] = text
                    self.headers.setdefault(text.casefold(), []).append(i)
        try:
            self.kind_eval, self.kind_column = self._evaluator(plan.kind, {})
            if plan.spec.skip is not None:
                skip = plan.spec.skip
                self.skip_column = self._column(f"{plan.key}.skip", skip.column, skip.letter)
                self.skip_values = frozenset(_map_key(v, True) for v in skip.values)
            for kind in plan.per_kind:
                self.compiled[kind] = self._compile(plan.recipes(kind))
        except _Bad as exc:
            self.sink.add(Problem(exc.message, sheet=self.rows.name, row=plan.header_row or None, column=exc.column))
            return False
        return True

    def _column(self, key: str, column: str | None, letter: str | None) -> int:
        if letter is not None:
            return column_index(letter)
        if column is None:
            raise _Bad(f"{key}: names no column")
        if not self.plan.header_row:
            raise _Bad(f'{key}: column {column!r}: this table has no header row (header_row = 0); use letter = "C"')
        found = self.headers.get(_WS.sub(" ", column).strip().casefold())
        if not found:
            raise _Bad(
                f"{key}: there is no column {column!r} in header row {self.plan.header_row}"
                f" (its columns: {self._header_list()})",
                has_value=False,
            )
        if len(found) > 1:
            letters = " and ".join(column_letter(i) for i in found)
            raise _Bad(
                f"{key}: column {column!r} appears more than once in header row {self.plan.header_row} ({letters}); "
                'choose one with letter = "..."'
            )
        return found[0]

    def _header_list(self) -> str:
        items = [f"{column_letter(i)} {t!r}" for i, t in sorted(self.header_text.items())]
        if len(items) > 20:
            items = [*items[:20], "…"]
        return ", ".join(items) or "none"

    def _compile(self, recipes: dict[str, Recipe]) -> _Compiled:
        fields: list[tuple[str, _Evaluator, int | None]] = []
        columns: dict[str, tuple[int | None, str | None]] = {}
        for target, recipe in recipes.items():
            if target == "kind":
                continue
            evaluator, column = self._evaluator(recipe, columns)
            fields.append((target, evaluator, column))
            columns[target] = (column, self.header_text.get(column) if column is not None else None)
        columns["kind"] = (
            self.kind_column,
            self.header_text.get(self.kind_column) if self.kind_column is not None else None,
        )
        payload_names = {t: t[len(PAYLOAD_PREFIX) :] for t, _, _ in fields if t.startswith(PAYLOAD_PREFIX)}
        return _Compiled(fields, columns, payload_names)

    def _kind_compiled(self, kind: str) -> _Compiled | None:
        if kind not in self.compiled:
            try:
                self.compiled[kind] = self._compile(self.plan.recipes(kind))
            except _Bad as exc:
                self.sink.add(
                    Problem(exc.message, sheet=self.rows.name, row=self.plan.header_row or None, column=exc.column)
                )
                self.compiled[kind] = None
        return self.compiled[kind]

    # -- evaluators (closures: the row loop calls them ~15 times per row)

    def _evaluator(
        self, recipe: Recipe, columns: dict[str, tuple[int | None, str | None]]
    ) -> tuple[_Evaluator, int | None]:
        target = recipe.target
        kind = recipe.type
        if recipe.is_constant:
            constant = recipe.constant
            return (lambda cells, values: constant), None
        spec = recipe.spec
        if spec is None:
            raise _Bad(f"{recipe.key}: has no source")
        convert_value = self._converter(kind, recipe)
        if spec.column is not None or spec.letter is not None:
            index = self._column(recipe.key, spec.column, spec.letter)
            return self._cell_evaluator(recipe, index, convert_value), index
        if spec.template is not None:
            return self._template_evaluator(recipe, columns)
        if spec.percent is not None:
            part, whole = (field_name(r) for r in spec.percent)
            decimals = 1 if spec.decimals is None else spec.decimals
            whole_column = columns.get(whole, (None, None))[0]

            def percent(cells: list[Any], values: dict[str, Any]) -> Any:
                a = values.get(part, _ABSENT)
                b = values.get(whole, _ABSENT)
                if a is _ABSENT or b is _ABSENT or a is None or b is None:
                    return _ABSENT
                if not _is_number(a) or not _is_number(b):
                    raise _Bad(f"{target}: the percentage needs two numbers ({part}, {whole})", whole_column, b)
                if b == 0:
                    raise _Bad(f"is 0, so the percentage {part} / {whole} cannot be computed", whole_column, b)
                return round(100.0 * a / b, decimals)

            return percent, columns.get(part, (None, None))[0]
        if spec.band is not None:
            ref = field_name(spec.band)

            def band(cells: list[Any], values: dict[str, Any]) -> Any:
                pct = values.get(ref, _ABSENT)
                if pct is _ABSENT or pct is None:
                    return _ABSENT
                if not _is_number(pct):
                    raise _Bad(
                        f"{target}: the CQC band needs a number in {ref}", columns.get(ref, (None, None))[0], pct
                    )
                return compliance_band(pct)

            return band, columns.get(ref, (None, None))[0]
        if spec.same_as is not None:
            ref = field_name(spec.same_as)
            return (lambda cells, values: values.get(ref, _ABSENT)), columns.get(ref, (None, None))[0]
        if spec.digest is not None:
            refs = recipe.refs
            prefix = spec.prefix

            def digest(cells: list[Any], values: dict[str, Any]) -> Any:
                parts = [values.get(r) if values.get(r, _ABSENT) is not _ABSENT else None for r in refs]
                return prefix + hashlib.sha256(orjson.dumps(parts)).hexdigest()[:24]

            first = next((columns[r][0] for r in refs if r in columns and columns[r][0] is not None), None)
            return digest, first
        if "value" in spec.model_fields_set:
            constant = spec.value
            return (lambda cells, values: constant), None
        raise _Bad(f"{recipe.key}: has no source")

    def _cell_evaluator(self, recipe: Recipe, index: int, convert_value: Callable[[Any], Any]) -> _Evaluator:
        spec = recipe.spec
        if spec is None:
            raise _Bad(f"{recipe.key}: has no source")
        target = recipe.target
        mapping = None
        if spec.map is not None:  # values converted once, here: a bad one is the mapping's problem
            converted: dict[str, Any] = {}
            for k, v in spec.map.items():
                try:
                    converted[k] = convert_value(v) if isinstance(v, (str, int, float)) else v
                except _Bad as exc:
                    raise _Bad(f"{recipe.key}.map.{k}: {v!r} {exc.message}") from None
            mapping = _normal_map(converted, spec.ignore_case)
        has_default = spec.default is not None
        default = spec.default
        if has_default and isinstance(default, (str, int, float)):
            try:
                default = convert_value(default)
            except _Bad as exc:
                raise _Bad(f"{recipe.key}.default: {default!r} {exc.message}") from None
        empty = spec.empty
        ignore_case = spec.ignore_case
        time_index = self._column(recipe.key + ".time_column", spec.time_column, None) if spec.time_column else None
        time_of_day = parse_clock(spec.time_of_day) if spec.time_of_day else None
        times = self.times
        info = (self.plan.index, self.rows.name, target, index, self.header_text.get(index), tuple(spec.map or ()))

        def on_empty() -> Any:
            if has_default:
                return default
            if empty == "null":
                return None
            if empty == "error":
                raise _Bad(f"is empty; {target} needs a value", index, None, has_value=False)
            return _ABSENT

        if mapping is not None:
            value_map = mapping

            def mapped(cells: list[Any], values: dict[str, Any]) -> Any:
                raw = cells[index] if index < len(cells) else None
                if raw is None or (raw.__class__ is str and not raw.strip()):
                    return on_empty()
                found = value_map.get(raw, _ABSENT) if raw.__class__ is str else _ABSENT  # the exact text first
                if found is _ABSENT:
                    key = _map_key(raw, ignore_case)
                    if key not in value_map:
                        raise _Unmapped(_display(raw), info)
                    found = value_map[key]
                return found

            return mapped
        if time_index is None:

            def plain(cells: list[Any], values: dict[str, Any]) -> Any:
                raw = cells[index] if index < len(cells) else None
                if raw is None or (raw.__class__ is str and not raw.strip()):
                    return on_empty()
                try:
                    return convert_value(raw)
                except _Bad as exc:
                    exc.column = index
                    exc.value = raw
                    raise

            return plain

        def evaluate(cells: list[Any], values: dict[str, Any]) -> Any:
            raw = cells[index] if index < len(cells) else None
            if raw is None or (raw.__class__ is str and not raw.strip()):
                return on_empty()
            # Only a date with a separate time column gets here (``plain`` reads the others).
            return _with_time(
                raw, cells[time_index] if time_index < len(cells) else None, times, time_of_day, index, time_index
            )

        return evaluate

    def _template_evaluator(
        self, recipe: Recipe, columns: dict[str, tuple[int | None, str | None]]
    ) -> tuple[_Evaluator, int | None]:
        spec = recipe.spec
        if spec is None or spec.template is None:
            raise _Bad(f"{recipe.key}: has no template")
        target = recipe.target
        is_id = target == "event_id"
        pieces: list[tuple[int, Any]] = []  # (0, text) | (1, column index) | (2, field)
        first: int | None = None
        for kind, piece in parse_template(spec.template):
            if kind == "text":
                pieces.append((0, piece))
            elif piece.startswith("="):
                ref = field_name(piece[1:])
                pieces.append((2, ref))
                if first is None:
                    first = columns.get(ref, (None, None))[0]
            else:
                if self.plan.header_row:
                    index = self._column(f"{recipe.key}.template", piece, None)
                else:
                    index = self._column(f"{recipe.key}.template", None, piece)
                pieces.append((1, index))
                if first is None:
                    first = index

        def template(cells: list[Any], values: dict[str, Any]) -> Any:
            out = []
            for kind, what in pieces:
                if kind == 0:
                    out.append(what)
                    continue
                if kind == 1:
                    raw = cells[what] if what < len(cells) else None
                    text = _display(raw) if raw is not None else ""
                    column = what
                else:
                    got = values.get(what, _ABSENT)
                    text = "" if got is _ABSENT or got is None else _display(got)
                    column = columns.get(what, (None, None))[0]
                if is_id:
                    text = _SLUG.sub("-", text).strip("-")
                    if not text:
                        raise _Bad("is empty; the event_id template needs it", column, None, has_value=False)
                out.append(text)
            joined = "".join(out).strip()
            return joined if joined else _ABSENT

        return template, first

    def _converter(self, kind: str, recipe: Recipe) -> Callable[[Any], Any]:
        spec = recipe.spec
        times = self.times
        if kind == "text":
            return _as_text
        if kind == "integer":
            return _as_integer
        if kind == "number":
            multiply = spec.multiply if spec is not None else None
            decimals = spec.decimals if spec is not None else None

            def number(value: Any) -> float:
                n = _as_number(value)
                if multiply is not None:
                    n = n * multiply
                if decimals is not None:
                    n = round(n, decimals)
                return n

            return number
        if kind == "boolean":
            return _as_boolean
        if kind == "time":
            time_of_day = parse_clock(spec.time_of_day) if spec is not None and spec.time_of_day else None

            def as_time(value: Any) -> str:
                try:
                    return times.to_utc(value, time_of_day)
                except TimeValueError as exc:
                    raise _Bad(str(exc)) from None

            return as_time
        if kind == "date":

            def as_date(value: Any) -> str:
                try:
                    return times.date_text(value)
                except TimeValueError as exc:
                    raise _Bad(str(exc)) from None

            return as_date
        if kind == "list":
            sep = spec.split if spec is not None else ","
            return lambda value: _as_list(value, sep)
        if kind == "json":
            return _as_json

        def auto(value: Any) -> Any:
            return _as_auto(value, times)

        return auto

    # -- rows

    def row(self, index: int, now_text: str | None) -> tuple[dict[str, Any], Origin] | None:
        cells = self.rows.rows[index]
        number = index + 1
        result = self.result
        for c in cells:
            if c is not None and (c.__class__ is not str or c.strip()):
                break
        else:
            result.blank += 1
            return None
        result.rows += 1
        if self.skip_column is not None:
            raw = cells[self.skip_column] if self.skip_column < len(cells) else None
            if raw is not None and _map_key(raw, True) in self.skip_values:
                result.skipped += 1
                return None
        sheet = self.rows.name
        if self.kind_eval is None:
            return None
        kind = self._run(self.kind_eval, cells, {}, number, "kind", self.kind_column)
        if kind is _FAILED:
            return None
        if kind is _ABSENT or kind is None:
            if kind is _ABSENT and self.kind_column is not None:
                self.sink.add(
                    Problem.at(
                        self._cell(number, self.kind_column), "is empty; the kind of the row is needed", field="kind"
                    )
                )
            return None
        if not isinstance(kind, str):
            self.sink.add(
                Problem.at(
                    self._cell(number, self.kind_column), "is not a kind name", value=kind, has_value=True, field="kind"
                )
            )
            return None
        compiled = self._kind_compiled(kind)
        if compiled is None:
            return None
        result._columns.setdefault((self.plan.index, kind), compiled.columns)
        values: dict[str, Any] = {"kind": kind}
        failed = False
        for target, evaluator, column in compiled.fields:
            try:
                value = evaluator(cells, values)
            except (_Bad, _Unmapped):
                value = self._run(evaluator, cells, values, number, target, column)  # again, to report it
            if value is _FAILED:
                failed = True
            elif value is not _ABSENT:
                values[target] = value
        if failed:
            return None
        event: dict[str, Any] = {name: values.get(name) for name in ENVELOPE}
        event["payload"] = {name: values[t] for t, name in compiled.payload_names.items() if t in values}
        try:
            validate_object(event)
        except LineError as exc:
            self._line_error(exc, compiled, cells, number, kind)
            return None
        if now_text is not None and event["recorded_at"] > now_text:
            column, header = compiled.columns.get("recorded_at", (None, None))
            self.sink.add(
                Problem.at(
                    Cell(sheet, number, column, header),
                    f"lies in the future (now is {now_text})",
                    value=event["recorded_at"],
                    has_value=True,
                    field="recorded_at",
                )
            )
            return None
        return event, Origin(self.plan.index, sheet, number, kind)

    def _run(
        self,
        evaluator: _Evaluator,
        cells: list[Any],
        values: dict[str, Any],
        number: int,
        target: str,
        column: int | None,
    ) -> Any:
        try:
            return evaluator(cells, values)
        except _Bad as exc:
            col = exc.column if exc.column is not None else column
            self.sink.add(
                Problem.at(self._cell(number, col), exc.message, value=exc.value, has_value=exc.has_value, field=target)
            )
        except _Unmapped as exc:
            table, sheet, tgt, col, header, known = exc.info
            self.sink.unmapped_value(table, sheet, tgt, col, header, exc.text, number, known)
        return _FAILED

    def _cell(self, number: int, column: int | None) -> Cell:
        return Cell(self.rows.name, number, column, self.header_text.get(column) if column is not None else None)

    def _line_error(self, exc: LineError, compiled: _Compiled, cells: list[Any], number: int, kind: str) -> None:
        """An interchange error, pointed at the cell that fed the field."""
        column, header = _source_column(compiled.columns, exc.field)
        message = exc.message
        has_value = False
        value = None
        if column is not None:
            raw = cells[column] if column < len(cells) else None
            empty = raw is None or (isinstance(raw, str) and not raw.strip())
            if message == "is required" or message.startswith("is required"):
                message = f"is empty; {exc.field} is required for {kind}" if empty else f"{exc.field} {message}"
            else:
                has_value, value = (not empty), raw
        elif message.startswith("is required"):
            message = f"{exc.field} is required for {kind}, and the mapping gives it no column or constant"
        elif exc.field in compiled.columns:
            message = f"{message} (a constant of the mapping)"
        self.sink.add(
            Problem(message, self.rows.name, number, column, header, value, has_value, exc.field, exc.event_id)
        )


_FAILED: Any = object()


# ------------------------------------------------------------------ reading values


def _display(value: Any) -> str:
    """A cell as text: integral numbers without '.0', dates as ISO, text stripped."""
    cls = value.__class__
    if cls is str:
        return str(value).strip()
    if cls is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if cls is bool:
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _map_key(value: Any, ignore_case: bool) -> str:
    text = _WS.sub(" ", _display(value)).strip()
    return text.casefold() if ignore_case else text


def _normal_map(raw: dict[str, Any], ignore_case: bool) -> dict[str, Any]:
    """The map by tidied key (and by each key exactly as written, which is the usual cell text)."""
    tidy = {_map_key(k, ignore_case): v for k, v in raw.items()}
    return {**tidy, **{k: v for k, v in raw.items() if _map_key(k, ignore_case) in tidy}}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_text(value: Any) -> Any:
    text = _display(value)
    return text if text else _ABSENT


def _as_integer(value: Any) -> int:
    cls = value.__class__
    if cls is int:
        return int(value)
    if cls is float:
        if value.is_integer():
            return int(value)
        raise _Bad("is not a whole number")
    if cls is str:
        text = value.strip()
        if _INTEGER.match(text):
            return int(float(text)) if "." in text else int(text)
        raise _Bad("is not a whole number")
    raise _Bad(f"is a {_type_name(value)}, not a whole number")


def _as_number(value: Any) -> float:
    cls = value.__class__
    if cls is float or cls is int:
        return float(value)
    if cls is str:
        text = value.strip().replace(",", "")
        if text.endswith("%"):
            text = text[:-1].strip()
        try:
            number = float(text)
        except ValueError:
            raise _Bad("is not a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise _Bad("is not a number")
        return number
    raise _Bad(f"is a {_type_name(value)}, not a number")


def _as_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _display(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Bad("is not yes/no or true/false")


def _as_list(value: Any, sep: str) -> list[Any]:
    if isinstance(value, list):
        return value
    text = _display(value)
    if text.startswith("["):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _Bad("starts with '[' but is not a JSON list") from None
        if not isinstance(parsed, list):
            raise _Bad("is not a JSON list")
        return parsed
    return [item.strip() for item in text.split(sep) if item.strip()]


def _as_json(value: Any) -> Any:
    if not isinstance(value, str):
        if isinstance(value, (list, dict)):
            return value
        raise _Bad("is not JSON text")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise _Bad(f"is not JSON: {exc}") from None


def _as_auto(value: Any, times: LocalTimes) -> Any:
    cls = value.__class__
    if cls is str:
        text = str(value).strip()
        return text if text else _ABSENT
    if cls is float:
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if cls is int or cls is bool:
        return value
    if isinstance(value, datetime):
        try:
            return times.to_utc(value)
        except TimeValueError as exc:
            raise _Bad(str(exc)) from None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return _display(value)


def _with_time(
    raw: Any, raw_time: Any, times: LocalTimes, time_of_day: time | None, index: int, time_index: int
) -> str:
    """A date column and a separate time column, read as one local time."""
    try:
        naive = times.naive(raw, time_of_day)
    except TimeValueError as exc:
        raise _Bad(str(exc), index, raw) from None
    if isinstance(naive, str):
        return naive
    if raw_time is not None and not (isinstance(raw_time, str) and not raw_time.strip()):
        try:
            clock = clock_of(raw_time)
        except TimeValueError as exc:
            raise _Bad(str(exc), time_index, raw_time) from None
        naive = datetime.combine(naive.date(), clock)
    try:
        return _format_utc(times.localize(naive))
    except TimeValueError as exc:
        raise _Bad(str(exc), index, raw) from None


def _format_utc(value: datetime) -> str:
    from insightlog.sheets.timeparse import format_z

    return format_z(value)


def _type_name(value: Any) -> str:
    if isinstance(value, datetime):
        return "date and time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, bool):
        return "true/false value"
    return type(value).__name__


__all__ = ["MAX_PROBLEMS", "ConversionResult", "Origin", "convert", "show_value"]
