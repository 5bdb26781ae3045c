"""What the committee views show, computed from the events (nothing written).

* ``provider_overview``: across services, the report's provider page data (recognition lags, the
  drift heat map, overdue reviews, open triggers) and the open and overdue actions.
* ``theme_detail``: one theme as of a date: its drift rows with the evidence behind each E, its
  recognition episodes, its evidence list.
* ``compare``: what leaders believed at two dates, theme by theme, and the entries recorded in
  between that bear on each theme.
* ``work_lists``: reviews due and overdue, actions open and overdue by owner role, triggers fired
  in the last 90 days: the Monday-morning lists.

Every figure carries the event ids behind it, so a door can link each to the entry's page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.timeutil import AsOf
    from insightlog.report.provider import LagRow
    from insightlog.taxonomies import TaxonomyVersion

WINDOW_DAYS = 90


@dataclass
class ServiceOverview:
    service: str
    governance: ServiceGovernance
    open_triggers: list[dict[str, Any]]
    actions: list[dict[str, Any]]  # open at A, each with "overdue" (due before date(A))


@dataclass
class ProviderOverview:
    as_of: str
    basis: str
    services: list[ServiceOverview] = field(default_factory=list)
    lags: list[LagRow] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # no event known by A


def _governance(
    ledger: Ledger,
    service: str,
    as_of: AsOf,
    basis: Basis | None,
    taxonomies: Mapping[str, TaxonomyVersion],
    entries: Sequence[Entry] | None = None,
) -> ServiceGovernance:
    from insightlog.analysis.governance import service_governance

    return service_governance(
        entries if entries is not None else ledger.read_service(service), service, as_of, taxonomies, basis=basis
    )


def _actions(gov: ServiceGovernance, a_date: date) -> list[dict[str, Any]]:
    out = []
    for row in gov.rows:
        for action in row["open_actions"]:
            due = action.get("due")
            overdue = isinstance(due, str) and due < a_date.isoformat()
            out.append({**action, "theme": row["theme"], "overdue": overdue})
    return out


def _all_actions(entries: Sequence[Entry], as_of: AsOf, a_date: date) -> list[dict[str, Any]]:
    """Every open action (those with no theme too), with ``overdue``."""
    from insightlog.analysis.governance import log_order, open_actions

    out = []
    for theme, actions in open_actions(log_order(entries), as_of).items():
        for action in actions:
            due = action.get("due")
            out.append({**action, "theme": theme, "overdue": isinstance(due, str) and due < a_date.isoformat()})
    return sorted(out, key=lambda a: (a.get("due") or "9999", a["action_id"]))


def provider_overview(
    ledger: Ledger, names: Sequence[str], as_of: AsOf, basis: Basis | None = None
) -> ProviderOverview:
    """The provider page of ``names`` as of ``as_of``."""
    from insightlog.analysis.governance import window_start
    from insightlog.application.taxonomy import load_taxonomies
    from insightlog.report.provider import lag_rows, summary_from_governance

    taxonomies = load_taxonomies(ledger)
    since = window_start(as_of, WINDOW_DAYS)
    out = ProviderOverview(as_of.text, basis.name if basis else "recorded")
    summaries = []
    for name in names:
        entries = ledger.read_service(name)
        if not any(e.recorded_at <= as_of.instant for e in entries):
            out.skipped.append(name)
            continue
        gov = _governance(ledger, name, as_of, basis, taxonomies, entries)
        triggers = [t for t in gov.document["triggers"] if t["fired_on"] >= since]
        actions = (
            _all_actions(entries, as_of, as_of.instant.date())
            if basis is None or basis.is_default
            else _actions(gov, as_of.instant.date())
        )
        out.services.append(ServiceOverview(name, gov, triggers, actions))
        summaries.append(summary_from_governance(name, "", gov, as_of))
    out.lags = lag_rows(summaries)
    out.months = sorted({r["month"] for s in out.services for r in s.governance.document["drift"]})
    return out


@dataclass
class ThemeDetail:
    service: str
    theme: str
    label: str
    as_of: str
    drift: list[dict[str, Any]]  # theme level, each with "evidence" (ids behind E)
    scoped: list[dict[str, Any]]  # by scope
    t3: dict[str, list[str | None]]
    recognition: list[dict[str, Any]]
    evidence: list[dict[str, Any]]  # history rows of the theme (and below), as known at A
    judgement: dict[str, Any] | None
    withdrawn: dict[str, str]


def theme_detail(
    ledger: Ledger, service: str, theme: str, as_of: AsOf, basis: Basis | None = None
) -> ThemeDetail | None:
    """One theme of ``service`` as of ``as_of`` (None when the theme is not defined by then)."""
    from insightlog.analysis.basis import RECORDED_BASIS
    from insightlog.analysis.engine import explain
    from insightlog.analysis.history import history_rows
    from insightlog.application.taxonomy import load_taxonomies

    entries = ledger.read_service(service)
    gov = _governance(ledger, service, as_of, basis, load_taxonomies(ledger), entries)
    row = next((r for r in gov.rows if r["theme"] == theme), None)
    if row is None:
        return None
    detail = explain(entries, service, as_of, basis=basis or RECORDED_BASIS)
    behind = {(d["theme"], d["scope"], d["month"]): d for d in detail["drift"]}
    drift: list[dict[str, Any]] = []
    scoped: list[dict[str, Any]] = []
    for r in gov.document["drift"]:
        if r["theme"] != theme:
            continue
        found = behind.get((r["theme"], r["scope"], r["month"]))
        evidence = list((found or {}).get("evidence", []))
        (drift if r["scope"] is None else scoped).append({**r, "evidence": evidence})
    t3: dict[str, list[str | None]] = {}
    for t in gov.document["triggers"]:
        if t["trigger"] == "T3_SUSTAINED_OPTIMISM" and t["theme"] == theme:
            t3.setdefault(t["fired_on"][:7], []).append(t["scope"])
    signals = {(r["theme"], r["first_signal_observed"]): r["signals"] for r in detail["recognition"]}
    recognition = [
        {**r, "signals": signals.get((r["theme"], r["first_signal_observed"]), [])}
        for r in gov.document["recognition"]
        if r["theme"] == theme or r["theme"].startswith(theme + ".")
    ]
    evidence = history_rows(entries, theme=theme, as_of=as_of.instant)
    return ThemeDetail(
        service,
        theme,
        row["label"] or theme,
        as_of.text,
        drift,
        scoped,
        t3,
        recognition,
        evidence,
        row["judgement"],
        dict(detail.get("withdrawn") or {}),
    )


@dataclass
class ThemeChange:
    theme: str
    label: str
    then: dict[str, Any] | None  # the governance row at the first date (None: not defined then)
    now: dict[str, Any] | None
    entries: list[dict[str, Any]]  # history rows recorded in between that bear on the theme

    @property
    def judgement_changed(self) -> bool:
        j0 = (self.then or {}).get("judgement") or {}
        j1 = (self.now or {}).get("judgement") or {}
        return (j0.get("event_id"), j0.get("score")) != (j1.get("event_id"), j1.get("score"))


@dataclass
class Comparison:
    service: str
    then: str
    now: str
    themes: list[ThemeChange]
    service_wide: list[dict[str, Any]]  # in-between entries about no one theme (withdrawals, reviews, ...)


def compare(ledger: Ledger, service: str, then: AsOf, now: AsOf, basis: Basis | None = None) -> Comparison:
    """What the leaders believed at ``then`` and at ``now``, theme by theme, and what was recorded between."""
    from insightlog.analysis.history import history_rows
    from insightlog.application.taxonomy import load_taxonomies

    taxonomies = load_taxonomies(ledger)
    entries = ledger.read_service(service)
    before = {r["theme"]: r for r in _governance(ledger, service, then, basis, taxonomies, entries).rows}
    after_rows = _governance(ledger, service, now, basis, taxonomies, entries).rows
    after = {r["theme"]: r for r in after_rows}
    between = [r for r in history_rows(entries, as_of=now.instant) if r["recorded_at"] > then.text]
    by_id = {e.event_id: e for e in entries}
    order = [r["theme"] for r in after_rows] + [t for t in before if t not in after]
    themes: list[ThemeChange] = []
    claimed: set[str] = set()
    for name in order:
        row = after.get(name) or before[name]
        mine = []
        for r in between:
            subject = r["theme"]
            if r["kind"] == "EntryWithdrawn":
                target = by_id.get(str(by_id[r["event_id"]].payload.get("withdraws")))
                subject = target.theme if target else None
            if subject == name:
                mine.append(r)
                claimed.add(r["event_id"])
        themes.append(ThemeChange(name, row["label"] or name, before.get(name), after.get(name), mine))
    service_wide = [r for r in between if r["event_id"] not in claimed]
    return Comparison(service, then.text, now.text, themes, service_wide)


@dataclass
class WorkLists:
    as_of: str
    reviews: list[dict[str, Any]] = field(default_factory=list)  # next due per service and level
    actions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # owner role -> open actions
    triggers: list[dict[str, Any]] = field(default_factory=list)


def work_lists(ledger: Ledger, names: Sequence[str], as_of: AsOf) -> WorkLists:
    """Reviews due and overdue, open actions by owner role, triggers of the last 90 days."""
    from insightlog.analysis.governance import window_start
    from insightlog.analysis.policy import DEFAULT_POLICY
    from insightlog.application.taxonomy import load_taxonomies
    from insightlog.report.model import review_schedules

    taxonomies = load_taxonomies(ledger)
    since = window_start(as_of, WINDOW_DAYS)
    a_date = as_of.instant.date()
    out = WorkLists(as_of.text)
    for name in names:
        entries = ledger.read_service(name)
        if not any(e.recorded_at <= as_of.instant for e in entries):
            continue
        gov = _governance(ledger, name, as_of, None, taxonomies, entries)
        for schedule in review_schedules(entries, name, as_of, DEFAULT_POLICY, gov.document):
            nxt = schedule.rows[-1] if schedule.rows else None
            if nxt is None or nxt["event_id"] is not None:
                continue
            days = (date.fromisoformat(nxt["due_by"]) - a_date).days
            out.reviews.append(
                {
                    "service": name,
                    "level": schedule.level,
                    "owner_role": schedule.owner_role,
                    "due_by": nxt["due_by"],
                    "days_overdue": -days if days < 0 else None,
                    "due_in_days": days if days >= 0 else None,
                    "cadence_event": schedule.cadence_event,
                }
            )
        for action in _all_actions(entries, as_of, a_date):
            out.actions.setdefault(str(action.get("owner_role") or "no owner role"), []).append(
                {**action, "service": name}
            )
        for t in gov.document["triggers"]:
            if t["fired_on"] >= since:
                out.triggers.append({**t, "service": name})
    out.reviews.sort(key=lambda r: (r["due_by"], r["service"], r["level"]))
    out.triggers.sort(key=lambda t: (t["fired_on"], t["service"]), reverse=True)
    out.actions = dict(sorted(out.actions.items()))
    return out
