"""The mapping file (TOML, ``mapping_version = 1``): how a sheet's rows become interchange events.

``load_mapping`` reads and checks a mapping without any data file: unknown keys, bad kinds, roles
and categories, required fields that no column feeds, references to unmapped fields and cycles
between computed fields are all errors here, each naming the key. docs/sheets.md documents the
format; this module is its reference.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from insightlog.interchange.kinds import ACTOR_ROLES, CONFIDENCE, EVIDENCE_CATEGORIES
from insightlog.sheets.timeparse import DEFAULT_FORMATS, TimeValueError, parse_clock

MAPPING_VERSION = 1
ENVELOPE = (
    "event_id",
    "service",
    "theme",
    "location",
    "team",
    "shift",
    "kind",
    "actor_role",
    "actor_id",
    "record",
    "observed_at",
    "recorded_at",
)
REQUIRED_ENVELOPE = ("event_id", "service", "kind", "actor_role", "actor_id", "observed_at", "recorded_at")
TYPES = ("text", "integer", "number", "boolean", "time", "date", "list", "json", "auto")
# The type a field is read as unless the mapping says otherwise (payload names per interchange.md).
FIELD_TYPES: dict[str, str] = {
    "observed_at": "time",
    "recorded_at": "time",
    "payload.evidence_score": "integer",
    "payload.items_checked": "integer",
    "payload.items_compliant": "integer",
    "payload.compliance_pct": "number",
    "payload.headline_pct": "number",
    "payload.headline_score": "integer",
    "payload.score": "integer",
    "payload.interval_days": "integer",
    "payload.anchor_date": "date",
    "payload.due": "date",
    "payload.scopes": "list",
    "payload.quality_statements": "list",
    "payload.evidence_refs": "list",
    "payload.themes_reviewed": "list",
    "payload.refs": "list",
    "payload.exceptions": "json",
    "payload.changes": "json",
    "payload.framework": "json",
}
# Fields whose values come from a fixed vocabulary: checked in constants and value maps.
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "actor_role": ACTOR_ROLES,
    "payload.evidence_category": EVIDENCE_CATEGORIES,
    "payload.confidence": CONFIDENCE,
    "payload.owner_role": ACTOR_ROLES,
    "payload.scope_by": ("location", "shift", "team"),
}
_ID_LITERAL = re.compile(r"^[A-Za-z0-9._:-]*$")
_THEME = re.compile(r"^[^\s.]+(\.[^\s.]+)*$")
IDENTITY_FIELDS = ("service", "kind", "theme", "location", "team", "shift", "observed_at", "actor_id")
SOURCE_KEYS = ("column", "letter", "value", "template", "percent", "band", "same_as", "digest")


class MappingError(ValueError):
    """Raised when a mapping file is invalid; the message names the file and the key."""


# ------------------------------------------------------------------ the file's shape


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    format: Literal["csv", "xlsx", "ods"] | None = None
    encoding: str = "auto"
    delimiter: str = "auto"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        if v != "auto":
            try:
                codecs.lookup(v)
            except LookupError:
                raise ValueError(f'unknown encoding {v!r} (for example "auto", "utf-8", "cp1252")') from None
        return v

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, v: str) -> str:
        if v != "auto" and len(v) != 1:
            raise ValueError('must be "auto" or one character such as ";"')
        return v


class TimeSpec(_Strict):
    zone: str = "Europe/London"
    formats: list[str] = Field(default_factory=lambda: list(DEFAULT_FORMATS))
    date_only_at: str = "12:00"
    nonexistent: Literal["error", "forward", "backward"] = "error"
    ambiguous: Literal["error", "earlier", "later"] = "error"

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f'unknown time zone {v!r} (for example "Europe/London")') from None
        return v

    @field_validator("date_only_at")
    @classmethod
    def _clock(cls, v: str) -> str:
        try:
            parse_clock(v)
        except TimeValueError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("formats")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError('give at least one format, for example "%d/%m/%Y %H:%M"')
        return v


class SkipSpec(_Strict):
    column: str | None = None
    letter: str | None = None
    values: list[str]


class FieldSpec(_Strict):
    """One field's recipe: exactly one source, then optional value map, type and tidying."""

    column: str | None = None
    letter: str | None = None
    value: Any = None
    template: str | None = None
    percent: list[str] | None = None
    band: str | None = None
    same_as: str | None = None
    digest: list[str] | bool | None = None
    prefix: str = ""
    map: dict[str, Any] | None = None
    ignore_case: bool = True
    default: Any = None
    type: Literal["text", "integer", "number", "boolean", "time", "date", "list", "json", "auto"] | None = None
    decimals: int | None = Field(default=None, ge=0, le=6)
    multiply: float | None = None
    time_column: str | None = None
    time_of_day: str | None = None
    split: str = ","
    empty: Literal["omit", "null", "error"] = "omit"


