"""The rules of interchange 1.1 that need the store: references, withdrawals and amended payloads.

Every reference (``amends``, ``supersedes``, ``withdraws``, ``corrects``) names an event of the
same service that is *earlier in the service's log order* (definitions.md §1.1): ascending
``recorded_at``, ties by append order. An event earlier in the same batch, or already stored, is
earlier in append order, so only a back-fill can name an event recorded after itself; that is
checked against the target's own ``recorded_at``. A service whose ``ServiceRegistered`` is
withdrawn takes no further events.

An amendment's ``changes`` are checked against the target's effective payload (the recorded
payload with every earlier, not withdrawn, amendment applied): stored amendments of a stored event
all lie after it in append order, so only the service's events from the target onwards are read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from insightlog.interchange.kinds import (
    AMENDABLE_KINDS,
    AMENDMENT_KIND,
    JUDGEMENT_KINDS,
    REGISTRATION_KIND,
    UNWITHDRAWABLE_KINDS,
    WITHDRAWAL_KIND,
)
from insightlog.interchange.timeutil import format_utc
from insightlog.interchange.validation import LineError, amended_payload_error

if TYPE_CHECKING:
    from insightlog.aggregates.service import ServiceLedger
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.validation import Draft


class KeyInfo(NamedTuple):
    """What the event-id index (or the batch being appended) says of an event.

    ``draft`` is set for an event earlier in the same batch, ``position`` for a stored one.
    """

    service: str
    kind: str
    digest: str
    draft: Draft | None = None
    position: int = 0


# Log-order key of an amendment or withdrawal: (recorded_at text, 0 stored / 1 batch, position or
# batch index). Stored events precede every event of the batch in append order.
OrderKey = tuple[str, int, int]


@dataclass
class _Tail:
    """A service's stored entries read backwards from the newest, as far as needed."""

    entries: list[Entry] = field(default_factory=list)  # newest first
    exhausted: bool = False


