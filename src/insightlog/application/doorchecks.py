"""Typos are refused at the door: names a live record uses must be names the ledger knows.

A live record (``record``, and every form of the web application) may only name a registered
service (unless it registers one), a theme defined for that service (unless it defines one), and
a scope value (location, team, shift) declared in the service's ``ServiceRegistered.scopes`` or
used before in that service (unless the caller says it is new). Each refusal suggests the known
names closest to the typo, case-insensitively and by edit distance.

Imports are a provider's real history, which often declares no scopes and defines themes as it
goes: an import only *warns* (with counts and first examples) unless it is strict.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from insightlog.interchange.validation import LineError

SCOPE_FIELDS = ("location", "team", "shift")
EXAMPLES = 3


class _Event(Protocol):
    """What the checks read of a draft, an entry, or a live record's fields (``Names.of``)."""

    @property
    def event_id(self) -> str | None: ...
    @property
    def service(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def theme(self) -> str | None: ...
    @property
    def location(self) -> str | None: ...
    @property
    def team(self) -> str | None: ...
    @property
    def shift(self) -> str | None: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Names:
    """The names a live record's fields use."""

    event_id: str | None
    service: str
    kind: str
    theme: str | None
    location: str | None
    team: str | None
    shift: str | None
    payload: Mapping[str, Any]

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> Names:
        def text(name: str) -> str | None:
            value = fields.get(name)
            return value if isinstance(value, str) and value else None

        payload = fields.get("payload")
        return cls(
            text("event_id"),
            str(fields.get("service") or ""),
            str(fields.get("kind") or ""),
            text("theme"),
            text("location"),
            text("team"),
            text("shift"),
            payload if isinstance(payload, Mapping) else {},
        )


@dataclass
class ServiceVocabulary:
    """What one service's log has declared or used so far."""

    themes: set[str] = field(default_factory=set)
    scopes: dict[str, set[str]] = field(default_factory=lambda: {f: set() for f in SCOPE_FIELDS})

    def learn(self, event: _Event) -> None:
        if event.kind == "ThemeDefined":
            name = event.payload.get("theme") or event.theme
            if isinstance(name, str) and name:
                self.themes.add(name)
        if event.kind == "ServiceRegistered":
            for declared in event.payload.get("scopes") or []:
                if isinstance(declared, str) and ":" in declared:
                    kind, _, value = declared.partition(":")
                    if kind in self.scopes and value:
                        self.scopes[kind].add(value)
        for name in SCOPE_FIELDS:
            value = getattr(event, name)
            if isinstance(value, str) and value:
                self.scopes[name].add(value)


def vocabulary_of(entries: Iterable[_Event]) -> ServiceVocabulary:
    vocabulary = ServiceVocabulary()
    for entry in entries:
        vocabulary.learn(entry)
    return vocabulary


def suggestion(value: str, known: Iterable[str]) -> str:
    """`` (did you mean 'X'?)`` for the closest known names, or a list of what is known."""
    names = sorted(set(known))
    if not names:
        return ""
    folded = {n.casefold(): n for n in names}
    close = [folded[value.casefold()]] if value.casefold() in folded else []
    close += [
        folded[c]
        for c in difflib.get_close_matches(value.casefold(), list(folded), n=3, cutoff=0.6)
        if folded[c] not in close
    ]
    if close:
        return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
    shown = ", ".join(repr(n) for n in names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    return f" (known: {shown})"


@dataclass(frozen=True)
class Problem:
    """One name a record or line uses that the ledger does not know."""

    field: str
    value: str
    message: str


def problems(
    event: _Event, services: Iterable[str], vocabulary: ServiceVocabulary | None, *, new_scope: bool = False
) -> list[Problem]:
    """What of ``event`` names something unknown (``vocabulary`` is None for an unknown service)."""
    found: list[Problem] = []
    if vocabulary is None:
        if event.kind != "ServiceRegistered":
            found.append(
                Problem(
                    "service",
                    event.service,
                    f"{event.service!r} is not a registered service{suggestion(event.service, services)}; "
                    "register it with a ServiceRegistered event first",
                )
            )
        return found
    if event.theme and event.kind != "ThemeDefined" and event.theme not in vocabulary.themes:
        found.append(
            Problem(
                "theme",
                event.theme,
                f"{event.theme!r} is not a theme defined for {event.service!r}{suggestion(event.theme, vocabulary.themes)}; "
                "define it with a ThemeDefined event first",
            )
        )
    if not new_scope:
        for name in SCOPE_FIELDS:
            value = getattr(event, name)
            if isinstance(value, str) and value and value not in vocabulary.scopes[name]:
                found.append(
                    Problem(
                        name,
                        value,
                        f"{value!r} has never been declared or used as a {name} of {event.service!r}"
                        f"{suggestion(value, vocabulary.scopes[name])}; if it is new, say so (--new-scope)",
                    )
                )
    return found


def refuse_unknown_names(
    event: _Event, services: Iterable[str], vocabulary: ServiceVocabulary | None, *, new_scope: bool
) -> None:
    """Raise a ``LineError`` naming the first unknown name of a live record (all of them listed)."""
    found = problems(event, services, vocabulary, new_scope=new_scope)
    if found:
        first = found[0]
        rest = "".join(f"; also field '{p.field}': {p.message}" for p in found[1:])
        raise UnknownNameError(None, None, first.field, first.message + rest)


class UnknownNameError(LineError):
    """Raised when a live record names a service, theme or scope the ledger does not know."""


def import_warnings(events: Iterable[_Event], stored: Mapping[str, ServiceVocabulary]) -> list[str]:
    """Warnings for an import: unknown services, themes and scopes, with counts and examples.

    ``stored`` holds the vocabulary of the services already in the store; the file's own
    registrations, theme definitions and scopes count from the line they appear on.
    """
    vocabularies = {
        name: ServiceVocabulary(set(v.themes), {k: set(s) for k, s in v.scopes.items()}) for name, v in stored.items()
    }
    counts: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for event in events:
        vocabulary = vocabularies.get(event.service)
        for problem in problems(event, vocabularies, vocabulary):
            counts[problem.field] += 1
            shown = examples.setdefault(problem.field, [])
            if len(shown) < EXAMPLES:
                shown.append(f"{event.event_id} ({problem.value!r})")
        if vocabulary is None:
            vocabulary = vocabularies[event.service] = ServiceVocabulary()
        vocabulary.learn(event)
    what = {
        "service": "name(s) a service not registered before them",
        "theme": "name(s) a theme not defined before them",
        "location": "use(s) a location neither declared in ServiceRegistered.scopes nor used before",
        "team": "use(s) a team neither declared in ServiceRegistered.scopes nor used before",
        "shift": "use(s) a shift neither declared in ServiceRegistered.scopes nor used before",
    }
    return [
        f"{count} line(s) {what[field]}, first {', '.join(examples[field])} (import --strict refuses them)"
        for field, count in counts.items()
    ]


def first_problem(
    events: Iterable[tuple[int | None, _Event]], stored: Mapping[str, ServiceVocabulary]
) -> LineError | None:
    """For ``import --strict``: the first line naming an unknown service, theme or scope."""
    vocabularies = {
        name: ServiceVocabulary(set(v.themes), {k: set(s) for k, s in v.scopes.items()}) for name, v in stored.items()
    }
    for line, event in events:
        vocabulary = vocabularies.get(event.service)
        found = problems(event, vocabularies, vocabulary)
        if found:
            return LineError(line, event.event_id, found[0].field, found[0].message.replace(" (--new-scope)", ""))
        if vocabulary is None:
            vocabulary = vocabularies[event.service] = ServiceVocabulary()
        vocabulary.learn(event)
    return None
