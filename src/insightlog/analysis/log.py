"""The prepared log of one service: log order, taxonomy, effective payloads and judgements.

Instants are integers (microseconds since the epoch, UTC) and dates are proleptic ordinals, so
that every rule compares plain integers. Everything here is computed once per analysis.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from insightlog.analysis.policy import DEFAULT_POLICY, Policy

from insightlog.interchange import kinds as _kinds
from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self

if TYPE_CHECKING:
    from insightlog.interchange.entry import Entry

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_END_OF_DAY_US = 86_399_000_000

EVIDENCE_KINDS = frozenset(_kinds.EVIDENCE_KINDS)
HEADLINE_KIND = _kinds.HEADLINE_KIND
AMENDMENT_KIND = _kinds.AMENDMENT_KIND
JUDGEMENT_KINDS = frozenset(_kinds.JUDGEMENT_KINDS)
SCOPE_FIELDS = frozenset(_kinds.SCOPE_FIELDS)
SERVICE_GROUP = "_service"
ACKNOWLEDGING_SCORE = 2


class AnalysisInputError(ValueError):
    """Raised when the entries given to the analysis break an interchange invariant."""


class TaxonomyError(AnalysisInputError):
    """Raised when theme parent links form a cycle."""


class AnalysisInvariantError(RuntimeError):
    """Raised when a result the rules guarantee is missing: a bug in the engine, not the data."""


def instant_us(value: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (UTC)."""
    if value.tzinfo is None:
        raise AnalysisInputError(f"naive datetime {value!r}: instants must be aware (UTC)")
    return (value - _EPOCH) // _ONE_US


def date_ordinal(value: datetime) -> int:
    """The UTC calendar date of an aware datetime, as a proleptic ordinal (§2.2)."""
    if value.tzinfo is None:
        raise AnalysisInputError(f"naive datetime {value!r}: instants must be aware (UTC)")
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.toordinal()


def end_of_day_us(ordinal: int) -> int:
    """The instant ``dT23:59:59Z`` of a date ordinal (§2.4)."""
    return (ordinal - _EPOCH_ORDINAL) * _DAY_US + _END_OF_DAY_US


def instant_date(t: int) -> int:
    """The UTC date ordinal of an instant given in microseconds."""
    return _EPOCH_ORDINAL + t // _DAY_US


