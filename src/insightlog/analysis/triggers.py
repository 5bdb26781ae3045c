"""Triggers T1–T7 (§14), each evaluated with what was recorded when it would fire."""

from __future__ import annotations

from bisect import bisect_right
from fractions import Fraction
from itertools import accumulate
from typing import Any

from insightlog.analysis.drift import MonthBook, knowledge_on, row_keys
from insightlog.analysis.episodes import (
    LeafPatterns,
    affected_scopes,
    episodes_touching,
    meets_repeated_rule,
)
from insightlog.analysis.instants import end_of_day_us, instant_date, month_last_day
from insightlog.analysis.items import Item, LeafSignals
from insightlog.analysis.policy import Policy
from insightlog.analysis.servicelog import ServiceLog

T1 = "T1_REPEATED_THEME_UNACKNOWLEDGED"
T2 = "T2_HEADLINE_MASKS_DETAIL"
T3 = "T3_SUSTAINED_OPTIMISM"
T4 = "T4_REPEATED_LOCAL_PRESSURE"
T5 = "T5_VALIDATION_CONFIRMS_GAP"
T6 = "T6_METRIC_EXPERIENCE_MISMATCH"
T7 = "T7_UNQUALIFIED_POSITIVE_REPORT"

Occurrence = tuple[int, str, str | None, str | None, list[str]]


def _occurrence(fired_on: int, trigger: str, theme: str | None, scope: str | None, events: list[str]) -> Occurrence:
    return (fired_on, trigger, theme, scope, events)


def sort_occurrences(occurrences: list[Occurrence]) -> list[Occurrence]:
    """analysis-output.md §9: by date, trigger, theme, scope (null as ""), then cited ids."""
    return sorted(occurrences, key=lambda o: (o[0], o[1], o[2] or "", o[3] or "", o[4]))


def t1_unacknowledged(log: ServiceLog, patterns: LeafPatterns, a: int, a_date: int, policy: Policy) -> list[Occurrence]:
    """§14.2: per pattern-detectable instant of the leaf's repeated episodes as of A."""
    leaf = log.leaves[patterns.theme]
    groups: dict[int, list[tuple[int, int]]] = {}
    for episode in patterns.episodes:
        if episode.repeated and episode.detectable is not None:
            groups.setdefault(episode.detectable, []).append(episode.span)
    out: list[Occurrence] = []
    for p, spans in sorted(groups.items()):
        fire_day = instant_date(p) + policy.t1_grace_days
        if fire_day > a_date:
            continue
        k = knowledge_on(fire_day, a)
        if any(_unacknowledged_then(log, leaf, k, span, policy) for span in spans):
            out.append(_occurrence(fire_day, T1, leaf.theme, None, [log.first_event_at(p).event_id]))
    return out


def _unacknowledged_then(log: ServiceLog, leaf: LeafSignals, k: int, span: tuple[int, int], policy: Policy) -> bool:
    last = min(span[1], instant_date(k))
    then = next(
        (
            episode
            for episode in episodes_touching(leaf, k, span[0], last, policy)
            if meets_repeated_rule((s.obs for s in episode), policy)
        ),
        None,
    )
    if then is None:
        return False
    scopes = affected_scopes(then)
    return log.first_acknowledgement(leaf.theme, then[0].obs, scopes, k) is None


def t2_headline_masks_detail(log: ServiceLog, policy: Policy) -> list[Occurrence]:
    """§14.3: a headline ≥ threshold while one of its sections is adverse, at the first moment.

    Whether some section is adverse changes only when a section becomes or stops being a known
    adverse signal, and the headline's score only at its own amendments, so the first moment at
    which both hold is found among those change points.
    """
    threshold = policy.adverse_threshold
    sections = log.sections
    adverse_spans: dict[Any, tuple[list[int], list[int]]] = {}
    out: list[Occurrence] = []
    for headline in log.headlines:
        audit_id = headline.entry.payload.get("audit_id")
        parts = sections.get(audit_id, [])
        if not parts:
            continue
        if audit_id not in adverse_spans:
            adverse_spans[audit_id] = _adverse_count_steps(parts, threshold)
        times, counts = adverse_spans[audit_id]
        fired = _first_masking_moment(headline, times, counts, policy)
        if fired is None:
            continue
        weak = [p for p in parts if p.adverse_at(fired, threshold)]
        scope = headline.scope
        location = headline.entry.location
        if scope is None and isinstance(location, str) and location:
            scope = f"location:{location}"
        cited = [headline.event_id, *(p.event_id for p in weak)]
        out.append(_occurrence(instant_date(fired), T2, headline.theme, scope, cited))
    return out


def _adverse_count_steps(parts: list[Item], threshold: int) -> tuple[list[int], list[int]]:
    """Instants at which the number of known adverse sections changes, and the number after."""
    changes: dict[int, int] = {}
    for part in parts:
        for t, delta in part.adverse_transitions(threshold):
            changes[t] = changes.get(t, 0) + delta
    times = sorted(changes)
    counts = list(accumulate(changes[t] for t in times))
    return times, counts


def _first_masking_moment(headline: Item, times: list[int], counts: list[int], policy: Policy) -> int | None:
    bounds = [headline.rec, *(t for t in headline.amendment_times if t > headline.rec)]
    bounds = sorted(set(bounds))
    for k, start in enumerate(bounds):
        if headline.score_at(start) < policy.t2_headline_threshold:
            continue
        stop = bounds[k + 1] if k + 1 < len(bounds) else None
        i = bisect_right(times, start)
        if i and counts[i - 1] > 0:
            return start
        while i < len(times) and (stop is None or times[i] < stop):
            if counts[i] > 0:
                return times[i]
            i += 1
    return None


