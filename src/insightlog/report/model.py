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
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.entry import Entry
    from insightlog.analysis.governance import ServiceGovernance
    from insightlog.proof.checkpoint import SignedCheckpoint
    from insightlog.interchange.timeutil import AsOf

UTC = timezone.utc


class ReportError(Exception):
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


def ledger_integrity(ledger: Ledger, *, outside: Sequence[SignedCheckpoint] = (), now: datetime | None = None) -> Integrity:
    """Verify the store now and describe its latest checkpoint."""
    from insightlog.application.proofs import latest_checkpoint, verify
    from insightlog.interchange.timeutil import format_utc

    checked_at = format_utc(now or datetime.now(tz=UTC))
    try:
        report = verify(ledger, outside=outside)
        stored = latest_checkpoint(ledger)
    except Exception as exc:  # noqa: BLE001 - the report states that verification could not run
        return Integrity(checked_at=checked_at, ok=None, error=f"{type(exc).__name__}: {exc}")
    latest = checkpoint_summary(stored.signed, stored.tsa_url) if stored else None
    return Integrity(
        checked_at=checked_at,
        ok=report.ok,
        events=report.events,
        head_size=report.head_size,
        checkpoints=report.checkpoints,
        outside_checkpoints=report.outside_checkpoints,
        signatures_checked=report.signatures_checked,
        tokens_checked=report.tokens_checked,
        first_bad_position=report.first_bad_position,
        after_latest_checkpoint=report.after_latest_checkpoint,
        findings=[(f.position, f.message) for f in report.findings],
        notes=list(report.notes),
        latest=latest,
    )


# --- review schedule --------------------------------------------------------------------------


@dataclass
class ReviewSchedule:
    level: str
    interval_days: int
    anchor_date: str
    owner_role: str | None
    cadence_event: str
    rows: list[dict[str, Any]]


def review_schedules(entries: Iterable[Entry], service: str, as_of: AsOf, policy: Policy, document: Mapping[str, Any]) -> list[ReviewSchedule]:
    """Each cadence known at A with its reviews: the due date each met or missed, then the next due.

    Walks the schedule as §13 does (due = anchor + interval; after a review held on h the next is
    due h + interval; reviews by held date). ``overdue`` and ``late_recorded`` on each row come
    from the analysis document, matched by level and due date, and by event id.
    """
    from insightlog.analysis.instants import instant_us
    from insightlog.analysis.servicelog import ServiceLog

    log = ServiceLog(entries, service, instant_us(as_of.instant), policy)
    overdue = {(r["level"], r["due_by"]): r for r in document["reviews"]["overdue"]}
    late = {r["event_id"]: r for r in document["reviews"]["late_recorded"]}
    cadences: dict[str, Entry] = {}
    for entry in log.cadences:
        level = entry.payload.get("level")
        if isinstance(level, str):
            cadences[level] = entry
    held: dict[str, list[Entry]] = {level: [] for level in cadences}
    for _, entry in log.reviews:
        bucket = held.get(entry.payload.get("level"))  # type: ignore[arg-type]
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
                "days_overdue": overdue[key]["days_overdue"] if key in overdue and overdue[key]["held"] is None else None,
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


def gather_service(
    ledger: Ledger,
    service: str,
    as_of: AsOf,
    *,
    policy: Policy | None = None,
    integrity: Integrity | None = None,
    outside: Sequence[SignedCheckpoint] = (),
    taxonomies: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> ServiceReport:
    """Everything the service report shows, as of ``as_of``."""
    from insightlog.analysis.engine import explain
    from insightlog.analysis.policy import DEFAULT_POLICY
    from insightlog.analysis.governance import service_governance
    from insightlog.analysis.history import history_rows
    from insightlog.application.taxonomy import load_taxonomies
    from insightlog.interchange.timeutil import format_utc

    policy = policy or DEFAULT_POLICY
    entries = ledger.read_service(service)
    if not any(e.recorded_at <= as_of.instant for e in entries):
        raise ReportError(f"service {service!r} has no event recorded by {as_of.text}")
    taxonomies = load_taxonomies(ledger) if taxonomies is None else taxonomies
    governance = service_governance(entries, service, as_of, taxonomies, policy=policy)
    detail = explain(entries, service, as_of, policy)
    document = governance.document
    if integrity is None:
        integrity = ledger_integrity(ledger, outside=outside, now=now)
    return ServiceReport(
        service=service,
        as_of=as_of,
        generated_at=format_utc(now or datetime.now(tz=UTC)),
        document=document,
        detail=detail,
        governance=governance,
        entries=entries,
        history=history_rows(entries, as_of=as_of.instant),
        schedules=review_schedules(entries, service, as_of, policy, document),
        integrity=integrity,
        store_events=ledger.head_size(),
    )
