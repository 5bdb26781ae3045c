"""Versioned quality-statement taxonomies (CQC's single assessment framework and successors).

A taxonomy version is data, never code: the versions shipped in this package's ``*.csv`` files
(name = file stem, e.g. ``SAF-2024``) plus those a provider added to the ledger from a CSV with
the same columns (``id,key_question,quality_statement``; see ``insightlog.application.taxonomy``).

A service uses the version named by the first word of ``framework.taxonomy_version`` in its
``ServiceRegistered`` payload ("SAF-2024 (34 quality statements)" -> ``SAF-2024``). A theme's
key question is the key question of its first-listed quality statement (``ThemeDefined``
``quality_statements``); a theme that lists none takes its nearest ancestor's.

Pure: no store, no clock.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

from insightlog.errors import InsightlogError
from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self

COLUMNS = ("id", "key_question", "quality_statement")
NAME_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
SHIPPED = "shipped"
LEDGER = "ledger"


class TaxonomyError(InsightlogError):
    """Raised when a taxonomy version cannot be read, added or found; the message is one line."""


class TaxonomyConflictError(TaxonomyError):
    """Raised when a version name is already taken by different content."""


@dataclass(frozen=True, slots=True)
class Statement:
    """One quality statement of a taxonomy version."""

    id: str
    key_question: str
    quality_statement: str


@dataclass(frozen=True)
class TaxonomyVersion:
    """A loaded taxonomy version: its statements in file order, and where it came from."""

    name: str
    source: str
    statements: tuple[Statement, ...]
    digest: str
    _by_id: dict[str, Statement] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({s.id: s for s in self.statements})

    def get(self, statement_id: str) -> Statement | None:
        return self._by_id.get(statement_id)

    def __contains__(self, statement_id: object) -> bool:
        return statement_id in self._by_id

    @property
    def key_questions(self) -> list[str]:
        """The key questions in order of first appearance (SAF-2024: Safe, Effective, ...)."""
        seen: dict[str, None] = {}
        for s in self.statements:
            seen.setdefault(s.key_question, None)
        return list(seen)

    def key_question_rank(self, key_question: str | None) -> int:
        """Sort rank of a key question (unknown or null last)."""
        order = self.key_questions
        return order.index(key_question) if key_question in order else len(order)

    def as_rows(self) -> list[dict[str, str]]:
        return [
            {"id": s.id, "key_question": s.key_question, "quality_statement": s.quality_statement}
            for s in self.statements
        ]


# ------------------------------------------------------------------ the aggregate


# ------------------------------------------------------------------ parsing


def statements_digest(statements: Iterable[Statement]) -> str:
    text = "\n".join(f"{s.id}\t{s.key_question}\t{s.quality_statement}" for s in statements)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise TaxonomyError(
            f"taxonomy name {name!r} must be one word of letters, digits, '.', '_' or '-' "
            "(a service names its version by the first word of framework.taxonomy_version)"
        )
    return name


def parse_csv(text: str, *, origin: str = "CSV") -> tuple[Statement, ...]:
    """Read and validate a taxonomy CSV (header ``id,key_question,quality_statement``).

    Errors name the CSV line: a missing or different header, a row with the wrong number of
    fields, an empty field, or an id listed twice.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    statements: list[Statement] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if header is None:
                header = [c.strip() for c in row]
                if tuple(header) != COLUMNS:
                    raise TaxonomyError(
                        f"{origin} line {line}: the header must be exactly {','.join(COLUMNS)}, not {','.join(header)!r}"
                    )
                continue
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(COLUMNS):
                raise TaxonomyError(
                    f"{origin} line {line}: expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), found {len(row)}"
                )
            values = [c.strip() for c in row]
            for name, value in zip(COLUMNS, values, strict=True):
                if not value:
                    raise TaxonomyError(f"{origin} line {line}: field {name!r} is empty")
            sid, key_question, statement = values
            if sid in seen:
                raise TaxonomyError(f"{origin} line {line}: id {sid!r} is already listed on line {seen[sid]}")
            seen[sid] = line
            statements.append(Statement(sid, key_question, statement))
    except csv.Error as exc:
        raise TaxonomyError(f"{origin} line {reader.line_num}: {exc}") from None
    if header is None:
        raise TaxonomyError(f"{origin}: empty file (expected the header {','.join(COLUMNS)})")
    if not statements:
        raise TaxonomyError(f"{origin}: no quality statements after the header")
    return tuple(statements)


def _version(name: str, source: str, statements: tuple[Statement, ...]) -> TaxonomyVersion:
    return TaxonomyVersion(name=name, source=source, statements=statements, digest=statements_digest(statements))


