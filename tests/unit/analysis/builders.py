"""Terse builders for analysis tests: Entry objects from short descriptions."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from insightlog.analysis import DEFAULT_POLICY, RECORDED_BASIS, Basis, Policy, analyse
from insightlog.interchange.entry import Entry
from insightlog.interchange.timeutil import AsOf, parse_as_of, parse_strict_utc

SERVICE = "Test Service"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def ts(value: str) -> datetime:
    """``YYYY-MM-DD`` (noon UTC) or a full ``YYYY-MM-DDTHH:MM:SSZ`` timestamp."""
    if len(value) == 10:
        value += "T12:00:00Z"
    return parse_strict_utc(value)


def as_of(value: str) -> AsOf:
    return parse_as_of(value)


def load_jsonl(path: Path) -> list[Entry]:
    """An interchange file as Entry objects: position = line number."""
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        raw = json.loads(line)
        entries.append(
            Entry(
                event_id=raw["event_id"],
                service=raw["service"],
                theme=raw.get("theme"),
                location=raw.get("location"),
                team=raw.get("team"),
                shift=raw.get("shift"),
                kind=raw["kind"],
                actor_role=raw["actor_role"],
                actor_id=raw["actor_id"],
                record=raw.get("record"),
                observed_at=parse_strict_utc(raw["observed_at"]),
                recorded_at=parse_strict_utc(raw["recorded_at"]),
                payload=raw["payload"],
                position=number,
                source=f"import:{path.name}",
            )
        )
    return entries


class History:
    """A service history under construction; every helper appends one entry and returns it."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self.entries: list[Entry] = []

    def add(
        self,
        kind: str,
        recorded: str,
        payload: dict[str, Any],
        *,
        observed: str | None = None,
        theme: str | None = None,
        team: str | None = None,
        location: str | None = None,
        shift: str | None = None,
        role: str = "quality_lead",
        event_id: str | None = None,
        service: str | None = None,
        source: str = "live",
        appended: str | None = None,
    ) -> Entry:
        position = len(self.entries) + 1
        entry = Entry(
            event_id=event_id or f"E{position:03d}",
            service=service or self.service,
            theme=theme,
            location=location,
            team=team,
            shift=shift,
            kind=kind,
            actor_role=role,
            actor_id=role.upper(),
            record=None,
            observed_at=ts(observed or recorded),
            recorded_at=ts(recorded),
            payload=payload,
            position=position,
            appended_at=ts(appended) if appended is not None else None,
            source=source,
        )
        self.entries.append(entry)
        return entry

    def theme(
        self,
        name: str,
        parent: str | None = None,
        scope_by: str | None = "team",
        recorded: str = "2026-01-01T08:00:00Z",
    ) -> Entry:
        payload = {"theme": name, "parent": parent, "scope_by": scope_by, "label": name}
        return self.add("ThemeDefined", recorded, payload, theme=name)

    def evidence(
        self,
        theme: str | None,
        score: int,
        observed: str,
        recorded: str | None = None,
        *,
        team: str | None = None,
        kind: str = "SpotCheckRecorded",
        category: str = "processes",
        source_type: str = "spot_check",
        **fields: Any,
    ) -> Entry:
        location = fields.pop("location", None)
        shift = fields.pop("shift", None)
        payload = {
            "evidence_category": category,
            "source_type": source_type,
            "evidence_score": score,
            "summary": "test",
            **fields,
        }
        return self.add(
            kind,
            recorded or observed,
            payload,
            observed=observed,
            theme=theme,
            team=team,
            location=location,
            shift=shift,
        )

    def amend(self, target: Entry, recorded: str, **changes: Any) -> Entry:
        payload = {"amends": target.event_id, "changes": changes, "reason": "test"}
        return self.add("EvidenceAmended", recorded, payload, theme=target.theme, team=target.team)

    def headline(
        self,
        theme: str,
        score: int,
        audit_id: str,
        recorded: str,
        *,
        team: str | None = None,
        location: str | None = None,
    ) -> Entry:
        payload = {"audit_id": audit_id, "headline_pct": 70.0, "headline_score": score}
        return self.add("AuditCompleted", recorded, payload, theme=theme, team=team, location=location)

    def judgement(
        self,
        theme: str | None,
        score: int,
        recorded: str,
        *,
        observed: str | None = None,
        role: str = "registered_manager",
        confidence: str = "qualified",
        exceptions: Iterable[dict[str, Any]] = (),
        kind: str = "JudgementRecorded",
    ) -> Entry:
        payload = {
            "score": score,
            "confidence": confidence,
            "exceptions": list(exceptions),
            "supersedes": None,
            "narrative": "test",
        }
        return self.add(kind, recorded, payload, observed=observed, theme=theme, role=role)

    def withdraw(self, target: Entry | str, recorded: str, reason: str = "entered in error") -> Entry:
        """An ``EntryWithdrawn`` of ``target`` recorded at ``recorded`` (definitions §3.4)."""
        target_id = target if isinstance(target, str) else target.event_id
        payload = {"withdraws": target_id, "reason": reason}
        return self.add("EntryWithdrawn", recorded, payload, role="registered_manager")

    def cadence(self, level: str, interval: int, anchor: str, recorded: str) -> Entry:
        payload = {"level": level, "interval_days": interval, "anchor_date": anchor}
        return self.add("ReviewCadenceSet", recorded, payload)

    def review(self, level: str, held: str, recorded: str | None = None) -> Entry:
        return self.add("ReviewHeld", recorded or held, {"level": level}, observed=held)

    def analyse(self, when: str, policy: Policy = DEFAULT_POLICY, basis: Basis = RECORDED_BASIS) -> dict[str, Any]:
        return analyse(self.entries, self.service, as_of(when), policy, basis)

    def set_appended(self, when: str | None, *entries: Entry) -> None:
        """Give entries (default: all) the ledger append time ``when`` (None: their recorded_at)."""
        chosen = {e.event_id for e in entries} if entries else None
        self.entries = [
            replace(e, appended_at=ts(when) if when is not None else e.recorded_at)
            if chosen is None or e.event_id in chosen
            else e
            for e in self.entries
        ]

    def without(self, *removed: Entry) -> History:
        """The same history without some entries (positions kept)."""
        ids = {e.event_id for e in removed}
        other = History(self.service)
        other.entries = [e for e in self.entries if e.event_id not in ids]
        return other


def triggers(document: dict[str, Any], kind: str | None = None) -> list[tuple[Any, ...]]:
    """(trigger short id, theme, scope, fired_on, events) rows, optionally of one trigger."""
    rows = []
    for row in document["triggers"]:
        short = row["trigger"][:2]
        if kind is None or short == kind:
            rows.append((short, row["theme"], row["scope"], row["fired_on"], row["events"]))
    return rows


def drift_row(document: dict[str, Any], theme: str, scope: str | None, month: str) -> dict[str, Any]:
    for row in document["drift"]:
        if (row["theme"], row["scope"], row["month"]) == (theme, scope, month):
            return row
    raise KeyError((theme, scope, month))
