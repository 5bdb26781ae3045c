"""The readable history of a service: a timeline with both times, changes and provenance."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from insightlog.interchange.entry import Entry
from insightlog.interchange.kinds import EVIDENCE_KINDS, JUDGEMENT_KINDS
from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self
from insightlog.interchange.timeutil import format_utc


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


def _describe(entry: Entry, by_id: dict[str, Entry], effective: dict[str, dict[str, Any]]) -> str:
    p = entry.payload
    if entry.kind == "EvidenceAmended":
        target = p.get("amends")
        before = effective.get(target, {}) if isinstance(target, str) else {}
        parts = [f"{k}: {before.get(k, '(absent)')!r} -> {v!r}" for k, v in p.get("changes", {}).items()]
        return f"amends {target}: " + "; ".join(parts) + f" ({p.get('reason', '')})"
    if entry.kind in JUDGEMENT_KINDS:
        text = f"score {p.get('score')}, {p.get('confidence')}"
        for exc in p.get("exceptions") or []:
            where = " ".join(x for x in (exc.get("theme"), exc.get("scope")) if x)
            text += f"; exception {where or '(all)'} = {exc.get('score')}"
        if p.get("supersedes"):
            text += f"; supersedes {p['supersedes']}"
        return text
    if entry.kind in EVIDENCE_KINDS:
        return f"score {p.get('evidence_score')} ({p.get('evidence_category')}, {p.get('source_type')}): {p.get('summary', '')}"
    if entry.kind == "AuditCompleted":
        return f"headline {p.get('headline_pct')}% = {p.get('headline_score')} (audit {p.get('audit_id')}; not evidence)"
    if entry.kind == "ThemeDefined":
        parent = f"under {p['parent']}" if p.get("parent") else "top level"
        return f"theme {p.get('theme')} ({parent}, scoped by {p.get('scope_by')}; {', '.join(p.get('quality_statements') or []) or 'no statements'})"
    if entry.kind == "ReviewCadenceSet":
        return f"{p.get('level')} reviews every {p.get('interval_days')} days from {p.get('anchor_date')} (owner {p.get('owner_role')})"
    if entry.kind == "ServiceRegistered":
        framework = p.get("framework") or {}
        return f"{p.get('service_type', '')}; framework {framework.get('taxonomy_version', '?')}"
    if entry.kind == "ReviewHeld":
        return f"{p.get('level')} review: {p.get('summary', '')}"
    for key in ("finding", "description", "note", "outcome", "reason", "summary"):
        if key in p:
            return str(p[key])
    return ""


def history_rows(entries: Iterable[Entry], *, theme: str | None = None, as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Rows of a service's timeline in log order, each with its flags and what it changed.

    ``as_of`` hides entries recorded later (what the log said then); ``theme`` keeps the theme,
    its descendants and the amendments of their events.
    """
    known = [e for e in entries if as_of is None or e.recorded_at <= as_of]
    known.sort(key=lambda e: (e.recorded_at, e.position))
    themes = descendants_or_self(known, theme) if theme else None
    by_id = {e.event_id: e for e in known}
    effective: dict[str, dict[str, Any]] = {}
    superseded_by: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    for e in known:
        change = _describe(e, by_id, effective)
        if e.kind == "EvidenceAmended":
            target = e.payload.get("amends", "")  # validated: an amendment names its target
            effective.setdefault(target, dict(by_id[target].payload) if target in by_id else {})
            effective[target].update(e.payload.get("changes", {}))
        elif e.kind in (*EVIDENCE_KINDS, "AuditCompleted"):
            effective[e.event_id] = dict(e.payload)
        if e.kind in JUDGEMENT_KINDS and e.payload.get("supersedes"):
            superseded_by[e.payload["supersedes"]] = e.event_id
        if themes is not None:
            subject = by_id.get(e.payload.get("amends", "")) if e.kind == "EvidenceAmended" else e
            if subject is None or subject.theme not in themes:
                continue
        flags = []
        if e.observed_at.date() != e.recorded_at.date():
            flags.append(f"late entry: recorded {(e.recorded_at.date() - e.observed_at.date()).days} days after observed")
        if e.is_backfill:
            flags.append("back-filled: recording time rests on the provider's word")
        elif e.is_imported:
            flags.append("imported history")
        rows.append(
            {
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
            }
        )
    for row in rows:
        if row["event_id"] in superseded_by:
            row["flags"].append(f"superseded by {superseded_by[row['event_id']]}")
    return rows


def _scope_text(e: Entry) -> str | None:
    parts = [f"{k}:{v}" for k, v in (("location", e.location), ("team", e.team), ("shift", e.shift)) if v]
    return ", ".join(parts) or None
