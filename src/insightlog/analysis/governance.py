"""The governance view: per service and theme, what leaders judged and what the evidence says.

One row per defined theme of a service (definitions §4.1: the taxonomy is the whole log's),
computed as of an instant ``A`` from the analysis document (``insightlog.analysis.engine``) and
the analysis package's own judgement rules (§6.3 latest applicable judgement, §6.4 theme score):

* ``judgement``: the latest applicable leadership judgement known at ``A`` — its theme score for
  this theme, confidence, the exceptions that bear on this theme (no theme, or a theme covering
  or below this one), who recorded it and when;
* ``this_month`` / ``previous_month``: the theme-level drift row (J, E, D, sign) of the calendar
  month of ``date(A)`` and of the month before (all null when that month is not a reporting month);
* ``improvement_status``: the status on the last evaluation date (§12); for a leaf with no
  adverse signal known at ``A`` ``no_adverse_signal_yet``; null for a non-leaf theme;
* ``open_actions``: ``ActionAssigned`` events on exactly this theme known at ``A`` with no
  ``ActionClosed`` of the same ``action_id`` known at ``A`` (log order; a later assignment of a
  closed id reopens it);
* ``overdue_reviews`` (per service, repeated on each row): overdue-review episodes still open at
  ``A`` or closed within the 90 days up to ``date(A)``;
* ``triggers_last_90_days``: trigger occurrences on exactly this theme fired in the 90 days up
  to ``date(A)`` (``[date(A) − 89, date(A)]``, §2.5).

Rows are grouped by the key question of the theme's first-listed quality statement in the
service's taxonomy version (see ``insightlog.application.taxonomy``); key question null when the version is
not loaded or lacks the statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from insightlog.taxonomies import first_statement, theme_statements, version_of_service

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.analysis.servicelog import ServiceLog
    from insightlog.analysis.policy import Policy
    from insightlog.interchange.entry import Entry
    from insightlog.taxonomies import TaxonomyVersion
    from insightlog.interchange.timeutil import AsOf

WINDOW_DAYS = 90
NO_MONTH = {"J": None, "J_event": None, "E": None, "D": None, "sign": None}


@dataclass
class ServiceGovernance:
    """Everything the read models keep for one service as of one instant."""

    service: str
    as_of: str
    taxonomy_version: str | None
    document: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    overdue_reviews: list[dict[str, Any]] = field(default_factory=list)
    entry_count: int = 0
    last_position: int = 0


def log_order(entries: Iterable[Entry]) -> list[Entry]:
    """Entries in log order (§1.1): recorded_at, then store position."""
    return sorted(entries, key=lambda e: (e.recorded_at, e.position))


def _month_text(d: date, back: int = 0) -> str:
    index = d.year * 12 + d.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def window_start(as_of: AsOf, days: int = WINDOW_DAYS) -> str:
    """The first date of the ``days`` days up to date(A), as ``YYYY-MM-DD`` (§2.5)."""
    return (as_of.instant.date() - timedelta(days=days - 1)).isoformat()


def relevant_exceptions(raw: Any, theme: str, log: ServiceLog) -> list[dict[str, Any]]:
    """The judgement's exceptions that bear on ``theme``: no theme, or a theme covering it or below it."""
    if not isinstance(raw, list):
        return []
    tree = log.theme_tree
    kept = []
    for ex in raw:
        if not isinstance(ex, Mapping):
            continue
        ex_theme = ex.get("theme")
        if not isinstance(ex_theme, str) or tree.covers(ex_theme, theme) or tree.covers(theme, ex_theme):
            kept.append(dict(ex))
    return kept


def current_judgement(log: ServiceLog, theme: str, t: int) -> dict[str, Any] | None:
    """§6.3 latest applicable judgement known at ``t`` with its §6.4 theme score, as a dict."""
    from insightlog.interchange.timeutil import format_utc

    judgement = log.latest_judgement(theme, t)
    if judgement is None:
        return None
    entry = judgement.entry
    return {
        "event_id": judgement.event_id,
        "theme": judgement.theme,
        "score": judgement.theme_score(theme, log.theme_tree),
        "confidence": judgement.confidence,
        "exceptions": relevant_exceptions(entry.payload.get("exceptions"), theme, log),
        "actor_role": entry.actor_role,
        "actor_id": entry.actor_id,
        "recorded_at": format_utc(entry.recorded_at),
    }


def open_actions(
    ordered: Iterable[Entry], as_of: AsOf, *, known_already: bool = False
) -> dict[str | None, list[dict[str, Any]]]:
    """Open actions by envelope theme: assigned, known at A, and not closed by then (log order);
    ``known_already``: the entries are those known at A on another basis, take them all."""
    open_by_id: dict[str, dict[str, Any]] = {}
    for e in ordered:
        if not known_already and e.recorded_at > as_of.instant:
            break
        action_id = e.payload.get("action_id")
        if not isinstance(action_id, str):
            continue
        if e.kind == "ActionAssigned":
            open_by_id.pop(action_id, None)
            open_by_id[action_id] = {
                "action_id": action_id,
                "event_id": e.event_id,
                "theme": e.theme,
                "owner_role": e.payload.get("owner_role"),
                "due": e.payload.get("due"),
            }
        elif e.kind == "ActionClosed":
            open_by_id.pop(action_id, None)
    by_theme: dict[str | None, list[dict[str, Any]]] = {}
    for action in open_by_id.values():
        theme = action.pop("theme")
        by_theme.setdefault(theme, []).append(action)
    return by_theme


