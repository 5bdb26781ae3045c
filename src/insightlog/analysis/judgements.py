"""Leadership judgements (§6): theme and scope scores, and acknowledgement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from insightlog.analysis.errors import AnalysisInputError
from insightlog.analysis.instants import date_ordinal, instant_date

if TYPE_CHECKING:
    from insightlog.analysis.themes import ThemeTree
    from insightlog.interchange.entry import Entry

ACKNOWLEDGING_SCORE = 2


class ScopeException:
    """One exception of a judgement: optional theme, optional scope, score."""

    __slots__ = ("scope", "score", "theme")

    def __init__(self, theme: str | None, scope: str | None, score: int) -> None:
        self.theme = theme
        self.scope = scope
        self.score = score


class Judgement:
    """A leadership judgement (§6.1) with memoised theme and scope scores.

    ``rec`` is its recording instant on the analysis basis, ``wd`` the instant it is withdrawn
    (None: never); it is known at ``t`` when ``rec <= t`` and not ``wd <= t`` (§3.4).
    """

    __slots__ = (
        "_scope_scores",
        "_theme_scores",
        "confidence",
        "entry",
        "event_id",
        "exceptions",
        "idx",
        "obs_date",
        "rec",
        "rec_date",
        "score",
        "theme",
        "wd",
    )

    def __init__(self, idx: int, entry: Entry, rec: int, wd: int | None = None) -> None:
        payload = entry.payload
        self.idx = idx
        self.entry = entry
        self.event_id = entry.event_id
        self.theme = entry.theme
        self.rec = rec
        self.wd = wd
        self.rec_date = instant_date(rec)
        self.obs_date = date_ordinal(entry.observed_at)
        self.score = _score(payload.get("score"), entry.event_id, "score")
        self.confidence = payload.get("confidence")
        exceptions = []
        for raw in payload.get("exceptions") or ():
            if not isinstance(raw, Mapping):
                raise AnalysisInputError(f"event {entry.event_id}: an exception is not an object")
            theme = raw.get("theme")
            scope = raw.get("scope")
            exceptions.append(
                ScopeException(
                    theme if isinstance(theme, str) else None,
                    scope if isinstance(scope, str) else None,
                    _score(raw.get("score"), entry.event_id, "exceptions[].score"),
                )
            )
        self.exceptions: tuple[ScopeException, ...] = tuple(exceptions)
        self._theme_scores: dict[str, int] = {}
        self._scope_scores: dict[tuple[str, str], int] = {}

    def present(self, t: int) -> bool:
        """Known at ``t``: recorded by ``t`` and not withdrawn by ``t`` (§3.1, §3.4)."""
        wd = self.wd
        return self.rec <= t and (wd is None or t < wd)

    def theme_score(self, theme: str, tree: ThemeTree) -> int:
        """§6.4: the most specific unscoped exception covering ``theme``, else the score."""
        cached = self._theme_scores.get(theme)
        if cached is not None:
            return cached
        depths = tree.depth_in_chain(theme)
        best: ScopeException | None = None
        best_depth = 0
        for ex in self.exceptions:
            if ex.scope is None and ex.theme is not None and ex.theme in depths and depths[ex.theme] > best_depth:
                best, best_depth = ex, depths[ex.theme]
        value = best.score if best is not None else self.score
        self._theme_scores[theme] = value
        return value

    def scope_score(self, theme: str, scope: str, tree: ThemeTree) -> int:
        """§6.5: the best-ranked exception for ``scope`` covering ``theme``, else §6.4."""
        key = (theme, scope)
        cached = self._scope_scores.get(key)
        if cached is not None:
            return cached
        depths = tree.depth_in_chain(theme)
        best: ScopeException | None = None
        best_rank = -1
        for ex in self.exceptions:
            if ex.scope != scope:
                continue
            if ex.theme is None:
                rank = 0
            elif ex.theme in depths:
                rank = depths[ex.theme]
            else:
                continue
            if rank > best_rank:
                best, best_rank = ex, rank
        value = best.score if best is not None else self.theme_score(theme, tree)
        self._scope_scores[key] = value
        return value

    def acknowledges(self, theme: str, scopes: frozenset[str], tree: ThemeTree) -> bool:
        """§6.6: theme score ≤ 2, or any exception on an affected scope covering ``theme`` ≤ 2."""
        if self.theme_score(theme, tree) <= ACKNOWLEDGING_SCORE:
            return True
        if not scopes:
            return False
        chain = tree.chain(theme)
        for ex in self.exceptions:
            if (
                ex.scope is not None
                and ex.scope in scopes
                and (ex.theme is None or ex.theme in chain)
                and ex.score <= ACKNOWLEDGING_SCORE
            ):
                return True
        return False


def _score(value: Any, event_id: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnalysisInputError(f"event {event_id}: {name} must be an integer, not {value!r}")
    return value
