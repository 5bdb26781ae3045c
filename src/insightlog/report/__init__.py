"""The governance report: one self-contained HTML page per service, and a provider-level page.

``render_service`` and ``render_provider`` turn the data the application gathers
(``insightlog.application.reports``) into page text (inline CSS and SVG, no scripts, no external
resources); ``print_pdf`` prints a page through headless Chromium. No store, no clock, nothing
printed: the CLI (``insightlog report``) writes the files.
"""

from __future__ import annotations

from insightlog.report.model import (
    Integrity,
    ReportError,
    ServiceReport,
    service_file_names,
    slug,
    theme_anchor,
)
from insightlog.report.pdf import chromium_path, print_pdf
from insightlog.report.provider import ServiceSummary, nearest_rank, render_provider
from insightlog.report.service_page import SECTIONS, render_service

__all__ = [
    "SECTIONS",
    "Integrity",
    "ReportError",
    "ServiceReport",
    "ServiceSummary",
    "chromium_path",
    "nearest_rank",
    "print_pdf",
    "render_provider",
    "render_service",
    "service_file_names",
    "slug",
    "theme_anchor",
]
