"""Repeated rule, episodes, pattern-detectable instants, extent and recognition (§7–§9)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from operator import itemgetter
from typing import Any

from insightlog.analysis.errors import AnalysisInvariantError
from insightlog.analysis.instants import instant_date, ordinal_text
from insightlog.analysis.items import Item, LeafSignals
from insightlog.analysis.judgements import Judgement
from insightlog.analysis.policy import Policy
from insightlog.analysis.servicelog import ServiceLog


def meets_repeated_rule(dates: Iterable[int], policy: Policy) -> bool:
    """§7.1 on observed date ordinals (any order, repeats allowed)."""
    distinct = sorted(set(dates))
    n = policy.repeated_distinct_dates
    span = policy.repeated_span_days
    return any(distinct[i + n - 1] - distinct[i] <= span for i in range(len(distinct) - n + 1))


def _window_met(distinct: list[int], d: int, policy: Policy) -> bool:
    """Whether some run of n consecutive distinct dates containing ``d`` spans ≤ the limit."""
    n = policy.repeated_distinct_dates
    span = policy.repeated_span_days
    k = bisect_left(distinct, d)
    for j in range(max(0, k - n + 1), k + 1):
        if j + n - 1 < len(distinct) and distinct[j + n - 1] - distinct[j] <= span:
            return True
    return False


def first_instant_meeting_rule(transitions: list[tuple[int, int, int, str | None]], policy: Policy) -> int | None:
    """The first instant at which the adverse signals meet the repeated rule (§7.4).

    ``transitions`` are (instant, +1/-1, observed date, scope) as signals become or stop being
    known adverse signals. Until the rule is first met it is false, so after each instant's
    changes only runs through a newly present date need checking.
    """
    transitions.sort(key=_first)
    counts: dict[int, int] = {}
    distinct: list[int] = []
    i = 0
    n = len(transitions)
    while i < n:
        t = transitions[i][0]
        fresh: list[int] = []
        while i < n and transitions[i][0] == t:
            delta = transitions[i][1]
            d = transitions[i][2]
            c = counts.get(d, 0)
            if delta > 0:
                if c == 0:
                    insort(distinct, d)
                    fresh.append(d)
                counts[d] = c + 1
            elif c == 1:
                del counts[d]
                del distinct[bisect_left(distinct, d)]
            elif c > 1:
                counts[d] = c - 1
            i += 1
        for d in fresh:
            if d in counts and _window_met(distinct, d, policy):
                return t
    return None


_first = itemgetter(0)


def episodes_at(leaf: LeafSignals, t: int, policy: Policy) -> list[list[Item]]:
    """§7.2: the adverse signals of a leaf known at ``t``, cut on gaps of more than N days."""
    threshold = policy.adverse_threshold
    gap = policy.episode_gap_days
    episodes: list[list[Item]] = []
    current: list[Item] = []
    last = 0
    for item in leaf.items:
        if item.rec > t or (item.wd is not None and item.wd <= t):
            continue
        am_times = item.am_times
        score = item.score if am_times is None else item.scores[bisect_right(am_times, t)]
        if score <= threshold:
            if current and item.obs - last > gap:
                episodes.append(current)
                current = []
            current.append(item)
            last = item.obs
    if current:
        episodes.append(current)
    return episodes


def episodes_touching(leaf: LeafSignals, t: int, first: int, last: int, policy: Policy) -> Iterator[list[Item]]:
    """The episodes at ``t`` (§7.2) with a signal observed in [first, last], in signal order.

    Reads only the items near that range, not the whole leaf, and yields each episode as soon
    as it is complete.
    """
    threshold = policy.adverse_threshold
    gap = policy.episode_gap_days
    items = leaf.items
    dates = leaf.dates

    def adverse(k: int) -> bool:
        return items[k].adverse_at(t, threshold)

    lo = bisect_left(dates, first)
    hi = bisect_right(dates, last)
    seed = next((k for k in range(lo, hi) if adverse(k)), None)
    if seed is None:
        return
    start = seed
    earliest = dates[seed]
    k = seed - 1
    while k >= 0 and earliest - dates[k] <= gap:
        if adverse(k):
            start = k
            earliest = dates[k]
        k -= 1
    current: list[Item] = []
    previous = dates[start]
    for k in range(start, len(items)):
        d = dates[k]
        if d - previous > gap:
            if current:
                yield current
                current = []
            if d > last:
                return
        if adverse(k):
            current.append(items[k])
            previous = d
    if current:
        yield current


def affected_scopes(episode: list[Item]) -> frozenset[str]:
    """§8: the distinct non-null scopes of an episode's signals."""
    return frozenset(item.scope for item in episode if item.scope is not None)


@dataclass(slots=True)
class Episode:
    """A repeated or isolated episode of a leaf as known at A, with its detectable instant."""

    theme: str
    signals: list[Item]
    repeated: bool
    detectable: int | None = None

    @property
    def first(self) -> Item:
        return self.signals[0]

    @property
    def span(self) -> tuple[int, int]:
        return self.signals[0].obs, self.signals[-1].obs