def shipped_taxonomies() -> dict[str, TaxonomyVersion]:
    """The versions shipped with insightlog (``insightlog/taxonomies/*.csv``)."""
    found: dict[str, TaxonomyVersion] = {}
    folder = resources.files("insightlog") / "taxonomies"
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".csv"):
            name = item.name[: -len(".csv")]
            found[name] = _version(name, SHIPPED, parse_csv(item.read_text(encoding="utf-8"), origin=item.name))
    return found


def version_from_state(state: Mapping[str, Any]) -> TaxonomyVersion:
    """A ``TaxonomyVersion`` from the stored state of a ``Taxonomy.Added`` event."""
    statements = tuple(Statement(r["id"], r["key_question"], r["quality_statement"]) for r in state["statements"])
    return TaxonomyVersion(name=state["name"], source=LEDGER, statements=statements, digest=state["digest"])


# ------------------------------------------------------------------ services and themes


class _Event(Protocol):
    """What these functions read of an Entry or an interchange Draft (both frozen: read-only)."""

    @property
    def event_id(self) -> str: ...

    @property
    def service(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def theme(self) -> str | None: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


def version_name(taxonomy_version: Any) -> str | None:
    """The first word of ``framework.taxonomy_version`` ("SAF-2024 (34 ...)" -> "SAF-2024")."""
    if not isinstance(taxonomy_version, str):
        return None
    words = taxonomy_version.split()
    return words[0] if words else None


def version_of_service(entries: Iterable[_Event]) -> str | None:
    """The taxonomy version a service declares: its last ``ServiceRegistered`` in the given order."""
    found: str | None = None
    for e in entries:
        if e.kind == "ServiceRegistered":
            framework = e.payload.get("framework")
            if isinstance(framework, Mapping):
                found = version_name(framework.get("taxonomy_version"))
    return found


def theme_statements(entries: Iterable[_Event]) -> dict[str, tuple[str | None, list[str]]]:
    """{theme: (parent, quality_statements)} from the last ``ThemeDefined`` of each theme."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    for e in entries:
        if e.kind != "ThemeDefined":
            continue
        name = e.payload.get("theme") or e.theme
        if not isinstance(name, str) or not name:
            continue
        parent = e.payload.get("parent")
        statements = e.payload.get("quality_statements") or []
        ids = [s for s in statements if isinstance(s, str)] if isinstance(statements, list) else []
        found[name] = (parent if isinstance(parent, str) and parent else None, ids)
    return found


def first_statement(theme: str, definitions: Mapping[str, tuple[str | None, list[str]]]) -> str | None:
    """The theme's first-listed quality statement, else its nearest ancestor's."""
    none: tuple[str | None, list[str]] = (None, [])
    try:
        for name in ancestors_or_self(theme, lambda t: definitions.get(t, none)[0]):
            ids = definitions.get(name, none)[1]
            if ids:
                return ids[0]
    except ParentCycleError:
        pass  # the parent links close a cycle before any ancestor lists a statement
    return None


def unknown_statements(
    items: Iterable[_Event],
    taxonomies: Mapping[str, TaxonomyVersion],
    *,
    known_versions: Mapping[str, str | None] | None = None,
) -> list[str]:
    """Warnings (never errors) for themes naming quality statements their service's taxonomy lacks.

    ``items`` are entries or interchange drafts in log order; a service's version is taken from
    its last ``ServiceRegistered`` among them, else from ``known_versions`` (for services whose
    registration is already stored). A service naming a version that is not loaded gets one
    warning; a service with no version declared is not checked. Each warning names the event id.
    """
    items = list(items)
    versions: dict[str, str | None] = dict(known_versions or {})
    by_service: dict[str, list[_Event]] = {}
    for e in items:
        by_service.setdefault(e.service, []).append(e)
    warnings: list[str] = []
    for service, events in by_service.items():
        declared = version_of_service(events)
        if declared is not None:
            versions[service] = declared
        name = versions.get(service)
        if name is None:
            continue
        version = taxonomies.get(name)
        if version is None:
            registering = next((e.event_id for e in reversed(events) if e.kind == "ServiceRegistered"), None)
            where = f"event {registering}: " if registering else ""
            warnings.append(
                f"{where}service {service!r} uses taxonomy {name}, which is not loaded "
                f"(loaded: {', '.join(sorted(taxonomies)) or 'none'}); its quality statements were not checked"
            )
            continue
        for e in events:
            if e.kind != "ThemeDefined":
                continue
            statements = e.payload.get("quality_statements") or []
            if not isinstance(statements, list):
                continue
            theme = e.payload.get("theme") or e.theme
            for sid in statements:
                if sid not in version:
                    warnings.append(
                        f"event {e.event_id}: theme {theme!r} names quality statement {sid!r}, which taxonomy {name} lacks"
                    )
    return warnings


def _csv_line(*values: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()
