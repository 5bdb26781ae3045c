"""The engine's fast paths agree with direct, naive readings of the rules."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from insightlog.analysis import DEFAULT_POLICY as POLICY
from insightlog.analysis.drift import MonthBook, evaluation_date, knowledge_on, row_keys
from insightlog.analysis.episodes import (
    episodes_at,
    episodes_touching,
    leaf_patterns,
    meets_repeated_rule,
)
from insightlog.analysis.improvement import improvement_status
from insightlog.analysis.instants import instant_date, instant_us
from insightlog.analysis.items import Item
from insightlog.analysis.servicelog import SERVICE_GROUP, ServiceLog
from insightlog.analysis.triggers import t2_headline_masks_detail

from .test_property import BASE, SERVICE, histories

THRESHOLD = POLICY.adverse_threshold


def adverse(items: list[Item], t: int) -> list[Item]:
    known = [i for i in items if i.rec <= t and i.score_at(t) <= THRESHOLD]
    return sorted(known, key=lambda i: (i.obs, i.rec, i.idx))


def naive_episodes(items: list[Item], t: int) -> list[list[Item]]:
    out: list[list[Item]] = []
    for item in adverse(items, t):
        if out and item.obs - out[-1][-1].obs <= POLICY.episode_gap_days:
            out[-1].append(item)
        else:
            out.append([item])
    return out


def naive_first_instant(log: ServiceLog, items: list[Item], keep) -> int | None:
    for t in sorted(set(log.rec)):
        if meets_repeated_rule((i.obs for i in adverse(items, t) if keep(i)), POLICY):
            return t
    return None


def naive_e(log: ServiceLog, theme: str, scope: str | None, month: int, k: int) -> Fraction | None:
    groups: dict[str, list[int]] = {}
    for item in log.evidence:
        if item.rec > k or item.month != month or item.theme is None:
            continue
        if scope is None:
            if theme not in log.theme_tree.defined_covering(item.theme):
                continue
            groups.setdefault(item.scope or SERVICE_GROUP, []).append(item.score_at(k))
        elif item.theme == theme and item.scope == scope:
            groups.setdefault(scope, []).append(item.score_at(k))
    if not groups:
        return None
    means = [Fraction(sum(v), len(v)) for v in groups.values()]
    return sum(means, Fraction(0)) / len(means)


def naive_status(items: list[Item], d: int, k: int) -> str:
    known = [i for i in items if i.rec <= k and i.obs <= d]
    bad = [i for i in known if i.score_at(k) <= THRESHOLD]
    if not bad:
        return "no_adverse_signal_yet"
    if any(d - 29 <= i.obs <= d for i in bad):
        return "not_improving"
    if any(d - 89 <= i.obs <= d for i in bad):
        return "early"
    if sum(1 for i in known if d - 89 <= i.obs <= d and i not in bad) >= 3:
        return "embedded"
    return "insufficient_evidence"


@settings(max_examples=40, deadline=None)
@given(histories(), st.integers(0, 300), st.integers(0, 300))
def test_fast_paths_match_the_naive_rules(entries, a_days: int, k_days: int) -> None:
    a = instant_us(BASE + timedelta(days=a_days, hours=20))
    k = min(a, instant_us(BASE + timedelta(days=k_days, hours=3)))
    log = ServiceLog(entries, SERVICE, a)
    for leaf in log.leaves.values():
        # Check: episodes, and the windowed walk T1 uses.
        assert episodes_at(leaf, k, POLICY) == naive_episodes(leaf.items, k)
        for episode in naive_episodes(leaf.items, a):
            first, last = episode[0].obs, episode[-1].obs
            expected = [e for e in naive_episodes(leaf.items, k) if any(first <= s.obs <= last for s in e)]
            assert list(episodes_touching(leaf, k, first, last, POLICY)) == expected
        # Check: each repeated episode's P and each scope's P_s.
        patterns = leaf_patterns(log, leaf, a, POLICY)
        for episode in patterns.episodes:
            if episode.repeated:
                lo, hi = episode.span
                assert episode.detectable == naive_first_instant(
                    log, leaf.items, lambda i, lo=lo, hi=hi: lo <= i.obs <= hi
                )
        for scope in {i.scope for i in leaf.items if i.scope}:
            found = naive_first_instant(log, leaf.items, lambda i, s=scope: i.scope == s)
            assert patterns.scope_detectable.get(scope) == found
    # Check: E at an earlier knowledge instant, derived by subtraction from E at A.
    book = MonthBook(log, a)
    for month in {item.month for item in log.evidence}:
        evidence = book.at(month, k)
        for theme, scope in row_keys(log):
            assert evidence.evidence(theme, scope) == naive_e(log, theme, scope, month, k)
    # Check: improvement status read backwards from each evaluation date.
    months = sorted({item.month for item in log.evidence})
    a_date = instant_date(a)
    for leaf in log.leaves.values():
        status = improvement_status(leaf, months, a, a_date, POLICY)
        for month in months:
            d = evaluation_date(month, a_date)
            key = date.fromordinal(d).isoformat()
            assert status[key] == naive_status(leaf.items, d, knowledge_on(d, a))


def naive_t2(log: ServiceLog) -> list[tuple[str, int]]:
    out = []
    for headline in log.headlines:
        audit_id = headline.entry.payload.get("audit_id")
        parts = [
            i for i in log.evidence if i.kind == "AuditSectionScored" and i.entry.payload.get("audit_id") == audit_id
        ]
        amendments = [
            log.rec[n]
            for n, e in enumerate(log.entries)
            if e.kind == "EvidenceAmended" and e.payload["amends"] in {headline.event_id, *(p.event_id for p in parts)}
        ]
        moments = sorted({headline.rec, *(p.rec for p in parts), *amendments})
        for t in moments:
            if t < headline.rec or headline.score_at(t) < POLICY.t2_headline_threshold:
                continue
            if any(p.rec <= t and p.score_at(t) <= THRESHOLD for p in parts):
                out.append((headline.event_id, t))
                break
    return out


@settings(max_examples=40, deadline=None)
@given(histories(), st.integers(0, 300))
def test_t2_change_points_match_the_moments_of_the_rule(entries, a_days: int) -> None:
    a = instant_us(BASE + timedelta(days=a_days, hours=20))
    log = ServiceLog(entries, SERVICE, a)
    fired = [(o[4][0], o[0]) for o in t2_headline_masks_detail(log, POLICY)]
    assert fired == [(headline_id, instant_date(t)) for headline_id, t in naive_t2(log)]
