"""The basis of an analysis (definitions §3.5): whose clock says when an event was recorded.

* ``recorded`` (the default): the event's ``recorded_at``, the provider's word; log order is
  ``recorded_at``, ties by append order.
* ``ledger``: the store's own append time (``Entry.appended_at``); log order is append order.
* ``proven``: the earliest *independent time* (the verified RFC 3161 ``genTime``, or a trusted
  witness's cosignature time) of a checkpoint whose tree size is at least the event's position.
  The caller verifies the checkpoints and supplies the result as a mapping from ledger position to
  that instant; an event the mapping does not cover is not known at any instant.

Under every basis the theme tree is the whole log's (§4.1), covered or not, and ``observed_at``
is unchanged. This module only reads the instants; it never verifies a token or a signature.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from insightlog.analysis.errors import AnalysisInputError
from insightlog.analysis.instants import instant_us

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry

RECORDED = "recorded"
LEDGER = "ledger"
PROVEN = "proven"
BASES = (RECORDED, LEDGER, PROVEN)


@dataclass(frozen=True, slots=True)
class Basis:
    """Which clock supplies each event's recording instant; see the module docstring.

    ``proven`` maps a ledger position to the verified independent instant of the earliest
    checkpoint covering it (required for, and only used by, the ``proven`` basis).
    """

    name: str = RECORDED
    proven: Mapping[int, datetime] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.name not in BASES:
            raise AnalysisInputError(f"unknown basis {self.name!r} (one of {', '.join(BASES)})")
        if self.name == PROVEN and self.proven is None:
            raise AnalysisInputError("the proven basis needs the verified checkpoint times (proven=...)")

    @property
    def is_default(self) -> bool:
        return self.name == RECORDED

    @property
    def orders_by_position(self) -> bool:
        """Whether log order is append order (``ledger``, ``proven``) rather than recorded order."""
        return self.name != RECORDED

    def instant(self, entry: Entry) -> int | None:
        """The event's recording instant on this basis (µs since the epoch), or None when it is
        known at no instant (``proven``: no verified checkpoint covers it)."""
        if self.name == RECORDED:
            return instant_us(entry.recorded_at)
        if self.name == LEDGER:
            if entry.appended_at is None:
                raise AnalysisInputError(
                    f"event {entry.event_id}: the ledger basis reads the store's append time, and this entry has none"
                )
            return instant_us(entry.appended_at)
        when = self.proven.get(entry.position) if self.proven is not None else None
        return None if when is None else instant_us(when)


BASIS_WORDS = {
    RECORDED: "every recording instant is the provider's recorded_at (the default basis)",
    LEDGER: "every recording instant is this store's own append time, not the provider's recorded_at",
    PROVEN: "every recording instant is the verified timestamp of the first checkpoint covering the event",
}


def basis_sentence(name: str) -> str:
    """``Basis NAME (definitions §3.5): every recording instant is ...``, for reports and packs."""
    return f"Basis {name} (definitions §3.5): {BASIS_WORDS[name]}."


RECORDED_BASIS = Basis()
LEDGER_BASIS = Basis(LEDGER)


def proven_basis(instants: Mapping[int, datetime]) -> Basis:
    """The ``proven`` basis from a mapping of ledger position to verified independent instant."""
    return Basis(PROVEN, instants)


class CheckpointInstants(Mapping[int, datetime]):
    """Position → the earliest independent time of a checkpoint covering it (§3.5), from the
    (tree size, verified time) pairs of a store's verified checkpoints.

    A checkpoint of size ``n`` covers positions 1…``n``; the instant of position ``p`` is the
    least time among checkpoints of size ≥ ``p``. Positions beyond the largest size are absent.
    The caller decides which checkpoints are verified; nothing is checked here.
    """

    def __init__(self, checkpoints: Iterable[tuple[int, datetime]]) -> None:
        pairs = sorted((size, when) for size, when in checkpoints if size > 0)
        self._sizes = [size for size, _ in pairs]
        earliest: list[datetime] = []
        for _, when in reversed(pairs):
            earliest.append(when if not earliest or when < earliest[-1] else earliest[-1])
        earliest.reverse()
        self._earliest = earliest

    def __getitem__(self, position: int) -> datetime:
        if not isinstance(position, int) or position < 1:
            raise KeyError(position)
        k = bisect_left(self._sizes, position)
        if k == len(self._sizes):
            raise KeyError(position)
        return self._earliest[k]

    def __iter__(self) -> Iterator[int]:
        return iter(range(1, len(self) + 1))

    def __len__(self) -> int:
        return self._sizes[-1] if self._sizes else 0
