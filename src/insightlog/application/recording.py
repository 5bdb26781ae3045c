"""What a door needs to record into one service, and what one entry's page shows.

``service_vocabulary`` reads a service's log for the choices a form may offer (no typos
possible): the themes defined and not withdrawn, the scopes registered or already used, the
judgement each theme's next judgement would supersede, the open actions. ``entry_detail``
gathers one entry with everything that bears on it later in the log: its withdrawal, the events
that correct it, its amendments and the effective payload, the judgement that superseded it.
Pure functions over entries: nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from insightlog.interchange.entry import Entry
from insightlog.interchange.kinds import (
    AMENDABLE_KINDS,
    AMENDMENT_KIND,
    JUDGEMENT_KINDS,
    REGISTRATION_KIND,
    SCOPE_FIELDS,
    THEME_KIND,
    UNWITHDRAWABLE_KINDS,
    WITHDRAWAL_KIND,
)


@dataclass(frozen=True)
class ThemeChoice:
    theme: str
    label: str
    parent: str | None
    scope_by: str | None


@dataclass
class ServiceVocabulary:
    """The names a form for ``service`` may offer, as the log stands now."""

    service: str
    themes: list[ThemeChoice] = field(default_factory=list)
    scopes: dict[str, list[str]] = field(default_factory=dict)  # "team" -> ["east", "north"]
    judgements: dict[str, dict[str, Any]] = field(default_factory=dict)  # theme -> its latest judgement
    open_actions: list[dict[str, Any]] = field(default_factory=list)
    registered: bool = False
    registration_withdrawn: bool = False
    taxonomy_version: str | None = None

    def theme(self, name: str) -> ThemeChoice | None:
        return next((t for t in self.themes if t.theme == name), None)

    @property
    def theme_names(self) -> list[str]:
        return [t.theme for t in self.themes]


def _withdrawals(entries: Iterable[Entry]) -> dict[str, Entry]:
    return {e.withdraws: e for e in entries if e.withdraws}


class VocabularyFold:
    """``service_vocabulary`` as a fold, so that a long-lived door can add a service's new entries
    to what it read before instead of reading the whole log again. A new withdrawal can undo what
    was folded in (a theme's latest judgement, an open action), so a batch holding one is folded
    afresh from the whole log (``needs_refold``)."""

    def __init__(self, service: str, withdrawn: set[str] | None = None) -> None:
        self.vocab = ServiceVocabulary(service)
        self.withdrawn = withdrawn or set()
        self._scopes: dict[str, set[str]] = {f: set() for f in SCOPE_FIELDS}
        self._themes: dict[str, ThemeChoice] = {}
        self._actions: dict[str, dict[str, Any]] = {}

    @staticmethod
    def needs_refold(entries: Iterable[Entry]) -> bool:
        return any(e.kind == WITHDRAWAL_KIND for e in entries)

    def add(self, e: Entry) -> None:
        vocab = self.vocab
        if e.event_id in self.withdrawn:
            if e.kind == REGISTRATION_KIND:
                vocab.registration_withdrawn = True
            return
        p = e.payload
        if e.kind == REGISTRATION_KIND:
            vocab.registered = True
            framework = p.get("framework")
            if isinstance(framework, dict) and isinstance(framework.get("taxonomy_version"), str):
                vocab.taxonomy_version = framework["taxonomy_version"]
            for scope in p.get("scopes") or []:
                if isinstance(scope, str) and ":" in scope:
                    name, _, value = scope.partition(":")
                    if name in self._scopes and value:
                        self._scopes[name].add(value)
        elif e.kind == THEME_KIND and isinstance(p.get("theme"), str):
            parent = p.get("parent")
            scope_by = p.get("scope_by")
            self._themes[p["theme"]] = ThemeChoice(
                p["theme"],
                str(p.get("label") or p["theme"]),
                parent if isinstance(parent, str) else None,
                scope_by if isinstance(scope_by, str) else None,
            )
        elif e.kind in JUDGEMENT_KINDS and e.theme:
            vocab.judgements[e.theme] = judgement_summary(e)
        action_id = p.get("action_id")
        if isinstance(action_id, str):
            if e.kind == "ActionAssigned":
                self._actions[action_id] = {
                    "action_id": action_id,
                    "event_id": e.event_id,
                    "theme": e.theme,
                    "owner_role": p.get("owner_role"),
                    "description": p.get("description"),
                    "due": p.get("due"),
                }
            elif e.kind == "ActionClosed":
                self._actions.pop(action_id, None)
        for name in SCOPE_FIELDS:
            value = getattr(e, name)
            if value:
                self._scopes[name].add(value)

    def result(self) -> ServiceVocabulary:
        """The vocabulary so far (a copy: later folds do not change it)."""
        v = self.vocab
        return ServiceVocabulary(
            v.service,
            themes=sorted(self._themes.values(), key=lambda t: t.theme),
            scopes={name: sorted(values) for name, values in self._scopes.items()},
            judgements=dict(v.judgements),
            open_actions=[dict(a) for a in self._actions.values()],
            registered=v.registered,
            registration_withdrawn=v.registration_withdrawn,
            taxonomy_version=v.taxonomy_version,
        )


def fold_vocabulary(service: str, entries: list[Entry]) -> VocabularyFold:
    fold = VocabularyFold(service, set(_withdrawals(entries)))
    for e in entries:
        fold.add(e)
    return fold


def service_vocabulary(service: str, entries: list[Entry]) -> ServiceVocabulary:
    """The choices of a record form for ``service`` (entries in log order)."""
    return fold_vocabulary(service, entries).result()


def judgement_summary(e: Entry) -> dict[str, Any]:
    p = e.payload
    return {
        "event_id": e.event_id,
        "kind": e.kind,
        "theme": e.theme,
        "score": p.get("score"),
        "confidence": p.get("confidence"),
        "exceptions": [dict(x) for x in p.get("exceptions") or [] if isinstance(x, dict)],
        "narrative": p.get("narrative"),
        "actor_role": e.actor_role,
        "actor_id": e.actor_id,
        "recorded_at": e.recorded_at,
    }


@dataclass
class EntryDetail:
    """One entry and what the rest of the log says about it."""

    entry: Entry
    withdrawn_by: Entry | None = None
    withdraws: Entry | None = None  # when the entry is itself a withdrawal
    corrected_by: list[Entry] = field(default_factory=list)
    corrects: Entry | None = None
    amendments: list[Entry] = field(default_factory=list)
    amends: Entry | None = None  # when the entry is itself an amendment
    superseded_by: list[Entry] = field(default_factory=list)
    supersedes: Entry | None = None
    effective_payload: dict[str, Any] = field(default_factory=dict)

    @property
    def withdrawable(self) -> bool:
        return self.withdrawn_by is None and self.entry.kind not in UNWITHDRAWABLE_KINDS

    @property
    def amendable(self) -> bool:
        return self.withdrawn_by is None and self.entry.kind in AMENDABLE_KINDS


def entry_detail(event_id: str, entries: list[Entry]) -> EntryDetail | None:
    """The entry ``event_id`` of these (one service's, log order) entries, or None."""
    by_id = {e.event_id: e for e in entries}
    entry = by_id.get(event_id)
    if entry is None:
        return None
    withdrawn = _withdrawals(entries)
    detail = EntryDetail(entry, effective_payload=dict(entry.payload))
    detail.withdraws = by_id.get(entry.withdraws) if entry.withdraws else None
    detail.corrects = by_id.get(entry.corrects) if entry.corrects else None
    p = entry.payload
    if entry.kind == AMENDMENT_KIND and isinstance(p.get("amends"), str):
        detail.amends = by_id.get(p["amends"])
    if entry.kind in JUDGEMENT_KINDS and isinstance(p.get("supersedes"), str):
        detail.supersedes = by_id.get(p["supersedes"])
    for e in entries:
        if e.position <= entry.position and e is not entry:
            continue
        if e.withdraws == event_id and e.kind == WITHDRAWAL_KIND:
            detail.withdrawn_by = e
        elif e.corrects == event_id:
            detail.corrected_by.append(e)
        elif e.kind == AMENDMENT_KIND and e.payload.get("amends") == event_id:
            detail.amendments.append(e)
            changes = e.payload.get("changes")
            if isinstance(changes, dict) and e.event_id not in withdrawn:  # a withdrawn amendment changes nothing
                detail.effective_payload.update(changes)
        elif e.kind in JUDGEMENT_KINDS and e.payload.get("supersedes") == event_id:
            detail.superseded_by.append(e)
    return detail
