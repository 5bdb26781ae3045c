"""The readable history of a service: a timeline with both times, changes, corrections and provenance.

Each row is one event known at the as-of instant on the basis (definitions §3.5: which clock says
when an event was recorded), in the basis's log order. Withdrawals (§3.4) are shown, never applied
by omission: a row withdrawn by then carries ``withdrawn`` (which ``EntryWithdrawn``, when, by whom,
why) and the flag ``withdrawn on D by ROLE: reason``; a replacement names the withdrawn event in
``corrects`` and the withdrawn event lists its replacements in ``replaced_by``. A caller that asks
for ``hide_withdrawn`` gets the rows withdrawn by then left out; a withdrawal recorded after the
as-of instant is not yet a withdrawal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from insightlog.analysis.basis import RECORDED_BASIS, Basis
from insightlog.analysis.corrections import Corrections, Withdrawal, corrections
from insightlog.analysis.instants import instant_us
from insightlog.interchange.entry import Entry
from insightlog.interchange.kinds import AMENDMENT_KIND, EVIDENCE_KINDS, JUDGEMENT_KINDS, WITHDRAWAL_KIND
from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self
from insightlog.interchange.timeutil import format_utc

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def descendants_or_self(entries: list[Entry], theme: str) -> set[str]:
    """The theme and every theme whose parent chain (by ThemeDefined) reaches it."""
    parents: dict[str, str | None] = {}
    for e in entries:
        if e.kind == "ThemeDefined":
            parents[e.payload["theme"]] = e.payload.get("parent")
    out = {theme}
    for name in parents:
        try:
            if theme in ancestors_or_self(name, parents.get):
                out.add(name)
        except ParentCycleError:
            pass  # its parent links close a cycle before they reach the theme
    return out


def withdrawal_text(w: Withdrawal) -> str:
    """``withdrawn on D by ROLE: reason``, the words every display uses for a withdrawn entry."""
    return f"withdrawn on {w.recorded_at.date().isoformat()} by {w.actor_role}: {w.reason}"


def withdrawal_dict(w: Withdrawal) -> dict[str, Any]:
    """A withdrawal as the JSON rows carry it."""
    return {
        "by": w.event_id,
        "recorded_at": format_utc(w.recorded_at),
        "actor_role": w.actor_role,
        "actor_id": w.actor_id,
        "reason": w.reason,
    }


def _describe(entry: Entry, before: dict[str, Any] | None) -> str:
    p = entry.payload
    if entry.kind == AMENDMENT_KIND:
        target = p.get("amends")
        was = before or {}
        parts = [f"{k}: {was.get(k, '(absent)')!r} -> {v!r}" for k, v in p.get("changes", {}).items()]
        return f"amends {target}: " + "; ".join(parts) + f" ({p.get('reason', '')})"
    if entry.kind == WITHDRAWAL_KIND:
        return f"withdraws {p.get('withdraws')}: {p.get('reason', '')}"
    if entry.kind in JUDGEMENT_KINDS:
        text = f"score {p.get('score')}, {p.get('confidence')}"
        for exc in p.get("exceptions") or []:
            where = " ".join(x for x in (exc.get("theme"), exc.get("scope")) if x)
            text += f"; exception {where or '(all)'} = {exc.get('score')}"
        if p.get("supersedes"):
            text += f"; supersedes {p['supersedes']}"
        return text
    if entry.kind in EVIDENCE_KINDS:
        category = f"{p.get('evidence_category')}, {p.get('source_type')}"
        return f"score {p.get('evidence_score')} ({category}): {p.get('summary', '')}"
    if entry.kind == "AuditCompleted":
        return (
            f"headline {p.get('headline_pct')}% = {p.get('headline_score')} (audit {p.get('audit_id')}; not evidence)"
        )
    if entry.kind == "ThemeDefined":
        parent = f"under {p['parent']}" if p.get("parent") else "top level"
        statements = ", ".join(p.get("quality_statements") or []) or "no statements"
        return f"theme {p.get('theme')} ({parent}, scoped by {p.get('scope_by')}; {statements})"
    if entry.kind == "ReviewCadenceSet":
        every = f"every {p.get('interval_days')} days from {p.get('anchor_date')}"
        return f"{p.get('level')} reviews {every} (owner {p.get('owner_role')})"
    if entry.kind == "ServiceRegistered":
        framework = p.get("framework") or {}
        return f"{p.get('service_type', '')}; framework {framework.get('taxonomy_version', '?')}"
    if entry.kind == "ReviewHeld":
        return f"{p.get('level')} review: {p.get('summary', '')}"
    for key in ("finding", "description", "note", "outcome", "reason", "summary"):
        if key in p:
            return str(p[key])
    return ""


def known_entries(
    entries: Iterable[Entry], as_of: datetime | None, basis: Basis = RECORDED_BASIS
) -> list[tuple[int, Entry]]:
    """(instant on the basis, entry) of every entry known at ``as_of`` (all when None), in the
    basis's log order: the instant, then the store position."""
    cut = None if as_of is None else instant_us(as_of)
    known: list[tuple[int, Entry]] = []
    for e in entries:
        t = basis.instant(e)
        if t is None or (cut is not None and t > cut):
            continue
        known.append((t, e))
    known.sort(key=lambda row: (row[0], row[1].position))
    return known


