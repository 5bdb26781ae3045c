"""Small queries for the governance view, answered by the engine's own rules.

Each takes the entries of one service (or several, with ``service=``) and an instant, and
reads only what was recorded by then, exactly as ``analyse`` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

from insightlog.analysis.basis import RECORDED_BASIS, Basis
from insightlog.analysis.drift import MonthBook
from insightlog.analysis.errors import AnalysisInputError
from insightlog.analysis.instants import instant_us, parse_month
from insightlog.analysis.policy import DEFAULT_POLICY, Policy
from insightlog.analysis.servicelog import ServiceLog
from insightlog.analysis.themes import ThemeTree
from insightlog.interchange.timeutil import AsOf

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry


@dataclass(frozen=True, slots=True)
class JudgementScore:
    """A leadership judgement and the score it gives a theme (or a scope of it)."""

    entry: Entry
    theme: str
    scope: str | None
    score: int


@dataclass(frozen=True, slots=True)
class EvidenceScore:
    """E for one theme (or leaf scope) and month, with the evidence behind it.

    ``value`` is None when there is no evidence. ``groups`` maps each scope group (``_service``
    for unscoped items) to its event ids in log order; ``event_ids`` is all of them in log order.
    """

    value: Fraction | None
    event_ids: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]


def _instant(at: AsOf | datetime) -> int:
    return instant_us(at.instant if isinstance(at, AsOf) else at)


def _prepare(
    entries: Iterable[Entry],
    service: str | None,
    cut: int | None,
    policy: Policy,
    basis: Basis = RECORDED_BASIS,
) -> ServiceLog:
    listed = list(entries)
    if service is None:
        services = {entry.service for entry in listed}
        if len(services) > 1:
            raise AnalysisInputError(f"the entries belong to {len(services)} services; pass service= to choose one")
        service = services.pop() if services else ""
    return ServiceLog(listed, service, cut, policy, basis)


def theme_tree(entries: Iterable[Entry], *, service: str | None = None) -> ThemeTree:
    """The theme hierarchy from every ``ThemeDefined`` (§4.1: not bitemporal).

    ``ThemeTree.themes`` maps each defined theme to its ``ThemeInfo`` (parent, scope_by, label,
    depth, children, leaf flag, defining event), sorted by name; ``leaves`` lists the leaves.
    """
    return _prepare(entries, service, None, DEFAULT_POLICY).theme_tree


def latest_judgement(
    entries: Iterable[Entry],
    theme: str,
    at: AsOf | datetime,
    *,
    scope: str | None = None,
    service: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    basis: Basis = RECORDED_BASIS,
) -> JudgementScore | None:
    """The latest leadership judgement applicable to ``theme`` known at ``at`` (§6.3).

    Its score is the theme score (§6.4), or with ``scope`` the scope score (§6.5). None when no
    applicable judgement had been recorded. ``theme`` must be a defined theme. A judgement
    withdrawn by ``at`` is no judgement (§3.4); ``basis`` supplies the recording instants (§3.5).
    """
    t = _instant(at)
    log = _prepare(entries, service, t, policy, basis)
    judgement = log.latest_judgement(theme, t)
    if judgement is None:
        return None
    if scope is None:
        score = judgement.theme_score(theme, log.theme_tree)
    else:
        score = judgement.scope_score(theme, scope, log.theme_tree)
    return JudgementScore(judgement.entry, theme, scope, score)


def evidence_score(
    entries: Iterable[Entry],
    theme: str,
    month: str,
    as_of: AsOf | datetime,
    *,
    scope: str | None = None,
    service: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    basis: Basis = RECORDED_BASIS,
) -> EvidenceScore:
    """E for ``theme`` (scope-balanced) or a leaf ``scope``, in ``month`` (``YYYY-MM``), §11.3.

    Uses the evidence known at ``as_of`` (none withdrawn by then) with payloads effective then,
    as the drift rows do.
    """
    index = parse_month(month)
    a = _instant(as_of)
    log = _prepare(entries, service, a, policy, basis)
    book = MonthBook(log, a, collect=True)
    evidence = book.at_a(index)
    groups = evidence.event_ids(theme, scope)
    position = {entry.event_id: i for i, entry in enumerate(log.entries)}
    ids = sorted({i for group in groups.values() for i in group}, key=position.__getitem__)
    return EvidenceScore(
        evidence.evidence(theme, scope),
        tuple(ids),
        {group: tuple(members) for group, members in groups.items()},
    )