def t3_sustained_optimism(
    log: ServiceLog,
    book: MonthBook,
    months: list[int],
    a: int,
    a_date: int,
    policy: Policy,
) -> list[Occurrence]:
    """§14.4: signs +1 in a run of consecutive months, each judged at the run's last month end.

    E is the month's evidence known at K = the run's last month end (``book.at``); J is cut at
    the month's own end (and K), which for a month of the run is the drift table's cut, so J
    comes from the book's memo of the table's values (``book.stated``, keyed by the cut itself).
    """
    run = policy.t3_run_months
    keys = row_keys(log)
    previous = dict.fromkeys(keys, False)
    stated = book.stated
    out: list[Occurrence] = []
    for i, month in enumerate(months):
        last_day = month_last_day(month)
        if last_day > a_date:
            break
        if i + 1 < run:
            continue
        k = knowledge_on(last_day, a)
        window = [(book.at(m, k), min(end_of_day_us(month_last_day(m)), k)) for m in months[i - run + 1 : i + 1]]
        for key in keys:
            # Sign +1 (sign_for == 1) in every month of the run; stops at the first that is not.
            cond = True
            for evidence, cut in window:
                j = stated(key, cut)[0]
                if j is None or evidence.sign(key, j, policy) != 1:
                    cond = False
                    break
            if cond and not previous[key]:
                out.append(_occurrence(last_day, T3, key[0], key[1], []))
            previous[key] = cond
    return out


def t4_repeated_local_pressure(log: ServiceLog, patterns: LeafPatterns) -> list[Occurrence]:
    """§14.5: once per (leaf, scope) at its scope-restricted pattern-detectable instant."""
    return [
        _occurrence(instant_date(p), T4, patterns.theme, scope, [log.first_event_at(p).event_id])
        for scope, p in sorted(patterns.scope_detectable.items())
    ]


def t5_validation_confirms_gap(log: ServiceLog, policy: Policy) -> list[Occurrence]:
    """§14.6: the first moment a validation's effective score is adverse."""
    out: list[Occurrence] = []
    threshold = policy.adverse_threshold
    for item in log.validations:
        if item.am_times is None:
            if item.score <= threshold:
                out.append(_occurrence(instant_date(item.rec), T5, item.theme, item.scope, [item.event_id]))
            continue
        for t in [item.rec, *(m for m in item.am_times if m > item.rec)]:
            if item.score_at(t) <= policy.adverse_threshold:
                out.append(_occurrence(instant_date(t), T5, item.theme, item.scope, [item.event_id]))
                break
    return out


def t6_metric_experience_mismatch(
    log: ServiceLog, months: list[int], a: int, a_date: int, policy: Policy
) -> list[Occurrence]:
    """§14.7: metrics ≥ 3 on average while lived experience ≤ 2, in consecutive months."""
    run = policy.t6_run_months
    categories = frozenset(policy.t6_experience_categories)
    is_leaf = log.theme_tree.is_leaf
    streak = dict.fromkeys(log.theme_tree.leaves, 0)
    out: list[Occurrence] = []
    for month in months:
        last_day = month_last_day(month)
        if last_day > a_date:
            break
        k = knowledge_on(last_day, a)
        sums: dict[str, list[int]] = {}
        for item in log.by_month.get(month, ()):
            if item.rec > k:
                break
            theme = item.theme
            if theme is None or not is_leaf(theme) or (item.wd is not None and item.wd <= k):
                continue
            if item.am_times is None:
                score, source_type, category = item.score, item.source_type, item.category
            else:
                payload = item.payload_at(k)
                score = item.score_at(k)
                source_type = payload.get("source_type")
                category = payload.get("evidence_category")
            acc = sums.get(theme)
            if acc is None:
                acc = sums[theme] = [0, 0, 0, 0]
            if source_type == "metric":
                acc[0] += score
                acc[1] += 1
            if category in categories:
                acc[2] += score
                acc[3] += 1
        for leaf, before in streak.items():
            acc = sums.get(leaf)
            mismatch = (
                acc is not None
                and acc[1] > 0
                and acc[3] > 0
                and Fraction(acc[0], acc[1]) >= policy.t6_metric_mean_min
                and Fraction(acc[2], acc[3]) <= policy.t6_experience_mean_max
            )
            now = before + 1 if mismatch else 0
            streak[leaf] = now
            if now >= run and before < run:
                out.append(_occurrence(last_day, T6, leaf, None, []))
    return out


def t7_unqualified_positive_report(log: ServiceLog, policy: Policy) -> list[Occurrence]:
    """§14.8: a confident positive judgement while adverse evidence below it was known."""
    out: list[Occurrence] = []
    for judgement in log.judgements:
        if (
            judgement.theme is None
            or judgement.confidence != policy.t7_confidence
            or judgement.score < policy.t7_positive_score
            or judgement.exceptions
        ):
            continue
        t = judgement.rec
        d = judgement.rec_date
        cited: list[Item] = []
        for name in log.theme_tree.descendants_or_self(judgement.theme):
            theme_signals = log.by_theme.get(name)
            if theme_signals is None:
                continue
            for item in theme_signals.window(d - policy.t7_lookback_days, d):
                if item.adverse_at(t, policy.adverse_threshold):
                    cited.append(item)
        if cited:
            cited.sort(key=lambda item: item.idx)
            events = [judgement.event_id, *(item.event_id for item in cited)]
            out.append(_occurrence(d, T7, judgement.theme, None, events))
    return out
