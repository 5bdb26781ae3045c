"""The theme tree of a service (§4): hierarchy, leaves and the scope of an event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from insightlog.analysis.errors import AnalysisInputError
from insightlog.interchange import kinds as _kinds
from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry

SCOPE_FIELDS = frozenset(_kinds.SCOPE_FIELDS)


class ThemeTreeError(AnalysisInputError):
    """Raised when theme parent links form a cycle."""


@dataclass(frozen=True, slots=True)
class ThemeInfo:
    """One defined theme: its last definition, depth (root = 1), children and leaf flag."""

    name: str
    parent: str | None
    scope_by: str | None
    label: str | None
    depth: int
    children: tuple[str, ...]
    is_leaf: bool
    defined_by: str


class ThemeTree:
    """The theme hierarchy of a service (§4.1, §4.2), from every ``ThemeDefined`` in the log.

    Names that are used but never defined behave as themes with no parent and no ``scope_by``.
    """

    def __init__(self, definitions: Iterable[Entry]) -> None:
        latest: dict[str, Entry] = {}
        for entry in definitions:
            name = entry.payload.get("theme")
            if not isinstance(name, str) or not name:
                name = entry.theme
            if isinstance(name, str) and name:
                latest[name] = entry
        parents: dict[str, str | None] = {}
        scope_by: dict[str, str | None] = {}
        for name, entry in latest.items():
            parent = entry.payload.get("parent")
            parents[name] = parent if isinstance(parent, str) and parent else None
            field_name = entry.payload.get("scope_by")
            scope_by[name] = field_name if field_name in SCOPE_FIELDS else None
        self._parents = parents
        self._scope_by = scope_by
        self._chains: dict[str, tuple[str, ...]] = {}
        self._covering: dict[str, tuple[str, ...]] = {}
        children: dict[str, list[str]] = {name: [] for name in latest}
        for name, parent in parents.items():
            if parent is not None and parent in children:
                children[parent].append(name)
        descendants: dict[str, list[str]] = {}
        for name in sorted(latest):
            for ancestor in self.chain(name):
                descendants.setdefault(ancestor, []).append(name)
        self._descendants = {name: tuple(names) for name, names in descendants.items()}
        is_parent = {p for p in parents.values() if p is not None}
        self.themes: dict[str, ThemeInfo] = {
            name: ThemeInfo(
                name=name,
                parent=parents[name],
                scope_by=scope_by[name],
                label=entry.payload.get("label"),
                depth=len(self.chain(name)),
                children=tuple(sorted(children[name])),
                is_leaf=name not in is_parent,
                defined_by=entry.event_id,
            )
            for name, entry in sorted(latest.items())
        }
        self.defined: tuple[str, ...] = tuple(self.themes)
        self.leaves: tuple[str, ...] = tuple(n for n, t in self.themes.items() if t.is_leaf)
        self._leaf_set = frozenset(self.leaves)

    def chain(self, name: str) -> tuple[str, ...]:
        """ancestors-or-self(name), self first, up to a root."""
        cached = self._chains.get(name)
        if cached is not None:
            return cached
        try:
            result = tuple(ancestors_or_self(name, self._parents.get))
        except ParentCycleError as exc:
            raise ThemeTreeError(str(exc)) from None
        self._chains[name] = result
        return result

    def depth_in_chain(self, name: str) -> dict[str, int]:
        """{ancestor: depth} for every theme covering ``name``."""
        chain = self.chain(name)
        return {ancestor: len(chain) - i for i, ancestor in enumerate(chain)}

    def covers(self, ancestor: str, theme: str) -> bool:
        """Whether ``ancestor`` is in ancestors-or-self(``theme``)."""
        return ancestor in self.chain(theme)

    def descendants_or_self(self, name: str) -> tuple[str, ...]:
        """``name`` (even if undefined) and every defined theme below it, sorted."""
        found = self._descendants.get(name, ())
        if name in found:
            return found
        return tuple(sorted((name, *found)))

    def defined_covering(self, name: str) -> tuple[str, ...]:
        """The defined themes among ancestors-or-self(name); empty for an undefined name."""
        cached = self._covering.get(name)
        if cached is None:
            cached = tuple(a for a in self.chain(name) if a in self.themes) if name in self.themes else ()
            self._covering[name] = cached
        return cached

    def is_leaf(self, name: str | None) -> bool:
        return name in self._leaf_set

    def scope_of(self, entry: Entry) -> str | None:
        """The scope of an event (§4.3): ``field:value`` from its own theme's ``scope_by``."""
        theme = entry.theme
        if theme is None:
            return None
        field_name = self._scope_by.get(theme)
        if field_name is None:
            return None
        value = getattr(entry, field_name)
        if isinstance(value, str) and value:
            return f"{field_name}:{value}"
        return None
