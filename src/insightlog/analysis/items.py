"""Evidence and headline items with their effective payloads over time (§3.3, §3.4), and a leaf's
signals (§5).

An item is *present* at instant ``t`` when it is recorded by ``t`` and not withdrawn by ``t``
(§3.4: a withdrawal takes effect from its own recording instant). Its effective payload changes
at each amendment's instant and at each instant an amendment of it is withdrawn.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import UTC
from itertools import accumulate
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from insightlog.analysis.errors import AnalysisInputError

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry


class Item:
    """An evidence or ``AuditCompleted`` event with its payload as effective over time.

    ``score`` is the score as recorded; ``am_times`` stays None (``scores``/``payloads`` empty)
    until an amendment names the item, then they hold, for each instant at which the effective
    payload may change (an amendment, or the withdrawal of one), the version from then on (version
    0 = as recorded). ``wd`` is the instant of the item's own withdrawal (None: never withdrawn).
    """

    __slots__ = (
        "_amendments",
        "am_times",
        "category",
        "cell",
        "covering",
        "entry",
        "event_id",
        "idx",
        "is_evidence",
        "kind",
        "month",
        "obs",
        "order",
        "payloads",
        "rec",
        "scope",
        "score",
        "scores",
        "source_type",
        "theme",
        "wd",
    )

    def __init__(
        self,
        idx: int,
        entry: Entry,
        rec: int,
        scope: str | None,
        is_evidence: bool,
        wd: int | None = None,
    ) -> None:
        self.idx = idx
        self.entry = entry
        self.event_id = entry.event_id
        self.kind = entry.kind
        self.theme = entry.theme
        self.scope = scope
        observed = entry.observed_at
        if observed.tzinfo is None:
            raise AnalysisInputError(f"event {entry.event_id}: observed_at must be aware (UTC)")
        if observed.utcoffset():
            observed = observed.astimezone(UTC)
        self.obs = observed.toordinal()
        self.month = observed.year * 12 + observed.month - 1
        self.order = (self.obs << 40) | idx
        self.rec = rec
        self.is_evidence = is_evidence
        self.covering: tuple[str, ...] = ()
        self.cell: tuple[str, str | None] | None = None
        payload = entry.payload
        score = payload.get("evidence_score" if is_evidence else "headline_score")
        if score.__class__ is not int:
            score = self._read_score(payload, entry.event_id)
        self.score = score
        self.source_type = payload.get("source_type")
        self.category = payload.get("evidence_category")
        self.am_times: list[int] | None = None
        self.payloads: Sequence[Mapping[str, Any]] = ()
        self.scores: Sequence[int] = ()
        self.wd = wd
        self._amendments: list[tuple[int, int | None, Mapping[str, Any], str]] | None = None

    @property
    def score_field(self) -> str:
        return "evidence_score" if self.is_evidence else "headline_score"

    @property
    def amendment_times(self) -> list[int]:
        return self.am_times if self.am_times is not None else []

    def _read_score(self, payload: Mapping[str, Any], event_id: str) -> int:
        name = "evidence_score" if self.is_evidence else "headline_score"
        value = payload.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnalysisInputError(
                f"event {event_id}: payload field {name!r} must be an integer score, not {value!r}"
            )
        return value

    def amend(self, amendment: Entry, rec: int, changes: Mapping[str, Any], wd: int | None = None) -> None:
        """Note an amendment recorded at ``rec`` (withdrawn at ``wd``), in log order; ``settle``
        then computes the versions."""
        if self._amendments is None:
            self._amendments = []
        self._amendments.append((rec, wd, changes, amendment.event_id))

    def settle(self) -> None:
        """Compute the effective payload from each change instant on (§3.3, §3.4): the
        amendments known then, less those withdrawn by then, applied in log order."""
        amendments = self._amendments
        if not amendments:
            return
        points = sorted({rec for rec, _, _, _ in amendments} | {wd for _, wd, _, _ in amendments if wd is not None})
        recorded = self.entry.payload
        payloads: list[Mapping[str, Any]] = [recorded]
        scores = [self.score]
        for point in points:
            payload = dict(recorded)
            last = self.event_id
            for rec, wd, changes, event_id in amendments:
                if rec <= point and (wd is None or wd > point):
                    payload.update(changes)
                    last = event_id
            payloads.append(payload)
            scores.append(self._read_score(payload, last))
        self.am_times, self.payloads, self.scores = points, payloads, scores

    def score_at(self, t: int) -> int:
        """The effective score at instant ``t`` (the item itself is assumed known at ``t``)."""
        am_times = self.am_times
        if am_times is None:
            return self.score
        return self.scores[bisect_right(am_times, t)]

    def payload_at(self, t: int) -> Mapping[str, Any]:
        """The effective payload at instant ``t`` (§3.3)."""
        am_times = self.am_times
        if am_times is None:
            return self.entry.payload
        return self.payloads[bisect_right(am_times, t)]

    def present(self, t: int) -> bool:
        """Known at ``t``: recorded by ``t`` and not withdrawn by ``t`` (§3.1, §3.4)."""
        wd = self.wd
        return self.rec <= t and (wd is None or t < wd)

    def adverse_at(self, t: int, threshold: int) -> bool:
        """Known at ``t`` and adverse with the score effective at ``t`` (§5.2)."""
        return self.present(t) and self.score_at(t) <= threshold

    def adverse_transitions(self, threshold: int) -> list[tuple[int, int]]:
        """(instant, +1/-1) whenever the item starts or stops being a known adverse signal."""
        am_times = self.am_times
        wd = self.wd
        if am_times is None and wd is None:
            return [(self.rec, 1)] if self.score <= threshold else []
        rec = self.rec
        if wd is not None and wd <= rec:
            return []
        current = self.score_at(rec) <= threshold
        out = [(rec, 1)] if current else []
        if am_times is not None:
            scores = self.scores
            for k, t in enumerate(am_times):
                if t <= rec:
                    continue
                if wd is not None and t >= wd:
                    break
                now = scores[k + 1] <= threshold
                if now != current:
                    out.append((t, 1 if now else -1))
                    current = now
        if wd is not None and current:
            out.append((wd, -1))
        return out


_signal_order = attrgetter("order")


class LeafSignals:
    """Every evidence item whose theme is exactly one theme, in signal order (§5.4).

    ``transitions`` says when items become or stop being known adverse signals;
    ``adverse_count(t)`` how many are known at ``t``.
    """

    __slots__ = ("_steps", "_transitions", "dates", "items", "theme", "threshold")

    _transitions: list[tuple[int, int, int, str | None]] | None

    def __init__(self, theme: str, items: list[Item], threshold: int) -> None:
        items.sort(key=_signal_order)
        self.theme = theme
        self.items = items
        self.dates = [item.obs for item in items]
        self.threshold = threshold
        self._transitions = None
        self._steps: tuple[list[int], list[int]] | None = None

    def window(self, first: int, last: int) -> list[Item]:
        """Items observed on dates ``first`` … ``last`` (inclusive), in signal order."""
        return self.items[bisect_left(self.dates, first) : bisect_right(self.dates, last)]

    @property
    def transitions(self) -> list[tuple[int, int, int, str | None]]:
        """(instant, +1/-1, observed date, scope) as items become or stop being known adverse
        signals, grouped by item in signal order."""
        if self._transitions is None:
            threshold = self.threshold
            out: list[tuple[int, int, int, str | None]] = []
            for item in self.items:
                if item.am_times is None and item.wd is None:
                    if item.score <= threshold:
                        out.append((item.rec, 1, item.obs, item.scope))
                else:
                    for t, delta in item.adverse_transitions(threshold):
                        out.append((t, delta, item.obs, item.scope))
            self._transitions = out
        return self._transitions

    def adverse_count(self, t: int) -> int:
        """How many adverse signals are known at ``t``."""
        if self._steps is None:
            changes: dict[int, int] = {}
            for when, delta, _, _ in self.transitions:
                changes[when] = changes.get(when, 0) + delta
            times = sorted(changes)
            self._steps = (times, list(accumulate(changes[when] for when in times)))
        times, counts = self._steps
        k = bisect_right(times, t)
        return counts[k - 1] if k else 0