@dataclass(slots=True)
class LeafPatterns:
    """Everything §7 says about one leaf as known at A."""

    theme: str
    episodes: list[Episode]
    scope_detectable: dict[str, int]


def leaf_patterns(log: ServiceLog, leaf: LeafSignals, a: int, policy: Policy) -> LeafPatterns:
    """Episodes at A, each repeated episode's own P, and every scope's P_s (§7.4).

    The candidate instants are those of every event recorded by A, withdrawn or not (§3.4): the
    transitions of the leaf's items, which include the withdrawals that end a signal. P_s is
    evaluated for the scopes in S(λ) as of A only (§14.5).
    """
    episodes = [
        Episode(leaf.theme, signals, meets_repeated_rule((s.obs for s in signals), policy))
        for signals in episodes_at(leaf, a, policy)
    ]
    repeated = [ep for ep in episodes if ep.repeated]
    spans = [ep.span for ep in repeated]
    per_episode: list[list[tuple[int, int, int, str | None]]] = [[] for _ in repeated]
    per_scope: dict[str, list[tuple[int, int, int, str | None]]] = {}
    k = 0
    for transition in leaf.transitions:
        obs = transition[2]
        while k < len(spans) and spans[k][1] < obs:
            k += 1
        if k < len(spans) and spans[k][0] <= obs:
            per_episode[k].append(transition)
        scope = transition[3]
        if scope is not None:
            bucket = per_scope.get(scope)
            if bucket is None:
                per_scope[scope] = [transition]
            else:
                bucket.append(transition)
    for ep, transitions in zip(repeated, per_episode, strict=True):
        ep.detectable = first_instant_meeting_rule(transitions, policy)
    scope_detectable: dict[str, int] = {}
    current = log.scope_set(leaf.theme)
    for scope, transitions in per_scope.items():
        if scope not in current:
            continue
        found = first_instant_meeting_rule(transitions, policy)
        if found is not None:
            scope_detectable[scope] = found
    return LeafPatterns(leaf.theme, episodes, scope_detectable)


def is_service_wide(affected: frozenset[str], sampled: frozenset[str], policy: Policy) -> bool:
    """§8: at least the minimum of affected scopes, and more than the share of sampled ones."""
    if len(affected) < policy.service_wide_min_scopes:
        return False
    return Fraction(len(affected)) > policy.service_wide_share * len(sampled)


def lapsed(leaf: LeafSignals, judgement: Judgement, affected: frozenset[str], policy: Policy) -> bool:
    """§9.4: an adverse signal (affected scope, or any if none) within the look-back."""
    t = judgement.rec
    d = judgement.rec_date
    threshold = policy.adverse_threshold
    for item in leaf.window(d - policy.lapse_lookback_days, d):
        if affected and item.scope not in affected:
            continue
        if item.adverse_at(t, threshold):
            return True
    return False


def recognition_row(
    log: ServiceLog, leaf: LeafSignals, episode: Episode, a: int, a_date: int, policy: Policy
) -> dict[str, Any]:
    """One ``recognition`` object (analysis-output.md §4) for a repeated episode."""
    theme = leaf.theme
    first = episode.first
    affected = affected_scopes(episode.signals)
    sampled = log.scopes_since(theme, first.obs)
    extent = "service_wide" if is_service_wide(affected, sampled, policy) else "local"
    if episode.detectable is None:
        raise AnalysisInvariantError(f"repeated episode of {theme} has no detectable instant")
    detectable_event = log.first_event_at(episode.detectable)
    p_date = instant_date(episode.detectable)
    ack = log.first_acknowledgement(theme, first.obs, affected, a)
    after: list[dict[str, str]] = []
    if ack is not None:
        for judgement in log.applicable(theme):
            if judgement.rec <= ack.rec:
                continue
            if judgement.acknowledges(theme, affected, log.theme_tree):
                status = "acknowledged"
            elif lapsed(leaf, judgement, affected, policy):
                status = "lapsed"
            else:
                status = "stood_down"
            after.append({"event_id": judgement.event_id, "status": status})
    return {
        "theme": theme,
        "extent": extent,
        "affected_scopes": sorted(affected),
        "sampled_scopes": sorted(sampled),
        "first_signal": first.event_id,
        "first_signal_observed": ordinal_text(first.obs),
        "pattern_detectable": detectable_event.event_id,
        "pattern_detectable_recorded": ordinal_text(p_date),
        "acknowledgement": ack.event_id if ack else None,
        "ack_recorded": ordinal_text(ack.rec_date) if ack else None,
        "recognition_lag_days": ack.rec_date - first.obs if ack else None,
        "detectable_lag_days": ack.rec_date - p_date if ack else None,
        "claimed_lag_days": ack.obs_date - first.obs if ack else None,
        "open_lag_days": None if ack else a_date - first.obs,
        "after_acknowledgement": after,
    }
