"""Report data: what the governance report shows, gathered from the ledger, then rendered.

The report package renders; this module reads the store (the analysis, the governance view, the
history, the ledger's integrity) and hands the renderers plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from insightlog.report.model import (
    Integrity,
    ReportError,
    ServiceReport,
    checkpoint_summary,
    review_schedules,
    service_file_names,
)
from insightlog.report.provider import ServiceSummary, render_provider, summary_from_governance
from insightlog.report.service_page import render_service

if TYPE_CHECKING:
    from insightlog.analysis.basis import Basis
    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import Ledger
    from insightlog.interchange.timeutil import AsOf
    from insightlog.proof.checkpoint import SignedCheckpoint


def ledger_integrity(
    ledger: Ledger, *, outside: Sequence[SignedCheckpoint] = (), now: datetime | None = None
) -> Integrity:
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
    basis: Basis | None = None,
) -> ServiceReport:
    """Everything the service report shows, as of ``as_of`` on ``basis`` (default ``recorded``)."""
    from insightlog.analysis.basis import RECORDED_BASIS
    from insightlog.analysis.engine import explain
    from insightlog.analysis.governance import service_governance
    from insightlog.analysis.history import history_rows, known_entries
    from insightlog.analysis.policy import DEFAULT_POLICY
    from insightlog.application.taxonomy import load_taxonomies
    from insightlog.interchange.timeutil import format_utc

    policy = policy or DEFAULT_POLICY
    basis = basis or RECORDED_BASIS
    entries = ledger.read_service(service)
    if not known_entries(entries, as_of.instant, basis):
        on = "" if basis.is_default else f" on the {basis.name} basis"
        raise ReportError(f"service {service!r} has no event recorded by {as_of.text}{on}")
    taxonomies = load_taxonomies(ledger) if taxonomies is None else taxonomies
    governance = service_governance(entries, service, as_of, taxonomies, policy=policy, basis=basis)
    detail = explain(entries, service, as_of, policy, basis)
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
        history=history_rows(entries, as_of=as_of.instant, basis=basis),
        schedules=review_schedules(entries, service, as_of, policy, document, basis),
        integrity=integrity,
        store_events=ledger.head_size(),
        basis=basis.name,
    )


def _now() -> datetime:
    return datetime.now(tz=UTC).replace(microsecond=0)


def service_report_html(
    ledger: Ledger,
    service: str,
    as_of: AsOf,
    *,
    policy: Policy | None = None,
    outside: Sequence[SignedCheckpoint] = (),
    now: datetime | None = None,
    basis: Basis | None = None,
) -> str:
    """The governance report of one service as of ``as_of`` on ``basis``, as one HTML document."""
    return render_service(
        gather_service(ledger, service, as_of, policy=policy, outside=outside, now=now or _now(), basis=basis)
    )


@dataclass
class ProviderPages:
    """The provider page and one page per service, by file name (``report-<slug>.html``)."""

    provider: str
    services: dict[str, str]
    skipped: list[str]


def provider_report_html(
    ledger: Ledger,
    as_of: AsOf,
    *,
    policy: Policy | None = None,
    outside: Sequence[SignedCheckpoint] = (),
    now: datetime | None = None,
    file_names: Mapping[str, str] | None = None,
    basis: Basis | None = None,
) -> ProviderPages:
    """The provider page across every service with an event recorded by ``as_of``, plus each
    service's own report, linked by file name (``service_file_names``)."""
    from insightlog.application.taxonomy import load_taxonomies
    from insightlog.interchange.timeutil import format_utc

    now = now or _now()
    names = ledger.services()
    files = dict(file_names or service_file_names(names))
    integrity = ledger_integrity(ledger, outside=outside, now=now)
    taxonomies = load_taxonomies(ledger)
    summaries: list[ServiceSummary] = []
    pages: dict[str, str] = {}
    skipped: list[str] = []
    for name in names:
        try:
            report = gather_service(
                ledger, name, as_of, policy=policy, integrity=integrity, taxonomies=taxonomies, now=now, basis=basis
            )
        except ReportError:
            skipped.append(name)
            continue
        pages[files[name]] = render_service(report)
        summaries.append(summary_from_governance(name, files[name], report.governance, as_of))
    if not summaries:
        raise ReportError(f"no service has an event recorded by {as_of.text}")
    provider = render_provider(
        summaries,
        as_of_text=as_of.text,
        generated_at=format_utc(now),
        integrity=integrity,
        skipped=skipped,
        basis=basis.name if basis is not None else "recorded",
    )
    return ProviderPages(provider, pages, skipped)