def key_question_of(
    theme: str, definitions: Mapping[str, tuple[str | None, list[str]]], version: TaxonomyVersion | None
) -> tuple[str | None, str | None]:
    """(first-listed statement id, its key question) for a theme; the key question may be null."""
    statement = first_statement(theme, definitions)
    if statement is None or version is None:
        return statement, None
    found = version.get(statement)
    return statement, found.key_question if found else None


def service_governance(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    taxonomies: Mapping[str, TaxonomyVersion],
    *,
    policy: Policy | None = None,
    basis: Basis | None = None,
) -> ServiceGovernance:
    """The analysis document and the governance rows of one service as of ``as_of``; ``basis``
    (definitions §3.5) says whose clock says when each event was known (default: recorded_at)."""
    from insightlog.analysis.basis import RECORDED_BASIS
    from insightlog.analysis.engine import analyse_with_log
    from insightlog.analysis.instants import instant_us
    from insightlog.analysis.policy import DEFAULT_POLICY

    policy = policy or DEFAULT_POLICY
    basis = basis or RECORDED_BASIS
    own = [e for e in entries if e.service == service]
    ordered = log_order(own)
    document, log = analyse_with_log(ordered, service, as_of, policy, basis)
    a = instant_us(as_of.instant)
    # The view shows only what was recorded by the as-of moment: the taxonomy version declared
    # then, and the themes defined then (the analysis document keeps §4.1's whole-log tree).
    if basis.is_default:
        known = [e for e in ordered if e.recorded_at <= as_of.instant]
        actions = open_actions(ordered, as_of)
    else:
        known = sorted((e for e in ordered if (i := basis.instant(e)) is not None and i <= a), key=lambda e: e.position)
        actions = open_actions(known, as_of, known_already=True)
    version_name = version_of_service(known)
    version = taxonomies.get(version_name) if version_name else None
    definitions = theme_statements(known)

    a_date = as_of.instant.date()
    this_month, previous_month = _month_text(a_date), _month_text(a_date, 1)
    drift = {(r["theme"], r["month"]): r for r in document["drift"] if r["scope"] is None}
    since = window_start(as_of)
    overdue = [r for r in document["reviews"]["overdue"] if r["held"] is None or r["held"] >= since]
    triggers: dict[str | None, list[dict[str, Any]]] = {}
    for t in document["triggers"]:
        if t["fired_on"] >= since:
            triggers.setdefault(t["theme"], []).append(
                {"trigger": t["trigger"], "scope": t["scope"], "fired_on": t["fired_on"], "events": list(t["events"])}
            )

    rows = []
    for name, info in log.theme_tree.themes.items():
        if name not in definitions:
            continue  # not defined yet at the as-of moment
        statement, key_question = key_question_of(name, definitions, version)
        statuses = document["improvement_status"].get(name)
        if statuses:
            status: str | None = list(statuses.values())[-1]
        else:
            status = "no_adverse_signal_yet" if info.is_leaf else None
        rows.append(
            {
                "service": service,
                "as_of": as_of.text,
                "taxonomy_version": version_name,
                "key_question": key_question,
                "quality_statement": statement,
                "theme": name,
                "label": info.label,
                "parent": info.parent,
                "leaf": info.is_leaf,
                "judgement": current_judgement(log, name, a),
                "this_month": _month_cell(drift.get((name, this_month)), this_month),
                "previous_month": _month_cell(drift.get((name, previous_month)), previous_month),
                "improvement_status": status,
                "open_actions": actions.get(name, []),
                "overdue_reviews": overdue,
                "triggers_last_90_days": triggers.get(name, []),
            }
        )
    rank = version.key_question_rank if version else (lambda _kq: 0)
    rows.sort(key=lambda r: (rank(r["key_question"]), r["key_question"] is None, r["key_question"] or "", r["theme"]))
    return ServiceGovernance(
        service=service,
        as_of=as_of.text,
        taxonomy_version=version_name,
        document=document,
        rows=rows,
        overdue_reviews=overdue,
        entry_count=len(own),
        last_position=max((e.position for e in own), default=0),
    )


def _month_cell(row: Mapping[str, Any] | None, month: str) -> dict[str, Any]:
    cell: dict[str, Any] = {"month": month}
    if row is None:
        cell.update(NO_MONTH)
    else:
        cell.update({k: row[k] for k in ("J", "J_event", "E", "D", "sign")})
    return cell


def governance_rows(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    taxonomies: Mapping[str, TaxonomyVersion],
    *,
    policy: Policy | None = None,
    basis: Basis | None = None,
) -> list[dict[str, Any]]:
    """The governance view rows of one service as of ``as_of`` (see the module docstring)."""
    return service_governance(entries, service, as_of, taxonomies, policy=policy, basis=basis).rows