class _Fields(_Strict):
    event_id: Any = None
    service: Any = None
    theme: Any = None
    location: Any = None
    team: Any = None
    shift: Any = None
    kind: Any = None
    actor_role: Any = None
    actor_id: Any = None
    record: Any = None
    observed_at: Any = None
    recorded_at: Any = None
    payload: dict[str, Any] = Field(default_factory=dict)


class TableSpec(_Fields):
    sheet: str | None = None
    header_row: int = Field(default=1, ge=0)
    first_data_row: int | None = Field(default=None, ge=1)
    last_data_row: int | None = Field(default=None, ge=1)
    skip: SkipSpec | None = None
    kinds: dict[str, _Fields] = Field(default_factory=dict)


class MappingFile(_Strict):
    mapping_version: int
    name: str | None = None
    description: str | None = None
    source: SourceSpec = Field(default_factory=SourceSpec)
    time: TimeSpec = Field(default_factory=TimeSpec)
    defaults: _Fields = Field(default_factory=_Fields)
    tables: list[TableSpec] = Field(min_length=1)


# ------------------------------------------------------------------ the checked mapping


@dataclass(frozen=True)
class Recipe:
    """A field's compiled recipe: where its value comes from and how it is read."""

    target: str  # "service", "payload.evidence_score", ...
    key: str  # where it is in the mapping file, for messages
    constant: Any = None
    is_constant: bool = False
    spec: FieldSpec | None = None
    refs: tuple[str, ...] = ()  # other fields it is computed from

    @property
    def type(self) -> str:
        if self.spec is not None and self.spec.type is not None:
            return self.spec.type
        return FIELD_TYPES.get(self.target, "auto" if self.target.startswith("payload.") else "text")


@dataclass(frozen=True)
class TablePlan:
    """One table of the mapping with its fields merged from the defaults, per kind."""

    index: int
    spec: TableSpec
    key: str
    kind: Recipe
    kinds: tuple[str, ...] | None  # the kinds it can make, when known from the mapping
    base: dict[str, Recipe]
    per_kind: dict[str, dict[str, Recipe]]

    @property
    def sheet(self) -> str | None:
        return self.spec.sheet

    @property
    def header_row(self) -> int:
        return self.spec.header_row

    @property
    def first_data_row(self) -> int:
        return self.spec.first_data_row or self.spec.header_row + 1

    def recipes(self, kind: str) -> dict[str, Recipe]:
        """The fields for rows of ``kind``, in evaluation order (inputs before what uses them)."""
        return self.per_kind.get(kind) or self.base


@dataclass(frozen=True)
class SheetMapping:
    """A checked mapping: what ``load_mapping`` returns and ``convert`` uses."""

    file: MappingFile
    tables: tuple[TablePlan, ...]
    origin: str = "mapping"

    @property
    def source(self) -> SourceSpec:
        return self.file.source

    @property
    def time(self) -> TimeSpec:
        return self.file.time

    def describe(self) -> str:
        parts = []
        for table in self.tables:
            where = f"sheet {table.sheet!r}" if table.sheet else "the file"
            kinds = ", ".join(table.kinds) if table.kinds else "kinds from the data"
            parts.append(f"{where} (header row {table.header_row or 'none'}): {kinds}")
        return "; ".join(parts)


