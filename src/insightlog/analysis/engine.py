"""``analyse``: the analysis document of one service as of an instant (analysis-output.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from insightlog.analysis.basis import RECORDED_BASIS, Basis
from insightlog.analysis.drift import DriftTable, MonthBook, drift_table, reporting_months
from insightlog.analysis.episodes import LeafPatterns, leaf_patterns, recognition_row
from insightlog.analysis.improvement import has_adverse_signal, improvement_status
from insightlog.analysis.instants import date_ordinal, instant_us, ordinal_text
from insightlog.analysis.policy import DEFAULT_POLICY, DEFINITIONS_VERSION, Policy
from insightlog.analysis.reviews import review_report
from insightlog.analysis.servicelog import ServiceLog
from insightlog.analysis.triggers import (
    Occurrence,
    sort_occurrences,
    t1_unacknowledged,
    t2_headline_masks_detail,
    t3_sustained_optimism,
    t4_repeated_local_pressure,
    t5_validation_confirms_gap,
    t6_metric_experience_mismatch,
    t7_unqualified_positive_report,
)
from insightlog.gcpause import cyclic_gc_paused

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.timeutil import AsOf


@dataclass(slots=True)
class _Run:
    """One evaluation: the prepared log and everything computed from it."""

    log: ServiceLog
    a: int
    a_date: int
    months: list[int]
    patterns: dict[str, LeafPatterns]
    drift: DriftTable
    document: dict[str, Any]


def _run(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    policy: Policy,
    collect: bool,
    basis: Basis = RECORDED_BASIS,
) -> _Run:
    a = instant_us(as_of.instant)
    a_date = date_ordinal(as_of.instant)
    log = ServiceLog(entries, service, a, policy, basis)
    months = reporting_months(log, a_date)
    leaves = log.theme_tree.leaves
    patterns = {leaf: leaf_patterns(log, log.leaves[leaf], a, policy) for leaf in leaves}

    recognition = [
        recognition_row(log, log.leaves[leaf], episode, a, a_date, policy)
        for leaf in leaves
        for episode in patterns[leaf].episodes
        if episode.repeated
    ]
    recognition.sort(key=lambda row: (row["theme"], row["first_signal_observed"]))
    isolated = [leaf for leaf in leaves if any(not ep.repeated for ep in patterns[leaf].episodes)]

    book = MonthBook(log, a, collect)
    drift = drift_table(log, book, months, a, policy)
    improvement = {
        leaf: improvement_status(log.leaves[leaf], months, a, a_date, policy)
        for leaf in leaves
        if has_adverse_signal(log.leaves[leaf], a)
    }

    occurrences: list[Occurrence] = []
    for leaf in leaves:
        occurrences += t1_unacknowledged(log, patterns[leaf], a, a_date, policy)
        occurrences += t4_repeated_local_pressure(log, patterns[leaf])
    occurrences += t2_headline_masks_detail(log, policy)
    occurrences += t3_sustained_optimism(log, book, months, a, a_date, policy)
    occurrences += t5_validation_confirms_gap(log, policy)
    occurrences += t6_metric_experience_mismatch(log, months, a, a_date, policy)
    occurrences += t7_unqualified_positive_report(log, policy)
    triggers = [
        {
            "trigger": trigger,
            "theme": theme,
            "scope": scope,
            "fired_on": ordinal_text(fired_on),
            "events": events,
        }
        for fired_on, trigger, theme, scope, events in sort_occurrences(occurrences)
    ]

    document: dict[str, Any] = {"definitions_version": DEFINITIONS_VERSION}
    overrides = policy.overrides()
    if overrides:
        document["policy"] = {"name": policy.name, "overrides": overrides}
    if not basis.is_default:
        document["basis"] = basis.name
    document["service"] = service
    document["as_of"] = as_of.text
    document["recognition"] = recognition
    document["isolated_themes"] = isolated
    document["drift"] = drift.rows
    document["improvement_status"] = improvement
    document["reviews"] = review_report(log, a_date, policy)
    document["triggers"] = triggers
    return _Run(log, a, a_date, months, patterns, drift, document)


def analyse(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    policy: Policy = DEFAULT_POLICY,
    basis: Basis = RECORDED_BASIS,
) -> dict[str, Any]:
    """The analysis document of ``service`` as of ``as_of`` (definitions ``insightlog-defs-0.2``).

    Reads only entries whose ``service`` matches. ``basis`` (§3.5) says whose clock gives each
    event's recording instant: ``recorded_at`` (the default; log order ``recorded_at``, then
    ``position``), the ledger's ``appended_at``, or the verified checkpoint times the caller
    supplies (``proven_basis``); a document on another basis than ``recorded`` names it. Returns a
    plain dict with keys in contract order, ready for ``orjson.dumps``. Raises
    ``AnalysisInputError`` (``ThemeTreeError`` for a parent cycle) on entries that break the
    interchange rules. The cyclic garbage collector is paused during the call and restored.
    """
    with cyclic_gc_paused():
        return _run(entries, service, as_of, policy, collect=False, basis=basis).document


def analyse_with_log(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    policy: Policy = DEFAULT_POLICY,
    basis: Basis = RECORDED_BASIS,
) -> tuple[dict[str, Any], ServiceLog]:
    """``analyse``, and the prepared ``ServiceLog`` it read (for callers that query the same log
    further, as the governance view does, rather than preparing it twice)."""
    with cyclic_gc_paused():
        run = _run(entries, service, as_of, policy, collect=False, basis=basis)
    return run.document, run.log


def explain(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    policy: Policy = DEFAULT_POLICY,
    basis: Basis = RECORDED_BASIS,
) -> dict[str, Any]:
    """The evidence behind the figures of ``analyse``, for the human report.

    ``drift``: one object per drift row, in the same order, with the ids behind E grouped as E
    groups them (by scope, ``_service`` for unscoped items; one group for a scope-level row) and
    the back-filled ones among them. ``recognition``: each repeated episode's signal ids.
    ``withdrawn``: ``{withdrawn event id: its EntryWithdrawn id}`` for the withdrawals known at
    the as-of instant. ``document``: the analysis document itself.
    """
    with cyclic_gc_paused():
        run = _run(entries, service, as_of, policy, collect=True, basis=basis)
    backfilled = {e.event_id for e in run.log.entries if e.is_backfill}
    position = {entry.event_id: i for i, entry in enumerate(run.log.entries)}
    drift = []
    for row, groups in zip(run.drift.rows, run.drift.evidence_ids, strict=True):
        ids = sorted({i for group in groups.values() for i in group}, key=position.__getitem__)
        drift.append(
            {
                "theme": row["theme"],
                "scope": row["scope"],
                "month": row["month"],
                "E": row["E"],
                "evidence": ids,
                "groups": groups,
                "backfilled": [i for i in ids if i in backfilled],
            }
        )
    recognition = []
    for leaf, patterns in run.patterns.items():
        for episode in patterns.episodes:
            if episode.repeated:
                recognition.append(
                    {
                        "theme": leaf,
                        "first_signal_observed": ordinal_text(episode.first.obs),
                        "signals": [s.event_id for s in episode.signals],
                    }
                )
    recognition.sort(key=lambda row: (row["theme"], row["first_signal_observed"]))
    return {
        "definitions_version": DEFINITIONS_VERSION,
        "service": service,
        "as_of": as_of.text,
        "drift": drift,
        "recognition": recognition,
        "withdrawn": {target: w.event_id for target, w in run.log.withdrawn.items()},
        "document": run.document,
    }
