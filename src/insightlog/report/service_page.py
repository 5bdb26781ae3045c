"""The HTML of one service's governance report (seven sections, each a page in print).

Every figure is also in a ``data-`` attribute so tests can read the page back and compare it with
the analysis document: ``data-theme``, ``data-scope`` ("" at theme level), ``data-month``,
``data-j``, ``data-e``, ``data-d``, ``data-sign``, ``data-lag``... A null value is ``""``.
The sections are built in ``insightlog.report.sections`` (a module each); this module puts the
header, contents, sections and footer together.
"""

from __future__ import annotations

from insightlog.analysis.basis import basis_sentence
from insightlog.report.html import h, join, page
from insightlog.report.model import ServiceReport
from insightlog.report.sections.common import EventLinks
from insightlog.report.sections.drift import drift_section
from insightlog.report.sections.evidence import evidence_section
from insightlog.report.sections.governance import governance_section
from insightlog.report.sections.integrity import integrity_section, verified_phrase
from insightlog.report.sections.recognition import recognition_section
from insightlog.report.sections.reviews import reviews_section
from insightlog.report.sections.triggers import triggers_section

SECTIONS = [
    ("governance", "Governance view"),
    ("drift", "Optimism drift by theme"),
    ("recognition", "Recognition timelines"),
    ("reviews", "Reviews"),
    ("triggers", "Triggers fired"),
    ("evidence", "Evidence and history"),
    ("integrity", "Ledger integrity"),
]


def _withdrawn_note(report: ServiceReport) -> str:
    withdrawn = [r["event_id"] for r in report.history if r["withdrawn"] is not None]
    if not withdrawn:
        return ""
    return (
        f" {len(withdrawn)} entr{'y was' if len(withdrawn) == 1 else 'ies were'} withdrawn by then "
        f"({', '.join(withdrawn)}): struck through in the evidence table, and counted for nothing."
    )


def render_service(report: ServiceReport) -> str:
    doc = report.document
    events = EventLinks(report)
    total = len(SECTIONS)
    known = len(report.history)
    header = h(
        "header",
        h("h1", f"Governance report: {report.service}"),
        h(
            "p",
            f"As of {doc['as_of']}: the record as it stood then; events recorded later are not shown. ",
            f"{known} of the service's {len(report.entries)} events were recorded by then. ",
            f"Definitions {doc['definitions_version']}",
            f", policy {doc['policy']['name']} (overrides {doc['policy']['overrides']})"
            if "policy" in doc
            else ", default thresholds",
            f"; taxonomy {report.governance.taxonomy_version or 'not stated'}.",
            class_="meta",
        ),
        h("p", basis_sentence(report.basis), _withdrawn_note(report), class_="meta basis", data_basis=report.basis),
        h(
            "p",
            f"Report made {report.generated_at} by insightlog from the ledger ({report.store_events} events in the store). Ledger integrity at that time: ",
            verified_phrase(report.integrity),
            ".",
            class_="meta",
        ),
        class_="report-header",
        data_service=report.service,
        data_as_of=doc["as_of"],
    )
    nav = h(
        "nav",
        h("h2", "Contents", class_="visually-hidden"),
        h("ol", [h("li", h("a", title, href=f"#{key}")) for key, title in SECTIONS]),
        aria_label="Contents",
    )
    main = h(
        "main",
        governance_section(report, events, total),
        drift_section(report, events, total),
        recognition_section(report, events, total),
        reviews_section(report, events, total),
        triggers_section(report, events, total),
        evidence_section(report, events, total),
        integrity_section(report, total),
    )
    footer = h(
        "footer",
        h(
            "p",
            f"insightlog governance report \u00b7 {report.service} \u00b7 as of {doc['as_of']} \u00b7 made {report.generated_at}",
            class_="meta",
        ),
    )
    return page(
        f"Governance report: {report.service} as of {doc['as_of']}",
        join([header, nav, main, footer]),
        description=f"insightlog governance report for {report.service} as of {doc['as_of']}",
    )
