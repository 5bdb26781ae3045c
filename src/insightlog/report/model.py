"""What a report shows, gathered from the ledger: analysis, governance view, history, reviews, integrity.

Nothing here recomputes the analysis: figures come from ``analyse``/``explain`` (the analysis
document) and ``insightlog.analysis.governance``; the review schedule lists every held review with the
due date it met or missed, walking the cadence exactly as §13 does, and its overdue and
late-recorded marks are taken from the document.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from insightlog.errors import InsightlogError

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.analysis.policy import Policy
    from insightlog.interchange.entry import Entry
    from insightlog.interchange.timeutil import AsOf
    from insightlog.proof.checkpoint import SignedCheckpoint


class ReportError(InsightlogError):
    """A report cannot be made (no Chromium for a PDF, no events by the as-of instant...)."""


def slug(text: str) -> str:
    """Lower-case letters and digits joined by single hyphens (``Harbour Home Care`` -> ``harbour-home-care``)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "service"


def theme_anchor(theme: str) -> str:
    """A stable, unique HTML id for a theme's drift figure (slug plus a short digest)."""
    return f"theme-{slug(theme)}-{hashlib.sha1(theme.encode()).hexdigest()[:6]}"


def service_file_names(services: Sequence[str]) -> dict[str, str]:
    """``report-<slug>.html`` per service; a clash of slugs gets ``-2``, ``-3``... in sorted order."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for service in sorted(services):
        base = f"report-{slug(service)}"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        names[service] = name + ".html"
    return names


# --- integrity --------------------------------------------------------------------------------


@dataclass
class Integrity:
    """The ledger's integrity when the report was made (the whole store, not only the as-of view)."""

    checked_at: str
    ok: bool | None
    events: int = 0
    head_size: int = 0
    checkpoints: int = 0
    outside_checkpoints: int = 0
    signatures_checked: int = 0
    tokens_checked: int = 0
    first_bad_position: int | None = None
    after_latest_checkpoint: int | None = None
    findings: list[tuple[int | None, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    latest: dict[str, Any] | None = None
    error: str | None = None


def checkpoint_summary(signed: SignedCheckpoint, tsa_url: str | None = None) -> dict[str, Any]:
    from insightlog.interchange.timeutil import format_utc

    cp = signed.checkpoint
    tsa_time = None
    if signed.tsa_token:
        try:
            from insightlog.proof.tsa import token_gen_time

            tsa_time = format_utc(token_gen_time(signed.tsa_token))
        except Exception as exc:  # noqa: BLE001 - a damaged token is shown, verify reports it
            tsa_time = f"unreadable token ({type(exc).__name__})"
    return {
        "origin": cp.origin,
        "size": cp.size,
        "root_hash": cp.root_hash.hex(),
        "timestamp": format_utc(cp.timestamp),
        "signatures": [{"key_id": s.key_id, "role": s.role} for s in signed.signatures],
        "tsa_time": tsa_time,
        "tsa_url": tsa_url,
    }


# --- review schedule --------------------------------------------------------------------------


@dataclass
class ReviewSchedule:
    level: str
    interval_days: int
    anchor_date: str
    owner_role: str | None
    cadence_event: str
    rows: list[dict[str, Any]]


def review_schedules(
    entries: Iterable[Entry],
    service: str,
    as_of: AsOf,
    policy: Policy,
    document: Mapping[str, Any],
    basis: Basis | None = None,
) -> list[ReviewSchedule]:
    """Each cadence known at A with its reviews: the due date each met or missed, then the next due.

    Walks the schedule as §13 does (due = anchor + interval; after a review held on h the next is
    due h + interval; reviews by held date). ``overdue`` and ``late_recorded`` on each row come
    from the analysis document, matched by level and due date, and by event id.
    """
    from insightlog.analysis.basis import RECORDED_BASIS
    from insightlog.analysis.instants import instant_us
    from insightlog.analysis.servicelog import ServiceLog

    log = ServiceLog(entries, service, instant_us(as_of.instant), policy, basis or RECORDED_BASIS)
    overdue = {(r["level"], r["due_by"]): r for r in document["reviews"]["overdue"]}
    late = {r["event_id"]: r for r in document["reviews"]["late_recorded"]}
    cadences: dict[str, Entry] = {}
    for entry in log.cadences:
        level = entry.payload.get("level")
        if isinstance(level, str):
            cadences[level] = entry
    held: dict[str, list[Entry]] = {level: [] for level in cadences}
    for _, entry in log.reviews:
        level = entry.payload.get("level")
        bucket = held.get(level) if isinstance(level, str) else None
        if bucket is not None:
            bucket.append(entry)
    out = []
    for level, cadence in cadences.items():
        interval = int(cadence.payload["interval_days"])
        due = date.fromisoformat(cadence.payload["anchor_date"]) + timedelta(days=interval)
        rows = []
        for entry in sorted(held[level], key=lambda e: e.observed_at):
            h = entry.observed_at.date()
            key = (level, due.isoformat())
            rows.append(
                {
                    "due_by": due.isoformat(),
                    "event_id": entry.event_id,
                    "held": h.isoformat(),
                    "recorded": entry.recorded_at.date().isoformat(),
                    "days_overdue": overdue[key]["days_overdue"] if key in overdue else None,
                    "days_late": late[entry.event_id]["days_late"] if entry.event_id in late else None,
                }
            )
            due = h + timedelta(days=interval)
        key = (level, due.isoformat())
        rows.append(
            {
                "due_by": due.isoformat(),
                "event_id": None,
                "held": None,
                "recorded": None,
                "days_overdue": overdue[key]["days_overdue"]
                if key in overdue and overdue[key]["held"] is None
                else None,
                "days_late": None,
            }
        )
        out.append(
            ReviewSchedule(
                level=level,
                interval_days=interval,
                anchor_date=str(cadence.payload["anchor_date"]),
                owner_role=cadence.payload.get("owner_role"),
                cadence_event=cadence.event_id,
                rows=rows,
            )
        )
    return out


# --- the whole service report -----------------------------------------------------------------


@dataclass
class ServiceReport:
    service: str
    as_of: AsOf
    generated_at: str
    document: dict[str, Any]
    detail: dict[str, Any]
    governance: ServiceGovernance
    entries: list[Entry]
    history: list[dict[str, Any]]
    schedules: list[ReviewSchedule]
    integrity: Integrity
    store_events: int
    basis: str = "recorded"
