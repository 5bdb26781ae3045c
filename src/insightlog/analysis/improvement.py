"""Improvement status per leaf and evaluation date (§12)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from insightlog.analysis.drift import evaluation_date, knowledge_on
from insightlog.analysis.instants import ordinal_text
from insightlog.analysis.items import LeafSignals
from insightlog.analysis.policy import Policy


def has_adverse_signal(leaf: LeafSignals, t: int) -> bool:
    """Whether the leaf has any adverse signal known at ``t`` (§12.1)."""
    return leaf.adverse_count(t) > 0


def improvement_status(leaf: LeafSignals, months: list[int], a: int, a_date: int, policy: Policy) -> dict[str, str]:
    """§12.2: ``{evaluation date: status}`` for every reporting month, ascending."""
    threshold = policy.adverse_threshold
    items = leaf.items
    dates = leaf.dates
    out: dict[str, str] = {}
    for m in months:
        d = evaluation_date(m, a_date)
        k = knowledge_on(d, a)
        if leaf.adverse_count(k) == 0:
            out[ordinal_text(d)] = "no_adverse_signal_yet"
            continue
        lo = bisect_left(dates, d - policy.early_window_days + 1)
        latest_adverse = None
        non_adverse = 0
        for i in range(bisect_right(dates, d) - 1, lo - 1, -1):
            item = items[i]
            if not item.present(k):
                continue
            if item.score_at(k) <= threshold:
                latest_adverse = item.obs
                break
            non_adverse += 1
        if latest_adverse is not None:
            recent = latest_adverse >= d - policy.not_improving_days + 1
            status = "not_improving" if recent else "early"
        elif non_adverse >= policy.embedded_min_items:
            status = "embedded"
        else:
            status = "insufficient_evidence"
        out[ordinal_text(d)] = status
    return out