class _Payloads:
    """Effective payloads (§3.3) as the walk in log order reaches each event: the recorded payload
    with every amendment so far applied, less the amendments withdrawn so far."""

    def __init__(self) -> None:
        self.original: dict[str, dict[str, Any]] = {}
        self.amendments: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.withdrawn: set[str] = set()

    def effective(self, event_id: str) -> dict[str, Any]:
        payload = dict(self.original.get(event_id, {}))
        for amendment_id, changes in self.amendments.get(event_id, []):
            if amendment_id not in self.withdrawn:
                payload.update(changes)
        return payload

    def see(self, e: Entry) -> None:
        if e.kind == AMENDMENT_KIND:
            target = e.payload.get("amends")
            changes = e.payload.get("changes")
            if isinstance(target, str) and isinstance(changes, dict):
                self.amendments.setdefault(target, []).append((e.event_id, dict(changes)))
        elif e.kind == WITHDRAWAL_KIND and e.withdraws is not None:
            self.withdrawn.add(e.withdraws)
        elif e.kind in (*EVIDENCE_KINDS, "AuditCompleted"):
            self.original[e.event_id] = dict(e.payload)


def history_rows(
    entries: Iterable[Entry],
    *,
    theme: str | None = None,
    as_of: datetime | None = None,
    basis: Basis = RECORDED_BASIS,
    hide_withdrawn: bool = False,
) -> list[dict[str, Any]]:
    """Rows of a service's timeline in log order, each with its flags, what it changed and its
    corrections.

    ``as_of`` hides entries whose recording instant on ``basis`` is later (what the log said then:
    under ``ledger`` the store's append time decides, under ``proven`` the verified time of the
    first checkpoint covering the event); ``theme`` keeps the theme, its descendants and the
    amendments and withdrawals of their events; ``hide_withdrawn`` leaves out the entries withdrawn
    by ``as_of``. On a basis other than ``recorded`` each row names it (``basis``) and gives the
    instant that basis reads (``known_at``).
    """
    known = known_entries(entries, as_of, basis)
    ordered = [e for _, e in known]
    fixes: Corrections = corrections(ordered, basis=basis)
    themes = descendants_or_self(ordered, theme) if theme else None
    by_id = {e.event_id: e for e in ordered}
    payloads = _Payloads()
    superseded_by: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for t, e in known:
        before = payloads.effective(e.payload.get("amends", "")) if e.kind == AMENDMENT_KIND else None
        change = _describe(e, before)
        payloads.see(e)
        if e.kind in JUDGEMENT_KINDS and e.payload.get("supersedes"):
            superseded_by[e.payload["supersedes"]] = e.event_id
        if themes is not None:
            if e.kind == AMENDMENT_KIND:
                subject = by_id.get(e.payload.get("amends", ""))
            elif e.kind == WITHDRAWAL_KIND:
                subject = by_id.get(e.withdraws or "")
                if subject is not None and subject.kind == AMENDMENT_KIND:
                    subject = by_id.get(subject.payload.get("amends", ""))
            else:
                subject = e
            if subject is None or subject.theme not in themes:
                continue
        status = fixes.status(e.event_id)
        if hide_withdrawn and status.withdrawn:
            continue
        flags = []
        if status.withdrawal is not None:
            flags.append(withdrawal_text(status.withdrawal))
        if status.corrects is not None:
            flags.append(f"corrects {status.corrects}")
        if status.replaced_by:
            flags.append(f"replaced by {', '.join(status.replaced_by)}")
        if e.observed_at.date() != e.recorded_at.date():
            flags.append(
                f"late entry: recorded {(e.recorded_at.date() - e.observed_at.date()).days} days after observed"
            )
        if e.is_backfill:
            flags.append("back-filled: recording time rests on the provider's word")
        elif e.is_imported:
            flags.append("imported history")
        row: dict[str, Any] = {
            "position": e.position,
            "event_id": e.event_id,
            "recorded_at": format_utc(e.recorded_at),
            "observed_at": format_utc(e.observed_at),
            "kind": e.kind,
            "theme": e.theme,
            "scope": _scope_text(e),
            "actor_role": e.actor_role,
            "actor_id": e.actor_id,
            "record": e.record,
            "change": change,
            "source": e.source,
            "appended_at": format_utc(e.appended_at) if e.appended_at else None,
            "flags": flags,
            "withdrawn": withdrawal_dict(status.withdrawal) if status.withdrawal is not None else None,
            "withdraws": e.withdraws,
            "corrects": status.corrects,
            "replaced_by": list(status.replaced_by),
        }
        if not basis.is_default:
            row["basis"] = basis.name
            row["known_at"] = format_utc(_from_us(t))
        rows.append(row)
    for row in rows:
        if row["event_id"] in superseded_by:
            row["flags"].append(f"superseded by {superseded_by[row['event_id']]}")
    return rows


def _from_us(t: int) -> datetime:
    return _EPOCH + timedelta(microseconds=t)


def _scope_text(e: Entry) -> str | None:
    parts = [f"{k}:{v}" for k, v in (("location", e.location), ("team", e.team), ("shift", e.shift)) if v]
    return ", ".join(parts) or None