@dataclass
class ReferenceCheck:
    """Checks each draft of one append against the batch so far and the store.

    ``find_key`` looks an event id up in the store's index; ``read_back`` yields a service's stored
    entries newest first. ``check`` raises ``LineError``; ``admit`` records an appended draft.
    """

    find_key: Callable[[str], KeyInfo | None]
    read_back: Callable[[str], Iterator[Entry]]
    batch: dict[str, KeyInfo]
    empty_store: bool
    backfill: bool
    _tails: dict[str, tuple[_Tail, Iterator[Entry]]] = field(default_factory=dict)
    _amendments: dict[str, list[tuple[OrderKey, Draft]]] = field(default_factory=dict)
    _withdrawals: dict[str, OrderKey] = field(default_factory=dict)
    _in_error: dict[str, str | None] = field(default_factory=dict)
    _index: int = 0

    # -- the checks ---------------------------------------------------------------------------

    def check(self, line: int | None, draft: Draft, service: ServiceLedger) -> None:
        """Every store-level rule of interchange 1.1 for ``draft`` (nothing is changed)."""
        self._check_service_open(line, draft, service)
        payload = draft.payload
        kind = draft.kind
        if kind == AMENDMENT_KIND:
            self._check_amendment(line, draft, service)
        elif kind in JUDGEMENT_KINDS and payload.get("supersedes") is not None:
            self._earlier(line, draft, "payload.supersedes", payload["supersedes"])
        elif kind == WITHDRAWAL_KIND:
            self._check_withdrawal(line, draft, service)
        if kind != WITHDRAWAL_KIND and payload.get("corrects") is not None:
            self._check_corrects(line, draft, service, "payload.corrects", payload["corrects"])

    def admit(self, draft: Draft) -> None:
        """Remember an appended draft for the checks of the drafts after it in the batch."""
        self._index += 1
        kind = draft.kind
        if kind == AMENDMENT_KIND:
            key: OrderKey = (format_utc(draft.recorded_at), 1, self._index)
            self._amendments.setdefault(draft.payload["amends"], []).append((key, draft))
        elif kind == WITHDRAWAL_KIND:
            target = draft.payload["withdraws"]
            self._withdrawals[target] = (format_utc(draft.recorded_at), 1, self._index)
            found = self._key(target)
            if found is not None and found.kind == REGISTRATION_KIND:
                self._in_error[draft.service] = f"its ServiceRegistered {target} is withdrawn by {draft.event_id}"

    def _check_service_open(self, line: int | None, draft: Draft, service: ServiceLedger) -> None:
        name = draft.service
        if name not in self._in_error:
            self._in_error[name] = self._registered_in_error(service)
        why = self._in_error[name]
        if why is not None:
            raise LineError(
                line,
                draft.event_id,
                "service",
                f"service {name!r} was registered in error ({why}); it takes no further events",
            )

    def _registered_in_error(self, service: ServiceLedger) -> str | None:
        registrations = service.registrations
        for target, (withdrawal, _) in service.withdrawn.items():
            if registrations is not None:
                hit = target in registrations
            else:  # restored from a snapshot older than 1.1: ask the event-id index
                found = self._key(target)
                hit = found is not None and found.kind == REGISTRATION_KIND
            if hit:
                return f"its ServiceRegistered {target} is withdrawn by {withdrawal}"
        return None

    def _earlier(self, line: int | None, draft: Draft, field_name: str, ref: str) -> KeyInfo:
        """The event ``ref`` names, which must be earlier in the log of the draft's service."""
        found = self._key(ref)
        if found is None or found.service != draft.service:
            raise LineError(
                line, draft.event_id, field_name, f"{ref!r} names no earlier event of service {draft.service!r}"
            )
        if found.draft is None and self.backfill:
            target = self._stored(draft.service, ref, found.position)
            if target is not None and target.recorded_at > draft.recorded_at:
                raise LineError(
                    line,
                    draft.event_id,
                    field_name,
                    f"{ref!r} was recorded at {format_utc(target.recorded_at)}, after this event "
                    f"({format_utc(draft.recorded_at)}): a reference names an event earlier in the service's log order",
                )
        return found

    def _check_withdrawal(self, line: int | None, draft: Draft, service: ServiceLedger) -> None:
        ref = draft.payload["withdraws"]
        found = self._earlier(line, draft, "payload.withdraws", ref)
        if found.kind in UNWITHDRAWABLE_KINDS:
            why = (
                "the theme tree is the whole log's (define the theme again to change it)"
                if found.kind == "ThemeDefined"
                else "a withdrawal is final"
            )
            raise LineError(
                line,
                draft.event_id,
                "payload.withdraws",
                f"{ref!r} is a {found.kind}, which cannot be withdrawn: {why}",
            )
        already = service.withdrawn.get(ref)
        if already is not None:
            raise LineError(line, draft.event_id, "payload.withdraws", f"{ref!r} is already withdrawn by {already[0]}")

    def _check_corrects(
        self, line: int | None, draft: Draft, service: ServiceLedger, field_name: str, ref: str
    ) -> None:
        withdrawn = service.withdrawn.get(ref)
        if withdrawn is None:
            raise LineError(
                line,
                draft.event_id,
                field_name,
                f"{ref!r} names no event of service {draft.service!r} withdrawn earlier in the log "
                "(withdraw it first with an EntryWithdrawn)",
            )
        if withdrawn[1] > format_utc(draft.recorded_at):
            raise LineError(
                line,
                draft.event_id,
                field_name,
                f"{ref!r} is withdrawn by {withdrawn[0]} at {withdrawn[1]}, after this event "
                f"({format_utc(draft.recorded_at)}): a replacement comes after the withdrawal",
            )

    def _check_amendment(self, line: int | None, draft: Draft, service: ServiceLedger) -> None:
        ref = draft.payload["amends"]
        found = self._earlier(line, draft, "payload.amends", ref)
        if found.kind not in AMENDABLE_KINDS:
            raise LineError(
                line,
                draft.event_id,
                "payload.amends",
                f"{ref!r} is a {found.kind}; only evidence and AuditCompleted events can be amended",
            )
        changes: dict[str, Any] = draft.payload["changes"]
        if changes.get("corrects") is not None:
            self._check_corrects(line, draft, service, "payload.changes.corrects", changes["corrects"])
        base, history, withdrawn = self._amendment_history(draft.service, ref, found)
        new_key: OrderKey = (format_utc(draft.recorded_at), 1, self._index + 1)
        before = _effective(base, history, withdrawn, new_key)
        error = amended_payload_error(found.kind, ref, before, changes)
        if error is not None:
            raise LineError(line, draft.event_id, error[0], error[1])
        # Only a back-fill can come before amendments already stored: those must stay valid.
        with_new = [*history, (new_key, draft.event_id, changes)]
        with_new.sort(key=_first)
        for key, later_id, later_changes in history:
            if key <= new_key:
                continue
            without = _effective(base, history, withdrawn, key)
            if amended_payload_error(found.kind, ref, without, later_changes) is not None:
                continue  # already invalid before this amendment: not its doing
            now = _effective(base, with_new, withdrawn, key)
            later = amended_payload_error(found.kind, ref, now, later_changes)
            if later is not None:
                raise LineError(
                    line,
                    draft.event_id,
                    "payload.changes",
                    f"with this back-filled amendment, the later amendment {later_id} of {ref} would be invalid: "
                    f"field '{later[0]}' {later[1]}",
                )

    # -- reading ------------------------------------------------------------------------------

    def _key(self, ref: str) -> KeyInfo | None:
        found = self.batch.get(ref)
        if found is None and not self.empty_store:
            found = self.find_key(ref)
        return found

    def _stored(self, service: str, ref: str, position: int) -> Entry | None:
        """The stored entry ``ref`` (at ``position``), reading the service back to it once."""
        for entry in self._stored_from(service, position):
            if entry.event_id == ref:
                return entry
        return None

    def _stored_from(self, service: str, position: int) -> list[Entry]:
        """The service's stored entries from ``position`` on, newest first."""
        if service not in self._tails:
            self._tails[service] = (_Tail(), self.read_back(service))
        tail, reader = self._tails[service]
        while not tail.exhausted and (not tail.entries or tail.entries[-1].position > position):
            entry = next(reader, None)
            if entry is None:
                tail.exhausted = True
            else:
                tail.entries.append(entry)
        return [e for e in tail.entries if e.position >= position]

    def _amendment_history(
        self, service: str, ref: str, found: KeyInfo
    ) -> tuple[dict[str, Any], list[tuple[OrderKey, str, dict[str, Any]]], dict[str, OrderKey]]:
        """The target's recorded payload, its amendments (log order) and their withdrawals."""
        history: list[tuple[OrderKey, str, dict[str, Any]]] = []
        withdrawn: dict[str, OrderKey] = {}
        if found.draft is not None:
            base = dict(found.draft.payload)
        else:
            entries = self._stored_from(service, found.position)
            target = next((e for e in entries if e.event_id == ref), None)
            base = dict(target.payload) if target is not None else {}
            for entry in entries:
                key: OrderKey = (format_utc(entry.recorded_at), 0, entry.position)
                if entry.kind == AMENDMENT_KIND and entry.payload.get("amends") == ref:
                    changes = entry.payload.get("changes")
                    if isinstance(changes, dict):
                        history.append((key, entry.event_id, changes))
                elif entry.kind == WITHDRAWAL_KIND:
                    withdrawn[entry.payload["withdraws"]] = key
        for key, draft in self._amendments.get(ref, []):
            history.append((key, draft.event_id, draft.payload["changes"]))
        withdrawn.update(self._withdrawals)
        history.sort(key=_first)
        return base, history, withdrawn


def _first(item: tuple[OrderKey, str, dict[str, Any]]) -> OrderKey:
    return item[0]


def _effective(
    base: dict[str, Any],
    history: list[tuple[OrderKey, str, dict[str, Any]]],
    withdrawn: dict[str, OrderKey],
    at: OrderKey,
) -> dict[str, Any]:
    """The payload as effective just before log position ``at`` (definitions §3.3, §3.4): the
    amendments earlier in the log applied in order, less those withdrawn before ``at``."""
    payload = dict(base)
    for key, amendment_id, changes in history:
        if key >= at:
            break
        withdrawal = withdrawn.get(amendment_id)
        if withdrawal is not None and withdrawal < at:
            continue
        payload.update(changes)
    return payload