def load_mapping(source: str | bytes | Path, *, name: str | None = None) -> SheetMapping:
    """Read and check a mapping: a ``Path`` is read from disk; ``str``/``bytes`` is the TOML text."""
    if isinstance(source, Path):
        origin = name or source.name
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise MappingError(f"{origin}: cannot be read: {exc.strerror or exc}") from None
    else:
        origin = name or "mapping"
        data = source.encode("utf-8") if isinstance(source, str) else source
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{origin}: a mapping file is UTF-8 text; byte {exc.start} is not UTF-8") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{origin}: not valid TOML: {exc}") from None
    version = raw.get("mapping_version")
    if version is None:
        raise MappingError(
            f"{origin}: mapping_version: is required (this insightlog reads mapping_version = {MAPPING_VERSION})"
        )
    if version != MAPPING_VERSION:
        raise MappingError(
            f"{origin}: mapping_version: {version!r} is not supported (this insightlog reads version {MAPPING_VERSION})"
        )
    try:
        parsed = MappingFile.model_validate(raw)
    except ValidationError as exc:
        raise MappingError(f"{origin}: {_pydantic_message(exc)}") from None
    return _compile(parsed, origin)


def _pydantic_message(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = _key_path(err["loc"])
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "is not a key of the mapping format (see docs/sheets.md)"
    elif err["type"] == "missing":
        msg = "is required"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"{loc}: {msg}"


def _key_path(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(file)"


# ------------------------------------------------------------------ compiling and checking


def _compile(parsed: MappingFile, origin: str) -> SheetMapping:
    plans = []
    for index, table in enumerate(parsed.tables):
        plans.append(_compile_table(parsed, table, index, origin))
    return SheetMapping(parsed, tuple(plans), origin)


def _fields_of(block: _Fields, prefix: str) -> dict[str, tuple[str, Any]]:
    out: dict[str, tuple[str, Any]] = {}
    for name in ENVELOPE:
        value = getattr(block, name)
        if value is not None:
            out[name] = (f"{prefix}{name}", value)
    for name, value in block.payload.items():
        out[f"payload.{name}"] = (f"{prefix}payload.{name}", value)
    return out


def _recipe(target: str, key: str, raw: Any, origin: str) -> Recipe:
    if isinstance(raw, dict):
        try:
            spec = FieldSpec.model_validate(raw)
        except ValidationError as exc:
            raise MappingError(f"{origin}: {key}.{_pydantic_message(exc)}") from None
        sources = [k for k in SOURCE_KEYS if k in raw]
        if len(sources) != 1:
            found = f" (it has {', '.join(sources)})" if sources else ""
            raise MappingError(f"{origin}: {key}: give exactly one of {', '.join(SOURCE_KEYS)}{found}")
        if spec.digest is not None and target != "event_id":
            raise MappingError(f"{origin}: {key}: digest makes an event_id; it is not allowed for {target}")
        if spec.time_column and not (spec.column or spec.letter):
            raise MappingError(f"{origin}: {key}: time_column goes with column or letter")
        if spec.time_of_day:
            try:
                parse_clock(spec.time_of_day)
            except TimeValueError as exc:
                raise MappingError(f"{origin}: {key}.time_of_day: {exc}") from None
        if spec.letter:
            from insightlog.sheets.problems import column_index

            try:
                column_index(spec.letter)
            except ValueError as exc:
                raise MappingError(f"{origin}: {key}.letter: {exc}") from None
        if spec.map is not None and spec.ignore_case:
            seen: dict[str, str] = {}
            for k in spec.map:
                tidy = " ".join(k.split()).casefold()
                if tidy in seen:
                    raise MappingError(
                        f"{origin}: {key}.map: {seen[tidy]!r} and {k!r} are the same value when case and spaces are "
                        "ignored (set ignore_case = false to tell them apart)"
                    )
                seen[tidy] = k
        if spec.percent is not None and len(spec.percent) != 2:
            raise MappingError(f"{origin}: {key}.percent: give two fields, [part, whole]")
        if "value" in raw:
            return Recipe(target, key, raw["value"], True, None)
        refs: tuple[str, ...] = ()
        if spec.percent:
            refs = tuple(field_name(r) for r in spec.percent)
        elif spec.band:
            refs = (field_name(spec.band),)
        elif spec.same_as:
            refs = (field_name(spec.same_as),)
        elif spec.digest is not None:
            refs = IDENTITY_FIELDS if spec.digest is True else tuple(field_name(r) for r in spec.digest or ())
            if spec.digest is False or not refs:
                raise MappingError(f"{origin}: {key}.digest: give true or a list of field names")
            if not _ID_LITERAL.match(spec.prefix) or len(spec.prefix) > 40:
                raise MappingError(f"{origin}: {key}.prefix: up to 40 characters of [A-Za-z0-9._:-]")
        elif spec.template is not None:
            try:
                pieces = parse_template(spec.template)
            except ValueError as exc:
                raise MappingError(f"{origin}: {key}.template: {exc}") from None
            refs = tuple(field_name(p[1:]) for kind, p in pieces if kind == "ref" and p.startswith("="))
            if target == "event_id":
                for kind, piece in pieces:
                    if kind == "text" and not _ID_LITERAL.match(piece):
                        raise MappingError(
                            f"{origin}: {key}.template: {piece!r} has characters an event_id cannot have "
                            "(only A-Z a-z 0-9 . _ : -)"
                        )
        return Recipe(target, key, None, False, spec, refs)
    return Recipe(target, key, raw, True, None)


def field_name(ref: str) -> str:
    """A field reference in a mapping: ``observed_at`` (envelope) or ``payload.x`` / ``x`` (payload)."""
    ref = ref.strip()
    if ref in ENVELOPE or ref.startswith("payload."):
        return ref
    return f"payload.{ref}"


def parse_template(text: str) -> list[tuple[str, str]]:
    """``"{Audit ref} section {=theme}"`` -> [("ref", "Audit ref"), ("text", " section "), ("ref", "=theme")]."""
    out: list[tuple[str, str]] = []
    buf = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                buf += "{"
                i += 2
                continue
            end = text.find("}", i)
            if end == -1:
                raise ValueError("a '{' is not closed")
            name = text[i + 1 : end].strip()
            if not name:
                raise ValueError("an empty {} names no column")
            if buf:
                out.append(("text", buf))
                buf = ""
            out.append(("ref", name))
            i = end + 1
            continue
        if ch == "}":
            if text.startswith("}}", i):
                buf += "}"
                i += 2
                continue
            raise ValueError("a '}' has no '{' (write '}}' for a brace)")
        buf += ch
        i += 1
    if buf:
        out.append(("text", buf))
    return out


def _compile_table(parsed: MappingFile, table: TableSpec, index: int, origin: str) -> TablePlan:
    key = f"tables[{index}]"
    if table.header_row and table.first_data_row is not None and table.first_data_row <= table.header_row:
        raise MappingError(f"{origin}: {key}.first_data_row: must come after header_row {table.header_row}")
    if table.last_data_row is not None and table.last_data_row < (table.first_data_row or table.header_row + 1):
        raise MappingError(f"{origin}: {key}.last_data_row: is before the first data row")
    if table.skip is not None and (table.skip.column is None) == (table.skip.letter is None):
        raise MappingError(f"{origin}: {key}.skip: give column or letter")
    merged = {**_fields_of(parsed.defaults, "defaults."), **_fields_of(table, f"{key}.")}
    if "kind" not in merged:
        raise MappingError(f"{origin}: {key}.kind: is required (a kind name, or a column with a value map)")
    kind_key, kind_raw = merged["kind"]
    kind = _recipe("kind", kind_key, kind_raw, origin)
    if kind.refs or (kind.spec is not None and (kind.spec.template or kind.spec.digest is not None)):
        raise MappingError(f"{origin}: {kind_key}: a kind is a constant or a column (with a value map)")
    from insightlog.interchange.validation import KINDS

    for name in table.kinds:
        if name not in KINDS:
            raise MappingError(f"{origin}: {key}.kinds.{name}: unknown kind {name!r}")
    possible = _possible_kinds(kind, origin)
    if possible is not None:
        for name in possible:
            if name not in KINDS:
                raise MappingError(f"{origin}: {kind_key}: unknown kind {name!r}")
    base = _recipes(merged, origin)
    per_kind: dict[str, dict[str, Recipe]] = {}
    for name in sorted(set(table.kinds) | set(possible or ())):
        fields = dict(merged)
        if name in table.kinds:
            fields.update(_fields_of(table.kinds[name], f"{key}.kinds.{name}."))
        per_kind[name] = _recipes(fields, origin)
        _check_kind(per_kind[name], name, key, origin)
    if possible is None:
        for recipe_name in REQUIRED_ENVELOPE:
            if recipe_name not in base:
                raise MappingError(f"{origin}: {key}.{recipe_name}: is required (no column or constant feeds it)")
    return TablePlan(index, table, key, kind, tuple(possible) if possible is not None else None, base, per_kind)


def _possible_kinds(kind: Recipe, origin: str) -> list[str] | None:
    if kind.is_constant:
        if not isinstance(kind.constant, str):
            raise MappingError(f'{origin}: {kind.key}: a kind is a name such as "SpotCheckRecorded"')
        return [kind.constant]
    if kind.spec is not None and kind.spec.map is not None:
        values = [v for v in kind.spec.map.values()]
        for v in values:
            if not isinstance(v, str):
                raise MappingError(f"{origin}: {kind.key}.map: {v!r} is not a kind name")
        if kind.spec.default is not None:
            values.append(str(kind.spec.default))
        return sorted(set(values))
    return None


def _recipes(fields: dict[str, tuple[str, Any]], origin: str) -> dict[str, Recipe]:
    recipes = {target: _recipe(target, key, raw, origin) for target, (key, raw) in fields.items()}
    for recipe in recipes.values():
        optional = recipe.spec is not None and recipe.spec.digest is True  # identity fields a table may not map
        for ref in recipe.refs:
            if ref not in recipes and not optional:
                raise MappingError(f"{origin}: {recipe.key}: refers to {ref}, which this table does not map")
        _check_values(recipe, origin)
    return _ordered(recipes, origin)


def _ordered(recipes: dict[str, Recipe], origin: str) -> dict[str, Recipe]:
    """Recipes with every computed field after the fields it reads (the kind first, event_id last)."""
    done: dict[str, Recipe] = {}
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            raise MappingError(f"{origin}: {recipes[name].key}: computed fields refer to each other in a circle")
        visiting.add(name)
        for ref in recipes[name].refs:
            if ref in recipes:
                visit(ref)
        visiting.discard(name)
        done[name] = recipes[name]

    order = sorted(recipes, key=lambda n: (n != "kind", n == "event_id", bool(recipes[n].refs)))
    for name in order:
        visit(name)
    if "event_id" in done:
        done["event_id"] = done.pop("event_id")
    return done


def _check_values(recipe: Recipe, origin: str) -> None:
    """Constants and value-map results of vocabulary fields must be in the vocabulary."""
    vocabulary = VOCABULARIES.get(recipe.target)
    candidates: list[tuple[str, Any]] = []
    if recipe.is_constant:
        candidates.append((recipe.key, recipe.constant))
    elif recipe.spec is not None and recipe.spec.map is not None:
        candidates.extend((f"{recipe.key}.map.{k}", v) for k, v in recipe.spec.map.items())
    if recipe.spec is not None and recipe.spec.default is not None:
        candidates.append((f"{recipe.key}.default", recipe.spec.default))
    for where, value in candidates:
        if vocabulary is not None and value not in vocabulary:
            raise MappingError(f"{origin}: {where}: {value!r} is not one of {', '.join(vocabulary)}")
        if recipe.target == "theme" and isinstance(value, str) and not _THEME.match(value):
            raise MappingError(f"{origin}: {where}: {value!r} is not a dotted theme name such as medicines.mar_charts")
        scores = ("payload.evidence_score", "payload.headline_score", "payload.score")
        if recipe.target in scores and (type(value) is not int or not 1 <= value <= 4):
            raise MappingError(f"{origin}: {where}: {value!r} is not a score from 1 to 4")
        if value == "":
            raise MappingError(f"{origin}: {where}: an empty text is not a value (leave the field out for none)")


def _check_kind(recipes: dict[str, Recipe], kind: str, key: str, origin: str) -> None:
    """Every field the interchange requires for ``kind`` is fed by a column or a constant."""
    from insightlog.interchange.validation import NEEDS_THEME, PAYLOAD_MODELS

    for name in REQUIRED_ENVELOPE:
        if name not in recipes:
            raise MappingError(f"{origin}: {key}.{name}: is required (no column or constant feeds it)")
    if kind in NEEDS_THEME and "theme" not in recipes:
        raise MappingError(f"{origin}: {key}.theme: is required for {kind}")
    model = PAYLOAD_MODELS[kind]
    for name, info in model.model_fields.items():
        if info.is_required() and f"payload.{name}" not in recipes:
            raise MappingError(
                f"{origin}: {key}.payload.{name}: is required for {kind} (no column or constant feeds it)"
            )