def ordinal_text(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def month_index(ordinal: int) -> int:
    d = date.fromordinal(ordinal)
    return d.year * 12 + d.month - 1


def month_text(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_first_day(index: int) -> int:
    return date(index // 12, index % 12 + 1, 1).toordinal()


def month_last_day(index: int) -> int:
    return month_first_day(index + 1) - 1


def parse_month(text: str) -> int:
    """``YYYY-MM`` as a month index."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError
        value = date(int(year), int(month), 1)
    except ValueError:
        raise AnalysisInputError(f"{text!r} is not a month (YYYY-MM)") from None
    return value.year * 12 + value.month - 1


# ---------------------------------------------------------------------------------------------
# Taxonomy (§4)


@dataclass(frozen=True, slots=True)
class ThemeInfo:
    """One defined theme: its last definition, depth (root = 1), children and leaf flag."""

    name: str
    parent: str | None
    scope_by: str | None
    label: str | None
    depth: int
    children: tuple[str, ...]
    is_leaf: bool
    defined_by: str


class Taxonomy:
    """The theme hierarchy of a service (§4.1, §4.2), from every ``ThemeDefined`` in the log.

    Names that are used but never defined behave as themes with no parent and no ``scope_by``.
    """

    def __init__(self, definitions: Iterable[Entry]) -> None:
        latest: dict[str, Entry] = {}
        for entry in definitions:
            name = entry.payload.get("theme")
            if not isinstance(name, str) or not name:
                name = entry.theme
            if isinstance(name, str) and name:
                latest[name] = entry
        parents: dict[str, str | None] = {}
        scope_by: dict[str, str | None] = {}
        for name, entry in latest.items():
            parent = entry.payload.get("parent")
            parents[name] = parent if isinstance(parent, str) and parent else None
            field_name = entry.payload.get("scope_by")
            scope_by[name] = field_name if field_name in SCOPE_FIELDS else None
        self._parents = parents
        self._scope_by = scope_by
        self._chains: dict[str, tuple[str, ...]] = {}
        self._covering: dict[str, tuple[str, ...]] = {}
        children: dict[str, list[str]] = {name: [] for name in latest}
        for name, parent in parents.items():
            if parent is not None and parent in children:
                children[parent].append(name)
        descendants: dict[str, list[str]] = {}
        for name in sorted(latest):
            for ancestor in self.chain(name):
                descendants.setdefault(ancestor, []).append(name)
        self._descendants = {name: tuple(names) for name, names in descendants.items()}
        is_parent = {p for p in parents.values() if p is not None}
        self.themes: dict[str, ThemeInfo] = {
            name: ThemeInfo(
                name=name,
                parent=parents[name],
                scope_by=scope_by[name],
                label=entry.payload.get("label"),
                depth=len(self.chain(name)),
                children=tuple(sorted(children[name])),
                is_leaf=name not in is_parent,
                defined_by=entry.event_id,
            )
            for name, entry in sorted(latest.items())
        }
        self.defined: tuple[str, ...] = tuple(self.themes)
        self.leaves: tuple[str, ...] = tuple(n for n, t in self.themes.items() if t.is_leaf)
        self._leaf_set = frozenset(self.leaves)

    def chain(self, name: str) -> tuple[str, ...]:
        """ancestors-or-self(name), self first, up to a root."""
        cached = self._chains.get(name)
        if cached is not None:
            return cached
        try:
            result = tuple(ancestors_or_self(name, self._parents.get))
        except ParentCycleError as exc:
            raise TaxonomyError(str(exc)) from None
        self._chains[name] = result
        return result

    def depth_in_chain(self, name: str) -> dict[str, int]:
        """{ancestor: depth} for every theme covering ``name``."""
        chain = self.chain(name)
        return {ancestor: len(chain) - i for i, ancestor in enumerate(chain)}

    def covers(self, ancestor: str, theme: str) -> bool:
        """Whether ``ancestor`` is in ancestors-or-self(``theme``)."""
        return ancestor in self.chain(theme)

    def descendants_or_self(self, name: str) -> tuple[str, ...]:
        """``name`` (even if undefined) and every defined theme below it, sorted."""
        found = self._descendants.get(name, ())
        if name in found:
            return found
        return tuple(sorted((name, *found)))

    def defined_covering(self, name: str) -> tuple[str, ...]:
        """The defined themes among ancestors-or-self(name); empty for an undefined name."""
        cached = self._covering.get(name)
        if cached is None:
            if name in self.themes:
                cached = tuple(a for a in self.chain(name) if a in self.themes)
            else:
                cached = ()
            self._covering[name] = cached
        return cached

    def is_leaf(self, name: str | None) -> bool:
        return name in self._leaf_set

    def scope_of(self, entry: Entry) -> str | None:
        """The scope of an event (§4.3): ``field:value`` from its own theme's ``scope_by``."""
        theme = entry.theme
        if theme is None:
            return None
        field_name = self._scope_by.get(theme)
        if field_name is None:
            return None
        value = getattr(entry, field_name)
        if isinstance(value, str) and value:
            return f"{field_name}:{value}"
        return None


# ---------------------------------------------------------------------------------------------
# Items: evidence and headlines with their amendment versions (§3.3)


class Item:
    """An evidence or ``AuditCompleted`` event with its payload as effective over time.

    ``score`` is the score as recorded; ``am_times``/``scores``/``payloads`` stay None until an
    amendment names the item, then hold one version per amendment (version 0 = as recorded).
    """

    __slots__ = (
        "idx",
        "entry",
        "event_id",
        "kind",
        "theme",
        "scope",
        "obs",
        "month",
        "order",
        "rec",
        "is_evidence",
        "covering",
        "cell",
        "score",
        "source_type",
        "category",
        "am_times",
        "payloads",
        "scores",
    )

    def __init__(
        self, idx: int, entry: Entry, rec: int, scope: str | None, is_evidence: bool
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
        self.payloads: list[Mapping[str, Any]] | None = None
        self.scores: list[int] | None = None

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

    def amend(self, amendment: Entry, rec: int, changes: Mapping[str, Any]) -> None:
        if self.am_times is None or self.payloads is None or self.scores is None:
            self.am_times, self.payloads, self.scores = [], [self.entry.payload], [self.score]
        payload = dict(self.payloads[-1])
        payload.update(changes)
        self.am_times.append(rec)
        self.payloads.append(payload)
        self.scores.append(self._read_score(payload, amendment.event_id))

    def score_at(self, t: int) -> int:
        """The effective score at instant ``t`` (the item itself is assumed known at ``t``)."""
        am_times = self.am_times
        if am_times is None:
            return self.score
        return self.scores[bisect_right(am_times, t)]  # type: ignore[index]

    def payload_at(self, t: int) -> Mapping[str, Any]:
        """The effective payload at instant ``t`` (§3.3)."""
        am_times = self.am_times
        if am_times is None:
            return self.entry.payload
        return self.payloads[bisect_right(am_times, t)]  # type: ignore[index]

    def adverse_at(self, t: int, threshold: int) -> bool:
        """Known at ``t`` and adverse with the score effective at ``t`` (§5.2)."""
        return self.rec <= t and self.score_at(t) <= threshold

    def adverse_transitions(self, threshold: int) -> list[tuple[int, int]]:
        """(instant, +1/-1) whenever the item starts or stops being a known adverse signal."""
        am_times = self.am_times
        if am_times is None:
            return [(self.rec, 1)] if self.score <= threshold else []
        scores = self.scores
        current = self.score_at(self.rec) <= threshold
        out = [(self.rec, 1)] if current else []
        for k, t in enumerate(am_times):
            if t <= self.rec:
                continue
            now = scores[k + 1] <= threshold  # type: ignore[index]
            if now != current:
                out.append((t, 1 if now else -1))
                current = now
        return out


# ---------------------------------------------------------------------------------------------
# Judgements (§6)


class Exception_:
    """One exception of a judgement: optional theme, optional scope, score."""

    __slots__ = ("theme", "scope", "score")

    def __init__(self, theme: str | None, scope: str | None, score: int) -> None:
        self.theme = theme
        self.scope = scope
        self.score = score


class Judgement:
    """A leadership judgement (§6.1) with memoised theme and scope scores."""

    __slots__ = (
        "idx",
        "entry",
        "event_id",
        "theme",
        "rec",
        "rec_date",
        "obs_date",
        "score",
        "confidence",
        "exceptions",
        "_theme_scores",
        "_scope_scores",
    )

    def __init__(self, idx: int, entry: Entry, rec: int) -> None:
        payload = entry.payload
        self.idx = idx
        self.entry = entry
        self.event_id = entry.event_id
        self.theme = entry.theme
        self.rec = rec
        self.rec_date = date_ordinal(entry.recorded_at)
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
                Exception_(
                    theme if isinstance(theme, str) else None,
                    scope if isinstance(scope, str) else None,
                    _score(raw.get("score"), entry.event_id, "exceptions[].score"),
                )
            )
        self.exceptions: tuple[Exception_, ...] = tuple(exceptions)
        self._theme_scores: dict[str, int] = {}
        self._scope_scores: dict[tuple[str, str], int] = {}

    def theme_score(self, theme: str, taxonomy: Taxonomy) -> int:
        """§6.4: the most specific unscoped exception covering ``theme``, else the score."""
        cached = self._theme_scores.get(theme)
        if cached is not None:
            return cached
        depths = taxonomy.depth_in_chain(theme)
        best: Exception_ | None = None
        best_depth = 0
        for ex in self.exceptions:
            if ex.scope is None and ex.theme is not None and ex.theme in depths:
                if depths[ex.theme] > best_depth:
                    best, best_depth = ex, depths[ex.theme]
        value = best.score if best is not None else self.score
        self._theme_scores[theme] = value
        return value

    def scope_score(self, theme: str, scope: str, taxonomy: Taxonomy) -> int:
        """§6.5: the best-ranked exception for ``scope`` covering ``theme``, else §6.4."""
        key = (theme, scope)
        cached = self._scope_scores.get(key)
        if cached is not None:
            return cached
        depths = taxonomy.depth_in_chain(theme)
        best: Exception_ | None = None
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
        value = best.score if best is not None else self.theme_score(theme, taxonomy)
        self._scope_scores[key] = value
        return value

    def acknowledges(self, theme: str, scopes: frozenset[str], taxonomy: Taxonomy) -> bool:
        """§6.6: theme score ≤ 2, or any exception on an affected scope covering ``theme`` ≤ 2."""
        if self.theme_score(theme, taxonomy) <= ACKNOWLEDGING_SCORE:
            return True
        if not scopes:
            return False
        chain = taxonomy.chain(theme)
        for ex in self.exceptions:
            if (
                ex.scope is not None
                and ex.scope in scopes
                and (ex.theme is None or ex.theme in chain)
                and ex.score <= ACKNOWLEDGING_SCORE
            ):
                return True
        return False


def _in_log_order(entries: list[Entry], recs: list[int]) -> bool:
    for k in range(1, len(entries)):
        if recs[k] < recs[k - 1] or (
            recs[k] == recs[k - 1] and entries[k].position <= entries[k - 1].position
        ):
            return False
    return True


def _score(value: Any, event_id: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnalysisInputError(f"event {event_id}: {name} must be an integer, not {value!r}")
    return value


# ---------------------------------------------------------------------------------------------
# The prepared log


_signal_order = attrgetter("order")


class LeafSignals:
    """Every evidence item whose theme is exactly one theme, in signal order (§5.4).

    ``transitions`` says when items become or stop being known adverse signals;
    ``adverse_count(t)`` how many are known at ``t``.
    """

    __slots__ = ("theme", "items", "dates", "threshold", "_transitions", "_steps")

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
                if item.am_times is None:
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


class ServiceLog:
    """One service's log prepared for the rules, as known at ``cut`` (taxonomy: whole log).

    ``entries`` are in log order (§1.1): ascending ``recorded_at``, ties by store position.
    Only events recorded at or before ``cut`` are kept, except ``ThemeDefined`` (§4.1).
    """

    def __init__(
        self,
        entries: Iterable[Entry],
        service: str,
        cut: int | None,
        policy: Policy = DEFAULT_POLICY,
    ) -> None:
        self.service = service
        self.policy = policy
        own: list[Entry] = []
        recs: list[int] = []
        definitions: list[Entry] = []
        in_order = True
        last_rec = last_position = None
        for entry in entries:
            if entry.service != service:
                continue
            rec = instant_us(entry.recorded_at)
            position = entry.position
            if last_rec is not None and (
                rec < last_rec or (rec == last_rec and position <= last_position)  # type: ignore[operator]
            ):
                in_order = False
            last_rec, last_position = rec, position
            own.append(entry)
            recs.append(rec)
            if entry.kind == "ThemeDefined":
                definitions.append(entry)
        if not in_order:
            order = sorted(range(len(own)), key=lambda i: (recs[i], own[i].position, i))
            own = [own[i] for i in order]
            recs = [recs[i] for i in order]
            definitions = [e for e in own if e.kind == "ThemeDefined"]
        self.taxonomy = Taxonomy(definitions)
        if cut is not None and recs and recs[-1] > cut:
            n = bisect_right(recs, cut)
            own, recs = own[:n], recs[:n]
        self.entries: list[Entry] = own
        self.rec: list[int] = recs
        self.items: list[Item] = []
        self.evidence: list[Item] = []
        self.headlines: list[Item] = []
        self.validations: list[Item] = []
        self.sections: dict[Any, list[Item]] = {}
        self.judgements: list[Judgement] = []
        self.cadences: list[Entry] = []
        self.reviews: list[tuple[int, Entry]] = []
        self.by_month: dict[int, list[Item]] = {}
        by_id: dict[str, Item] = {}
        by_theme: dict[str, list[Item]] = {}
        last_seen: dict[str, dict[str, int]] = {}
        roles = frozenset(policy.leadership_roles)
        taxonomy = self.taxonomy
        scope_of = taxonomy.scope_of
        covering_of = taxonomy.defined_covering
        items_append = self.items.append
        evidence_append = self.evidence.append
        by_month = self.by_month
        for idx, entry in enumerate(own):
            kind = entry.kind
            if kind in EVIDENCE_KINDS:
                item = Item(idx, entry, recs[idx], scope_of(entry), True)
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
                    if item.scope is not None:
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
                if kind == "ValidationSampled":
                    self.validations.append(item)
                elif kind == "AuditSectionScored":
                    audit_id = entry.payload.get("audit_id")
                    if audit_id is not None:
                        self.sections.setdefault(audit_id, []).append(item)
            elif kind == HEADLINE_KIND:
                item = Item(idx, entry, recs[idx], scope_of(entry), False)
                items_append(item)
                self.headlines.append(item)
                by_id[entry.event_id] = item
            elif kind == AMENDMENT_KIND:
                target = by_id.get(entry.payload.get("amends"))  # type: ignore[arg-type]
                changes = entry.payload.get("changes")
                if target is not None and isinstance(changes, Mapping):
                    target.amend(entry, recs[idx], changes)
            elif kind in JUDGEMENT_KINDS:
                if entry.actor_role in roles:
                    self.judgements.append(Judgement(idx, entry, recs[idx]))
            elif kind == "ReviewCadenceSet":
                self.cadences.append(entry)
            elif kind == "ReviewHeld":
                self.reviews.append((idx, entry))
        self.by_id = by_id
        self._last_seen = last_seen
        threshold = policy.adverse_threshold
        self.by_theme: dict[str, LeafSignals] = {
            theme: LeafSignals(theme, items, threshold) for theme, items in by_theme.items()
        }
        self.leaves: dict[str, LeafSignals] = {
            leaf: self.by_theme.get(leaf) or LeafSignals(leaf, [], threshold)
            for leaf in taxonomy.leaves
        }
        applicable: dict[str, list[Judgement]] = {name: [] for name in taxonomy.defined}
        for judgement in self.judgements:
            if judgement.theme is None:
                continue
            for name in taxonomy.descendants_or_self(judgement.theme):
                applies = applicable.get(name)
                if applies is not None:
                    applies.append(judgement)
        self._applicable = applicable
        self._applicable_rec = {name: [j.rec for j in js] for name, js in applicable.items()}
        self._applicable_dates = {name: [j.rec_date for j in js] for name, js in applicable.items()}

    # -- scopes --------------------------------------------------------------------------------

    def scopes(self, theme: str) -> list[str]:
        """S(λ) (§11.1): sorted scopes of any evidence on exactly ``theme``."""
        return sorted(self._last_seen.get(theme, ()))

    def scopes_since(self, theme: str, first: int) -> frozenset[str]:
        """Scopes of evidence on exactly ``theme`` observed on or after date ``first`` (§8)."""
        return frozenset(s for s, d in self._last_seen.get(theme, {}).items() if d >= first)

    # -- knowledge -----------------------------------------------------------------------------

    def first_event_at(self, t: int) -> Entry:
        """The first event in log order recorded at exactly ``t``."""
        return self.entries[bisect_left(self.rec, t)]

    # -- judgements ----------------------------------------------------------------------------

    def applicable(self, theme: str) -> list[Judgement]:
        """Leadership judgements applicable to a defined theme (§6.2), in log order."""
        return self._applicable.get(theme, [])

    def latest_judgement(self, theme: str, t: int) -> Judgement | None:
        """§6.3: the latest applicable judgement known at ``t``."""
        recs = self._applicable_rec.get(theme)
        if not recs:
            return None
        k = bisect_right(recs, t)
        return self._applicable[theme][k - 1] if k else None

    def first_acknowledgement(
        self, theme: str, from_date: int, scopes: frozenset[str], t: int
    ) -> Judgement | None:
        """§9.2: the first judgement known at ``t``, recorded on or after ``from_date``,
        applicable to ``theme`` and acknowledging it for ``scopes``."""
        judgements = self._applicable.get(theme, [])
        k = bisect_left(self._applicable_dates.get(theme, []), from_date)
        for judgement in judgements[k:]:
            if judgement.rec > t:
                return None
            if judgement.acknowledges(theme, scopes, self.taxonomy):
                return judgement
        return None
