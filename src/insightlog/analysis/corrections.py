"""Withdrawals and replacements as a reader shows them (interchange 1.1, definitions §3.4).

``corrections(entries, as_of=...)`` says, for the entries of a service (or of a whole store), which
events are withdrawn, by which ``EntryWithdrawn``, when, by whom and why, and links replacements
both ways (an event whose payload names a withdrawn one in ``corrects``). It applies the rules the
analysis applies: a withdrawal counts from its own recording instant on the basis, the first
withdrawal of an event in log order is the one that counts, and ``ThemeDefined`` and
``EntryWithdrawn`` events cannot be withdrawn. Nothing here hides anything: a display decides
whether to strike a withdrawn entry through or leave it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from insightlog.analysis.basis import RECORDED_BASIS, Basis
from insightlog.analysis.instants import instant_us
from insightlog.interchange.kinds import REGISTRATION_KIND, UNWITHDRAWABLE_KINDS, WITHDRAWAL_KIND

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """One ``EntryWithdrawn``: which event it withdraws, when, by whom and why.

    ``recorded_at`` is the withdrawal's own ``recorded_at`` (from then on the event counts for
    nothing); ``position`` and ``source`` are its ledger provenance.
    """

    event_id: str
    withdraws: str
    service: str
    recorded_at: datetime
    actor_role: str
    actor_id: str
    reason: str
    position: int
    source: str


@dataclass(frozen=True, slots=True)
class EntryStatus:
    """What a display needs to know of one event about corrections."""

    event_id: str
    withdrawal: Withdrawal | None
    corrects: str | None
    replaced_by: tuple[str, ...]

    @property
    def withdrawn(self) -> bool:
        return self.withdrawal is not None


@dataclass(frozen=True)
class Corrections:
    """The withdrawals and replacements known at one instant.

    * ``withdrawals``: withdrawn event id → its ``Withdrawal``;
    * ``corrects``: replacement event id → the withdrawn event it names in ``corrects``;
    * ``replaced_by``: withdrawn event id → the replacements naming it, in log order;
    * ``registered_in_error``: services whose ``ServiceRegistered`` is withdrawn (they take no
      further events; a listing shows them as withdrawn).
    """

    withdrawals: Mapping[str, Withdrawal] = field(default_factory=dict)
    corrects: Mapping[str, str] = field(default_factory=dict)
    replaced_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    registered_in_error: frozenset[str] = frozenset()

    def is_withdrawn(self, event_id: str) -> bool:
        return event_id in self.withdrawals

    def withdrawal_of(self, event_id: str) -> Withdrawal | None:
        return self.withdrawals.get(event_id)

    def status(self, event_id: str) -> EntryStatus:
        """Whether ``event_id`` is withdrawn (by which event, when, by whom, why), which withdrawn
        event it replaces, and which events replace it."""
        return EntryStatus(
            event_id,
            self.withdrawals.get(event_id),
            self.corrects.get(event_id),
            self.replaced_by.get(event_id, ()),
        )


def corrections(
    entries: Iterable[Entry], *, as_of: datetime | None = None, basis: Basis = RECORDED_BASIS
) -> Corrections:
    """The withdrawals and replacement links among ``entries`` known at ``as_of`` (default: all).

    An event counts as known at ``as_of`` when its recording instant on ``basis`` (§3.5) is at or
    before it; a withdrawal recorded later is not yet a withdrawal. Entries of several services may
    be given together (event ids are unique per store).
    """
    cut = None if as_of is None else instant_us(as_of)
    known: list[tuple[int, int, Entry]] = []
    for entry in entries:
        t = basis.instant(entry)
        if t is None or (cut is not None and t > cut):
            continue
        known.append((t, entry.position, entry))
    known.sort(key=lambda row: (row[0], row[1]))
    by_id = {entry.event_id: entry for _, _, entry in known}
    withdrawals: dict[str, Withdrawal] = {}
    corrects: dict[str, str] = {}
    replaced_by: dict[str, list[str]] = {}
    for _, _, entry in known:
        if entry.kind == WITHDRAWAL_KIND:
            target_id = entry.withdraws
            if target_id is None or target_id in withdrawals:
                continue
            target = by_id.get(target_id)
            if target is not None and (target.kind in UNWITHDRAWABLE_KINDS or target.service != entry.service):
                continue
            reason = entry.payload.get("reason")
            withdrawals[target_id] = Withdrawal(
                event_id=entry.event_id,
                withdraws=target_id,
                service=entry.service,
                recorded_at=entry.recorded_at,
                actor_role=entry.actor_role,
                actor_id=entry.actor_id,
                reason=reason if isinstance(reason, str) else "",
                position=entry.position,
                source=entry.source,
            )
        else:
            replaced = entry.corrects
            if replaced is not None:
                corrects[entry.event_id] = replaced
                replaced_by.setdefault(replaced, []).append(entry.event_id)
    in_error = frozenset(
        w.service
        for target_id, w in withdrawals.items()
        if (target := by_id.get(target_id)) is not None and target.kind == REGISTRATION_KIND
    )
    return Corrections(
        withdrawals=withdrawals,
        corrects=corrects,
        replaced_by={key: tuple(ids) for key, ids in replaced_by.items()},
        registered_in_error=in_error,
    )
