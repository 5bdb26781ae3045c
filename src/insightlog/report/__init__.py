"""The governance report: one self-contained HTML page per service, and a provider-level page.

``service_report_html`` and ``provider_report_html`` return the page text (inline CSS and SVG,
no scripts, no external resources); ``print_pdf`` prints a page through headless Chromium.
Nothing here prints: the CLI (``insightlog report``) writes the files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from insightlog.report.model import (
    Integrity,
    ReportError,
    ServiceReport,
    gather_service,
    ledger_integrity,
    service_file_names,
    slug,
    theme_anchor,
)
from insightlog.report.pdf import chromium_path, print_pdf
from insightlog.report.provider import ServiceSummary, nearest_rank, render_provider, summary_from_governance
from insightlog.report.service_page import SECTIONS, render_service

if TYPE_CHECKING:
    from insightlog.analysis.policy import Policy
    from insightlog.application.ledger import Ledger
    from insightlog.proof.checkpoint import SignedCheckpoint
    from insightlog.interchange.timeutil import AsOf

__all__ = [
    "SECTIONS",
    "Integrity",
    "ProviderPages",
    "ReportError",
    "ServiceReport",
    "ServiceSummary",
    "chromium_path",
    "gather_service",
    "ledger_integrity",
    "nearest_rank",
    "print_pdf",
    "provider_report_html",
    "render_provider",
    "render_service",
    "service_file_names",
    "service_report_html",
    "slug",
    "theme_anchor",
]


def _now() -> datetime:
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def service_report_html(
    ledger: Ledger,
    service: str,
    as_of: AsOf,
    *,
    policy: Policy | None = None,
    outside: Sequence[SignedCheckpoint] = (),
    now: datetime | None = None,
) -> str:
    """The governance report of one service as of ``as_of``, as one HTML document."""
    return render_service(gather_service(ledger, service, as_of, policy=policy, outside=outside, now=now or _now()))


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
            report = gather_service(ledger, name, as_of, policy=policy, integrity=integrity, taxonomies=taxonomies, now=now)
        except ReportError:
            skipped.append(name)
            continue
        pages[files[name]] = render_service(report)
        summaries.append(summary_from_governance(name, files[name], report.governance, as_of))
    if not summaries:
        raise ReportError(f"no service has an event recorded by {as_of.text}")
    provider = render_provider(summaries, as_of_text=as_of.text, generated_at=format_utc(now), integrity=integrity, skipped=skipped)
    return ProviderPages(provider, pages, skipped)

