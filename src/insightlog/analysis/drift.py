"""Reporting months, optimism drift (§10, §11) and number printing (§16)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Any

from insightlog.analysis.instants import (
    end_of_day_us,
    instant_date,
    month_index,
    month_last_day,
    month_text,
)
from insightlog.analysis.items import Item
from insightlog.analysis.judgements import Judgement
from insightlog.analysis.policy import Policy
from insightlog.analysis.servicelog import SERVICE_GROUP, ServiceLog
from insightlog.analysis.themes import ThemeTree

RowKey = tuple[str, str | None]
Cell = tuple[str, str | None]
Ratio = tuple[int, int]


def format_decimal(value: Fraction) -> str:
    """§16.2: nearest binary64, then ``%.2f`` (binary ties to even, sign kept: ``-0.00``)."""
    return f"{float(value):.2f}"


def format_ratio(value: Ratio) -> str:
    """§16.2 for an exact ``(numerator, denominator)``: int true division rounds correctly."""
    return "%.2f" % (value[0] / value[1])


def ratio_sign(d: Ratio, policy: Policy) -> int:
    """§11.4 for an exact D given as ``(numerator, positive denominator)``."""
    threshold = policy.drift_threshold
    scaled = d[0] * threshold.denominator
    bound = threshold.numerator * d[1]
    if scaled > bound:
        return 1
    if scaled < -bound:
        return -1
    return 0


def reporting_months(log: ServiceLog, a_date: int) -> list[int]:
    """§10.1: month indexes from the first recording known at A through the month of A."""
    if not log.rec:
        return []
    first = month_index(instant_date(log.rec[0]))
    return list(range(first, month_index(a_date) + 1))


def evaluation_date(month: int, a_date: int) -> int:
    """§10.2: the last day of the month, or date(A) when that is earlier."""
    return min(month_last_day(month), a_date)


def knowledge_on(day: int, a: int) -> int:
    """§3.2: K(d) = min(end of d, A)."""
    return min(end_of_day_us(day), a)


class MonthEvidence:
    """One month's evidence at one knowledge instant (§11.3).

    ``cells[(theme, scope)]`` is ``[sum of scores, count]`` over the items observed that month
    whose envelope theme is that (defined) theme and whose scope is that scope (or None).
    ``ids`` (only when collected) holds the items behind each cell, in log order.
    """

    __slots__ = ("_evidence", "_signs", "_themes", "_tree", "cells", "ids")

    def __init__(
        self,
        cells: dict[Cell, list[int]],
        tree: ThemeTree,
        ids: dict[Cell, list[Item]] | None = None,
    ) -> None:
        self.cells = cells
        self.ids = ids
        self._tree = tree
        self._themes: dict[str, dict[str, list[int]]] | None = None
        self._evidence: dict[RowKey, Ratio | None] = {}
        self._signs: dict[tuple[RowKey, int], int | None] = {}

    def _theme_groups(self) -> dict[str, dict[str, list[int]]]:
        if self._themes is None:
            themes: dict[str, dict[str, list[int]]] = {}
            for (theme, scope), (total, count) in self.cells.items():
                if count == 0:
                    continue
                group = scope if scope is not None else SERVICE_GROUP
                for covering in self._tree.defined_covering(theme):
                    cell = themes.setdefault(covering, {}).setdefault(group, [0, 0])
                    cell[0] += total
                    cell[1] += count
            self._themes = themes
        return self._themes

    def evidence(self, theme: str, scope: str | None) -> Fraction | None:
        """E for a theme-level row (scope None: scope-balanced) or a scope-level row."""
        ratio = self.ratio((theme, scope))
        return None if ratio is None else Fraction(*ratio)

    def ratio(self, key: RowKey) -> Ratio | None:
        """E as an exact (numerator, positive denominator) pair, not necessarily reduced."""
        if key in self._evidence:
            return self._evidence[key]
        value = self._compute_ratio(*key)
        self._evidence[key] = value
        return value

    def sign(self, key: RowKey, j: int, policy: Policy) -> int | None:
        """The drift sign for this row's E and a given J (None when E is null)."""
        memo = (key, j)
        if memo in self._signs:
            return self._signs[memo]
        e = self.ratio(key)
        value = None if e is None else ratio_sign((j * e[1] - e[0], e[1]), policy)
        self._signs[memo] = value
        return value

    def _compute_ratio(self, theme: str, scope: str | None) -> Ratio | None:
        if scope is None:
            groups = self._theme_groups().get(theme)
            if not groups:
                return None
            common = 1
            for _, count in groups.values():
                common = common * count // gcd(common, count)
            total = sum(s * (common // c) for s, c in groups.values())
            return total, common * len(groups)
        cell = self.cells.get((theme, scope))
        if cell is None or cell[1] == 0:
            return None
        return cell[0], cell[1]

    def event_ids(self, theme: str, scope: str | None) -> dict[str, list[str]]:
        """The ids behind E, grouped as E groups them (``_service`` for unscoped items)."""
        if self.ids is None:
            return {}
        groups: dict[str, list[Item]] = {}
        for (cell_theme, cell_scope), items in self.ids.items():
            if scope is None:
                if theme not in self._tree.defined_covering(cell_theme):
                    continue
            elif (cell_theme, cell_scope) != (theme, scope):
                continue
            group = cell_scope if cell_scope is not None else SERVICE_GROUP
            groups.setdefault(group, []).extend(items)
        return {
            group: [item.event_id for item in sorted(items, key=lambda i: i.idx)]
            for group, items in sorted(groups.items())
        }


class MonthBook:
    """Month evidence as of A, and at earlier knowledge instants by subtraction.

    An earlier cut differs from A only by the month's items recorded after it, items amended
    after it and items withdrawn after it (known then, not at A: §3.4), so only those are
    revisited.

    It also remembers J (§11.2) by row and cut instant (``stated``): the drift table and T3 ask
    for the same (row, month-end cut) pairs within one analysis.
    """

    def __init__(self, log: ServiceLog, a: int, collect: bool = False) -> None:
        self._log = log
        self._a = a
        self.collect = collect
        self._base: dict[int, MonthEvidence] = {}
        self._recs: dict[int, list[int]] = {}
        # Each month's amended and withdrawn items that have a cell, with that cell.
        self._amended: dict[int, list[tuple[Cell, Item]]] = {}
        self._withdrawn: dict[int, list[tuple[Cell, Item]]] = {}
        self._stated: dict[tuple[RowKey, int], tuple[int | None, Judgement | None]] = {}

    def stated(self, key: RowKey, t: int) -> tuple[int | None, Judgement | None]:
        """``stated_score(log, key, t)``, remembered by (key, t)."""
        memo = (key, t)
        found = self._stated.get(memo)
        if found is None:
            found = stated_score(self._log, key, t)
            self._stated[memo] = found
        return found

    def at_a(self, month: int) -> MonthEvidence:
        found = self._base.get(month)
        if found is None:
            found = self._build(month)
            self._base[month] = found
        return found

    def _build(self, month: int) -> MonthEvidence:
        a = self._a
        cells: dict[Cell, list[int]] = {}
        ids: dict[Cell, list[Item]] | None = {} if self.collect else None
        amended: list[tuple[Cell, Item]] = []
        withdrawn: list[tuple[Cell, Item]] = []
        items = self._log.by_month.get(month, [])
        for item in items:
            key = item.cell
            if key is None:
                continue
            if item.wd is not None:  # withdrawn by A: no part of E as of A (§3.4)
                withdrawn.append((key, item))
                continue
            if item.am_times is None:
                score = item.score
            else:
                score = item.score_at(a)
                amended.append((key, item))
            cell = cells.get(key)
            if cell is None:
                cells[key] = [score, 1]
            else:
                cell[0] += score
                cell[1] += 1
            if ids is not None:
                ids.setdefault(key, []).append(item)
        self._recs[month] = [item.rec for item in items]
        self._amended[month] = amended
        self._withdrawn[month] = withdrawn
        return MonthEvidence(cells, self._log.theme_tree, ids)

    def at(self, month: int, k: int) -> MonthEvidence:
        """The month's evidence known at ``k`` ≤ A, with payloads effective at ``k``."""
        base = self.at_a(month)
        if k >= self._a:
            return base
        a = self._a
        items = self._log.by_month.get(month, [])
        late = items[bisect_right(self._recs[month], k) :]
        changed = [
            (cell_key, item)
            for cell_key, item in self._amended[month]
            if item.rec <= k and item.amendment_times[-1] > k
        ]
        revived = [(cell_key, item) for cell_key, item in self._withdrawn[month] if item.present(k)]
        if not changed and not revived and not any(item.cell is not None and item.wd is None for item in late):
            return base
        cells = {key: cell[:] for key, cell in base.cells.items()}
        for item in late:
            if item.cell is not None and item.wd is None:
                cell = cells[item.cell]
                cell[0] -= item.score_at(a)
                cell[1] -= 1
        for cell_key, item in changed:
            cells[cell_key][0] += item.score_at(k) - item.score_at(a)
        for cell_key, item in revived:
            cell = cells.setdefault(cell_key, [0, 0])
            cell[0] += item.score_at(k)
            cell[1] += 1
        return MonthEvidence(cells, self._log.theme_tree)


def row_keys(log: ServiceLog) -> list[RowKey]:
    """Every (theme, scope) drift row key in output order (§11.1, analysis-output.md §6)."""
    keys: list[RowKey] = []
    for theme in log.theme_tree.defined:
        keys.append((theme, None))
        if log.theme_tree.is_leaf(theme):
            keys.extend((theme, scope) for scope in log.scopes(theme))
    return keys


def stated_score(log: ServiceLog, key: RowKey, t: int) -> tuple[int | None, Judgement | None]:
    """§11.2: J from the latest applicable judgement known at ``t`` (theme or scope score)."""
    theme, scope = key
    judgement = log.latest_judgement(theme, t)
    if judgement is None:
        return None, None
    if scope is None:
        return judgement.theme_score(theme, log.theme_tree), judgement
    return judgement.scope_score(theme, scope, log.theme_tree), judgement


def drift_sign(d: Fraction, policy: Policy) -> int:
    """§11.4 from the exact D: +1 above the threshold, -1 below its negative, else 0."""
    if d > policy.drift_threshold:
        return 1
    if d < -policy.drift_threshold:
        return -1
    return 0


def sign_for(log: ServiceLog, key: RowKey, evidence: MonthEvidence, j_cut: int, policy: Policy) -> int | None:
    """The drift sign of one row, or None when J or E is null."""
    j, _ = stated_score(log, key, j_cut)
    if j is None:
        return None
    return evidence.sign(key, j, policy)


@dataclass(slots=True)
class DriftTable:
    """The drift rows as of A, plus the evidence ids behind each E (for explanations)."""

    rows: list[dict[str, Any]]
    evidence_ids: list[dict[str, list[str]]]


def drift_table(log: ServiceLog, book: MonthBook, months: list[int], a: int, policy: Policy) -> DriftTable:
    """§11: one row per (theme, scope, month), in output order."""
    collect = book.collect
    month_cut = {m: min(end_of_day_us(month_last_day(m)), a) for m in months}
    texts = {m: month_text(m) for m in months}
    rows: list[dict[str, Any]] = []
    ids: list[dict[str, list[str]]] = []
    for key in row_keys(log):
        for m in months:
            evidence = book.at_a(m)
            j, judgement = book.stated(key, month_cut[m])
            e = evidence.ratio(key)
            d = (j * e[1] - e[0], e[1]) if j is not None and e is not None else None
            rows.append(
                {
                    "theme": key[0],
                    "scope": key[1],
                    "month": texts[m],
                    "J": j,
                    "J_event": judgement.event_id if judgement is not None else None,
                    "E": format_ratio(e) if e is not None else None,
                    "D": format_ratio(d) if d is not None else None,
                    "sign": evidence.sign(key, j, policy) if j is not None and d is not None else None,
                }
            )
            if collect:
                ids.append(evidence.event_ids(*key))
    return DriftTable(rows, ids)
