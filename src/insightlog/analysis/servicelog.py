"""The prepared log of one service: log order, theme tree, withdrawals, effective payloads and
judgements.

Everything here is computed once per analysis.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from insightlog.analysis.basis import RECORDED, RECORDED_BASIS, Basis
from insightlog.analysis.instants import instant_us
from insightlog.analysis.items import Item, LeafSignals
from insightlog.analysis.judgements import Judgement
from insightlog.analysis.policy import DEFAULT_POLICY, Policy
from insightlog.analysis.themes import ThemeTree
from insightlog.interchange import kinds as _kinds

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry

EVIDENCE_KINDS = frozenset(_kinds.EVIDENCE_KINDS)
HEADLINE_KIND = _kinds.HEADLINE_KIND
AMENDMENT_KIND = _kinds.AMENDMENT_KIND
JUDGEMENT_KINDS = frozenset(_kinds.JUDGEMENT_KINDS)
WITHDRAWAL_KIND = _kinds.WITHDRAWAL_KIND
THEME_KIND = _kinds.THEME_KIND
UNWITHDRAWABLE_KINDS = frozenset(_kinds.UNWITHDRAWABLE_KINDS)
SERVICE_GROUP = "_service"


class ServiceLog:
    """One service's log prepared for the rules, as known at ``cut`` (theme tree: whole log).

    ``entries`` are in log order (§1.1) on the basis (§3.5): ascending recording instant
    (``rec``), ties by store position. Only events recorded at or before ``cut`` are kept, except
    ``ThemeDefined`` (§4.1); on the ``proven`` basis an event no checkpoint covers is not kept.

    Withdrawals (§3.4): ``withdrawn`` maps each event withdrawn at or before ``cut`` to its
    ``EntryWithdrawn``. Withdrawn evidence, amendments and judgements stay in the prepared log with
    their withdrawal instant, since they were known before it; the selections made as of ``cut``
    (``headlines``, ``sections``, ``validations``, ``judgements``, ``applicable``, ``cadences``,
    ``reviews``, the scopes) leave out every event withdrawn by then.
    """

    def __init__(
        self,
        entries: Iterable[Entry],
        service: str,
        cut: int | None,
        policy: Policy = DEFAULT_POLICY,
        basis: Basis = RECORDED_BASIS,
    ) -> None:
        self.service = service
        self.policy = policy
        self.basis = basis
        own: list[Entry] = []
        recs: list[int] = []
        definitions: list[Entry] = []
        in_order = True
        last_rec: int | None = None
        last_position = 0  # read only once last_rec is set
        recorded = basis.name == RECORDED
        for entry in entries:
            if entry.service != service:
                continue
            if entry.kind == THEME_KIND:
                definitions.append(entry)
            rec = instant_us(entry.recorded_at) if recorded else basis.instant(entry)
            if rec is None:
                continue
            position = entry.position
            if last_rec is not None and (rec < last_rec or (rec == last_rec and position <= last_position)):
                in_order = False
            last_rec, last_position = rec, position
            own.append(entry)
            recs.append(rec)
        if not in_order:
            order = sorted(range(len(own)), key=lambda i: (recs[i], own[i].position, i))
            own = [own[i] for i in order]
            recs = [recs[i] for i in order]
        if recorded:
            definitions.sort(key=lambda e: (instant_us(e.recorded_at), e.position))
        else:
            definitions.sort(key=lambda e: e.position)
        self.theme_tree = ThemeTree(definitions)
        if cut is not None and recs and recs[-1] > cut:
            n = bisect_right(recs, cut)
            own, recs = own[:n], recs[:n]
        self.entries: list[Entry] = own
        self.rec: list[int] = recs
        withdrawn: dict[str, Entry] = {}
        withdrawn_at: dict[str, int] = {}
        for idx, entry in enumerate(own):
            if entry.kind == WITHDRAWAL_KIND:
                target = entry.payload.get("withdraws")
                if isinstance(target, str) and target not in withdrawn:
                    withdrawn[target] = entry
                    withdrawn_at[target] = recs[idx]
        if withdrawn:
            # ThemeDefined and EntryWithdrawn events cannot be withdrawn (interchange.md): a
            # withdrawal naming one (refused by the ledger) has no effect.
            for entry in own:
                if entry.kind in UNWITHDRAWABLE_KINDS and entry.event_id in withdrawn:
                    del withdrawn[entry.event_id]
                    del withdrawn_at[entry.event_id]
        self.withdrawn = withdrawn
        wd_of = withdrawn_at.get
        self.items: list[Item] = []
        self.evidence: list[Item] = []
        self.headlines: list[Item] = []
        self.validations: list[Item] = []
        self.sections: dict[Any, list[Item]] = {}
        self.judgements: list[Judgement] = []
        self.cadences: list[Entry] = []
        self.reviews: list[tuple[int, Entry]] = []
        self.by_month: dict[int, list[Item]] = {}
        all_judgements: list[Judgement] = []
        amended: list[Item] = []
        by_id: dict[str, Item] = {}
        by_theme: dict[str, list[Item]] = {}
        last_seen: dict[str, dict[str, int]] = {}
        roles = frozenset(policy.leadership_roles)
        tree = self.theme_tree
        scope_of = tree.scope_of
        covering_of = tree.defined_covering
        items_append = self.items.append
        evidence_append = self.evidence.append
        by_month = self.by_month
        any_withdrawn = bool(withdrawn)
        for idx, entry in enumerate(own):
            kind = entry.kind
            wd = wd_of(entry.event_id) if any_withdrawn else None
            if kind in EVIDENCE_KINDS:
                item = Item(idx, entry, recs[idx], scope_of(entry), True, wd)
                theme = item.theme
                if theme is not None:
                    covering = covering_of(theme)
                    if covering:
                        item.covering = covering
                        item.cell = (theme, item.scope)
                    bucket = by_theme.get(theme)
                    if bucket is None:
                        by_theme[theme] = [item]
                    else:
                        bucket.append(item)
                    if item.scope is not None and wd is None:
                        seen = last_seen.get(theme)
                        if seen is None:
                            seen = last_seen[theme] = {}
                        if seen.get(item.scope, -1) < item.obs:
                            seen[item.scope] = item.obs
                month_bucket = by_month.get(item.month)
                if month_bucket is None:
                    by_month[item.month] = [item]
                else:
                    month_bucket.append(item)
                items_append(item)
                evidence_append(item)
                by_id[entry.event_id] = item
                if wd is not None:
                    continue
                if kind == "ValidationSampled":
                    self.validations.append(item)
                elif kind == "AuditSectionScored":
                    audit_id = entry.payload.get("audit_id")
                    if audit_id is not None:
                        self.sections.setdefault(audit_id, []).append(item)
            elif kind == HEADLINE_KIND:
                item = Item(idx, entry, recs[idx], scope_of(entry), False, wd)
                items_append(item)
                if wd is None:
                    self.headlines.append(item)
                by_id[entry.event_id] = item
            elif kind == AMENDMENT_KIND:
                target = by_id.get(entry.payload.get("amends", ""))
                changes = entry.payload.get("changes")
                if target is not None and isinstance(changes, Mapping):
                    if target._amendments is None:
                        amended.append(target)
                    target.amend(entry, recs[idx], changes, wd)
            elif kind in JUDGEMENT_KINDS:
                if entry.actor_role in roles:
                    judgement = Judgement(idx, entry, recs[idx], wd)
                    all_judgements.append(judgement)
                    if wd is None:
                        self.judgements.append(judgement)
            elif kind == "ReviewCadenceSet":
                if wd is None:
                    self.cadences.append(entry)
            elif kind == "ReviewHeld" and wd is None:
                self.reviews.append((idx, entry))
        for item in amended:
            item.settle()
        self.by_id = by_id
        self._last_seen = last_seen
        threshold = policy.adverse_threshold
        self.by_theme: dict[str, LeafSignals] = {
            theme: LeafSignals(theme, items, threshold) for theme, items in by_theme.items()
        }
        self.leaves: dict[str, LeafSignals] = {
            leaf: self.by_theme.get(leaf) or LeafSignals(leaf, [], threshold) for leaf in tree.leaves
        }
        applicable: dict[str, list[Judgement]] = {name: [] for name in tree.defined}
        for judgement in all_judgements:
            if judgement.theme is None:
                continue
            for name in tree.descendants_or_self(judgement.theme):
                applies = applicable.get(name)
                if applies is not None:
                    applies.append(judgement)
        self._applicable = applicable
        self._applicable_now = (
            {name: [j for j in js if j.wd is None] for name, js in applicable.items()}
            if len(all_judgements) != len(self.judgements)
            else applicable
        )
        self._applicable_rec = {name: [j.rec for j in js] for name, js in applicable.items()}
        self._applicable_dates = {name: [j.rec_date for j in js] for name, js in applicable.items()}

    # -- scopes --------------------------------------------------------------------------------

    def scopes(self, theme: str) -> list[str]:
        """S(λ) (§11.1): sorted scopes of any evidence known at the cut on exactly ``theme``."""
        return sorted(self._last_seen.get(theme, ()))

    def scope_set(self, theme: str) -> frozenset[str] | dict[str, int]:
        """S(λ) as a set-like for membership tests (see ``scopes``)."""
        return self._last_seen.get(theme, {})

    def scopes_since(self, theme: str, first: int) -> frozenset[str]:
        """Scopes of evidence on exactly ``theme`` observed on or after date ``first`` (§8)."""
        return frozenset(s for s, d in self._last_seen.get(theme, {}).items() if d >= first)

    # -- knowledge -----------------------------------------------------------------------------

    def first_event_at(self, t: int) -> Entry:
        """The first event in log order recorded at exactly ``t``."""
        return self.entries[bisect_left(self.rec, t)]

    # -- judgements ----------------------------------------------------------------------------

    def applicable(self, theme: str) -> list[Judgement]:
        """Leadership judgements applicable to a defined theme (§6.2) known at the cut (none
        withdrawn by then), in log order."""
        return self._applicable_now.get(theme, [])

    def latest_judgement(self, theme: str, t: int) -> Judgement | None:
        """§6.3: the latest applicable judgement known at ``t`` (§3.4: one withdrawn by ``t`` is
        no judgement, so the one before it is again the latest)."""
        recs = self._applicable_rec.get(theme)
        if not recs:
            return None
        k = bisect_right(recs, t)
        judgements = self._applicable[theme]
        while k:
            judgement = judgements[k - 1]
            wd = judgement.wd
            if wd is None or t < wd:
                return judgement
            k -= 1
        return None

    def first_acknowledgement(self, theme: str, from_date: int, scopes: frozenset[str], t: int) -> Judgement | None:
        """§9.2: the first judgement known at ``t``, recorded on or after ``from_date``,
        applicable to ``theme`` and acknowledging it for ``scopes``."""
        judgements = self._applicable.get(theme, [])
        k = bisect_left(self._applicable_dates.get(theme, []), from_date)
        for judgement in judgements[k:]:
            if judgement.rec > t:
                return None
            if judgement.wd is not None and judgement.wd <= t:
                continue
            if judgement.acknowledges(theme, scopes, self.theme_tree):
                return judgement
        return None
